"""Errors a person can act on.

``str(err)`` is the whole story in one line, because that is what ends up in a Terraform
diagnostic: which call, what HTTP status, what Connectly said, and the trace id its support
will ask for. The class says what kind of failure it was so that code can decide (retry,
treat as gone, report a conflict) without parsing text.

Whatever the server or the network hands us is untrusted text: it is reduced to a short,
tag-free snippet and scrubbed of the secrets the client knows (API key, webengage tokens)
before it is stored anywhere on the exception.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Webhook

__all__ = [
    "Conflict",
    "ConnectlyError",
    "InvalidRequest",
    "InvalidResponse",
    "NotFound",
    "OperationTimeout",
    "RateLimited",
    "ServerError",
    "TransportError",
    "Unauthorized",
    "error_for_response",
    "parse_error_body",
    "redact",
]

SNIPPET_CHARS = 200
REDACTED = "***"

# gRPC status codes, for gRPC-gateway bodies that carry {"code": <int>}.
_GRPC_CODES = {
    0: "OK",
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    6: "ALREADY_EXISTS",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    10: "ABORTED",
    11: "OUT_OF_RANGE",
    12: "UNIMPLEMENTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    15: "DATA_LOSS",
    16: "UNAUTHENTICATED",
}


class ConnectlyError(Exception):
    """Base of every error the client raises.

    Attributes are all optional because not every failure has them: a refused connection has
    no status, a proxy's HTML page has no trace id. ``code`` is Connectly's ``ERROR_CODE_…``
    string, or the gRPC status name for gRPC-gateway bodies.
    """

    kind = "error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        trace_id: str | None = None,
        operation: str | None = None,
        method: str | None = None,
        path: str | None = None,
        details: Any = None,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.trace_id = trace_id
        self.operation = operation
        self.method = method
        self.path = path
        self.details = details
        self.retry_after = retry_after
        self.hint = hint

    @property
    def headline(self) -> str:
        if self.status is None:
            return self.kind
        try:
            phrase = HTTPStatus(self.status).phrase
        except ValueError:
            phrase = "HTTP error"
        return f"{self.status} {phrase}"

    def summary(self) -> str:
        """Status and message without the call site, for nesting in another error."""
        text = f"{self.headline}: {self.message}"
        return f"{text}; {self.hint}" if self.hint else text

    def __str__(self) -> str:
        where = f" on {self.method} {self.path}" if self.method and self.path else ""
        extras = []
        if self.code:
            extras.append(f"code {self.code}")
        if self.trace_id:
            extras.append(f"trace id {self.trace_id}")
        text = f"Connectly API: {self.headline}{where}: {self.message}"
        if extras:
            text += f" ({', '.join(extras)})"
        if self.hint:
            text += f"; {self.hint}"
        return text

    def __reduce__(self) -> Any:
        # Keep attributes through copy/pickle (the shared listing hands copies to waiters).
        return (_rebuild, (type(self), self.message, self.__dict__))


def _rebuild(cls: type[ConnectlyError], message: str, state: dict[str, Any]) -> ConnectlyError:
    err = cls.__new__(cls, message)
    ConnectlyError.__init__(err, message)
    err.__dict__.update(state)
    return err


class Unauthorized(ConnectlyError):
    """401/403: the API key is missing, wrong, or lacks access to this business."""


class NotFound(ConnectlyError):
    """404: no such webhook (or business) behind this key."""


class Conflict(ConnectlyError):
    """409: the topic already has a registration for this business.

    ``existing`` is that registration when a follow-up listing found it, so the caller can
    suggest an import instead of a bare failure.
    """

    def __init__(self, message: str, *, existing: Webhook | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.existing = existing


class InvalidRequest(ConnectlyError):
    """400/422: Connectly rejected the values sent; retrying the same request cannot help."""


class RateLimited(ConnectlyError):
    """429: the server refused the request; ``retry_after`` is its hint in seconds."""


class ServerError(ConnectlyError):
    """5xx from Connectly or a proxy in front of it."""


class InvalidResponse(ConnectlyError):
    """A success status whose body is not what the API documents (empty, not JSON, no id)."""


class TransportError(ConnectlyError):
    """No HTTP response: connection refused or reset, timeouts, a dropped connection.

    ``request_sent`` is False only when the request certainly never reached the server
    (connect failures); for anything else a non-idempotent call must assume it may have
    been processed.
    """

    kind = "network error"

    def __init__(
        self, message: str, *, request_sent: bool = True, permanent: bool = False, **kw: Any
    ) -> None:
        super().__init__(message, **kw)
        self.request_sent = request_sent
        # A failure that repeating cannot fix (a certificate that does not verify).
        self.permanent = permanent


class OperationTimeout(ConnectlyError, TimeoutError):
    """The caller's deadline passed before the operation (with its retries) could finish.

    It is also a ``TimeoutError`` so generic code that handles timeouts recognises it.
    ``last_error`` is the failure that was being retried, if any.
    """

    kind = "timed out"

    def __init__(
        self,
        message: str,
        *,
        elapsed: float = 0.0,
        last_error: ConnectlyError | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.elapsed = elapsed
        self.last_error = last_error


_BY_STATUS: dict[int, type[ConnectlyError]] = {
    400: InvalidRequest,
    401: Unauthorized,
    403: Unauthorized,
    404: NotFound,
    409: Conflict,
    422: InvalidRequest,
    429: RateLimited,
}


def class_for_status(status: int) -> type[ConnectlyError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 500 <= status <= 599:
        return ServerError
    return ConnectlyError


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every known secret in ``text``. Longest first, so a secret containing another
    is removed whole. Secrets shorter than 3 characters are ignored: replacing them would
    mangle every message and they cannot be real credentials."""
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


MAX_ERROR_BODY = 64 * 1024
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>?")


def html_text(markup: str) -> str:
    """Visible text of an HTML page (what a proxy's error page says), entities decoded."""
    return html.unescape(_TAG.sub(" ", _SCRIPT.sub(" ", markup)))


@dataclass
class ErrorBody:
    message: str
    code: str | None = None
    trace_id: str | None = None
    error_type: str | None = None
    details: Any = None


def parse_error_body(text: str, content_type: str = "") -> ErrorBody:
    """Read either documented error shape, or make a readable line of whatever else came.

    Connectly: ``{message, type, code: "ERROR_CODE_…", userTitle, userMessage, cntTraceId,
    details}``. gRPC-gateway: ``{code: <int>, message, details: []}``. Anything else (HTML from
    a proxy, an empty or cut-off body, JSON of another shape) becomes a snippet of its text.
    """
    # A proxy's page can be huge; a person needs its first lines, and parsing it all costs
    # time no timeout covers.
    stripped = text[:MAX_ERROR_BODY].strip()
    if not stripped:
        return ErrorBody("(empty response body)")
    try:
        data = json.loads(stripped)
    except (ValueError, RecursionError):
        if "html" in content_type.lower() or stripped.startswith("<"):
            return ErrorBody(snippet(html_text(stripped)) or "(HTML page without text)")
        if stripped[0] in "{[":
            return ErrorBody(f"unreadable JSON error body: {snippet(stripped)}")
        return ErrorBody(snippet(stripped))
    if not isinstance(data, dict):
        return ErrorBody(snippet(stripped))
    message = None
    for key in ("message", "userMessage", "userTitle", "error", "error_description"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            message = snippet(value)
            break
    raw_code = data.get("code")
    code: str | None = None
    if isinstance(raw_code, str) and raw_code:
        code = snippet(raw_code, 80)
    elif isinstance(raw_code, int) and not isinstance(raw_code, bool):
        code = _GRPC_CODES.get(raw_code, str(raw_code))
    raw_trace = data.get("cntTraceId")
    trace_id = None
    if isinstance(raw_trace, (str, int)) and not isinstance(raw_trace, bool) and str(raw_trace):
        trace_id = snippet(str(raw_trace), 80)
    raw_type = data.get("type")
    return ErrorBody(
        message=message or snippet(stripped),
        code=code,
        trace_id=trace_id,
        error_type=raw_type if isinstance(raw_type, str) else None,
        details=data.get("details"),
    )


def _redact_details(details: Any, secrets: Iterable[str]) -> Any:
    if details is None:
        return None
    try:
        return json.loads(redact(json.dumps(details), secrets))
    except ValueError:
        return None


def error_for_response(
    status: int,
    text: str,
    *,
    content_type: str = "",
    operation: str,
    method: str,
    path: str,
    secrets: Iterable[str],
    retry_after: float | None = None,
) -> ConnectlyError:
    """Build the typed error for a non-success HTTP response."""
    secrets = list(secrets)
    body = parse_error_body(redact(text, secrets), content_type)
    cls = class_for_status(status)
    return cls(
        redact(body.message, secrets),
        status=status,
        code=body.code,
        trace_id=body.trace_id,
        operation=operation,
        method=method,
        path=path,
        details=_redact_details(body.details, secrets),
        retry_after=retry_after,
    )
