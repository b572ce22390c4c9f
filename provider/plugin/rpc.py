"""The gRPC server Terraform talks to: gRPC's wire format on HTTP/2 (:mod:`.http2`), without
grpcio.

Why not grpcio's server: importing grpcio is most of what a bare Python plugin pays before its
first answer (about 50 ms of a start on our machines, and Terraform starts a provider 3 to 5
times a command), and its synchronous server moves every call across three threads (a poller,
a worker, and back) before a byte of our code runs. Here one thread per connection owns the
socket and the HTTP/2 state; a call the servicer marks *inline* (no I/O: validation, planning,
schemas) runs on that thread and answers at once; any other call runs on a worker pool and
hands its answer back through a queue. ``docs/design.md`` ("The gRPC server") has the figures.

What is served is what go-plugin and Terraform use: unary and server-streaming methods, each
request one message, no compression, statuses in trailers. A client-streaming or bidi method
(the broker, WriteStateBytes) answers ``UNIMPLEMENTED``, as an unregistered method does.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from . import http2
from .http2 import (
    ConnectionTerminated,
    DataReceived,
    H2Error,
    RequestReceived,
    StreamClosedError,
    StreamEnded,
    StreamReset,
    WindowUpdated,
)

if TYPE_CHECKING:
    import ssl

log = logging.getLogger("plugin.rpc")

TLS_HANDSHAKE_SECONDS = 10.0
LINGER_SECONDS = 0.5  # after our GOAWAY, how long the peer's last bytes are read before closing
MAX_STREAMS = 1000
WINDOW = 2**24  # what a peer may send ahead, per stream
CONNECTION_WINDOW = 2**30  # added to the connection's window at its start
_HEADERS = [(b":status", b"200"), (b"content-type", b"application/grpc")]


class StatusCode(enum.IntEnum):
    """gRPC status codes (the subset a provider answers with)."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    RESOURCE_EXHAUSTED = 8
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14


class Abort(Exception):
    """Ends a call with a status other than OK (``CallContext.abort``)."""

    def __init__(self, code: StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


class CallContext:
    """What a handler may ask of its call: whether it is still wanted, a callback for when it
    ends, and ending it with a status. The same few methods as grpcio's context."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] | None = []

    def is_active(self) -> bool:
        return self._callbacks is not None

    def add_callback(self, callback: Callable[[], None]) -> bool:
        """Calls ``callback`` once the call ends (answered, cancelled or disconnected);
        False, and no call, if it has already ended."""
        with self._lock:
            if self._callbacks is None:
                return False
            self._callbacks.append(callback)
            return True

    def abort(self, code: StatusCode, details: str) -> NoReturn:
        raise Abort(code, details)

    def finish(self) -> None:
        with self._lock:
            callbacks, self._callbacks = self._callbacks, None
        for callback in callbacks or ():
            try:
                callback()
            except Exception:
                log.debug("rpc: call-end callback failed", exc_info=True)


@dataclass(frozen=True)
class Method:
    """One servable method: its request type, the handler ``(request, context)``, whether it
    streams answers (the handler then returns an iterator), and whether it runs inline."""

    request: Any
    handler: Callable[[Any, CallContext], Any]
    streaming: bool = False
    inline: bool = False


def service_methods(
    service: Any, servicer: object, inline: Collection[str] = ()
) -> dict[str, Method]:
    """``/package.Service/Method`` to :class:`Method` for every method of the protobuf
    ``service`` descriptor that ``servicer`` has; methods it lacks stay unregistered."""
    from google.protobuf import message_factory

    methods = {}
    for m in service.methods:
        handler = getattr(servicer, m.name, None)
        if handler is None or m.client_streaming:
            continue
        methods[f"/{service.full_name}/{m.name}"] = Method(
            request=message_factory.GetMessageClass(m.input_type),
            handler=handler,
            streaming=m.server_streaming,
            inline=m.name in inline and not m.server_streaming,
        )
    return methods


def _grpc_message(text: str) -> bytes:
    """``grpc-message`` is percent-encoded UTF-8: printable ASCII other than ``%`` as is."""
    out = bytearray()
    for byte in text.encode("utf-8", errors="replace"):
        if 0x20 <= byte <= 0x7E and byte != 0x25:
            out.append(byte)
        else:
            out += b"%%%02X" % byte
    return bytes(out)


def _status_headers(code: int, details: str) -> list[tuple[bytes, bytes]]:
    headers = [(b"grpc-status", b"%d" % code)]
    if details:
        headers.append((b"grpc-message", _grpc_message(details)))
    return headers


def _frame(message: bytes) -> bytes:
    return b"\x00" + len(message).to_bytes(4, "big") + message


class _Stream:
    __slots__ = ("body", "context", "method", "pending", "started", "trailers")

    def __init__(self, method: Method | None) -> None:
        self.method = method  # None: a method we do not serve, refused at its headers
        self.body = bytearray()
        self.context = CallContext()
        self.pending = bytearray()  # answer bytes waiting for the peer's flow-control window
        self.trailers: list[tuple[bytes, bytes]] | None = None  # sent once pending is empty
        self.started = False  # response headers sent


class _Connection:
    """One client connection: its socket and HTTP/2 state belong to the thread running
    :meth:`serve`; workers hand it answers through ``post``."""

    def __init__(self, server: Server, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.h2 = http2.ServerConnection()
        self.streams: dict[int, _Stream] = {}
        self.done: deque[tuple[int, str, Any]] = deque()
        # A socket pair, not a pipe: select() takes only sockets on Windows.
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_w.setblocking(False)
        self.closing = False
        self.reset: set[int] = set()  # streams the peer reset in the read being handled
        self._posting = threading.Lock()
        self._finished = False  # the wake-up sockets are closed: no worker may send on them

    # -- from any thread -------------------------------------------------------------------

    def post(self, stream_id: int, kind: str, value: Any) -> None:
        """``kind``: "message" (bytes), "status" (code, details), "answer" (a unary call's
        message or None, code, details) or "goaway" (None)."""
        with self._posting:
            if self._finished:  # the connection is gone, and with it the answer's reader
                return
            self.done.append((stream_id, kind, value))
            # A full socket buffer holds wake-ups enough already.
            with contextlib.suppress(BlockingIOError):
                self.wake_w.send(b"!")

    # -- on the connection's own thread -------------------------------------------------------

    def serve(self) -> None:
        try:
            self.h2.start(
                {
                    http2.INITIAL_WINDOW_SIZE: WINDOW,
                    http2.MAX_CONCURRENT_STREAMS: MAX_STREAMS,
                    http2.MAX_HEADER_LIST_SIZE: http2.MAX_HEADER_LIST,
                },
                CONNECTION_WINDOW,
            )
            self._flush()
            self._loop()
        except Exception as exc:  # the peer broke the protocol, or the socket went away
            log.debug("rpc: connection ended: %s: %s", type(exc).__name__, exc)
            with contextlib.suppress(Exception):  # the GOAWAY http2 queued, if it did
                self._flush()
        finally:
            for stream in self.streams.values():
                stream.context.finish()
            self.streams.clear()
            with self._posting:
                self._finished = True
                self.wake_r.close()
                self.wake_w.close()
            with contextlib.suppress(OSError):
                self.sock.close()
            self.server._forget(self)

    def _loop(self) -> None:
        sock = self.sock
        pending_tls = getattr(sock, "pending", None)
        while True:
            if pending_tls is not None and pending_tls():
                readable = [sock]
            else:
                readable, _, _ = select.select([sock, self.wake_r], [], [])
            if self.wake_r in readable:
                self.wake_r.recv(4096)
            while self.done:
                self._answer(*self.done.popleft())
            if sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                events = self.h2.receive_data(data)
                # A request and its cancellation can come in one read: never run that call.
                self.reset = {e.stream_id for e in events if type(e) is StreamReset}
                for event in events:
                    self._on(event)
                    if isinstance(event, ConnectionTerminated):
                        self._flush()
                        return
            if self.closing and not self.streams:
                self.h2.close_connection()
                self._flush()
                self._linger()
                return
            self._flush()

    def _linger(self) -> None:
        """Closes our side, then reads what the peer still sends for a moment: closing with
        unread bytes would reset the connection, and the peer could lose our last frames."""
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self.sock, socket.SHUT_WR)
            self.sock.settimeout(LINGER_SECONDS)
            while self.sock.recv(65536):
                pass

    def _flush(self) -> None:
        out = self.h2.data_to_send()
        if out:
            self.sock.sendall(out)

    def _on(self, event: Any) -> None:
        kind = type(event)
        if kind is RequestReceived:
            path = next((v for k, v in event.headers if k == b":path"), b"")
            method = self.server.methods.get(path.decode("ascii", "replace"))
            self.streams[event.stream_id] = _Stream(method)
            if method is None:
                # At once, not at the request's end: go-plugin opens a broker stream that it
                # never half-closes, and would hold it (and our graceful close) forever.
                self._end(event.stream_id, StatusCode.UNIMPLEMENTED, f"unknown method {path!r}")
                self._stop_peer(event.stream_id)
        elif kind is DataReceived:
            stream = self.streams.get(event.stream_id)
            if event.flow_controlled_length:
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            if stream is not None:
                stream.body += event.data
                body = stream.body
                declared = int.from_bytes(body[1:5], "big") if len(body) >= 5 else 0
                limit = self.server.max_message_bytes
                if declared > limit or len(body) > limit + 5:
                    self._end(event.stream_id, StatusCode.RESOURCE_EXHAUSTED, "message too large")
                    self._stop_peer(event.stream_id)
        elif kind is StreamEnded:
            stream = self.streams.get(event.stream_id)
            if stream is None or event.stream_id in self.reset:
                return
            if stream.trailers is None and not stream.started:
                self._dispatch(event.stream_id, stream)
        elif kind is StreamReset:
            self._drop(event.stream_id)
        elif kind is WindowUpdated:
            for stream_id, stream in list(self.streams.items()):
                if stream.pending and stream_id not in self.reset:
                    self._pump(stream_id)

    def _stop_peer(self, stream_id: int) -> None:
        """After an early answer: tells the peer to stop sending on the stream (gRPC's
        RST_STREAM with NO_ERROR once the status is out)."""
        with contextlib.suppress(H2Error):
            self.h2.reset_stream(stream_id, 0)

    def _drop(self, stream_id: int) -> None:
        """The peer reset the stream: its call has ended, and nothing more is sent on it."""
        stream = self.streams.pop(stream_id, None)
        if stream is not None:
            stream.context.finish()

    def _dispatch(self, stream_id: int, stream: _Stream) -> None:
        method = stream.method
        assert method is not None  # unknown methods were refused at their headers
        body = stream.body
        if len(body) < 5 or body[0] != 0 or int.from_bytes(body[1:5], "big") != len(body) - 5:
            self._end(stream_id, StatusCode.INTERNAL, "expected one uncompressed message")
            return
        try:
            request = method.request.FromString(bytes(body[5:]))
        except Exception:  # protobuf's DecodeError, or worse: bytes we cannot read
            self._end(stream_id, StatusCode.INTERNAL, "could not parse the request")
            return
        stream.body = bytearray()
        if method.inline:
            code, details, answer = _call(method, request, stream.context)
            if answer is not None:
                self._send(stream_id, _frame(answer))
            self._end(stream_id, code, details)
        else:
            self.server._submit(self, stream_id, method, request, stream.context)

    def _answer(self, stream_id: int, kind: str, value: Any) -> None:
        if kind == "goaway":
            # No new calls from here: a GOAWAY naming every stream taken so far (newer ones
            # are refused); the calls in flight still answer, then the connection closes.
            self.closing = True
            self.h2.close_connection()
            self._flush()
        elif stream_id in self.streams:
            if kind == "answer":
                message, code, details = value
                if message is not None:
                    self._send(stream_id, message)
                self._end(stream_id, code, details)
            elif kind == "message":
                self._send(stream_id, value)
            else:
                self._end(stream_id, *value)

    def _send(self, stream_id: int, data: bytes) -> None:
        stream = self.streams[stream_id]
        if not stream.started:
            stream.started = True
            try:
                self.h2.send_headers(stream_id, _HEADERS)
            except StreamClosedError:
                self._drop(stream_id)
                return
        stream.pending += data
        self._pump(stream_id)

    def _end(self, stream_id: int, code: int, details: str = "") -> None:
        stream = self.streams.get(stream_id)
        if stream is None:
            return
        if not stream.started:  # trailers-only: one HEADERS frame with the status
            stream.started = True
            stream.trailers = []
            self._close_stream(stream_id, _HEADERS + _status_headers(code, details))
            return
        stream.trailers = _status_headers(code, details)
        self._pump(stream_id)

    def _pump(self, stream_id: int) -> None:
        """Sends what the peer's window allows of a stream's answer; then its trailers."""
        stream = self.streams.get(stream_id)
        if stream is None:
            return
        h2 = self.h2
        try:
            while stream.pending:
                size = min(h2.local_flow_control_window(stream_id), h2.max_outbound_frame_size)
                if size <= 0:
                    return
                h2.send_data(stream_id, bytes(stream.pending[:size]))
                del stream.pending[:size]
        except StreamClosedError:
            self._drop(stream_id)
            return
        if stream.trailers is not None:
            self._close_stream(stream_id, stream.trailers)

    def _close_stream(self, stream_id: int, headers: list[tuple[bytes, bytes]]) -> None:
        stream = self.streams.pop(stream_id)
        # The peer may have reset the stream meanwhile: nobody waits for the answer then.
        with contextlib.suppress(H2Error):
            self.h2.send_headers(stream_id, headers, end_stream=True)
        stream.context.finish()


def _call(method: Method, request: Any, context: CallContext) -> tuple[int, str, bytes | None]:
    """Runs a unary handler: (status code, details, serialized answer or None)."""
    try:
        answer = method.handler(request, context)
        return StatusCode.OK, "", answer.SerializeToString()
    except Abort as exc:
        return exc.code, exc.details, None
    except Exception as exc:
        log.debug("rpc: handler failed", exc_info=True)
        return StatusCode.UNKNOWN, f"{type(exc).__name__}: {exc}", None


class Server:
    """Serves registered methods on the addresses added, until :meth:`stop`."""

    def __init__(self, max_message_bytes: int, max_workers: int = 64) -> None:
        self.max_message_bytes = max_message_bytes
        self.methods: dict[str, Method] = {}
        self._max_workers = max_workers
        self._pool: ThreadPoolExecutor | None = None
        self._listeners: list[tuple[socket.socket, ssl.SSLContext | None]] = []
        self._connections: set[_Connection] = set()
        self._lock = threading.Lock()
        self._stopping = False
        self._all_gone = threading.Event()
        self.forced = False  # stop() had to cut connections whose calls outlived its grace

    def add_methods(self, methods: Mapping[str, Method]) -> None:
        self.methods.update(methods)

    def add_insecure_port(self, address: str) -> int:
        """Listens on ``unix:PATH`` or ``HOST:PORT`` (port 0: any free one); the port bound
        (1 for a Unix socket). Raises RuntimeError if the address cannot be had, as grpcio."""
        return self._listen(address, None)

    def add_secure_port(self, address: str, context: ssl.SSLContext) -> int:
        """As :meth:`add_insecure_port`, every connection over TLS with ``context``."""
        return self._listen(address, context)

    def _listen(self, address: str, context: ssl.SSLContext | None) -> int:
        try:
            if address.startswith("unix:"):
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                target: Any = address[len("unix:") :]
            else:
                host, _, port = address.rpartition(":")
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                exclusive = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)
                if exclusive is not None:
                    sock.setsockopt(socket.SOL_SOCKET, exclusive, 1)
                target = (host, int(port))
        except (OSError, ValueError) as exc:
            raise RuntimeError(f"cannot listen on {address}: {exc}") from exc
        try:
            sock.bind(target)
            sock.listen(64)
        except OSError as exc:
            sock.close()
            raise RuntimeError(f"cannot listen on {address}: {exc}") from exc
        self._listeners.append((sock, context))
        return 1 if sock.family != socket.AF_INET else int(sock.getsockname()[1])

    def start(self) -> None:
        self._pool = ThreadPoolExecutor(self._max_workers, thread_name_prefix="rpc")
        for sock, context in self._listeners:
            threading.Thread(
                target=self._accept, args=(sock, context), name="rpc-accept", daemon=True
            ).start()

    def _accept(self, listener: socket.socket, context: ssl.SSLContext | None) -> None:
        while True:
            try:
                sock, _ = listener.accept()
            except OSError as exc:
                if self._stopping:  # stop() shut the listener
                    return
                log.debug("rpc: accept failed: %s", exc)  # a client gone before accept, ...
                time.sleep(0.01)  # ... or no descriptor to spare for a moment
                continue
            threading.Thread(
                target=self._connect, args=(sock, context), name="rpc-conn", daemon=True
            ).start()

    def _connect(self, sock: socket.socket, context: ssl.SSLContext | None) -> None:
        if context is not None:
            try:
                sock.settimeout(TLS_HANDSHAKE_SECONDS)
                sock = context.wrap_socket(sock, server_side=True)
                sock.settimeout(None)
            except OSError as exc:  # ssl.SSLError included: not our client, or no client
                log.debug("rpc: TLS handshake refused: %s", exc)
                sock.close()
                return
        with self._lock:
            if self._stopping:
                sock.close()
                return
            connection = _Connection(self, sock)
            self._connections.add(connection)
        connection.serve()

    def _forget(self, connection: _Connection) -> None:
        with self._lock:
            self._connections.discard(connection)
            if self._stopping and not self._connections:
                self._all_gone.set()

    def _submit(
        self, connection: _Connection, stream_id: int, method: Method, request: Any, ctx: Any
    ) -> None:
        assert self._pool is not None
        stopping = (StatusCode.UNAVAILABLE, "server stopping")
        try:
            future = self._pool.submit(_work, connection, stream_id, method, request, ctx)
        except RuntimeError:  # the pool is shut down: we are stopping
            connection.post(stream_id, "status", stopping)
            return
        # A call still queued when stop() cancels the pool's backlog gets an answer all the same.
        future.add_done_callback(
            lambda f: connection.post(stream_id, "status", stopping) if f.cancelled() else None
        )

    def stop(self, grace: float | None = None) -> threading.Event:
        """Stops taking connections; tells each client to go away (calls in flight may
        finish for ``grace`` seconds), then closes them. The event is set once all are
        closed."""
        with self._lock:
            self._stopping = True
            connections = list(self._connections)
            if not connections:
                self._all_gone.set()
        for sock, _ in self._listeners:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked accept() on Linux; close does not
            with contextlib.suppress(OSError):
                sock.close()
        for connection in connections:
            connection.post(0, "goaway", None)
        if grace is not None and not self._all_gone.wait(grace):
            self.forced = True
            for connection in connections:
                # The plain socket's shutdown: an SSL socket's would pull its state from under
                # the connection's thread.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(connection.sock, socket.SHUT_RDWR)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        return self._all_gone


def _work(
    connection: _Connection, stream_id: int, method: Method, request: Any, ctx: CallContext
) -> None:
    """A call on a worker thread; its answers go back to the connection's thread."""
    if not method.streaming:
        # Message and status in one hand-off: one wake-up of the connection's thread, and
        # one write to the peer for the whole answer.
        code, details, answer = _call(method, request, ctx)
        message = _frame(answer) if answer is not None else None
        connection.post(stream_id, "answer", (message, code, details))
        return
    try:
        answers: Iterator[Any] = method.handler(request, ctx)
        for answer in answers:
            if not ctx.is_active():
                return
            connection.post(stream_id, "message", _frame(answer.SerializeToString()))
        connection.post(stream_id, "status", (StatusCode.OK, ""))
    except Abort as exc:
        connection.post(stream_id, "status", (exc.code, exc.details))
    except Exception as exc:
        log.debug("rpc: streaming handler failed", exc_info=True)
        connection.post(stream_id, "status", (StatusCode.UNKNOWN, f"{type(exc).__name__}: {exc}"))
