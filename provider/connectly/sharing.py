"""One listing request for many readers of the same business.

Connectly has no "get one webhook" endpoint, so a Terraform refresh of N webhooks of one
business would otherwise list that business N times, concurrently. Readers that opt in
(``shared=True``) instead join a listing already in flight, or reuse a finished one.

Reuse is only safe if the listing can still reflect every write this client made. Each
business has a generation counter that every write bumps when it starts *and* when it ends; a
listing remembers the generation current when it was sent, and is joined or reused only while
that is still the current generation. Bumping at the start matters because a listing sent
while a write is in flight may or may not include it; bumping at the end matters because a
listing sent before the write certainly does not.

A finished listing is also reused only for ``max_age`` seconds: changes made outside this
client (a person in Connectly's console) are seen by the next operation that needs them.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["SharedListings", "WaitTimeout"]

T = TypeVar("T")


class WaitTimeout(Exception):
    """A joining reader ran out of time before the shared request finished."""


@dataclass
class _Flight(Generic[T]):
    generation: int
    sent_at: float = field(default_factory=time.monotonic)
    done: threading.Event = field(default_factory=threading.Event)
    result: T | None = None
    error: BaseException | None = None


class SharedListings(Generic[T]):
    """Thread-safe coordinator; results are deep-copied per caller so nobody shares state."""

    def __init__(self, max_age: float = 30.0) -> None:
        self.max_age = max_age
        self._lock = threading.Lock()
        self._generation: dict[str, int] = {}
        self._in_flight: dict[str, _Flight[T]] = {}
        self._completed: dict[str, _Flight[T]] = {}

    @contextmanager
    def writing(self, key: str) -> Iterator[None]:
        """Wrap every write to ``key`` so no listing from before or during it is reused."""
        self._bump(key)
        try:
            yield
        finally:
            self._bump(key)

    def _bump(self, key: str) -> None:
        with self._lock:
            self._generation[key] = self._generation.get(key, 0) + 1
            self._completed.pop(key, None)

    def get(
        self, key: str, fetch: Callable[[], T], *, shared: bool, wait_timeout: float | None = None
    ) -> T:
        """Return ``fetch()``'s result for ``key``, possibly someone else's.

        ``wait_timeout`` bounds only the wait for another thread's request (the request itself
        is bounded by whoever sent it); on expiry :class:`WaitTimeout` is raised.
        """
        with self._lock:
            generation = self._generation.get(key, 0)
            flight: _Flight[T] | None = None
            if shared:
                done = self._completed.get(key)
                fresh = done is not None and time.monotonic() - done.sent_at < self.max_age
                if done is not None and fresh and done.generation == generation:
                    return copy.deepcopy(done.result)  # type: ignore[return-value]
                running = self._in_flight.get(key)
                if running is not None and running.generation == generation:
                    flight = running
            if flight is None:
                mine: _Flight[T] = _Flight(generation)
                if shared or key not in self._in_flight:
                    self._in_flight[key] = mine
        if flight is not None:
            try:
                return self._join(flight, wait_timeout)
            except WaitTimeout:
                raise
            except TimeoutError:
                # The leader ran out of *its* time (another resource's timeouts); this caller
                # may have more, so it asks for itself.
                return self.get(key, fetch, shared=False, wait_timeout=wait_timeout)
        return self._lead(key, mine, fetch)

    def _lead(self, key: str, flight: _Flight[T], fetch: Callable[[], T]) -> T:
        try:
            result = fetch()
        except BaseException as exc:
            flight.error = exc
            raise
        else:
            flight.result = result
            return copy.deepcopy(result)
        finally:
            with self._lock:
                if self._in_flight.get(key) is flight:
                    del self._in_flight[key]
                current = self._generation.get(key, 0)
                if flight.error is None and flight.generation == current:
                    self._completed[key] = flight
            flight.done.set()

    @staticmethod
    def _join(flight: _Flight[T], wait_timeout: float | None) -> T:
        if not flight.done.wait(wait_timeout):
            raise WaitTimeout()
        if flight.error is not None:
            # A copy per waiter: raising one exception object from many threads would tangle
            # their tracebacks.
            raise copy.copy(flight.error) from flight.error
        return copy.deepcopy(flight.result)  # type: ignore[return-value]
