"""PrivateState: keys for resources, the JSON bytes Terraform stores for the framework."""

from __future__ import annotations

from terraform_provider_connectly.framework.privatestate import PrivateState


def test_existing_private_state_is_read() -> None:
    assert PrivateState(b'{"type_assumed": true}').get("type_assumed") is True


def test_set_writes_sorted_json_and_removing_the_last_key_writes_no_bytes() -> None:
    private = PrivateState()
    private.set("type_assumed", True)
    private.set("a", 1)
    assert private.to_bytes() == b'{"a": 1, "type_assumed": true}'
    private.set("a", None)
    assert private.to_bytes() == b'{"type_assumed": true}'
    private.clear()
    assert private.to_bytes() == b""


def test_bytes_nobody_changed_go_back_untouched() -> None:
    assert PrivateState(b"not json").to_bytes() == b"not json"
    assert PrivateState(b"not json").get("x") is None
    assert PrivateState(b"[1]").get("x") is None
