"""The HTTP exchange under the client: one request sent within the time left, its body read
in chunks, and every failure turned into the client's error types.

Failures without a response are mapped by :data:`TRANSPORT_FAILURES`, one table; answers that
are errors go through :func:`.errors.error_for_response`.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import threading
import time
import urllib.request
from collections.abc import Iterable
from typing import Any

import httpx

from .direct import DirectTransport
from .errors import (
    ConnectlyError,
    InvalidResponse,
    TransportError,
    error_for_response,
    redact,
    snippet,
)
from .retry import RETRYABLE_STATUSES, Attempts, RetryPolicy, parse_retry_after

logger = logging.getLogger("terraform_provider_connectly.connectly.client")

OPERATIONS = ("create", "list", "update", "delete")
MAX_RESPONSE_BYTES = 16 * 1024 * 1024

# httpx's failures without a response: what to tell the user, and whether the request may
# have reached the server (a create then checks before it tries again). The first entry the
# exception is an instance of applies, so subclasses come before their bases.
TRANSPORT_FAILURES: tuple[tuple[type[httpx.HTTPError], str, bool], ...] = (
    (httpx.LocalProtocolError, "the request could not be sent", False),
    (httpx.ConnectTimeout, "connection timed out", False),
    (httpx.PoolTimeout, "timed out", False),
    (httpx.ConnectError, "could not connect", False),
    (httpx.UnsupportedProtocol, "network failure", False),
    (httpx.ProxyError, "the proxy refused the connection", False),
    (httpx.ReadTimeout, "no response in time", True),
    (httpx.RemoteProtocolError, "connection dropped", True),
    (httpx.TimeoutException, "timed out", True),
    (httpx.HTTPError, "network failure", True),
)
_UNTRUSTED = "the server's TLS certificate is not trusted (set ca_bundle to trust it)"


def describe_failure(exc: httpx.HTTPError) -> tuple[str, bool, bool]:
    """(what happened, whether the request may have been sent, whether retrying is useless)."""
    detail = str(exc) or type(exc).__name__
    what, sent = next((w, s) for cls, w, s in TRANSPORT_FAILURES if isinstance(exc, cls))
    # We could not even send it, or the proxy will not carry it: trying again changes nothing.
    local = isinstance(exc, (httpx.LocalProtocolError, httpx.ProxyError))
    if not local and ("CERTIFICATE_VERIFY_FAILED" in detail or "certificate verify" in detail):
        return _UNTRUSTED, False, True
    return what, sent, local


def tls_verification(verify: bool | str) -> bool | ssl.SSLContext:
    """A CA bundle path becomes an SSL context (httpx deprecates string paths)."""
    if isinstance(verify, bool):
        return verify
    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)


def proxy_for(url: httpx.URL) -> str | None:
    """The proxy that applies to ``url``, if any, as urllib finds it: the ``*_PROXY`` and
    ``NO_PROXY`` variables, or without them the system's settings on macOS and Windows."""
    proxies = urllib.request.getproxies()  # the variables; else macOS's or Windows' settings
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(url.host):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def _json_body(body: Any) -> bytes | None:
    """JSON as httpx encodes it (compact, UTF-8), or None for no body."""
    if body is None:
        return None
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")


def retryable(error: ConnectlyError) -> bool:
    if isinstance(error, TransportError):
        return not error.permanent
    return error.status in RETRYABLE_STATUSES


def api_error_body(text: str) -> bool:
    """Whether a body is one of the API's documented JSON error shapes."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(data, dict) and ("message" in data or "code" in data)


class Transport:
    """One httpx transport (connections reused across a Terraform run) and the request count
    per endpoint. The API key is in its headers and in every redaction."""

    def __init__(
        self,
        api_key: str,
        base_url: str,
        *,
        user_agent: str,
        timeout: float,
        connect_timeout: float,
        retry: RetryPolicy,
        verify: bool | str,
        transport: httpx.BaseTransport | None,
    ) -> None:
        self._api_key = api_key
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self.retry = retry
        # Every request is built by _request from these, made once (Client.build_request
        # would merge client and request headers, cookies and URLs on every call: a quarter
        # of a request's CPU).
        self._base = base_url.rstrip("/")
        self._headers = httpx.Headers(
            {"X-API-Key": api_key, "User-Agent": user_agent, "Accept": "application/json"}
        )
        self._json_headers = httpx.Headers({**self._headers, "Content-Type": "application/json"})
        # The context httpx would make: certifi, SSL_CERT_FILE or SSL_CERT_DIR, or ca_bundle.
        tls = httpx.create_ssl_context(verify=tls_verification(verify))
        url = httpx.URL(self._base)
        # Straight to the API unless a proxy applies (then httpx's transport carries the
        # requests, so proxies work as for any httpx program) or a test gave a transport.
        proxy = proxy_for(url) if transport is None else None
        self._direct = None
        if transport is None and proxy is None:
            port = url.port or (443 if url.scheme == "https" else 80)
            self._direct = DirectTransport(url.scheme, url.raw_host.decode("ascii"), port, tls)
        # The direct path's request head, made once; requests that go through httpx (a proxy,
        # a test's mock transport) go to its transport itself: httpx's Client around it would
        # add cookie, redirect and auth steps this client never uses.
        self._prefix = url.raw_path.decode("ascii").rstrip("/")
        host = [(b"Host", url.netloc)]
        self._raw_headers = host + self._headers.raw
        self._raw_json_headers = host + self._json_headers.raw
        self._transport = transport
        if transport is None and self._direct is None:
            self._transport = httpx.HTTPTransport(verify=tls, proxy=proxy)
        self._stats_lock = threading.Lock()
        self._stats = dict.fromkeys(OPERATIONS, 0)

    def close(self) -> None:
        if self._direct is not None:
            self._direct.close()
        if self._transport is not None:
            self._transport.close()

    @property
    def stats(self) -> dict[str, int]:
        with self._stats_lock:
            return dict(self._stats)

    def send(self, attempts: Attempts, body: Any, secrets: list[str]) -> httpx.Response:
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
        except httpx.HTTPError as exc:  # transport failures, undecodable bodies
            logger.debug(
                "%s %s -> %s after %.0f ms",
                method,
                path,
                type(exc).__name__,
                (time.perf_counter() - started) * 1000,
            )
            error = self.transport_error(exc, attempts, secrets)
            if (
                isinstance(exc, httpx.TimeoutException)
                and attempts.deadline is not None
                and self.retry.clock() >= attempts.deadline - 0.01
            ):
                attempts.last_error = error
                raise attempts.timeout("the deadline cut the request short") from None
            raise error from None
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
        content = _json_body(body)
        request = None
        response_headers: list[tuple[bytes, bytes]] | httpx.Headers
        if self._transport is None:
            assert self._direct is not None
            headers = self._raw_json_headers if content is not None else self._raw_headers
            if content is not None:
                headers = [*headers, (b"Content-Length", str(len(content)).encode())]
            answer = self._direct.open(
                method,
                self._prefix + path,
                headers,
                content,
                connect_timeout=timeout.connect,
                read_timeout=timeout.read,
            )
            status, response_headers, chunks, done = (
                answer.status,
                answer.headers,
                answer.chunks(),
                answer.close,
            )
        else:
            request = self._request(method, path, content, timeout)
            streamed = self._transport.handle_request(request)
            if streamed.is_stream_consumed:  # a transport that already read it (tests)
                streamed.close()
                return streamed
            status, response_headers, chunks, done = (
                streamed.status_code,
                streamed.headers,
                streamed.iter_raw(),
                streamed.close,
            )
        try:
            parts: list[bytes] = []
            size = 0
            for chunk in chunks:  # as sent; the Response below decodes it
                size += len(chunk)
                if size > MAX_RESPONSE_BYTES:
                    raise httpx.ReadError("the response is larger than 16 MiB")
                if deadline is not None and self.retry.clock() > deadline:
                    raise httpx.ReadTimeout("the response was still arriving at the deadline")
                parts.append(chunk)
            return httpx.Response(
                status, headers=response_headers, content=b"".join(parts), request=request
            )
        finally:
            done()

    def _request(
        self, method: str, path: str, content: bytes | None, timeout: httpx.Timeout
    ) -> httpx.Request:
        """The request as ``Client.build_request`` would make it for this client (its base
        URL, its headers), made directly: nothing of it varies but the path, the body and the
        timeout, and the merging costs CPU on every call."""
        extensions = {"timeout": timeout.as_dict()}
        url = httpx.URL(self._base + path)
        if content is None:
            return httpx.Request(method, url, headers=self._headers, extensions=extensions)
        return httpx.Request(
            method, url, headers=self._json_headers, content=content, extensions=extensions
        )

    def transport_error(
        self, exc: httpx.HTTPError, attempts: Attempts, secrets: list[str]
    ) -> TransportError:
        what, sent, permanent = describe_failure(exc)
        detail = str(exc) or type(exc).__name__
        return TransportError(
            f"{what} ({snippet(redact(detail, self.all_secrets(secrets)))})",
            request_sent=sent and not permanent,
            permanent=permanent,
            operation=attempts.operation,
            method=attempts.method,
            path=attempts.path,
        )

    def error(
        self, response: httpx.Response, attempts: Attempts, secrets: list[str]
    ) -> ConnectlyError:
        return error_for_response(
            response.status_code,
            response.text,
            content_type=response.headers.get("content-type", ""),
            operation=attempts.operation,
            method=attempts.method,
            path=attempts.path,
            secrets=self.all_secrets(secrets),
            retry_after=parse_retry_after(
                response.headers.get("retry-after"), self.retry.wall_clock()
            ),
        )

    def json(self, response: httpx.Response, attempts: Attempts, secrets: Iterable[str]) -> Any:
        try:
            return response.json()
        except (ValueError, RecursionError):
            text = response.text.strip()
            what = "an empty body" if not text else f"a body that is not JSON: {text}"
            raise self.invalid(response, attempts, secrets, f"expected JSON, got {what}") from None

    def invalid(
        self, response: httpx.Response, attempts: Attempts, secrets: Iterable[str], message: str
    ) -> InvalidResponse:
        return InvalidResponse(
            snippet(redact(message, self.all_secrets(secrets))),
            status=response.status_code,
            operation=attempts.operation,
            method=attempts.method,
            path=attempts.path,
        )

    def all_secrets(self, secrets: Iterable[str]) -> list[str]:
        return [self._api_key, *secrets]
