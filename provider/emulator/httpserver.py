"""HTTP plumbing: the bounded threading server and the request handler that reads a request,
plays faults, checks the key and hands the work to :mod:`.api` or :mod:`.admin`.

Built on the standard library's ``ThreadingHTTPServer`` so it runs anywhere Python does. It is
bounded on purpose (a connection cap and a body size limit) and never leaves a request
hanging: malformed input of any kind gets a JSON error, and :meth:`Server.close_connections`
ends open keep-alive connections.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .admin import Admin
from .api import Api, match
from .faults import Fault
from .responses import error_body, html_page, phrase

if TYPE_CHECKING:
    from .server import Emulator

logger = logging.getLogger("terraform_provider_connectly.emulator.server")


class _Reject(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ConnectlyEmulator/1.0"
    sys_version = ""
    server: Server

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
        text = message or phrase(code)
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
            self.send_response(status, phrase(status))
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
                Admin(self, emulator).handle(method, path, split.query, raw)
            return
        route = match(path)
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
        status, payload = Api(emulator).handle(kind, params, raw)
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
            message = fault.text or f"injected fault: {status} {phrase(status)}"
            body = json.dumps(error_body(status, message, self._shape())).encode()
        elif fault.body == "truncated":
            full = json.dumps(error_body(status, fault.text or "injected", self._shape()))
            body = full[: len(full) // 2].encode()
        elif fault.body == "html":
            body, content_type = html_page(status, fault.text).encode(), "text/html"
        elif fault.body == "empty":
            body = b""
        else:
            body, content_type = (fault.text or "").encode(), "text/plain"
        self._send_raw(status, body, fault.content_type or content_type, headers=headers)
        return True


class Server(ThreadingHTTPServer):
    """Thread per connection, capped; tracks its connections so stop() can end them."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: Emulator, max_connections: int) -> None:
        self.emulator = emulator
        self.stopping = threading.Event()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}
        super().__init__(address, Handler)

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
