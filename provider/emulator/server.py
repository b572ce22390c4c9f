"""A local Connectly WebhookService over real HTTP.

Built on the standard library's ``ThreadingHTTPServer`` so it runs anywhere Python does. It is
bounded on purpose (a connection cap and a body size limit) and never leaves a request
hanging: malformed input of any kind gets a JSON error, and ``stop()`` closes open keep-alive
connections and joins every thread it started.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hmac
import json
import logging
import os
import re
import secrets
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import validation
from .faults import ENDPOINTS, Fault, Faults, RandomFaults
from .modes import Modes, render_webhook, resolve
from .store import Store, TopicTaken, UnknownWebhook

__all__ = ["Emulator", "error_body"]

logger = logging.getLogger(__name__)

_ROUTES = (
    ("create", "POST", re.compile(r"/v1/businesses/([^/]+)/create/webhooks")),
    ("list", "GET", re.compile(r"/v1/businesses/([^/]+)/webhooks")),
    ("update", "PUT", re.compile(r"/v1/businesses/([^/]+)/update/webhooks/([^/]+)")),
    ("delete", "DELETE", re.compile(r"/v1/businesses/([^/]+)/delete/webhooks/([^/]+)")),
)

# status -> (Connectly type, Connectly code, gRPC code, user title)
_ERRORS: dict[int, tuple[str, str, int, str]] = {
    400: ("ERROR_TYPE_INVALID_REQUEST", "ERROR_CODE_INVALID_ARGUMENT", 3, "Invalid request"),
    401: ("ERROR_TYPE_UNAUTHENTICATED", "ERROR_CODE_UNAUTHENTICATED", 16, "Not authenticated"),
    403: ("ERROR_TYPE_PERMISSION_DENIED", "ERROR_CODE_PERMISSION_DENIED", 7, "Not allowed"),
    404: ("ERROR_TYPE_NOT_FOUND", "ERROR_CODE_NOT_FOUND", 5, "Not found"),
    405: ("ERROR_TYPE_INVALID_REQUEST", "ERROR_CODE_METHOD_NOT_ALLOWED", 12, "Not allowed"),
    409: ("ERROR_TYPE_CONFLICT", "ERROR_CODE_ALREADY_EXISTS", 6, "Already exists"),
    411: ("ERROR_TYPE_INVALID_REQUEST", "ERROR_CODE_INVALID_ARGUMENT", 3, "Invalid request"),
    413: ("ERROR_TYPE_INVALID_REQUEST", "ERROR_CODE_INVALID_ARGUMENT", 3, "Request too large"),
    429: ("ERROR_TYPE_RATE_LIMITED", "ERROR_CODE_RESOURCE_EXHAUSTED", 8, "Too many requests"),
    500: ("ERROR_TYPE_INTERNAL", "ERROR_CODE_INTERNAL", 13, "Something went wrong"),
    501: ("ERROR_TYPE_INVALID_REQUEST", "ERROR_CODE_UNIMPLEMENTED", 12, "Not implemented"),
}
_UNAVAILABLE = ("ERROR_TYPE_UNAVAILABLE", "ERROR_CODE_UNAVAILABLE", 14, "Service unavailable")


def error_body(status: int, message: str, shape: str = "connectly") -> dict[str, Any]:
    """An error in one of the two documented shapes."""
    kind, code, grpc_code, title = _ERRORS.get(
        status, _UNAVAILABLE if status >= 500 else _ERRORS[400]
    )
    if shape == "grpc":
        return {"code": grpc_code, "message": message, "details": []}
    return {
        "message": message,
        "type": kind,
        "code": code,
        "userTitle": title,
        "userMessage": message,
        "cntTraceId": str(secrets.randbits(63)),
        "details": {},
    }


def _html_page(status: int, text: str | None) -> str:
    phrase = _phrase(status)
    extra = f"<p>{text}</p>" if text else ""
    return (
        f"<html><head><title>{status} {phrase}</title></head><body><center><h1>{status} "
        f"{phrase}</h1></center>{extra}<hr><center>nginx</center></body></html>"
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class _Reject(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ConnectlyEmulator/1.0"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Bounds both a stalled body and an idle keep-alive connection.
        self.connection.settimeout(self.server.emulator.request_timeout)
        # Headers and body go out in separate writes; without this, Nagle's algorithm and the
        # peer's delayed ACK add ~40 ms to every response.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    # -- plumbing ----------------------------------------------------------------------------

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors raised by http.server itself (bad request line, oversized headers) get the
        same JSON treatment as ours, and the connection is closed since it is out of sync."""
        if self.request_version == "HTTP/0.9":  # unparseable line: answer in HTTP/1.0 anyway
            self.request_version = "HTTP/1.0"
        text = message or _phrase(code)
        self._send(code, error_body(code, text, self._shape()), close=True)

    def _shape(self) -> str:
        return self.server.emulator.modes.error_shape

    def _send(
        self,
        status: int,
        payload: Any,
        *,
        headers: dict[str, str] | None = None,
        close: bool = False,
    ) -> None:
        body = b"" if payload is None else json.dumps(payload).encode("utf-8")
        self._send_raw(status, body, "application/json", headers=headers, close=close)

    def _send_raw(
        self,
        status: int,
        body: bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        close: bool = False,
    ) -> None:
        try:
            self.send_response(status, _phrase(status))
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _error(
        self,
        status: int,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        close: bool = False,
    ) -> None:
        self._send(status, error_body(status, message, self._shape()), headers=headers, close=close)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            raise _Reject(411, "chunked request bodies are not supported; send Content-Length")
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            return b""
        try:
            length = int(length_header.strip())
            if length < 0:
                raise ValueError
        except ValueError:
            raise _Reject(400, f"invalid Content-Length {length_header[:40]!r}") from None
        limit = self.server.emulator.max_body_bytes
        if length > limit:
            raise _Reject(413, f"the request body exceeds {limit} bytes")
        try:
            data = self.rfile.read(length)
        except (TimeoutError, OSError):
            raise _Reject(
                400, "timed out reading the request body; is Content-Length larger than the body?"
            ) from None
        if len(data) < length:
            raise _Reject(400, "the request body is shorter than its Content-Length")
        return data

    def _pause(self, ms: int) -> bool:
        """Sleep, unless the emulator stops meanwhile (then True: abandon the request)."""
        if ms <= 0:
            return False
        return self.server.stopping.wait(ms / 1000.0)

    def _authorized(self) -> bool:
        provided = self.headers.get("X-API-Key")
        if not provided:
            self._error(401, "missing API key: send it in the X-API-Key header")
            return False
        if not self.server.emulator.key_matches(provided):
            self._error(401, "invalid API key")
            return False
        return True

    # -- requests ----------------------------------------------------------------------------

    def _dispatch(self) -> None:
        try:
            self._handle()
        except Exception as exc:  # a bug here must still produce an answer
            logger.exception("emulator failed on %s %s", self.command, self.path)
            self._error(500, f"emulator error: {type(exc).__name__}", close=True)

    def _handle(self) -> None:
        emulator = self.server.emulator
        split = urlsplit(self.path)
        path, method = split.path, self.command
        try:
            raw = self._read_body()
        except _Reject as reject:
            self._error(reject.status, reject.message, close=True)
            return
        if path == "/_emulator" or path.startswith("/_emulator/"):
            if self._authorized():
                _Admin(self, emulator).handle(method, path, split.query, raw)
            return
        route = _match(path)
        if route is None:
            self._error(404, f"no such endpoint: {method} {path[:200]}")
            return
        kind, allowed, params = route
        if method != allowed:
            self._error(
                405,
                f"{method} is not allowed on {path[:200]}; use {allowed}",
                headers={"Allow": allowed},
            )
            return
        emulator.count(kind)
        fault = emulator.faults.take(method, kind)
        if self._pause(emulator.faults.latency_ms):
            self.close_connection = True
            return
        if fault is not None and not fault.after_work and self._fault(fault):
            return
        if not self._authorized():
            return
        status, payload = _Api(emulator).handle(kind, params, raw)
        if fault is not None and fault.after_work and self._fault(fault):
            return
        self._send(status, payload)

    def _fault(self, fault: Fault) -> bool:
        """Play a fault; True when it answered (or dropped) the request."""
        if self._pause(fault.delay_ms) or fault.drop:
            self.close_connection = True
            return True
        if fault.status is None:
            return False
        status = fault.status
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        content_type = "application/json"
        if fault.body == "json":
            message = fault.text or f"injected fault: {status} {_phrase(status)}"
            body = json.dumps(error_body(status, message, self._shape())).encode()
        elif fault.body == "truncated":
            full = json.dumps(error_body(status, fault.text or "injected", self._shape()))
            body = full[: len(full) // 2].encode()
        elif fault.body == "html":
            body, content_type = _html_page(status, fault.text).encode(), "text/html"
        elif fault.body == "empty":
            body = b""
        else:
            body, content_type = (fault.text or "").encode(), "text/plain"
        self._send_raw(status, body, fault.content_type or content_type, headers=headers)
        return True


def _match(path: str) -> tuple[str, str, list[str]] | None:
    for kind, method, pattern in _ROUTES:
        found = pattern.fullmatch(path)
        if found:
            return kind, method, [unquote(g) for g in found.groups()]
    return None


class _Api:
    """The four WebhookService endpoints; returns (status, JSON payload)."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.modes = emulator.modes

    def _err(self, status: int, message: str) -> tuple[int, Any]:
        return status, error_body(status, message, self.modes.error_shape)

    def handle(self, kind: str, params: list[str], raw: bytes) -> tuple[int, Any]:
        business_id = params[0]
        try:
            if kind == "list":
                return self.listing(business_id)
            if kind == "create":
                return self.create(business_id, raw)
            if kind == "update":
                return self.update(business_id, params[1], raw)
            return self.delete(business_id, params[1])
        except validation.BadRequest as exc:
            return self._err(400, str(exc))
        except UnknownWebhook as exc:
            return self._err(404, f"webhook {exc.args[0]!r} not found for business {business_id!r}")

    def listing(self, business_id: str) -> tuple[int, Any]:
        webhooks = [render_webhook(r, self.modes) for r in self.emulator.store.listing(business_id)]
        entity: dict[str, Any] = {"businessId": business_id}
        if webhooks or not self.modes.omit_empty_webhooks:
            entity["webhooks"] = webhooks
        return 200, {"entity": entity}

    def create(self, business_id: str, raw: bytes) -> tuple[int, Any]:
        fields = validation.check_create(validation.parse_json_object(raw))
        try:
            registration, _ = self.emulator.store.create(
                business_id, fields, replace=self.modes.on_conflict == "replace"
            )
        except TopicTaken as taken:
            return self._err(
                409,
                f"a webhook for topic {fields['topic']!r} is already "
                f"registered for this business (id {taken.existing['id']}); "
                "use Update instead",
            )
        return self.modes.create_status, {"id": registration["id"]}

    def update(self, business_id: str, webhook_id: str, raw: bytes) -> tuple[int, Any]:
        address, configuration = validation.check_update(validation.parse_json_object(raw))
        self.emulator.store.update(business_id, webhook_id, address, configuration)
        return 200, {}

    def delete(self, business_id: str, webhook_id: str) -> tuple[int, Any]:
        self.emulator.store.delete(business_id, webhook_id)
        return 200, {}


class _Admin:
    """``/_emulator/...``: control and inspection for tests running in another process."""

    def __init__(self, handler: _Handler, emulator: Emulator) -> None:
        self.handler = handler
        self.emulator = emulator

    def handle(self, method: str, path: str, query: str, raw: bytes) -> None:
        routes = {
            "/_emulator/registrations": {"GET": self.registrations, "POST": self.seed},
            "/_emulator/reset": {"POST": self.reset},
            "/_emulator/counters": {"GET": self.counters, "DELETE": self.reset_counters},
            "/_emulator/faults": {
                "GET": self.faults,
                "POST": self.add_fault,
                "DELETE": self.clear_faults,
            },
            "/_emulator/latency": {"PUT": self.latency, "POST": self.latency},
            "/_emulator/random-faults": {"PUT": self.random_faults, "POST": self.random_faults},
            "/_emulator/modes": {"GET": self.get_modes, "PUT": self.set_modes},
        }
        methods = routes.get(path.rstrip("/"))
        if methods is None:
            self.handler._error(404, f"no such admin endpoint: {path[:200]}")
            return
        action = methods.get(method)
        if action is None:
            allowed = ", ".join(sorted(methods))
            self.handler._error(
                405, f"{method} is not allowed on {path}; use {allowed}", headers={"Allow": allowed}
            )
            return
        try:
            body = validation.parse_json_object(raw) if raw.strip() else {}
            payload = action(body, parse_qs(query))
        except (validation.BadRequest, ValueError, TypeError) as exc:
            self.handler._error(400, str(exc))
            return
        except TopicTaken as taken:
            self.handler._error(409, f"topic already registered (id {taken.existing['id']})")
            return
        self.handler._send(200, payload)

    def registrations(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        business = query.get("businessId", [None])[0]
        return {"registrations": self.emulator.registrations(business)}

    def seed(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        business_id = body.get("businessId")
        if not isinstance(business_id, str) or not business_id:
            raise ValueError("businessId is required")
        webhook_id = self.emulator.seed(
            business_id,
            body.get("topic"),
            body.get("address"),
            type=body.get("type") or "custom",
            configuration=body.get("configuration"),
            webhook_id=body.get("id"),
            force=bool(body.get("force", False)),
        )
        return {"id": webhook_id}

    def reset(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        self.emulator.reset()
        return {}

    def counters(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        return self.emulator.counters()

    def reset_counters(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        self.emulator.reset_counters()
        return {}

    def faults(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        return {
            "faults": [f.to_json() for f in self.emulator.faults.pending()],
            "latencyMs": self.emulator.faults.latency_ms,
        }

    def add_fault(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        self.emulator.inject(Fault.from_json(body))
        return {}

    def clear_faults(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        self.emulator.clear_faults()
        return {}

    def latency(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        ms = body.get("ms")
        if not isinstance(ms, int) or isinstance(ms, bool):
            raise ValueError("ms must be an integer")
        self.emulator.set_latency(ms)
        return {}

    def random_faults(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        names = {
            "rate503": "rate_503",
            "rate429": "rate_429",
            "rateDropCreate": "rate_drop_create",
            "retryAfter": "retry_after",
            "seed": "seed",
        }
        unknown = set(body) - set(names)
        if unknown:
            raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
        self.emulator.set_random_faults(**{names[k]: v for k, v in body.items()})
        return {}

    def get_modes(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        return self.emulator.modes.to_json()

    def set_modes(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        self.emulator.set_modes(**body)
        return self.emulator.modes.to_json()


class _Server(ThreadingHTTPServer):
    """Thread per connection, capped; tracks its connections so stop() can end them."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: Emulator, max_connections: int) -> None:
        self.emulator = emulator
        self.stopping = threading.Event()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if self.stopping.is_set() or not self._slots.acquire(timeout=0.2):
            self._refuse(request)
            return
        thread = threading.Thread(
            target=self._serve,
            args=(request, client_address),
            name="connectly-emulator-connection",
            daemon=True,
        )
        with self._lock:
            self._connections[request] = thread
        thread.start()

    def _serve(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._lock:
                self._connections.pop(request, None)
            self._slots.release()

    def _refuse(self, request: Any) -> None:
        body = json.dumps(
            error_body(
                503,
                "the emulator is at its connection limit; retry",
                self.emulator.modes.error_shape,
            )
        ).encode()
        head = (
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
        )
        try:
            request.settimeout(1.0)
            request.sendall(head.encode() + body)
        except OSError:
            pass
        self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection from %s failed", client_address, exc_info=True)

    def close_connections(self, timeout: float) -> None:
        with self._lock:
            items = list(self._connections.items())
        for sock, _ in items:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        end = time.monotonic() + timeout
        for _, thread in items:
            thread.join(max(0.0, end - time.monotonic()))


class Emulator:
    """The Connectly WebhookService on 127.0.0.1, for tests and local Terraform runs.

    Modes (see :mod:`.modes`): ``on_conflict`` "409"|"replace", ``listing_type``
    "include"|"omit", ``listing_token`` "omit"|"mask"|"echo", ``fill_defaults``,
    ``omit_empty_webhooks``, ``create_status`` 200|201, ``error_shape`` "connectly"|"grpc";
    ``strict=True`` starts from the least forgiving combination. Options left ``None`` take
    the preset's value.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        state_file: str | os.PathLike[str] | None = None,
        strict: bool = False,
        on_conflict: str | None = None,
        listing_type: str | None = None,
        listing_token: str | None = None,
        fill_defaults: bool | None = None,
        omit_empty_webhooks: bool | None = None,
        create_status: int | None = None,
        error_shape: str | None = None,
        max_connections: int = 64,
        max_body_bytes: int = 1 << 20,
        request_timeout: float = 30.0,
    ) -> None:
        self.api_key = api_key or secrets.token_urlsafe(24)
        self._key_bytes = self.api_key.encode("utf-8")
        self.host = host
        self._requested_port = port
        self.max_connections = max_connections
        self.max_body_bytes = max_body_bytes
        self.request_timeout = request_timeout
        self._modes_lock = threading.Lock()
        self._modes = resolve(
            strict,
            on_conflict=on_conflict,
            listing_type=listing_type,
            listing_token=listing_token,
            fill_defaults=fill_defaults,
            omit_empty_webhooks=omit_empty_webhooks,
            create_status=create_status,
            error_shape=error_shape,
        )
        self.store = Store(state_file)
        self.faults = Faults()
        self._counters_lock = threading.Lock()
        self._counters = dict.fromkeys(ENDPOINTS, 0)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Bind and serve in a background thread; returns once the port accepts connections."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        server = _Server((self.host, self._requested_port), self, self.max_connections)
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="connectly-emulator",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop accepting, end open connections, join every thread. Safe to call twice."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.stopping.set()
        server.shutdown()
        thread.join()
        server.close_connections(timeout=5.0)
        server.server_close()
        self._server = self._thread = None

    def __enter__(self) -> Emulator:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -- behaviour ---------------------------------------------------------------------------

    @property
    def modes(self) -> Modes:
        with self._modes_lock:
            return self._modes

    def set_modes(self, *, strict: bool | None = None, **changes: Any) -> None:
        """Change modes at runtime; ``strict=True`` first resets to the strict preset."""
        with self._modes_lock:
            base = resolve(True) if strict else self._modes
            if "on_conflict" in changes and changes["on_conflict"] is not None:
                changes["on_conflict"] = str(changes["on_conflict"])
            self._modes = dataclasses.replace(
                base, **{k: v for k, v in changes.items() if v is not None}
            )

    def key_matches(self, provided: str) -> bool:
        """Constant-time comparison, so response timing reveals nothing about the key."""
        return hmac.compare_digest(provided.encode("utf-8", "surrogateescape"), self._key_bytes)

    # -- inspection and control (tests) -----------------------------------------------------

    def registrations(self, business_id: str | None = None) -> list[dict[str, Any]]:
        """Every stored registration as stored (tokens included), with its ``businessId``."""
        return self.store.all(business_id)

    def seed(
        self,
        business_id: str,
        topic: Any,
        address: Any,
        *,
        type: str = "custom",
        configuration: dict[str, Any] | None = None,
        webhook_id: str | None = None,
        force: bool = False,
    ) -> str:
        """Store a registration directly, as if made outside Terraform; returns its id.
        Values are validated like a create. ``force`` allows a second one for a topic."""
        try:
            fields = validation.check_create(
                {
                    "topic": topic,
                    "address": address,
                    "type": type,
                    "configuration": configuration or {},
                }
            )
        except validation.BadRequest as exc:
            raise ValueError(str(exc)) from None
        registration, _ = self.store.create(
            business_id, fields, replace=False, webhook_id=webhook_id, force=force
        )
        return str(registration["id"])

    def count(self, endpoint: str) -> None:
        with self._counters_lock:
            self._counters[endpoint] = self._counters.get(endpoint, 0) + 1

    def counters(self) -> dict[str, int]:
        """API requests received per endpoint (faulted and unauthorized ones included)."""
        with self._counters_lock:
            return dict(self._counters)

    def reset_counters(self) -> None:
        with self._counters_lock:
            self._counters = dict.fromkeys(ENDPOINTS, 0)

    def inject(self, fault: Fault | None = None, **fields: Any) -> None:
        """Queue a fault: ``inject(Fault(...))`` or ``inject(status=503, endpoint="list")``."""
        self.faults.add(fault if fault is not None else Fault(**fields))

    def clear_faults(self) -> None:
        """Forget queued faults, latency and random faults."""
        self.faults.clear()

    def set_latency(self, ms: int) -> None:
        self.faults.set_latency(ms)

    def set_random_faults(
        self,
        *,
        rate_503: float = 0.0,
        rate_429: float = 0.0,
        rate_drop_create: float = 0.0,
        retry_after: str = "1",
        seed: int | None = None,
    ) -> None:
        self.faults.set_random(
            RandomFaults(
                rate_503=float(rate_503),
                rate_429=float(rate_429),
                rate_drop_create=float(rate_drop_create),
                retry_after=str(retry_after),
                seed=seed,
            )
        )

    def reset(self) -> None:
        """Empty store, no faults, zero counters (modes are kept)."""
        self.store.clear()
        self.clear_faults()
        self.reset_counters()
