"""When to try again, and how long to wait.

Three budgets bound an operation: a number of attempts and a total time (both from the
:class:`RetryPolicy`), and the caller's absolute deadline. Running out of the first two gives
up with the last error, because that error is what the person needs to see; running into the
deadline raises :class:`OperationTimeout`, because the caller asked for a time bound and must
be able to tell it apart. A wait that would end past a budget is not started at all: sleeping
only to fail afterwards helps nobody.

Clock, wall clock, sleep and randomness are injectable so tests can observe every delay
without waiting for it.
"""

from __future__ import annotations

import email.utils
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import ConnectlyError, OperationTimeout, TransportError

__all__ = ["RETRYABLE_STATUSES", "Attempts", "RetryPolicy", "parse_retry_after"]

# 429: the server refused and asks us to slow down. 502/503/504: a gateway or the service is
# briefly unavailable. 500 is left out on purpose: it usually means the request itself hits a
# bug, and repeating it tends to repeat the failure.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
    Jitter"): the n-th wait is uniform in ``[0, min(max_delay, base_delay * 2**(n-1))]``, which
    spreads out clients that failed together. A server's ``Retry-After`` replaces the computed
    wait, since it knows better than we do."""

    max_attempts: int = 5
    max_elapsed: float = 60.0
    # Failures that say the service is down rather than busy (no connection, no answer, a
    # gateway's 502/504) get their own, shorter budget when these are set:
    # a person waiting on a dead API wants to hear so in seconds, not at the deadline.
    # A server that asks to wait (429, or 503 with Retry-After) keeps the patient budget.
    unavailable_attempts: int | None = None
    unavailable_elapsed: float | None = None
    base_delay: float = 0.5
    max_delay: float = 20.0
    jitter: bool = True
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    wall_clock: Callable[[], float] = field(default=time.time, repr=False)
    random: Callable[[], float] = field(default=random.random, repr=False)

    def backoff(self, failures: int) -> float:
        """Wait before the attempt that follows the ``failures``-th failure."""
        cap = min(self.max_delay, self.base_delay * (2 ** max(0, failures - 1)))
        return self.random() * cap if self.jitter else cap


def parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds from ``now`` (wall clock): delta-seconds or an HTTP-date.
    Unparseable values are ignored rather than trusted; dates in the past mean "now"."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if re.fullmatch(r"[0-9]{1,10}", value):  # ASCII digits only: "²".isdigit() is True
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; treat naive ones as such
        return None
    return max(0.0, when.timestamp() - now)


class Attempts:
    """Budget bookkeeping for one operation (one per call, never shared between calls)."""

    def __init__(
        self,
        policy: RetryPolicy,
        deadline: float | None,
        description: str,
        *,
        operation: str,
        method: str,
        path: str,
    ) -> None:
        self.policy = policy
        self.deadline = deadline
        self.description = description
        self.operation = operation
        self.method = method
        self.path = path
        self.started = policy.clock()
        self.count = 0
        self.unavailable = 0
        self.last_error: ConnectlyError | None = None

    def elapsed(self) -> float:
        return self.policy.clock() - self.started

    def remaining(self) -> float | None:
        """Seconds left before the deadline, or None without one. Raises when none is left."""
        if self.deadline is None:
            return None
        left = self.deadline - self.policy.clock()
        if left <= 0:
            raise self.timeout()
        return left

    def timeout(self, reason: str = "") -> OperationTimeout:
        budget = ""
        if self.deadline is not None:
            budget = (
                f" (it started {self.deadline - self.started:.1f}s before the operation's deadline)"
            )
        message = (
            f"{self.description} did not finish after {self.elapsed():.1f}s{budget}, "
            f"{self.count} attempt{'s' if self.count != 1 else ''}"
        )
        if reason:
            message += f"; {reason}"
        if self.last_error is not None:
            message += f"; last error: {self.last_error.summary()}"
        return OperationTimeout(
            message,
            elapsed=self.elapsed(),
            last_error=self.last_error,
            operation=self.operation,
            method=self.method,
            path=self.path,
        )

    def wait_before_retry(self, error: ConnectlyError) -> None:
        """Sleep before the next attempt, or raise if a budget forbids one."""
        self.last_error = error
        policy = self.policy
        if self.count >= policy.max_attempts:
            error.hint = f"gave up after {self.count} attempts"
            raise error
        if _unavailable(error):
            self.unavailable += 1
            limit, budget = policy.unavailable_attempts, policy.unavailable_elapsed
            if limit is not None and self.unavailable >= limit:
                error.hint = (
                    f"gave up after {self.count} attempts in {self.elapsed():.1f}s: "
                    "Connectly could not be reached"
                )
                raise error
            delay = policy.backoff(self.unavailable)
            if budget is not None and self.elapsed() + delay > budget:
                error.hint = (
                    f"gave up after {self.count} attempts in {self.elapsed():.1f}s: "
                    "Connectly could not be reached"
                )
                raise error
        else:
            delay = (
                error.retry_after if error.retry_after is not None else policy.backoff(self.count)
            )
        if self.elapsed() + delay > policy.max_elapsed:
            why = (
                f"the server asked to wait {delay:.0f}s"
                if error.retry_after is not None
                else f"waiting {delay:.1f}s more"
            )
            error.hint = (
                f"gave up after {self.count} attempts in {self.elapsed():.1f}s: {why} "
                f"would exceed the {policy.max_elapsed:.0f}s retry budget"
            )
            raise error
        if self.deadline is not None and policy.clock() + delay >= self.deadline:
            raise self.timeout(f"the next retry (in {delay:.1f}s) would start after the deadline")
        policy.sleep(delay)


def _unavailable(error: ConnectlyError) -> bool:
    """The service is not there (or not answering), as opposed to asking us to wait."""
    if isinstance(error, TransportError):
        return True
    # 503 stays patient even without Retry-After: an overloaded service answers it now and
    # then while it is up (a gateway's 502/504 says the service behind it is not answering).
    return error.status in (502, 504)
