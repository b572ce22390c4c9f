"""The attribute rules of docs/design.md for connectly_webhook, one at a time, on the pure
mapping between typed state and the client's models (no Terraform, no server)."""

from __future__ import annotations

import pytest

from terraform_provider_connectly.connectly.models import (
    Filter as ApiFilter,
)
from terraform_provider_connectly.connectly.models import (
    WebengageConfiguration,
    Webhook,
    WebhookConfiguration,
)
from terraform_provider_connectly.framework import UNKNOWN
from terraform_provider_connectly.framework.values import overlay_known, unknown_as_null
from terraform_provider_connectly.resources.webhook import mapping
from terraform_provider_connectly.resources.webhook.state import (
    Configuration,
    Filter,
    WebengageSettings,
    WebhookState,
)

URL = "https://hooks.example.com/in"


def listed(**kw: object) -> Webhook:
    fields: dict[str, object] = {"id": "wh_1", "topic": "messages", "address": URL}
    fields.update(kw)
    return Webhook(**fields)  # type: ignore[arg-type]


def in_state(**kw: object) -> WebhookState:
    fields: dict[str, object] = {
        "id": "wh_1",
        "business_id": "biz",
        "topic": "messages",
        "address": URL,
        "type": "custom",
        "configuration": Configuration(echo=False, channel_types=["sms"], filters=[]),
        "timeouts": {"create": "10m", "read": None, "update": None, "delete": None},
    }
    fields.update(kw)
    return WebhookState(**fields)  # type: ignore[arg-type]


# ------------------------------------------------------------------ read (refresh)


def test_read_takes_id_topic_and_address_from_the_listing_and_business_from_state() -> None:
    got = mapping.state_from_api(
        listed(id="wh_9", address="https://other.example.com/x"), "biz", in_state()
    ).state
    assert (got.id, got.business_id, got.topic) == ("wh_9", "biz", "messages")
    assert got.address == "https://other.example.com/x"  # drift shows as an update


def test_read_keeps_topic_and_address_the_listing_leaves_out() -> None:
    got = mapping.state_from_api(listed(topic=None, address=None), "biz", in_state()).state
    assert (got.topic, got.address) == ("messages", URL)


def test_type_reported_by_the_listing_wins_and_settles_a_guess() -> None:
    observed = mapping.state_from_api(listed(type="zapier"), "biz", in_state(type="custom"))
    assert observed.state.type == "zapier"
    assert observed.type_assumed is False


def test_type_absent_from_the_listing_is_kept_from_state_without_a_new_mark() -> None:
    observed = mapping.state_from_api(listed(type=None), "biz", in_state(type="zapier"))
    assert observed.state.type == "zapier"
    assert observed.type_assumed is None


@pytest.mark.parametrize(
    ("configuration", "expected"),
    [
        (None, "custom"),
        (WebhookConfiguration(echo=True), "custom"),
        (
            WebhookConfiguration(
                webengage_configuration=WebengageConfiguration(webengage_webhook_url=URL)
            ),
            "webengage",
        ),
    ],
)
def test_import_with_type_absent_assumes_webengage_only_with_webengage_settings(
    configuration: WebhookConfiguration | None, expected: str
) -> None:
    observed = mapping.state_from_api(listed(type=None, configuration=configuration), "b", None)
    assert observed.state.type == expected
    assert observed.type_assumed is True


def test_import_leaves_timeouts_and_token_null() -> None:
    we = WebengageConfiguration(webengage_token="****", webengage_webhook_url=URL)
    got = mapping.state_from_api(
        listed(type="webengage", configuration=WebhookConfiguration(webengage_configuration=we)),
        "biz",
        None,
    ).state
    assert got.timeouts is None
    settings = got.webengage()
    assert settings is not None
    assert settings.webengage_token is None  # a masked token is never taken for the real one
    assert settings.webengage_webhook_url == URL


def test_token_is_always_kept_from_state_because_the_api_hides_it() -> None:
    kept = in_state(
        type="webengage",
        configuration=Configuration(
            webengage_configuration=WebengageSettings(
                webengage_token="secret", webengage_token_wo_version=3, webengage_webhook_url=URL
            )
        ),
    )
    listing = WebhookConfiguration(
        webengage_configuration=WebengageConfiguration(
            webengage_token=None, webengage_webhook_url="https://we.example.com/new"
        )
    )
    got = mapping.state_from_api(listed(configuration=listing), "biz", kept).state.webengage()
    assert got == WebengageSettings(
        webengage_token="secret",
        webengage_token_wo=None,
        webengage_token_wo_version=3,
        webengage_webhook_url="https://we.example.com/new",
    )


def test_webengage_url_absent_from_the_listing_is_kept() -> None:
    kept = Configuration(webengage_configuration=WebengageSettings(webengage_webhook_url=URL))
    listing = WebhookConfiguration(webengage_configuration=WebengageConfiguration())
    got = mapping.configuration_from_api(listing, kept)
    assert got is not None and got.webengage() is not None
    assert got.webengage().webengage_webhook_url == URL  # type: ignore[union-attr]


def test_webengage_settings_absent_from_the_listing_are_kept() -> None:
    settings = WebengageSettings(webengage_token="t", webengage_webhook_url=URL)
    got = mapping.configuration_from_api(
        WebhookConfiguration(echo=True), Configuration(webengage_configuration=settings)
    )
    assert got is not None and got.webengage_configuration == settings


def test_configuration_absent_from_the_listing_is_kept_whole() -> None:
    kept = Configuration(echo=True, channel_types=["sms"], filters=[Filter("a", "b")])
    assert mapping.configuration_from_api(None, kept) is kept
    assert mapping.configuration_from_api(None, None) is None


def test_defaults_the_api_filled_are_read_as_listed() -> None:
    listing = WebhookConfiguration(echo=False, channel_types=["whatsapp", "sms"], filters=[])
    got = mapping.configuration_from_api(listing, Configuration())
    assert got == Configuration(echo=False, channel_types=["whatsapp", "sms"], filters=[])


def test_parts_the_listing_leaves_out_keep_their_known_values() -> None:
    kept = Configuration(echo=True, channel_types=["sms"], filters=[Filter("f", "x*")])
    got = mapping.configuration_from_api(WebhookConfiguration(), kept)
    assert got == kept


def test_filters_are_read_from_the_listing() -> None:
    listing = WebhookConfiguration(filters=[ApiFilter("campaign", "prod-*")])
    got = mapping.configuration_from_api(listing, None)
    assert got is not None and got.filters == [Filter("campaign", "prod-*")]


def test_timeouts_are_kept_from_state() -> None:
    state = in_state()
    assert mapping.state_from_api(listed(), "biz", state).state.timeouts == state.timeouts


# ------------------------------------------------------------------ create and update


def test_create_sends_known_parts_only_and_sorted_channels() -> None:
    conf = Configuration(echo=UNKNOWN, channel_types=["sms", "email"], filters=UNKNOWN)
    got = mapping.configuration_to_api(conf)
    assert got == WebhookConfiguration(echo=None, channel_types=["email", "sms"], filters=None)


def test_unknown_or_absent_configuration_sends_nothing() -> None:
    assert mapping.configuration_to_api(UNKNOWN) is None
    assert mapping.configuration_to_api(None) is None


def test_configured_token_wins_over_the_write_only_one() -> None:
    def token(settings: WebengageSettings) -> str | None:
        sent = mapping.configuration_to_api(
            Configuration(webengage_configuration=settings), write_only_token="wo"
        )
        assert sent is not None and sent.webengage_configuration is not None
        return sent.webengage_configuration.webengage_token

    assert token(WebengageSettings(webengage_token="tok")) == "tok"
    assert token(WebengageSettings()) == "wo"


def test_an_update_sends_only_the_parts_that_changed() -> None:
    prior = Configuration(echo=False, channel_types=["sms"], filters=[])
    planned = Configuration(echo=True, channel_types=["sms"], filters=[])
    assert mapping.changed_configuration(planned, prior) == Configuration(echo=True)


def test_reordered_channels_and_filters_are_no_change() -> None:
    prior = Configuration(
        channel_types=["sms", "whatsapp"], filters=[Filter("a", "1"), Filter("b", "2")]
    )
    planned = Configuration(
        channel_types=["whatsapp", "sms"], filters=[Filter("b", "2"), Filter("a", "1")]
    )
    assert mapping.changed_configuration(planned, prior) is None


def test_null_and_unknown_parts_are_not_sent_on_update() -> None:
    prior = Configuration(echo=True, channel_types=["sms"])
    planned = Configuration(echo=None, channel_types=UNKNOWN, webengage_configuration=UNKNOWN)
    assert mapping.changed_configuration(planned, prior) is None
    assert mapping.changed_configuration(UNKNOWN, prior) is None


def test_a_filter_not_known_yet_counts_as_a_change() -> None:
    prior = Configuration(filters=[Filter("a", "1")])
    planned = Configuration(filters=[Filter("a", UNKNOWN)])  # type: ignore[arg-type]
    changed = mapping.changed_configuration(planned, prior)
    assert changed is not None and changed.filters == planned.filters


def test_webengage_settings_are_sent_whole_when_any_part_changed() -> None:
    prior = Configuration(webengage_configuration=WebengageSettings("t", None, None, URL))
    planned = Configuration(
        webengage_configuration=WebengageSettings("t", None, None, "https://we.example.com/2")
    )
    changed = mapping.changed_configuration(planned, prior)
    assert changed == Configuration(webengage_configuration=planned.webengage_configuration)


def test_a_webhook_without_a_token_in_state_may_hold_one_on_the_server() -> None:
    with_token = in_state(
        configuration=Configuration(webengage_configuration=WebengageSettings("t"))
    )
    assert not mapping.may_hold_hidden_token(with_token)
    assert mapping.may_hold_hidden_token(in_state(configuration=None))
    assert mapping.may_hold_hidden_token(
        in_state(configuration=Configuration(webengage_configuration=WebengageSettings()))
    )


def test_apply_returns_known_planned_values_and_the_server_s_for_the_rest() -> None:
    planned = in_state(
        id=UNKNOWN, configuration=Configuration(echo=False, channel_types=UNKNOWN, filters=[])
    ).to_value()
    kept = WebhookState.from_value(unknown_as_null(planned))
    listing = WebhookConfiguration(echo=True, channel_types=["whatsapp"], filters=[])
    observed = mapping.state_from_api(listed(id="wh_new", configuration=listing), "biz", kept)
    result = overlay_known(planned, observed.state.to_value())
    assert result["id"] == "wh_new"
    assert result["configuration"]["channel_types"] == ["whatsapp"]  # filled by the server
    assert result["configuration"]["echo"] is False  # as configured; drift shows on refresh


# ------------------------------------------------------------------ import ids, listings


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("wh_1", (None, "wh_1")), ("biz/wh_1", ("biz", "wh_1")), (" biz/wh.1 ", ("biz", "wh.1"))],
)
def test_import_id_is_a_webhook_id_or_business_slash_webhook(
    raw: str, expected: tuple[str | None, str]
) -> None:
    assert mapping.parse_import_id(raw) == expected


@pytest.mark.parametrize("raw", ["", "a/b/c", "biz/", "wh 1", "..", "a\nb", "x" * 257])
def test_import_id_refuses_what_no_id_can_be(raw: str) -> None:
    with pytest.raises(mapping.ImportIdError, match="Expected"):
        mapping.parse_import_id(raw)


def test_listing_order_is_topic_then_id() -> None:
    hooks = [listed(id="b", topic="report"), listed(id="z", topic=None), listed(id="a")]
    assert [w.id for w in mapping.listing_order(hooks)] == ["z", "a", "b"]


def test_data_source_summary_shows_what_the_listing_says_and_no_token() -> None:
    we = WebengageConfiguration(webengage_token="secret", webengage_webhook_url=URL)
    summary = mapping.summary_from_api(
        listed(type=None, configuration=WebhookConfiguration(echo=True, webengage_configuration=we))
    )
    assert summary == {
        "id": "wh_1",
        "topic": "messages",
        "address": URL,
        "type": None,
        "configuration": {
            "echo": True,
            "channel_types": None,
            "filters": None,
            "webengage_webhook_url": URL,
        },
    }
    assert "secret" not in repr(summary)
