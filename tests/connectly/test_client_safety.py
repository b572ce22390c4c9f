"""The client never takes over a registration it did not make, and hostile answers or keys
give typed errors that show no secret."""

from __future__ import annotations

import threading

import pytest

from terraform_provider_connectly.connectly import (
    Conflict,
    ConnectlyClient,
    ConnectlyError,
    NotFound,
    OperationTimeout,
    RetryPolicy,
    WebhookSpec,
)
from terraform_provider_connectly.connectly.credentials import check_api_key
from terraform_provider_connectly.connectly.errors import parse_error_body
from terraform_provider_connectly.connectly.retry import parse_retry_after
from terraform_provider_connectly.connectly.sharing import SharedListings
from terraform_provider_connectly.emulator import Emulator, Fault

from emulator_fixture import TEST_API_KEY

BIZ = "biz_safe"
SPEC = WebhookSpec(topic="messages", address="https://example.com/m", type="custom")


@pytest.fixture
def emu(strict_emulator: Emulator) -> Emulator:
    """These tests run against the least forgiving modes."""
    return strict_emulator


def client_for(emu: Emulator) -> ConnectlyClient:
    policy = RetryPolicy(max_attempts=4, sleep=lambda s: None)
    return ConnectlyClient(TEST_API_KEY, emu.url, timeout=5.0, retry=policy)


def test_a_lost_answer_never_adopts_a_registration_that_existed_before(emu: Emulator) -> None:
    old = emu.seed(BIZ, "messages", "https://example.com/m")
    emu.inject(Fault(status=503, endpoint="create"))  # the proxy answered; nothing was made
    with client_for(emu) as client, pytest.raises(Conflict) as err:
        client.create_webhook(BIZ, SPEC, preexisting={old})
    assert err.value.existing is not None and err.value.existing.id == old
    assert [r["id"] for r in emu.registrations()] == [old]


def test_a_lost_answer_adopts_what_this_create_made(emu: Emulator) -> None:
    emu.inject(Fault(status=None, endpoint="create", drop=True, after_work=True))
    with client_for(emu) as client:
        made = client.create_webhook(BIZ, SPEC, preexisting=set())
    assert [r["id"] for r in emu.registrations()] == [made]


def test_hostile_retry_after_values_are_ignored() -> None:
    assert parse_retry_after("²", 0.0) is None
    assert parse_retry_after("Fri, 31 Dec 99999 23:59:59 GMT", 0.0) is None
    assert parse_retry_after("7", 0.0) == 7.0


def test_deeply_nested_error_bodies_are_readable_errors(emu: Emulator) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    assert parse_error_body(deep).message
    emu.inject(Fault(status=200, endpoint="list", body="text", text=deep))
    with client_for(emu) as client, pytest.raises(ConnectlyError):
        client.list_webhooks(BIZ)


def test_api_keys_that_cannot_be_sent_are_refused_without_showing_them() -> None:
    for bad in ("sk_live_secret\n", " sk_live_secret", "sk_live_sécret", ""):
        with pytest.raises(ValueError) as err:
            check_api_key(bad)
        assert "secret" not in str(err.value) and "sécret" not in str(err.value)
    check_api_key("sk_live_fine-123")


def test_only_the_apis_own_404_means_already_deleted(emu: Emulator) -> None:
    webhook = emu.seed(BIZ, "messages", "https://example.com/m")
    with client_for(emu) as client:
        emu.inject(Fault(status=404, endpoint="delete", body="html"))
        with pytest.raises(NotFound) as err:
            client.delete_webhook(BIZ, webhook)
        assert "base_url" in str(err.value)
        assert len(emu.registrations()) == 1
        client.delete_webhook(BIZ, webhook)
        client.delete_webhook(BIZ, webhook)  # now gone: the API's JSON 404 is success
        assert emu.registrations() == []
        for dots in (".", ".."):
            with pytest.raises(ValueError):
                client.delete_webhook(BIZ, dots)


def test_a_reader_with_time_left_is_not_failed_by_anothers_timeout() -> None:
    shared: SharedListings[str] = SharedListings()
    leader_started, release = threading.Event(), threading.Event()

    def leader_fetch() -> str:
        leader_started.set()
        release.wait(5)
        raise OperationTimeout("leader ran out of its time")

    outcome: list[object] = []

    def lead() -> None:
        try:
            shared.get("biz", leader_fetch, shared=True)
        except OperationTimeout as exc:
            outcome.append(exc)

    leader = threading.Thread(target=lead)
    leader.start()
    leader_started.wait(5)
    waiter_result: list[str] = []
    waiter = threading.Thread(
        target=lambda: waiter_result.append(shared.get("biz", lambda: "fresh", shared=True))
    )
    waiter.start()
    threading.Event().wait(0.2)  # let the waiter join the leader's request first
    release.set()
    leader.join(5)
    waiter.join(5)
    assert isinstance(outcome[0], OperationTimeout)
    assert waiter_result == ["fresh"]


def test_emulator_refuses_a_malformed_address_with_400(emu: Emulator) -> None:
    import httpx

    answer = httpx.post(
        f"{emu.url}/v1/businesses/{BIZ}/create/webhooks",
        headers={"X-API-Key": TEST_API_KEY},
        json={"topic": "messages", "address": "https://[::1"},
    )
    assert answer.status_code == 400


def test_a_finished_listing_is_reused_only_while_young() -> None:
    shared: SharedListings[int] = SharedListings(max_age=0.0)
    calls = iter(range(10))
    assert shared.get("biz", lambda: next(calls), shared=True) == 0
    assert shared.get("biz", lambda: next(calls), shared=True) == 1  # too old to reuse
    young: SharedListings[int] = SharedListings(max_age=60.0)
    assert young.get("biz", lambda: next(calls), shared=True) == 2
    assert young.get("biz", lambda: next(calls), shared=True) == 2


def test_a_trickling_answer_is_cut_off_at_the_deadline() -> None:
    import http.server
    import time

    body = b'{"entity": {"webhooks": []}}'

    class Trickle(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(len(body)):  # one byte every 0.2 s: each read is quick, all is slow
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(0.2)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    policy = RetryPolicy(max_attempts=1)
    try:
        with (
            ConnectlyClient(
                TEST_API_KEY, f"http://127.0.0.1:{server.server_address[1]}", retry=policy
            ) as client,
            pytest.raises(OperationTimeout),
        ):
            client.list_webhooks(BIZ, deadline=time.monotonic() + 1.0)
    finally:
        server.shutdown()
        server.server_close()
