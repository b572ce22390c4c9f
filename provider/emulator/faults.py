"""Injected misbehaviour: what proxies, overloaded services and flaky networks do.

A :class:`Fault` answers (or drops) the next ``count`` matching API requests. ``after_work``
lets the request take effect first, which is how a lost response looks from the client: the
registration exists, the answer never came. Random faults model background flakiness with a
seed, so a failing run can be replayed.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from typing import Any, ClassVar

ENDPOINTS = ("create", "list", "update", "delete")
BODIES = ("json", "html", "empty", "truncated", "text")


@dataclasses.dataclass
class Fault:
    """One injected behaviour.

    ``status`` None means "answer normally" (useful with ``delay_ms``). ``body`` picks what
    comes with the status: a JSON error (``text`` as its message), an HTML proxy page, an
    empty body, a JSON error cut in half, or ``text`` verbatim. ``drop`` closes the connection
    without any answer.
    """

    status: int | None = 503
    count: int = 1
    method: str | None = None
    endpoint: str | None = None
    retry_after: str | None = None
    body: str = "json"
    text: str | None = None
    content_type: str | None = None
    drop: bool = False
    after_work: bool = False
    delay_ms: int = 0

    def __post_init__(self) -> None:
        if self.endpoint is not None and self.endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint must be one of {ENDPOINTS}, not {self.endpoint!r}")
        if self.body not in BODIES:
            raise ValueError(f"body must be one of {BODIES}, not {self.body!r}")
        if self.status is not None and not 100 <= int(self.status) <= 599:
            raise ValueError("status must be an HTTP status code")
        if self.count < 1:
            raise ValueError("count must be at least 1")
        if self.delay_ms < 0:
            raise ValueError("delay_ms must not be negative")
        if self.method is not None:
            self.method = self.method.upper()

    def matches(self, method: str, endpoint: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.endpoint is None or self.endpoint == endpoint
        )

    _JSON_NAMES: ClassVar[dict[str, str]] = {
        "status": "status",
        "count": "count",
        "method": "method",
        "endpoint": "endpoint",
        "retryAfter": "retry_after",
        "body": "body",
        "text": "text",
        "contentType": "content_type",
        "drop": "drop",
        "afterWork": "after_work",
        "delayMs": "delay_ms",
    }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        unknown = set(data) - set(cls._JSON_NAMES)
        if unknown:
            raise ValueError(f"unknown fault field {sorted(unknown)[0]!r}")
        return cls(**{cls._JSON_NAMES[k]: v for k, v in data.items()})

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, v) for k, v in self._JSON_NAMES.items()}


@dataclasses.dataclass
class RandomFaults:
    rate_503: float = 0.0
    rate_429: float = 0.0
    rate_drop_create: float = 0.0
    retry_after: str = "1"
    seed: int | None = None


class Faults:
    """Thread-safe queue of faults plus latency and random-fault settings."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[Fault] = []
        self._latency_ms = 0
        self._random = RandomFaults()
        self._rng = random.Random()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._queue.append(dataclasses.replace(fault))

    def pending(self) -> list[Fault]:
        with self._lock:
            return [dataclasses.replace(f) for f in self._queue]

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self._latency_ms = 0
            self._random = RandomFaults()

    @property
    def latency_ms(self) -> int:
        with self._lock:
            return self._latency_ms

    def set_latency(self, ms: int) -> None:
        if ms < 0:
            raise ValueError("latency must not be negative")
        with self._lock:
            self._latency_ms = int(ms)

    def set_random(self, settings: RandomFaults) -> None:
        for rate in (settings.rate_503, settings.rate_429, settings.rate_drop_create):
            if not 0.0 <= rate <= 1.0:
                raise ValueError("rates must be between 0 and 1")
        with self._lock:
            self._random = settings
            self._rng = random.Random(settings.seed)

    def take(self, method: str, endpoint: str) -> Fault | None:
        """The fault for this request, if any: queued faults first (oldest first), then a
        random one. Taking a queued fault uses up one of its ``count``."""
        with self._lock:
            for i, fault in enumerate(self._queue):
                if fault.matches(method, endpoint):
                    fault.count -= 1
                    if fault.count == 0:
                        del self._queue[i]
                    return dataclasses.replace(fault, count=1)
            settings = self._random
            roll = (
                self._rng.random()
                if (settings.rate_503 or settings.rate_429 or settings.rate_drop_create)
                else 1.0
            )
        if roll < settings.rate_503:
            return Fault(status=503, text="injected random 503")
        roll -= settings.rate_503
        if roll < settings.rate_429:
            return Fault(status=429, retry_after=settings.retry_after, text="injected random 429")
        roll -= settings.rate_429
        if endpoint == "create" and roll < settings.rate_drop_create:
            return Fault(status=None, drop=True, after_work=True)
        return None
