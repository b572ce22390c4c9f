"""Listing sharing: many concurrent readers of one business, one listing request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from terraform_provider_connectly.connectly import (
    ConnectlyClient,
    Filter,
    OperationTimeout,
    RetryPolicy,
    ServerError,
    Webhook,
    WebhookSpec,
)
from terraform_provider_connectly.connectly.sharing import SharedListings
from terraform_provider_connectly.emulator import Emulator, Fault

from emulator_fixture import TEST_API_KEY

BIZ = "biz_shared"
READERS = 12


@pytest.fixture
def client(emu: Emulator) -> Iterator[ConnectlyClient]:
    with ConnectlyClient(TEST_API_KEY, emu.url, retry=RetryPolicy(max_attempts=1)) as c:
        yield c


def run_concurrently(n: int, work: Callable[[int], object]) -> list[object]:
    """Run ``work(i)`` in n threads released together; results (or exceptions) in order."""
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def seed_three(emu: Emulator) -> list[str]:
    return [
        emu.seed(BIZ, topic, f"https://example.com/{topic}")
        for topic in ("messages", "delivery_status", "report")
    ]


def test_concurrent_readers_share_one_listing(emu: Emulator, client: ConnectlyClient) -> None:
    ids = seed_three(emu)
    emu.inject(Fault(status=None, endpoint="list", delay_ms=150))  # keep it in flight
    results = run_concurrently(READERS, lambda i: client.get_webhook(BIZ, ids[i % 3], shared=True))
    assert [r.id if isinstance(r, Webhook) else r for r in results] == [
        ids[i % 3] for i in range(READERS)
    ]
    assert emu.counters()["list"] == 1
    assert client.stats["list"] == 1


def test_each_reader_gets_its_own_copy(emu: Emulator, client: ConnectlyClient) -> None:
    seed_three(emu)
    first = client.list_webhooks(BIZ, shared=True)
    first[0].configuration.channel_types.append("mutated")  # type: ignore[union-attr]
    first[1].configuration.filters.append(Filter("f", "e"))  # type: ignore[union-attr]
    first.clear()
    second = client.list_webhooks(BIZ, shared=True)
    assert len(second) == 3 and second[0].configuration is not None
    assert second[0].configuration.channel_types == ["whatsapp"]
    assert second[1].configuration is not None and second[1].configuration.filters == []
    assert emu.counters()["list"] == 1


def test_completed_listing_is_reused_until_a_write(emu: Emulator, client: ConnectlyClient) -> None:
    ids = seed_three(emu)
    assert client.get_webhook(BIZ, ids[0], shared=True) is not None
    assert client.get_webhook(BIZ, ids[1], shared=True) is not None
    assert emu.counters()["list"] == 1

    client.update_webhook(BIZ, ids[0], address="https://example.com/changed", configuration=None)
    got = client.get_webhook(BIZ, ids[0], shared=True)
    assert got is not None and got.address == "https://example.com/changed"
    assert emu.counters()["list"] == 2

    client.delete_webhook(BIZ, ids[1])
    assert client.get_webhook(BIZ, ids[1], shared=True) is None
    assert emu.counters()["list"] == 3

    new_id = client.create_webhook("other_biz", WebhookSpec("messages", "https://e.example/x"))
    assert client.get_webhook(BIZ, ids[2], shared=True) is not None  # other business: reused
    assert emu.counters()["list"] == 3
    assert client.get_webhook("other_biz", new_id, shared=True) is not None
    assert emu.counters()["list"] == 4


def test_unshared_reads_always_send(emu: Emulator, client: ConnectlyClient) -> None:
    seed_three(emu)
    for _ in range(3):
        client.list_webhooks(BIZ)
    assert emu.counters()["list"] == 3
    client.list_webhooks(BIZ, shared=True)  # the last unshared listing is still current
    assert emu.counters()["list"] == 3


def test_error_of_shared_request_reaches_every_waiter(
    emu: Emulator, client: ConnectlyClient
) -> None:
    emu.inject(Fault(status=500, endpoint="list", delay_ms=300, text="listing broke"))
    results = run_concurrently(READERS, lambda i: client.list_webhooks(BIZ, shared=True))
    assert all(isinstance(r, ServerError) and r.message == "listing broke" for r in results)
    assert emu.counters()["list"] == 1
    assert client.list_webhooks(BIZ, shared=True) == []  # failures are not cached
    assert emu.counters()["list"] == 2


def test_waiter_gives_up_at_its_own_deadline(emu: Emulator, client: ConnectlyClient) -> None:
    emu.inject(Fault(status=None, endpoint="list", delay_ms=400))
    leader = threading.Thread(target=client.list_webhooks, args=(BIZ,), kwargs={"shared": True})
    leader.start()
    while emu.counters()["list"] == 0:
        time.sleep(0.005)
    with pytest.raises(OperationTimeout, match="waited for a listing"):
        client.list_webhooks(BIZ, shared=True, deadline=time.monotonic() + 0.05)
    leader.join()
    assert emu.counters()["list"] == 1


# -- the coordinator itself, deterministic ---------------------------------------------------


def test_listing_in_flight_during_a_write_is_not_joined_or_reused() -> None:
    shared: SharedListings[list[int]] = SharedListings()
    release = threading.Event()
    calls: list[str] = []

    def slow() -> list[int]:
        calls.append("slow")
        release.wait(5)
        return [1]

    def fast() -> list[int]:
        calls.append("fast")
        return [2]

    result: list[list[int]] = []
    t = threading.Thread(target=lambda: result.append(shared.get("b", slow, shared=True)))
    t.start()
    while not calls:
        threading.Event().wait(0.001)
    with shared.writing("b"):
        assert shared.get("b", fast, shared=True) == [2]  # write started: no joining
    assert shared.get("b", fast, shared=True) == [2]  # write finished: fresh listing again
    release.set()
    t.join()
    assert result == [[1]]
    assert calls == ["slow", "fast", "fast"]
    # The slow listing was sent before the write: finishing later must not make it current.
    # The listing sent after the write is reused instead.
    assert shared.get("b", fast, shared=True) == [2]
    assert calls == ["slow", "fast", "fast"]


def test_joiners_of_one_flight_call_fetch_once() -> None:
    shared: SharedListings[list[int]] = SharedListings()
    release = threading.Event()
    calls: list[int] = []

    def fetch() -> list[int]:
        calls.append(1)
        release.wait(5)
        return [len(calls)]

    timer = threading.Timer(0.1, release.set)
    timer.start()
    results = run_concurrently(8, lambda i: shared.get("b", fetch, shared=True))
    timer.join()
    assert results == [[1]] * 8 and calls == [1]


def test_listing_overtaken_by_a_whole_write_is_not_cached() -> None:
    shared: SharedListings[list[int]] = SharedListings()
    release = threading.Event()
    calls: list[str] = []

    def slow() -> list[int]:
        calls.append("slow")
        release.wait(5)
        return [1]

    t = threading.Thread(target=shared.get, args=("b", slow), kwargs={"shared": True})
    t.start()
    while not calls:
        time.sleep(0.001)
    with shared.writing("b"):
        pass
    release.set()
    t.join()

    def fresh() -> list[int]:
        calls.append("fresh")
        return [3]

    assert shared.get("b", fresh, shared=True) == [3]
    assert calls == ["slow", "fresh"]
