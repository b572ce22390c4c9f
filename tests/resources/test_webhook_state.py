"""WebhookState: Terraform values in and out, unknown parts kept where they were."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from terraform_provider_connectly.framework import UNKNOWN
from terraform_provider_connectly.resources.webhook.state import (
    Configuration,
    Filter,
    WebengageSettings,
    WebhookState,
    upgrade_from_v0,
)

WE: dict[str, Any] = {
    "webengage_token": "tok",
    "webengage_token_wo": None,
    "webengage_token_wo_version": Decimal("1.5"),
    "webengage_webhook_url": "https://we.example.com/x",
}
VALUE: dict[str, Any] = {
    "id": "wh_1",
    "business_id": "biz",
    "topic": "messages",
    "address": "https://hooks.example.com/in",
    "type": "webengage",
    "configuration": {
        "echo": True,
        "channel_types": ["sms", "whatsapp"],
        "filters": [{"field": "campaign", "expression": "prod-*"}],
        "webengage_configuration": WE,
    },
    "timeouts": {"create": "5m", "read": None, "update": None, "delete": None},
}


def test_a_value_read_and_written_back_is_the_value_read() -> None:
    assert WebhookState.from_value(VALUE).to_value() == VALUE


def test_attributes_are_typed() -> None:
    state = WebhookState.from_value(VALUE)
    assert state.configuration == Configuration(
        echo=True,
        channel_types=["sms", "whatsapp"],
        filters=[Filter("campaign", "prod-*")],
        webengage_configuration=WebengageSettings(
            "tok", None, Decimal("1.5"), WE["webengage_webhook_url"]
        ),  # type: ignore[arg-type]
    )
    assert state.identity() == {"business_id": "biz", "id": "wh_1"}


def test_unknown_parts_stay_unknown_at_every_level() -> None:
    for configuration in (
        UNKNOWN,
        None,
        {
            "echo": UNKNOWN,
            "channel_types": UNKNOWN,
            "filters": UNKNOWN,
            "webengage_configuration": UNKNOWN,
        },
        {
            "echo": None,
            "channel_types": [UNKNOWN],
            "filters": [UNKNOWN, {"field": UNKNOWN, "expression": "x"}],
            "webengage_configuration": {**WE, "webengage_token": UNKNOWN},
        },
    ):
        value = {**VALUE, "id": UNKNOWN, "configuration": configuration}
        assert WebhookState.from_value(value).to_value() == value


def test_conf_and_webengage_are_none_unless_known_and_set() -> None:
    assert WebhookState.from_value({**VALUE, "configuration": UNKNOWN}).conf() is None
    value = {
        **VALUE,
        "configuration": {**VALUE["configuration"], "webengage_configuration": UNKNOWN},
    }  # type: ignore[dict-item]
    assert WebhookState.from_value(value).webengage() is None
    assert WebhookState.from_optional(None) is None


def test_the_token_never_shows_in_repr() -> None:
    state = WebhookState.from_value(
        {
            **VALUE,
            "configuration": {
                **VALUE["configuration"],
                "webengage_configuration": {**WE, "webengage_token_wo": "wo-secret"},
            },
        }
    )  # type: ignore[dict-item]
    shown = repr(state)
    assert "tok" not in shown.replace("webengage_token", "")
    assert "wo-secret" not in shown


def test_version_0_state_keeps_each_filter_once_in_first_seen_order() -> None:
    a, b = {"field": "a", "expression": "1"}, {"field": "b", "expression": "2"}
    old = {**VALUE, "configuration": {**VALUE["configuration"], "filters": [a, b, dict(a)]}}  # type: ignore[dict-item]
    assert upgrade_from_v0(old)["configuration"]["filters"] == [a, b]
    assert upgrade_from_v0({"configuration": None}) == {"configuration": None}
