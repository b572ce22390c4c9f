"""Requests that go straight to the API (no proxy), on the standard library's ``http.client``.

Why: an exchange through httpx (its request and response models, its client, httpcore and h11)
costs about three times what ``http.client`` spends on the same request, and the provider
sends two or three requests per created webhook, all in one interpreter. The exchange raises
httpx's exception classes, as httpx's own transport would, so that one table
(:data:`.transport.TRANSPORT_FAILURES`) still says what each failure means, and the answer
becomes an ``httpx.Response`` for the rest of the client. Requests that must go through a
proxy, and tests' mock transports, go through httpx instead (:mod:`.transport`).

Connections are kept alive per origin and reused; one that became readable while idle (the
server closed it, or sent something unasked) is closed instead of reused, as httpcore does.
"""

from __future__ import annotations

import contextlib
import http.client
import select
import socket
import ssl
import threading
from collections.abc import Callable, Iterator

import httpx

MAX_IDLE = 32
READ_CHUNK = 64 * 1024


class DirectTransport:
    """HTTP/1.1 to one origin over kept-alive ``http.client`` connections; thread-safe."""

    def __init__(self, scheme: str, host: str, port: int, ssl_context: ssl.SSLContext) -> None:
        self._scheme, self._host, self._port = scheme, host, port
        self._ssl = ssl_context
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._closed = False

    def open(
        self,
        method: str,
        target: str,
        headers: list[tuple[bytes, bytes]],
        body: bytes | None,
        *,
        connect_timeout: float | None,
        read_timeout: float | None,
    ) -> Answer:
        """Sends the request and reads the answer's head; the body is read from the Answer.
        ``headers`` are sent as given (Host among them)."""
        conn = self._take() or self._connect(connect_timeout)
        with _closed_on_failure(conn.close, httpx.WriteTimeout, httpx.WriteError):
            conn.sock.settimeout(read_timeout)
            conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                conn.putheader(name, value)
            conn.endheaders(body)
        with _closed_on_failure(conn.close, httpx.ReadTimeout, httpx.ReadError):
            answer = conn.getresponse()
        return Answer(self, conn, answer)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def idle_connections(self) -> int:
        """How many kept-alive connections wait for a request (for tests)."""
        with self._lock:
            return len(self._idle)

    def give_back(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < MAX_IDLE:
                self._idle.append(conn)
                return
        conn.close()

    def _take(self) -> http.client.HTTPConnection | None:
        while True:
            with self._lock:
                if not self._idle:
                    return None
                conn = self._idle.pop()
            if conn.sock is not None and not _readable(conn.sock):
                return conn
            conn.close()

    def _connect(self, timeout: float | None) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection
        if self._scheme == "https":
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=timeout, context=self._ssl
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
        with _closed_on_failure(conn.close, httpx.ConnectTimeout, httpx.ConnectError):
            conn.connect()  # TCP and, for https, the TLS handshake with the host's name checked
        return conn


class Answer:
    """An answer whose head has arrived: its status, its headers, and its body as it comes.
    The connection goes back to the pool once the body was read to its end, and is closed
    otherwise (:meth:`close` must be called either way)."""

    def __init__(
        self,
        pool: DirectTransport,
        conn: http.client.HTTPConnection,
        answer: http.client.HTTPResponse,
    ) -> None:
        self.status = answer.status
        # As bytes: http.client decodes header values as latin-1, and httpx would encode
        # them back as ASCII and fail on anything else (a proxy's "X-Note: café").
        self.headers: list[tuple[bytes, bytes]] = [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in answer.getheaders()
        ]
        self._pool = pool
        self._conn: http.client.HTTPConnection | None = conn
        self._answer = answer
        self._complete = False

    def chunks(self) -> Iterator[bytes]:
        answer = self._answer
        while True:
            if answer.length == 0:  # the declared length is in: read1 would not say so
                answer.close()  # frees the connection for its next request; the socket stays
                self._complete = True
                return
            with _closed_on_failure(self._discard, httpx.ReadTimeout, httpx.ReadError):
                chunk = answer.read1(READ_CHUNK)
            if not chunk:
                if answer.length:  # http.client ends a cut-off body quietly; httpx would not
                    self._discard()
                    raise httpx.RemoteProtocolError(
                        f"the server closed the connection {answer.length} bytes short of "
                        "the answer's declared length"
                    )
                self._complete = True
                answer.close()
                return
            yield chunk

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._complete and not self._answer.will_close:
            self._pool.give_back(conn)
        else:
            self._answer.close()
            conn.close()

    def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


@contextlib.contextmanager
def _closed_on_failure(
    close: Callable[[], None],
    timeout: type[httpx.TimeoutException],
    failure: type[httpx.HTTPError],
) -> Iterator[None]:
    """Any failure inside closes the connection (it is in an unknown state); an exception
    becomes the httpx error its own transport would raise (:func:`_mapped`)."""
    try:
        yield
    except Exception as exc:
        close()
        raise _mapped(exc, timeout, failure) from exc
    except BaseException:
        close()
        raise


def _readable(sock: socket.socket) -> bool:
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):  # closed under us
        return True


def _mapped(
    exc: Exception, timeout: type[httpx.TimeoutException], failure: type[httpx.HTTPError]
) -> httpx.HTTPError:
    """The httpx exception that its own transport would raise for ``exc``, so that one table
    (:data:`.transport.TRANSPORT_FAILURES`) says what each means."""
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, TimeoutError):  # socket.timeout is TimeoutError
        return timeout(detail)
    if isinstance(exc, http.client.RemoteDisconnected):
        return httpx.RemoteProtocolError("Server disconnected without sending a response.")
    if isinstance(exc, http.client.IncompleteRead):
        return httpx.RemoteProtocolError(f"the connection closed mid-answer ({detail})")
    if isinstance(exc, http.client.HTTPException):
        return httpx.RemoteProtocolError(detail)
    return failure(detail)  # OSError (ssl.SSLError among them), a header httpx let through
