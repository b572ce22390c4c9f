"""What the configured provider hands every resource, and how a stop request reaches them.

A module of its own, below both the provider block and the resources, so that neither has to
import the other.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import version
from ..framework import UNKNOWN
from ..framework.diagnostics import DiagnosticError

if TYPE_CHECKING:
    from ..connectly.client import ConnectlyClient

# How long a command keeps trying an API that does not answer at all (connection refused, no
# such host, a gateway's 502/504) before it says so.
UNAVAILABLE_ATTEMPTS = 3
UNAVAILABLE_SECONDS = 8.0


class Interrupted(Exception):
    """Terraform asked the provider to stop (Ctrl-C): waits end and no new request starts.
    Requests already on the wire are let finish, so that what they did is recorded."""


@dataclass
class ProviderData:
    """What resources get from the configured provider. The client is made on first use:
    a plan that never calls the API never pays for the HTTP stack."""

    api_key: str | None = field(repr=False)
    business_id: Any  # str, None, or UNKNOWN while the configuration is not yet known
    base_url: str
    verify: bool | str = True
    stopping: threading.Event = field(default_factory=threading.Event)
    _client: ConnectlyClient | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _sleep(self, seconds: float) -> None:
        """The client's wait between retries, cut short by StopProvider."""
        if self.stopping.wait(seconds):
            raise Interrupted()

    def client(self) -> ConnectlyClient:
        with self._lock:
            if self._client is None:
                if not self.api_key or self.api_key is UNKNOWN:
                    raise DiagnosticError(
                        "Provider configuration not known yet",
                        "The provider's api_key depends on values known only after apply.",
                    )
                from ..connectly.client import ConnectlyClient
                from ..connectly.retry import RetryPolicy

                self._client = ConnectlyClient(
                    self.api_key,
                    self.base_url,
                    user_agent=f"terraform-provider-connectly/{version()}",
                    # Plain http (a local emulator) has no TLS to verify: skip loading the
                    # system's CA store, which costs a noticeable part of a short run.
                    verify=self.verify if self.base_url.startswith("https:") else False,
                    # A server that asks to wait is waited for until the operation's own
                    # deadline (each resource's timeouts), as in Go providers; one that is not
                    # there fails within seconds: three quick attempts at most.
                    retry=RetryPolicy(
                        max_attempts=100,
                        max_elapsed=3600.0,
                        unavailable_attempts=UNAVAILABLE_ATTEMPTS,
                        unavailable_elapsed=UNAVAILABLE_SECONDS,
                        sleep=self._sleep,
                    ),
                )
            return self._client


def configured(provider_data: Any) -> ProviderData:
    """The provider's data, or the error every operation gives before the provider is set up."""
    if provider_data is None:
        raise DiagnosticError(
            "Provider not configured",
            "The connectly provider was not configured; see the errors above.",
        )
    return provider_data  # type: ignore[no-any-return]


def check_stop(ctx: Any) -> None:
    """Raises :class:`Interrupted` once Terraform asked to stop, before a new request starts."""
    data = ctx.provider_data
    if ctx.stop.is_set() or (data is not None and data.stopping.is_set()):
        raise Interrupted()


def default_business(configured_id: Any, data: ProviderData, where: str) -> str:
    """The business a call is for: its own ``business_id``, else the provider's. ``where`` names
    the place to set it in the error (``"here"``, ``"in the list block's config"``)."""
    business_id = configured_id or data.business_id
    if not isinstance(business_id, str):
        raise DiagnosticError(
            "Missing business_id",
            f"Set business_id {where}, in the provider block, or in CONNECTLY_BUSINESS_ID.",
            ("business_id",),
        )
    return business_id
