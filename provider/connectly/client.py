"""The Connectly WebhookService client.

One :class:`ConnectlyClient` holds one ``httpx.Client`` so that the many calls of a Terraform
run reuse connections. Every public operation takes an optional ``deadline`` (an absolute
``time.monotonic()`` value, or whatever clock the :class:`RetryPolicy` carries) that bounds the
whole operation, retries and waits included.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import threading
import time
from collections.abc import Collection, Iterable
from typing import Any
from urllib.parse import quote

import httpx

from .credentials import check_api_key
from .errors import (
    Conflict,
    ConnectlyError,
    InvalidResponse,
    OperationTimeout,
    TransportError,
    error_for_response,
    redact,
    snippet,
)
from .models import (
    ShapeError,
    Webhook,
    WebhookConfiguration,
    WebhookSpec,
    parse_created_id,
    parse_listing,
    same_registration,
)
from .retry import RETRYABLE_STATUSES, Attempts, RetryPolicy, parse_retry_after
from .sharing import SharedListings, WaitTimeout

__all__ = ["DEFAULT_BASE_URL", "ConnectlyClient"]

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.connectly.ai"
DEFAULT_USER_AGENT = "connectly-python-client"
OPERATIONS = ("create", "list", "update", "delete")
MAX_RESPONSE_BYTES = 16 * 1024 * 1024


def _tls_verification(verify: bool | str) -> bool | ssl.SSLContext:
    """A CA bundle path becomes an SSL context (httpx deprecates string paths)."""
    if isinstance(verify, bool):
        return verify
    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)


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
        self._api_key = api_key
        self._timeout = timeout
        self._connect_timeout = min(timeout, 10.0) if connect_timeout is None else connect_timeout
        self.retry = retry or RetryPolicy()
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"X-API-Key": api_key, "User-Agent": user_agent, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout, connect=self._connect_timeout),
            verify=_tls_verification(verify),
            transport=transport,
            follow_redirects=False,
        )
        self._listings: SharedListings[list[Webhook]] = SharedListings()
        self._stats_lock = threading.Lock()
        self._stats = dict.fromkeys(OPERATIONS, 0)

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ConnectlyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def stats(self) -> dict[str, int]:
        """HTTP requests sent so far per endpoint, retries included (a snapshot)."""
        with self._stats_lock:
            return dict(self._stats)

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
        attempts = Attempts(
            self.retry, deadline, "create webhook", operation="create", method="POST", path=path
        )
        state = _CreateState()
        state.preexisting = frozenset(preexisting) if preexisting is not None else None
        with self._listings.writing(business_id):
            try:
                return self._create(business_id, spec, attempts, state)
            except ConnectlyError as exc:
                cut_short = (
                    isinstance(exc, OperationTimeout)
                    and isinstance(exc.last_error, TransportError)
                    and exc.last_error.request_sent
                )
                if (state.maybe_created or cut_short) and not isinstance(exc, Conflict):
                    note = (
                        "the registration may have been created; if a later create reports "
                        "the topic as taken, import the webhook it names"
                    )
                    exc.hint = f"{exc.hint}; {note}" if exc.hint else note
                raise

    def _create(
        self, business_id: str, spec: WebhookSpec, attempts: Attempts, state: _CreateState
    ) -> str:
        body = spec.to_api()
        secrets = self._secrets(spec.configuration)
        while True:
            try:
                response = self._send(attempts, body, secrets)
            except TransportError as exc:
                state.maybe_created = state.maybe_created or exc.request_sent
                error: ConnectlyError = exc
            else:
                if response.is_success:
                    try:
                        return self._read_created_id(response, attempts, secrets)
                    except InvalidResponse as exc:
                        # It was created, we just cannot tell which id it got.
                        state.maybe_created = True
                        found = self._find_created(business_id, spec, attempts, exc, state)
                        if found is not None:
                            return found.id
                        raise
                error = self._error(response, attempts, secrets)
                if response.status_code == 409:
                    return self._resolve_conflict(business_id, spec, error, state, attempts)
                if response.status_code >= 500:
                    state.maybe_created = True
            if state.maybe_created:
                found = self._find_created(business_id, spec, attempts, error, state)
                if found is not None:
                    return found.id
            if not self._retryable(error):
                raise error
            attempts.wait_before_retry(error)

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
            self._call("update", "PUT", path, body, deadline, self._secrets(configuration))

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
            return parse_listing(self._json(response, attempts, ()))
        except ShapeError as exc:
            raise self._invalid(response, attempts, (), f"unexpected listing: {exc}") from None

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
                response = self._send(attempts, body, secrets)
            except TransportError as exc:
                error: ConnectlyError = exc
            else:
                if response.is_success:
                    return response
                # An accepted error status counts only when the API itself said it (a JSON
                # error body), not a proxy's page or a wrong base_url.
                from_api = _api_error_body(response.text)
                if response.status_code in ok_statuses and from_api:
                    return response
                error = self._error(response, attempts, secrets)
                if response.status_code in ok_statuses:
                    error.hint = "this answer did not come from Connectly's API: check base_url"
            if not self._retryable(error):
                raise error
            attempts.wait_before_retry(error)

    @staticmethod
    def _retryable(error: ConnectlyError) -> bool:
        if isinstance(error, TransportError):
            return not error.permanent
        return error.status in RETRYABLE_STATUSES

    def _send(self, attempts: Attempts, body: Any, secrets: list[str]) -> httpx.Response:
        """One HTTP exchange; every failure without a response becomes a TransportError."""
        remaining = attempts.remaining()
        read = self._timeout if remaining is None else min(self._timeout, remaining)
        connect = min(self._connect_timeout, read)
        attempts.count += 1
        with self._stats_lock:
            self._stats[attempts.operation] = self._stats.get(attempts.operation, 0) + 1
        method, path = attempts.method, attempts.path
        started = time.perf_counter()
        try:
            response = self._exchange(
                method, path, body, httpx.Timeout(read, connect=connect, pool=connect), attempts
            )
        except httpx.TimeoutException as exc:
            sent = not isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout))
            logger.debug(
                "%s %s -> %s after %.0f ms",
                method,
                path,
                type(exc).__name__,
                (time.perf_counter() - started) * 1000,
            )
            error = self._transport_error(exc, attempts, secrets, sent)
            if attempts.deadline is not None and self.retry.clock() >= attempts.deadline - 0.01:
                attempts.last_error = error
                raise attempts.timeout("the deadline cut the request short") from None
            raise error from None
        except httpx.HTTPError as exc:  # transport failures, undecodable bodies
            sent = not isinstance(exc, (httpx.ConnectError, httpx.UnsupportedProtocol))
            logger.debug(
                "%s %s -> %s after %.0f ms",
                method,
                path,
                type(exc).__name__,
                (time.perf_counter() - started) * 1000,
            )
            raise self._transport_error(exc, attempts, secrets, sent) from None
        logger.debug(
            "%s %s -> %d in %.0f ms",
            method,
            path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    def _exchange(
        self, method: str, path: str, body: Any, timeout: httpx.Timeout, attempts: Attempts
    ) -> httpx.Response:
        """The request, with the body read in chunks: httpx's timeouts bound each socket read,
        so a server trickling its answer is cut off at the deadline here, and an answer larger
        than any listing could be is refused."""
        deadline = attempts.deadline
        with self._http.stream(method, path, json=body, timeout=timeout) as streamed:
            if streamed.is_stream_consumed:  # a transport that already read it (tests)
                return streamed
            chunks: list[bytes] = []
            size = 0
            for chunk in streamed.iter_raw():  # as sent; the Response below decodes it
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise httpx.ReadError("the response is larger than 16 MiB")
                if deadline is not None and self.retry.clock() > deadline:
                    raise httpx.ReadTimeout("the response was still arriving at the deadline")
                chunks.append(chunk)
            return httpx.Response(
                streamed.status_code,
                headers=streamed.headers,
                content=b"".join(chunks),
                request=streamed.request,
            )

    def _transport_error(
        self, exc: httpx.HTTPError, attempts: Attempts, secrets: list[str], sent: bool
    ) -> TransportError:
        detail = str(exc) or type(exc).__name__
        local = isinstance(exc, httpx.LocalProtocolError)  # we could not even send it
        permanent = local or "CERTIFICATE_VERIFY_FAILED" in detail or "certificate verify" in detail
        if local:
            what = "the request could not be sent"
        elif permanent:
            what = "the server's TLS certificate is not trusted (set ca_bundle to trust it)"
        elif isinstance(exc, httpx.ConnectTimeout):
            what = "connection timed out"
        elif isinstance(exc, httpx.ConnectError):
            what = "could not connect"
        elif isinstance(exc, httpx.ReadTimeout):
            what = "no response in time"
        elif isinstance(exc, httpx.RemoteProtocolError):
            what = "connection dropped"
        elif isinstance(exc, httpx.TimeoutException):
            what = "timed out"
        else:
            what = "network failure"
        return TransportError(
            f"{what} ({snippet(redact(detail, self._all_secrets(secrets)))})",
            request_sent=sent and not permanent,
            permanent=permanent,
            operation=attempts.operation,
            method=attempts.method,
            path=attempts.path,
        )

    def _error(
        self, response: httpx.Response, attempts: Attempts, secrets: list[str]
    ) -> ConnectlyError:
        return error_for_response(
            response.status_code,
            response.text,
            content_type=response.headers.get("content-type", ""),
            operation=attempts.operation,
            method=attempts.method,
            path=attempts.path,
            secrets=self._all_secrets(secrets),
            retry_after=parse_retry_after(
                response.headers.get("retry-after"), self.retry.wall_clock()
            ),
        )

    def _json(self, response: httpx.Response, attempts: Attempts, secrets: Iterable[str]) -> Any:
        try:
            return response.json()
        except (ValueError, RecursionError):
            text = response.text.strip()
            what = "an empty body" if not text else f"a body that is not JSON: {text}"
            raise self._invalid(response, attempts, secrets, f"expected JSON, got {what}") from None

    def _invalid(
        self, response: httpx.Response, attempts: Attempts, secrets: Iterable[str], message: str
    ) -> InvalidResponse:
        return InvalidResponse(
            snippet(redact(message, self._all_secrets(secrets))),
            status=response.status_code,
            operation=attempts.operation,
            method=attempts.method,
            path=attempts.path,
        )

    def _read_created_id(
        self, response: httpx.Response, attempts: Attempts, secrets: list[str]
    ) -> str:
        try:
            return parse_created_id(self._json(response, attempts, secrets))
        except ShapeError as exc:
            raise self._invalid(
                response, attempts, secrets, f"the create response has no webhook id ({exc})"
            ) from None

    def _resolve_conflict(
        self,
        business_id: str,
        spec: WebhookSpec,
        error: ConnectlyError,
        state: _CreateState,
        attempts: Attempts,
    ) -> str:
        """A 409 is either our own earlier create that only seemed lost (adopt it and return
        its id) or a real conflict (raise Conflict naming the current holder)."""
        existing: Webhook | None = None
        try:
            for webhook in self._listing_for_check(business_id, attempts):
                if webhook.topic == spec.topic:
                    existing = webhook
                    break
        except OperationTimeout:
            attempts.last_error = error
            raise attempts.timeout("ran out of time listing the topic's holder") from None
        except ConnectlyError as exc:
            error.hint = f"could not list the current registration: {exc.summary()}"
        if existing is not None and state.maybe_created and _adoptable(existing, spec, state):
            logger.debug("create: adopting %s after a 409 on retry", existing.id)
            return existing.id
        if existing is not None:
            error.hint = (
                f"topic {spec.topic!r} is held by webhook {existing.id} "
                f"({existing.address}); import it or update it instead"
            )
        raise Conflict(error.message, existing=existing, **_fields(error))

    def _find_created(
        self,
        business_id: str,
        spec: WebhookSpec,
        attempts: Attempts,
        error: ConnectlyError,
        state: _CreateState,
    ) -> Webhook | None:
        attempts.last_error = error
        try:
            listing = self._listing_for_check(business_id, attempts)
        except OperationTimeout:
            raise attempts.timeout("ran out of time checking whether it was created") from None
        except ConnectlyError as exc:
            error.hint = f"checking whether it was created failed: {exc.summary()}"
            raise error from exc
        for webhook in listing:
            if _adoptable(webhook, spec, state):
                logger.debug("create: adopting %s after a lost response", webhook.id)
                return webhook
        return None

    def _listing_for_check(self, business_id: str, attempts: Attempts) -> list[Webhook]:
        return self.list_webhooks(business_id, deadline=attempts.deadline, shared=False)

    def _secrets(self, configuration: WebhookConfiguration | None) -> list[str]:
        return configuration.secrets() if configuration is not None else []

    def _all_secrets(self, secrets: Iterable[str]) -> list[str]:
        return [self._api_key, *secrets]


class _CreateState:
    """Whether any attempt so far may have registered the webhook on the server, and which
    registrations existed before the first attempt."""

    maybe_created = False
    preexisting: frozenset[str] | None = None


def _api_error_body(text: str) -> bool:
    """Whether a body is one of the API's documented JSON error shapes."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and ("message" in data or "code" in data)


def _adoptable(webhook: Webhook, spec: WebhookSpec, state: _CreateState) -> bool:
    if state.preexisting is not None and webhook.id in state.preexisting:
        return False
    return same_registration(webhook, spec, settings=False)


def _fields(error: ConnectlyError) -> dict[str, Any]:
    return {
        "status": error.status,
        "code": error.code,
        "trace_id": error.trace_id,
        "operation": error.operation,
        "method": error.method,
        "path": error.path,
        "details": error.details,
        "retry_after": error.retry_after,
        "hint": error.hint,
    }
