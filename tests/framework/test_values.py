"""framework/values.py: operations on whole Terraform values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from terraform_provider_connectly.framework.values import copied
from terraform_provider_connectly.plugin.cty import STRING, UNKNOWN, Typed


def test_a_copy_is_equal_and_shares_no_dict_or_list() -> None:
    value: dict[str, Any] = {
        "address": "https://example.com",
        "port": Decimal("8443"),
        "echo": True,
        "type": None,
        "filters": [{"field": "x", "expression": UNKNOWN}],
        "tags": {"a": ["b", "c"]},
    }
    copy = copied(value)
    assert copy == value
    assert copy is not value
    assert copy["filters"] is not value["filters"]
    assert copy["filters"][0] is not value["filters"][0]
    assert copy["tags"]["a"] is not value["tags"]["a"]
    assert copy["filters"][0]["expression"] is UNKNOWN  # the marker stays the marker
    copy["filters"][0]["field"] = "changed"
    copy["tags"]["a"].append("d")
    assert value["filters"][0]["field"] == "x"
    assert value["tags"]["a"] == ["b", "c"]


def test_other_objects_are_copied_deeply_too() -> None:
    inner = ["x"]
    typed = Typed(STRING, inner)
    copy = copied({"dynamic": typed})
    assert copy["dynamic"] == typed
    assert copy["dynamic"].value is not inner
