"""Retries, budgets, deadlines and create's never-twice guarantee, against the emulator.

Waits go through an injected sleep that records them and advances a fake clock, so the tests
see every delay without spending it.
"""

from __future__ import annotations

import email.utils
import threading
import time

import pytest

from terraform_provider_connectly.connectly import (
    Conflict,
    ConnectlyClient,
    ConnectlyError,
    InvalidRequest,
    OperationTimeout,
    RateLimited,
    RetryPolicy,
    ServerError,
    TransportError,
    WebhookSpec,
)
from terraform_provider_connectly.emulator import Emulator, Fault

from emulator_fixture import TEST_API_KEY, running_emulator

BIZ = "biz_retry"
SPEC = WebhookSpec("messages", "https://example.com/hooks/m")
WALL = 1_700_000_000.0


class FakeTime:
    def __init__(self) -> None:
        self.now = 5000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def policy(self, **overrides: object) -> RetryPolicy:
        options: dict[str, object] = {
            "base_delay": 1.0,
            "max_delay": 8.0,
            "random": lambda: 0.5,
            "sleep": self.sleep,
            "clock": self.clock,
            "wall_clock": lambda: WALL,
        }
        options.update(overrides)
        return RetryPolicy(**options)  # type: ignore[arg-type]


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


def make_client(emu: Emulator, policy: RetryPolicy, timeout: float = 5.0) -> ConnectlyClient:
    return ConnectlyClient(TEST_API_KEY, emu.url, retry=policy, timeout=timeout)


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_transient_statuses_are_retried_with_jittered_exponential_backoff(
    emu: Emulator, fake: FakeTime, status: int
) -> None:
    emu.inject(Fault(status=status, endpoint="list", count=4))
    with make_client(emu, fake.policy()) as client:
        assert client.list_webhooks(BIZ) == []
        assert client.stats["list"] == 5
    # full jitter with random() = 0.5: half of 1, 2, 4, 8
    assert fake.sleeps == [0.5, 1.0, 2.0, 4.0]
    assert emu.counters()["list"] == 5


def test_backoff_is_capped_by_max_delay(emu: Emulator, fake: FakeTime) -> None:
    emu.inject(Fault(status=503, endpoint="delete", count=5))
    policy = fake.policy(max_attempts=6, jitter=False, max_delay=3.0)
    with make_client(emu, policy) as client:
        client.delete_webhook(BIZ, "wh_gone")
    assert fake.sleeps == [1.0, 2.0, 3.0, 3.0, 3.0]


def test_attempt_cap_gives_up_with_last_error(emu: Emulator, fake: FakeTime) -> None:
    emu.inject(Fault(status=503, endpoint="list", count=10, text="overloaded"))
    with (
        make_client(emu, fake.policy(max_attempts=3)) as client,
        pytest.raises(ServerError) as info,
    ):
        client.list_webhooks(BIZ)
    assert emu.counters()["list"] == 3
    assert fake.sleeps == [0.5, 1.0]
    assert info.value.message == "overloaded"
    assert "gave up after 3 attempts" in str(info.value)


def test_retry_after_seconds_replaces_backoff(emu: Emulator, fake: FakeTime) -> None:
    emu.inject(Fault(status=429, endpoint="update", retry_after="7"))
    emu.inject(Fault(status=503, endpoint="update", retry_after="3"))
    webhook_id = emu.seed(BIZ, "messages", "https://example.com/a")
    with make_client(emu, fake.policy()) as client:
        client.update_webhook(BIZ, webhook_id, address="https://example.com/b", configuration=None)
    assert fake.sleeps == [7.0, 3.0]
    assert emu.registrations()[0]["address"] == "https://example.com/b"


def test_retry_after_http_date(emu: Emulator, fake: FakeTime) -> None:
    emu.inject(
        Fault(
            status=503, endpoint="list", retry_after=email.utils.formatdate(WALL + 12, usegmt=True)
        )
    )
    with make_client(emu, fake.policy()) as client:
        client.list_webhooks(BIZ)
    assert fake.sleeps == [12.0]


def test_total_time_cap(emu: Emulator, fake: FakeTime) -> None:
    emu.inject(Fault(status=502, endpoint="list", count=10))
    policy = fake.policy(max_attempts=10, max_elapsed=5.0, jitter=False)
    with make_client(emu, policy) as client, pytest.raises(ServerError) as info:
        client.list_webhooks(BIZ)
    # waits 1 + 2 = 3 s; the next (4 s) would pass the 5 s budget, so it stops at 3 attempts
    assert fake.sleeps == [1.0, 2.0]
    assert emu.counters()["list"] == 3
    assert "5s retry budget" in str(info.value)


def test_retry_after_beyond_budget_gives_up_at_once(emu: Emulator, fake: FakeTime) -> None:
    emu.inject(Fault(status=429, endpoint="list", retry_after="3600"))
    with make_client(emu, fake.policy()) as client, pytest.raises(RateLimited) as info:
        client.list_webhooks(BIZ)
    assert fake.sleeps == []
    assert info.value.retry_after == 3600.0
    assert "asked to wait 3600s" in str(info.value)


def test_deadline_stops_retries_with_operation_timeout(emu: Emulator, fake: FakeTime) -> None:
    emu.inject(Fault(status=503, endpoint="list", count=10))
    with (
        make_client(emu, fake.policy(jitter=False)) as client,
        pytest.raises(OperationTimeout) as info,
    ):
        client.list_webhooks(BIZ, deadline=fake.now + 2.5)
    err = info.value
    assert isinstance(err, TimeoutError)
    assert fake.sleeps == [1.0]  # the next 2 s wait would end past the deadline
    assert emu.counters()["list"] == 2
    assert isinstance(err, OperationTimeout)
    assert err.operation == "list" and err.last_error is not None
    assert str(err).startswith(
        f"Connectly API: timed out on GET /v1/businesses/{BIZ}/webhooks: "
        "list webhooks did not finish after 1.0s (it started 2.5s before the operation's "
        "deadline)"
    )
    assert "503 Service Unavailable" in str(err)


def test_deadline_already_passed_sends_nothing(emu: Emulator, fake: FakeTime) -> None:
    with make_client(emu, fake.policy()) as client, pytest.raises(OperationTimeout):
        client.delete_webhook(BIZ, "wh_1", deadline=fake.now - 1)
    assert emu.counters()["delete"] == 0


def test_deadline_cuts_a_slow_request_short(emu: Emulator) -> None:
    emu.inject(Fault(status=None, endpoint="list", delay_ms=3000))
    with (
        make_client(emu, RetryPolicy(), timeout=30) as client,
        pytest.raises(OperationTimeout) as info,
    ):
        client.list_webhooks(BIZ, deadline=time.monotonic() + 0.2)
    assert "deadline" in str(info.value)


def test_non_transient_errors_are_not_retried(emu: Emulator, fake: FakeTime) -> None:
    emu.inject(Fault(status=500, endpoint="list"))
    with make_client(emu, fake.policy()) as client:
        with pytest.raises(ServerError):
            client.list_webhooks(BIZ)
        with pytest.raises(InvalidRequest):
            client.update_webhook(BIZ, "wh_1", address="not a url", configuration=None)
    assert fake.sleeps == []
    assert emu.counters()["list"] == 1 and emu.counters()["update"] == 1


def test_connection_failures_are_retried(emu: Emulator, fake: FakeTime) -> None:
    emu.inject(Fault(status=None, drop=True, endpoint="delete", count=2))
    webhook_id = emu.seed(BIZ, "messages", "https://example.com/a")
    with make_client(emu, fake.policy()) as client:
        client.delete_webhook(BIZ, webhook_id)
    assert fake.sleeps == [0.5, 1.0]
    assert emu.registrations() == []


def test_lost_delete_response_retries_into_404_which_is_success(
    emu: Emulator, fake: FakeTime
) -> None:
    emu.inject(Fault(status=None, drop=True, after_work=True, endpoint="delete"))
    webhook_id = emu.seed(BIZ, "messages", "https://example.com/a")
    with make_client(emu, fake.policy()) as client:
        client.delete_webhook(BIZ, webhook_id)
    assert emu.counters()["delete"] == 2 and emu.registrations() == []


# -- create: never twice ------------------------------------------------------------------------


def test_dropped_create_response_adopts_the_stored_registration(
    emu: Emulator, fake: FakeTime
) -> None:
    emu.inject(Fault(status=None, drop=True, after_work=True, endpoint="create"))
    with make_client(emu, fake.policy()) as client:
        webhook_id = client.create_webhook(BIZ, SPEC)
        assert client.stats == {"create": 1, "list": 1, "update": 0, "delete": 0}
    assert [r["id"] for r in emu.registrations()] == [webhook_id]
    assert fake.sleeps == []


@pytest.mark.parametrize("mode", ["409", "replace"])
def test_random_dropped_creates_never_duplicate(fake: FakeTime, mode: str) -> None:
    with (
        running_emulator(on_conflict=mode) as emu,
        make_client(emu, fake.policy(max_attempts=20, max_elapsed=1e6)) as client,
    ):
        emu.set_random_faults(rate_drop_create=0.5, rate_503=0.2, seed=7)
        topics = ["messages", "delivery_status", "report"]
        ids = [
            client.create_webhook(f"biz_{n}", WebhookSpec(topic, f"https://e.example/{n}"))
            for n in range(6)
            for topic in topics
        ]
        stored = emu.registrations()
    assert sorted(r["id"] for r in stored) == sorted(ids)
    assert len(stored) == 18
    assert emu.counters()["create"] > 18  # faults really happened


def test_create_dropped_before_work_is_sent_again(emu: Emulator, fake: FakeTime) -> None:
    emu.inject(Fault(status=None, drop=True, endpoint="create"))
    with make_client(emu, fake.policy()) as client:
        webhook_id = client.create_webhook(BIZ, SPEC)
        assert client.stats["create"] == 2 and client.stats["list"] == 1
    assert [r["id"] for r in emu.registrations()] == [webhook_id]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_error_after_work_adopts(emu: Emulator, fake: FakeTime, status: int) -> None:
    emu.inject(Fault(status=status, after_work=True, endpoint="create", body="html"))
    with make_client(emu, fake.policy()) as client:
        webhook_id = client.create_webhook(BIZ, SPEC)
        assert client.stats["create"] == 1
    assert [r["id"] for r in emu.registrations()] == [webhook_id]


def test_create_500_checks_then_reports_without_retrying(emu: Emulator, fake: FakeTime) -> None:
    emu.inject(Fault(status=500, endpoint="create"))
    with make_client(emu, fake.policy()) as client, pytest.raises(ServerError) as info:
        client.create_webhook(BIZ, SPEC)
    assert emu.counters()["create"] == 1 and emu.counters()["list"] == 1
    assert "may have been created" in str(info.value)
    assert emu.registrations() == []


def test_create_429_is_retried_without_listing(emu: Emulator, fake: FakeTime) -> None:
    emu.inject(Fault(status=429, endpoint="create", retry_after="2", count=2))
    with make_client(emu, fake.policy()) as client:
        client.create_webhook(BIZ, SPEC)
        assert client.stats["list"] == 0
    assert fake.sleeps == [2.0, 2.0]
    assert len(emu.registrations()) == 1


def test_create_read_timeout_adopts(emu: Emulator, fake: FakeTime) -> None:
    emu.inject(Fault(status=None, after_work=True, delay_ms=2000, endpoint="create"))
    with make_client(emu, fake.policy(), timeout=0.25) as client:
        webhook_id = client.create_webhook(BIZ, SPEC)
    assert [r["id"] for r in emu.registrations()] == [webhook_id]


def test_409_on_retry_after_a_slow_first_create_is_adopted(emu: Emulator) -> None:
    """The first create is still being processed when the check lists; the retry then meets
    the first create's registration as a 409, which must be recognised as our own."""
    emu.inject(Fault(status=None, delay_ms=600, endpoint="create"))  # delay *before* storing
    sleeps: list[float] = []

    def sleep_until_stored(seconds: float) -> None:
        sleeps.append(seconds)
        end = time.monotonic() + 5
        while not emu.registrations() and time.monotonic() < end:
            time.sleep(0.01)

    policy = RetryPolicy(sleep=sleep_until_stored, random=lambda: 0.5)
    with make_client(emu, policy, timeout=0.2) as client:
        webhook_id = client.create_webhook(BIZ, SPEC)
        assert client.stats == {"create": 2, "list": 2, "update": 0, "delete": 0}
    assert [r["id"] for r in emu.registrations()] == [webhook_id]
    assert len(sleeps) == 1


def test_409_on_retry_for_someone_elses_registration_is_a_conflict(
    emu: Emulator, fake: FakeTime
) -> None:
    emu.inject(Fault(status=503, endpoint="create"))
    other = emu.seed(BIZ, "messages", "https://someone.else/hook")
    with make_client(emu, fake.policy()) as client, pytest.raises(Conflict) as info:
        client.create_webhook(BIZ, SPEC)
    assert info.value.existing is not None and info.value.existing.id == other


def test_create_on_closed_port_never_lists(fake: FakeTime) -> None:
    with running_emulator() as emu:
        url = emu.url
    with (
        ConnectlyClient(TEST_API_KEY, url, retry=fake.policy(max_attempts=3)) as client,
        pytest.raises(TransportError) as info,
    ):
        client.create_webhook(BIZ, SPEC)
    assert client.stats == {"create": 3, "list": 0, "update": 0, "delete": 0}
    assert "may have been created" not in str(info.value)


def test_create_deadline_after_ambiguous_failure_says_it_may_exist(
    emu: Emulator, fake: FakeTime
) -> None:
    emu.inject(Fault(status=503, endpoint="create", count=5))
    with (
        make_client(emu, fake.policy(jitter=False)) as client,
        pytest.raises(OperationTimeout) as info,
    ):
        client.create_webhook(BIZ, SPEC, deadline=fake.now + 0.5)
    text = str(info.value)
    assert "create webhook did not finish" in text and "may have been created" in text


def test_concurrent_creates_through_one_client_are_thread_safe(emu: Emulator) -> None:
    with make_client(emu, RetryPolicy()) as client:
        results: list[str] = []
        errors: list[Exception] = []

        def create(n: int) -> None:
            try:
                results.append(client.create_webhook(f"biz_{n}", SPEC))
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=create, args=(n,)) for n in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == [] and len(set(results)) == 16
    assert client.stats["create"] == 16


def test_create_cut_short_by_deadline_says_it_may_exist(emu: Emulator) -> None:
    emu.inject(Fault(status=None, after_work=True, delay_ms=2000, endpoint="create"))
    with make_client(emu, RetryPolicy()) as client, pytest.raises(OperationTimeout) as info:
        client.create_webhook(BIZ, SPEC, deadline=time.monotonic() + 0.2)
    assert "deadline cut the request short" in str(info.value)
    assert "may have been created" in str(info.value)
    assert len(emu.registrations()) == 1


# An API that is not there fails fast; one that asks to wait is waited for (issue 13).


def down_policy(fake: FakeTime) -> RetryPolicy:
    return fake.policy(max_attempts=100, unavailable_attempts=3, unavailable_elapsed=8.0)


@pytest.mark.parametrize("status", [502, 504])
def test_unavailable_statuses_get_the_short_budget(
    emu: Emulator, fake: FakeTime, status: int
) -> None:
    emu.inject(Fault(status=status, endpoint="list", count=50))
    with make_client(emu, down_policy(fake)) as client, pytest.raises(ConnectlyError) as info:
        client.list_webhooks(BIZ, deadline=fake.now + 3600)
    assert emu.counters()["list"] == 3
    assert "gave up after 3 attempts" in str(info.value)
    assert "could not be reached" in str(info.value)


@pytest.mark.parametrize("retry_after", ["2", None])
def test_a_busy_server_keeps_the_patient_budget(
    emu: Emulator, fake: FakeTime, retry_after: str | None
) -> None:
    emu.inject(Fault(status=503, endpoint="list", count=6, retry_after=retry_after))
    with make_client(emu, down_policy(fake)) as client:
        assert client.list_webhooks(BIZ, deadline=fake.now + 3600) == []
    assert emu.counters()["list"] == 7
    if retry_after is not None:
        assert fake.sleeps == [2.0] * 6


def test_refused_connections_give_up_after_three_quick_attempts(fake: FakeTime) -> None:
    with running_emulator() as gone:
        url = gone.url
    client = ConnectlyClient(TEST_API_KEY, url, retry=down_policy(fake))
    with client, pytest.raises(ConnectlyError) as info:
        client.list_webhooks(BIZ, deadline=fake.now + 3600)
    assert client.stats["list"] == 3
    assert "could not connect" in str(info.value) and "gave up after 3 attempts" in str(info.value)
    assert sum(fake.sleeps) <= 8.0
