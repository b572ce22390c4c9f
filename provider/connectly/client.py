"""The Connectly WebhookService client.

One :class:`ConnectlyClient` holds one ``httpx.Client`` (in :mod:`.transport`) so that the many
calls of a Terraform run reuse connections. Every public operation takes an optional
``deadline`` (an absolute ``time.monotonic()`` value, or whatever clock the
:class:`RetryPolicy` carries) that bounds the whole operation, retries and waits included.
The no-duplicate create protocol is :mod:`.creating`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any
from urllib.parse import quote

import httpx

from . import creating
from .credentials import check_api_key
from .errors import ConnectlyError, TransportError
from .models import ShapeError, Webhook, WebhookConfiguration, WebhookSpec, parse_listing
from .retry import Attempts, RetryPolicy
from .sharing import SharedListings, WaitTimeout
from .transport import OPERATIONS, Transport, api_error_body, retryable

__all__ = ["DEFAULT_BASE_URL", "OPERATIONS", "ConnectlyClient"]

DEFAULT_BASE_URL = "https://api.connectly.ai"
DEFAULT_USER_AGENT = "connectly-python-client"


def _segment(value: str, name: str) -> str:
    if not isinstance(value, str) or not value or value in (".", ".."):
        # "." and ".." would be removed from the URL and send the request elsewhere.
        raise ValueError(f"{name} must be a non-empty string other than '.' and '..'")
    return quote(value, safe="")


class ConnectlyClient:
    """Typed access to the four webhook endpoints, with retries and listing sharing.

    Thread-safe: a Terraform provider serves concurrent RPCs from one client.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        user_agent: str = DEFAULT_USER_AGENT,
        timeout: float = 30.0,
        connect_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        verify: bool | str = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        check_api_key(api_key)
        try:
            url = httpx.URL(base_url)
        except httpx.InvalidURL:
            url = httpx.URL("invalid:")
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"base_url must be an absolute http(s) URL, not {base_url!r}")
        connect = min(timeout, 10.0) if connect_timeout is None else connect_timeout
        self.retry = retry or RetryPolicy()
        self.transport = Transport(
            api_key,
            base_url,
            user_agent=user_agent,
            timeout=timeout,
            connect_timeout=connect,
            retry=self.retry,
            verify=verify,
            transport=transport,
        )
        self._listings: SharedListings[list[Webhook]] = SharedListings()

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> ConnectlyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def stats(self) -> dict[str, int]:
        """HTTP requests sent so far per endpoint, retries included (a snapshot)."""
        return self.transport.stats

    # -- operations --------------------------------------------------------------------------

    def list_webhooks(
        self, business_id: str, *, deadline: float | None = None, shared: bool = False
    ) -> list[Webhook]:
        """All registrations of a business.

        With ``shared=True`` the result may come from a listing another thread already sent,
        as long as no write to the business through this client started or finished since it
        was sent (see :mod:`.sharing`). Use ``shared=False`` right after a write, and whenever
        the answer must reflect changes made outside this client.
        """
        path = f"/v1/businesses/{_segment(business_id, 'business_id')}/webhooks"

        def fetch() -> list[Webhook]:
            return self._list(path, deadline)

        wait = None
        if deadline is not None:
            wait = max(0.0, deadline - self.retry.clock())
        try:
            return self._listings.get(business_id, fetch, shared=shared, wait_timeout=wait)
        except WaitTimeout:
            attempts = Attempts(
                self.retry, deadline, "list webhooks", operation="list", method="GET", path=path
            )
            raise attempts.timeout("waited for a listing another reader had sent") from None

    def get_webhook(
        self,
        business_id: str,
        webhook_id: str,
        *,
        deadline: float | None = None,
        shared: bool = False,
    ) -> Webhook | None:
        """The registration with this id, or None when the business has none by that id.

        Built on the listing because the API has no single-webhook read.
        """
        for webhook in self.list_webhooks(business_id, deadline=deadline, shared=shared):
            if webhook.id == webhook_id:
                return webhook
        return None

    def create_webhook(
        self,
        business_id: str,
        spec: WebhookSpec,
        *,
        deadline: float | None = None,
        preexisting: Collection[str] | None = None,
    ) -> str:
        """Register a webhook and return its id, never registering it twice.

        ``preexisting``: ids that held the topic before this call (from a listing the caller
        took). A registration among them is never adopted, whatever its address: it was not
        made by this call, and may be one the caller is about to delete. Without it, any
        matching registration may be adopted after a lost answer.

        Create is not idempotent, so a retry must not run blind. Failures fall in two groups:

        * The server certainly did not act: the connection could not be opened, or it answered
          429 (a refusal). These are retried with backoff like any other call.
        * The server may have acted: the request was sent but the answer was lost (read
          timeout, connection dropped, a 5xx that a proxy may have produced after the service
          did the work). Before any further attempt the business is listed (never from the
          shared cache) and a registration with the same topic and address (and type, when
          both sides state one) is adopted: its id is returned and nothing more is sent.
          Only one registration per topic can exist, so that match is ours or an equivalent.
          502/503/504 are then retried; a 500 is not (see :data:`RETRYABLE_STATUSES`).

        The first ambiguous request may still be in progress on the server when we list, so:
        the check is repeated before every later attempt, and a 409 on a retry is resolved by
        listing and adopting a matching registration instead of reporting a conflict. In
        "replace" servers a late duplicate replaces the first, which still leaves one.

        A 409 on a first attempt is a real conflict: :class:`Conflict` is raised carrying the
        current holder of the topic (``existing``) when the listing finds it.

        If the deadline or a retry budget runs out after an ambiguous failure, the error says
        that the registration may exist, since a later refresh or import can still find it.
        """
        path = f"/v1/businesses/{_segment(business_id, 'business_id')}/create/webhooks"
        with self._listings.writing(business_id):
            return creating.create(self, business_id, spec, path, deadline, preexisting)

    def update_webhook(
        self,
        business_id: str,
        webhook_id: str,
        *,
        address: str | None,
        configuration: WebhookConfiguration | None,
        deadline: float | None = None,
    ) -> None:
        """Change the address and/or configuration fields; ``None`` leaves a part untouched.

        The server merges at the configuration-field level: fields absent from
        ``configuration`` keep their value, an empty list clears one. Safe to retry (the same
        PUT twice has the same effect). Topic and type cannot be changed by update.
        """
        path = (
            f"/v1/businesses/{_segment(business_id, 'business_id')}/update/webhooks/"
            f"{_segment(webhook_id, 'webhook_id')}"
        )
        body: dict[str, Any] = {}
        if address is not None:
            body["address"] = address
        if configuration is not None:
            body["configuration"] = configuration.to_api()
        with self._listings.writing(business_id):
            self._call("update", "PUT", path, body, deadline, self.secrets(configuration))

    def delete_webhook(
        self, business_id: str, webhook_id: str, *, deadline: float | None = None
    ) -> None:
        """Remove a registration. An id that is already gone counts as deleted, which also
        makes a retry after a lost response succeed; but only a 404 that Connectly's API
        itself answered (a JSON error), not a proxy's page or a wrong ``base_url``."""
        path = (
            f"/v1/businesses/{_segment(business_id, 'business_id')}/delete/webhooks/"
            f"{_segment(webhook_id, 'webhook_id')}"
        )
        with self._listings.writing(business_id):
            self._call("delete", "DELETE", path, None, deadline, (), ok_statuses=(404,))

    # -- internals ---------------------------------------------------------------------------

    def _list(self, path: str, deadline: float | None) -> list[Webhook]:
        response = self._call("list", "GET", path, None, deadline, ())
        attempts = Attempts(
            self.retry, deadline, "list webhooks", operation="list", method="GET", path=path
        )
        try:
            return parse_listing(self.transport.json(response, attempts, ()))
        except ShapeError as exc:
            raise self.transport.invalid(
                response, attempts, (), f"unexpected listing: {exc}"
            ) from None

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        body: Any,
        deadline: float | None,
        secrets: Iterable[str],
        ok_statuses: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send an idempotent request, retrying transient failures within the budgets."""
        secrets = list(secrets)
        description = {
            "list": "list webhooks",
            "update": "update webhook",
            "delete": "delete webhook",
        }.get(operation, operation)
        attempts = Attempts(
            self.retry, deadline, description, operation=operation, method=method, path=path
        )
        while True:
            try:
                response = self.transport.send(attempts, body, secrets)
            except TransportError as exc:
                error: ConnectlyError = exc
            else:
                if response.is_success:
                    return response
                # An accepted error status counts only when the API itself said it (a JSON
                # error body), not a proxy's page or a wrong base_url.
                from_api = api_error_body(response.text)
                if response.status_code in ok_statuses and from_api:
                    return response
                error = self.transport.error(response, attempts, secrets)
                if response.status_code in ok_statuses:
                    error.hint = "this answer did not come from Connectly's API: check base_url"
            if not retryable(error):
                raise error
            attempts.wait_before_retry(error)

    def secrets(self, configuration: WebhookConfiguration | None) -> list[str]:
        return configuration.secrets() if configuration is not None else []
