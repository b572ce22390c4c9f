"""The client against a real emulator over loopback: every endpoint, every error class."""

from __future__ import annotations

import dataclasses
import logging
import socket
from collections.abc import Iterator

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from terraform_provider_connectly.connectly import (
    Conflict,
    ConnectlyClient,
    ConnectlyError,
    Filter,
    InvalidRequest,
    InvalidResponse,
    NotFound,
    RateLimited,
    RetryPolicy,
    ServerError,
    TransportError,
    Unauthorized,
    WebengageConfiguration,
    Webhook,
    WebhookConfiguration,
    WebhookSpec,
)
from terraform_provider_connectly.emulator import Emulator, Fault

from emulator_fixture import TEST_API_KEY, running_emulator

BIZ = "biz_1"
TOKEN = "we-secret-token-8c1d"
NO_RETRY = RetryPolicy(max_attempts=1)


@pytest.fixture
def client(emu: Emulator) -> Iterator[ConnectlyClient]:
    with ConnectlyClient(
        TEST_API_KEY, emu.url, user_agent="tests/1.0", timeout=5.0, retry=NO_RETRY
    ) as c:
        yield c


def spec(
    topic: str = "messages", address: str = "https://example.com/hooks/m", **conf: object
) -> WebhookSpec:
    return WebhookSpec(topic, address, configuration=WebhookConfiguration(**conf) if conf else None)  # type: ignore[arg-type]


def test_create_list_update_delete_round_trip(emu: Emulator, client: ConnectlyClient) -> None:
    webhook_id = client.create_webhook(
        BIZ,
        WebhookSpec(
            "delivery_status",
            "https://example.com/ds",
            type="webengage",
            configuration=WebhookConfiguration(
                echo=True,
                channel_types=["sms"],
                filters=[Filter("campaign_name", "prod-*")],
                webengage_configuration=WebengageConfiguration(TOKEN, "https://we.example/h"),
            ),
        ),
    )
    assert webhook_id.startswith("wh_") and len(webhook_id) == 29
    stored = emu.registrations(BIZ)
    assert [r["id"] for r in stored] == [webhook_id]
    assert stored[0]["configuration"]["webengageConfiguration"]["webengageToken"] == TOKEN

    listed = client.list_webhooks(BIZ)
    assert listed == [
        Webhook(
            webhook_id,
            "delivery_status",
            "https://example.com/ds",
            "webengage",
            WebhookConfiguration(
                True,
                ["sms"],
                [Filter("campaign_name", "prod-*")],
                WebengageConfiguration("****", "https://we.example/h"),
            ),
        )
    ]

    client.update_webhook(
        BIZ,
        webhook_id,
        address="https://example.com/ds2",
        configuration=WebhookConfiguration(filters=[]),
    )
    got = client.get_webhook(BIZ, webhook_id)
    assert got is not None and got.address == "https://example.com/ds2"
    assert got.configuration is not None
    assert (got.configuration.echo, got.configuration.channel_types, got.configuration.filters) == (
        True,
        ["sms"],
        [],
    )

    client.update_webhook(
        BIZ, webhook_id, address=None, configuration=WebhookConfiguration(echo=False)
    )
    got = client.get_webhook(BIZ, webhook_id)
    assert got is not None and got.address == "https://example.com/ds2"
    assert got.configuration is not None and got.configuration.echo is False

    client.delete_webhook(BIZ, webhook_id)
    assert client.get_webhook(BIZ, webhook_id) is None
    assert emu.registrations() == []
    assert client.stats == {"create": 1, "list": 4, "update": 2, "delete": 1}
    assert emu.counters() == client.stats


def test_defaults_and_absent_type_come_back_as_the_server_says(
    emu: Emulator, client: ConnectlyClient
) -> None:
    emu.set_modes(strict=True)
    webhook_id = client.create_webhook(BIZ, spec())
    (hook,) = client.list_webhooks(BIZ)
    assert hook == Webhook(
        webhook_id,
        "messages",
        "https://example.com/hooks/m",
        None,
        WebhookConfiguration(False, ["whatsapp"], [], None),
    )


def test_empty_business_lists_nothing_even_without_webhooks_key(
    emu: Emulator, client: ConnectlyClient
) -> None:
    assert client.list_webhooks("nobody") == []
    emu.set_modes(omit_empty_webhooks=True)
    assert client.list_webhooks("nobody") == []
    assert client.get_webhook("nobody", "wh_x") is None


def test_delete_of_missing_id_succeeds_but_update_raises_not_found(client: ConnectlyClient) -> None:
    client.delete_webhook(BIZ, "wh_00000000000000000000000000")
    with pytest.raises(NotFound) as info:
        client.update_webhook(
            BIZ, "wh_missing", address="https://example.com/x", configuration=None
        )
    assert info.value.status == 404 and info.value.code == "ERROR_CODE_NOT_FOUND"
    assert "wh_missing" in str(info.value)


def test_wrong_key_is_unauthorized_with_trace_id(emu: Emulator) -> None:
    with (
        ConnectlyClient("wrong-key-123456", emu.url, retry=NO_RETRY) as bad,
        pytest.raises(Unauthorized) as info,
    ):
        bad.list_webhooks(BIZ)
    err = info.value
    assert err.status == 401 and err.trace_id and err.trace_id.isdigit()
    assert str(err).startswith(
        f"Connectly API: 401 Unauthorized on GET /v1/businesses/{BIZ}/webhooks: invalid API key"
    )
    assert "wrong-key-123456" not in str(err)


def test_conflict_carries_existing_registration(emu: Emulator, client: ConnectlyClient) -> None:
    held = emu.seed(BIZ, "messages", "https://elsewhere.example/h")
    with pytest.raises(Conflict) as info:
        client.create_webhook(BIZ, spec())
    err = info.value
    assert err.status == 409 and err.existing is not None
    assert (err.existing.id, err.existing.address) == (held, "https://elsewhere.example/h")
    assert held in str(err) and "import" in str(err)
    assert len(emu.registrations()) == 1


def test_conflict_with_identical_registration_is_still_a_conflict_on_first_attempt(
    emu: Emulator, client: ConnectlyClient
) -> None:
    held = emu.seed(BIZ, "messages", "https://example.com/hooks/m")
    with pytest.raises(Conflict) as info:
        client.create_webhook(BIZ, spec())
    assert info.value.existing is not None and info.value.existing.id == held


def test_replace_mode_create_replaces(emu: Emulator, client: ConnectlyClient) -> None:
    emu.set_modes(on_conflict="replace")
    first = client.create_webhook(BIZ, spec())
    second = client.create_webhook(BIZ, spec(address="https://example.com/other"))
    assert first != second
    assert [h.id for h in client.list_webhooks(BIZ)] == [second]


@pytest.mark.parametrize(
    "bad",
    [
        spec(topic="topic_unspecified"),
        spec(topic="nope"),
        spec(address="ftp://x.example/"),
        spec(address="/relative"),
        WebhookSpec("messages", "https://a.example", type="bogus"),
    ],
)
def test_invalid_values_are_invalid_request(client: ConnectlyClient, bad: WebhookSpec) -> None:
    with pytest.raises(InvalidRequest) as info:
        client.create_webhook(BIZ, bad)
    assert info.value.status == 400 and info.value.message


def test_create_accepts_201(emu: Emulator, client: ConnectlyClient) -> None:
    emu.set_modes(create_status=201)
    assert client.create_webhook(BIZ, spec()).startswith("wh_")


def test_grpc_gateway_error_shape_is_read(emu: Emulator, client: ConnectlyClient) -> None:
    emu.set_modes(error_shape="grpc")
    with pytest.raises(NotFound) as info:
        client.update_webhook(BIZ, "wh_nope", address="https://a.example", configuration=None)
    assert info.value.code == "NOT_FOUND" and info.value.trace_id is None
    assert "wh_nope" in info.value.message


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (429, RateLimited),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (403, Unauthorized),
        (422, InvalidRequest),
        (418, ConnectlyError),
    ],
)
def test_injected_statuses_map_to_classes(
    emu: Emulator, client: ConnectlyClient, status: int, cls: type[ConnectlyError]
) -> None:
    emu.inject(Fault(status=status, endpoint="list", text="injected for test"))
    with pytest.raises(cls) as info:
        client.list_webhooks(BIZ)
    assert type(info.value) is cls
    assert info.value.status == status and info.value.message == "injected for test"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("html", "502 Bad Gateway 502 Bad Gateway proxy says no nginx"),
        ("empty", "(empty response body)"),
        ("truncated", "unreadable JSON error body: {"),
        ("text", "proxy says no"),
    ],
)
def test_proxy_bodies_give_readable_errors(
    emu: Emulator, client: ConnectlyClient, body: str, expected: str
) -> None:
    emu.inject(Fault(status=502, endpoint="delete", body=body, text="proxy says no"))
    with pytest.raises(ServerError) as info:
        client.delete_webhook(BIZ, "wh_1")
    assert info.value.message.startswith(expected)
    assert str(info.value).startswith(
        f"Connectly API: 502 Bad Gateway on DELETE /v1/businesses/{BIZ}/delete/webhooks/wh_1: "
    )


@pytest.mark.parametrize(
    ("body", "text"),
    [("empty", None), ("text", "<b>fine</b>"), ("json", None), ("truncated", None)],
)
def test_success_without_usable_body_is_invalid_response(
    emu: Emulator, client: ConnectlyClient, body: str, text: str | None
) -> None:
    emu.inject(Fault(status=200, endpoint="create", body=body, text=text))
    with pytest.raises(InvalidResponse) as info:
        client.create_webhook(BIZ, spec())
    assert info.value.status == 200
    emu.inject(Fault(status=200, endpoint="list", body=body, text=text))
    with pytest.raises(InvalidResponse):
        client.list_webhooks(BIZ)
    assert emu.registrations() == []


def test_success_without_id_adopts_the_registration_that_was_made(
    emu: Emulator, client: ConnectlyClient
) -> None:
    emu.inject(Fault(status=200, endpoint="create", body="empty", after_work=True))
    webhook_id = client.create_webhook(BIZ, spec())
    assert [r["id"] for r in emu.registrations()] == [webhook_id]


def test_secrets_are_not_in_error_text(emu: Emulator, client: ConnectlyClient) -> None:
    echo = f"rejected key {TEST_API_KEY} with token {TOKEN}"
    emu.inject(Fault(status=400, endpoint="create", text=echo))
    with pytest.raises(InvalidRequest) as info:
        client.create_webhook(BIZ, spec(webengage_configuration=WebengageConfiguration(TOKEN)))
    emu.inject(Fault(status=502, endpoint="update", body="html", text=echo))
    with pytest.raises(ServerError) as info2:
        client.update_webhook(
            BIZ,
            "wh_1",
            address=None,
            configuration=WebhookConfiguration(
                webengage_configuration=WebengageConfiguration(TOKEN)
            ),
        )
    for err in (info.value, info2.value):
        for text in (str(err), repr(err), err.message):
            assert TEST_API_KEY not in text and TOKEN not in text
        assert "rejected key *** with token ***" in err.message


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_closed_port_is_transport_error_not_sent() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with (
        ConnectlyClient(TEST_API_KEY, url, retry=NO_RETRY) as c,
        pytest.raises(TransportError) as info,
    ):
        c.list_webhooks(BIZ)
    err = info.value
    assert err.status is None and err.request_sent is False
    assert str(err).startswith(
        f"Connectly API: network error on GET /v1/businesses/{BIZ}/webhooks: could not connect"
    )


def test_dropped_connection_is_transport_error_sent(emu: Emulator, client: ConnectlyClient) -> None:
    emu.inject(Fault(status=None, drop=True, endpoint="update"))
    with pytest.raises(TransportError) as info:
        client.update_webhook(BIZ, "wh_1", address="https://a.example", configuration=None)
    assert info.value.request_sent is True
    assert "connection dropped" in str(info.value)


def test_requests_are_logged_at_debug_without_secrets(
    client: ConnectlyClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="terraform_provider_connectly.connectly")
    client.create_webhook(BIZ, spec(webengage_configuration=WebengageConfiguration(TOKEN)))
    client.list_webhooks(BIZ)
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("terraform_provider_connectly.connectly")
    ]
    assert any(
        line.startswith(f"POST /v1/businesses/{BIZ}/create/webhooks -> 200 in ") for line in lines
    )
    assert any(line.startswith(f"GET /v1/businesses/{BIZ}/webhooks -> 200 in ") for line in lines)
    for line in lines:
        assert TEST_API_KEY not in line and TOKEN not in line


def test_client_rejects_empty_identifiers(client: ConnectlyClient) -> None:
    with pytest.raises(ValueError, match="business_id"):
        client.list_webhooks("")
    with pytest.raises(ValueError, match="webhook_id"):
        client.delete_webhook(BIZ, "")


# -- client and emulator agree with a model, over random operation sequences ------------------

TOPICS = ("messages", "delivery_status", "report")
configurations = st.builds(
    WebhookConfiguration,
    echo=st.none() | st.booleans(),
    channel_types=st.none() | st.lists(st.sampled_from(["whatsapp", "sms"]), max_size=2),
    filters=st.none()
    | st.lists(
        st.builds(Filter, st.sampled_from(["campaign_name", "x"]), st.text("ab*-", max_size=4)),
        max_size=2,
    ),
    webengage_configuration=st.none()
    | st.builds(
        WebengageConfiguration,
        st.none() | st.just(TOKEN),
        st.none() | st.just("https://we.example/h"),
    ),
)
addresses = st.sampled_from(["https://a.example/1", "https://b.example/2", "http://c.example"])


class ClientAgainstEmulator(RuleBasedStateMachine):
    emulator: Emulator
    client: ConnectlyClient

    def __init__(self) -> None:
        super().__init__()
        self.emulator.reset()
        self.model: dict[str, dict[str, object]] = {}  # id -> {topic, address, conf}

    @rule(topic=st.sampled_from(TOPICS), address=addresses, conf=st.none() | configurations)
    def create(self, topic: str, address: str, conf: WebhookConfiguration | None) -> None:
        holder = next((i for i, h in self.model.items() if h["topic"] == topic), None)
        try:
            new_id = self.client.create_webhook(
                BIZ, WebhookSpec(topic, address, configuration=conf)
            )
        except Conflict as exc:
            assert holder is not None and exc.existing is not None
            assert exc.existing.id == holder
            return
        assert holder is None
        self.model[new_id] = {
            "topic": topic,
            "address": address,
            "conf": conf.to_api() if conf else {},
        }

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data(), address=st.none() | addresses, conf=st.none() | configurations)
    def update(
        self, data: st.DataObject, address: str | None, conf: WebhookConfiguration | None
    ) -> None:
        webhook_id = data.draw(st.sampled_from(list(self.model)))
        self.client.update_webhook(BIZ, webhook_id, address=address, configuration=conf)
        entry = self.model[webhook_id]
        if address is not None:
            entry["address"] = address
        if conf is not None:
            entry["conf"] = {**entry["conf"], **conf.to_api()}  # type: ignore[dict-item]

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        webhook_id = data.draw(st.sampled_from([*self.model, "wh_missing"]))
        self.client.delete_webhook(BIZ, webhook_id)
        self.model.pop(webhook_id, None)

    @invariant()
    def listing_matches_model(self) -> None:
        # Unshared: the emulator is reset between examples behind the client's back.
        listed = {h.id: h for h in self.client.list_webhooks(BIZ)}
        assert set(listed) == set(self.model)
        for webhook_id, entry in self.model.items():
            hook = listed[webhook_id]
            assert (hook.topic, hook.address, hook.type) == (
                entry["topic"],
                entry["address"],
                "custom",
            )
            conf = WebhookConfiguration.from_api(
                {"echo": False, "channelTypes": ["whatsapp"], "filters": [], **entry["conf"]}  # type: ignore[dict-item]
            )
            we = conf.webengage_configuration
            if we is not None and we.webengage_token is not None:
                conf = dataclasses.replace(
                    conf, webengage_configuration=dataclasses.replace(we, webengage_token="****")
                )
            assert hook.configuration == conf


def test_client_and_emulator_agree_with_a_model() -> None:
    with (
        running_emulator() as emulator,
        ConnectlyClient(TEST_API_KEY, emulator.url, retry=NO_RETRY) as client,
    ):
        ClientAgainstEmulator.emulator = emulator
        ClientAgainstEmulator.client = client
        run_state_machine_as_test(
            ClientAgainstEmulator,
            settings=settings(max_examples=25, stateful_step_count=12, deadline=None),
        )
