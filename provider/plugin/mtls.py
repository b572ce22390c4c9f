"""go-plugin's AutoMTLS, with the client check done where it can actually be done.

Terraform hands us its client certificate in ``PLUGIN_CLIENT_CERT`` and trusts only the server
certificate we announce in the handshake line. Terraform's client key is ECDSA P-521, which
grpcio's TLS stack (BoringSSL) would not accept from a client, when grpcio was our server. So
the gRPC server (``rpc``) listens in plaintext on a socket in our private folder, and this module
puts a TLS front (Python's ``ssl``, OpenSSL, which accepts P-521) on the announced socket: it
requires the client certificate, accepts exactly the one Terraform gave, negotiates ALPN ``h2``
as grpc-go demands, and relays the bytes.

Our own key (``certificate.make_identity``) is made in memory and handed to OpenSSL in a way
that never touches a disk (``keys``; which way is ``platform_paths``' choice).

Where the server cannot listen on a private Unix socket (no ``AF_UNIX``: Windows), it listens
on a loopback TCP port, which any local user can dial; that inner hop is then mutual TLS too,
with a throwaway identity that only this process holds (:func:`inner_credentials`): the server
requires it from the client, and the front requires it from the server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
import threading
from collections.abc import Callable

from . import keys
from .certificate import Identity
from .tlschild import Backend

log = logging.getLogger("plugin.mtls")


def server_context(identity: Identity, client_cert_pem: str, key_way: str) -> ssl.SSLContext:
    """A TLS server context that requires exactly ``client_cert_pem`` from the client."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cadata=client_cert_pem)
    ctx.set_alpn_protocols(["h2"])
    keys.load_identity(ctx, identity.cert_pem, identity.key_pem, key_way)
    return ctx


def inner_credentials(inner: Identity, key_way: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """Both ends of the hop from the front to the gRPC server over loopback TCP: the server's
    context, which requires ``inner`` from the client, and the front's client context, which
    presents ``inner`` and accepts only ``inner`` from the server. Both keys reach OpenSSL
    the ``key_way`` the platform allows."""
    cert = inner.cert_pem
    server = server_context(inner, cert.decode(), key_way)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.minimum_version = ssl.TLSVersion.TLSv1_2
    client.load_verify_locations(cadata=cert.decode())
    client.set_alpn_protocols(["h2"])
    keys.load_identity(client, cert, inner.key_pem, key_way)
    return server, client


class TLSFront:
    """Accepts TLS connections on ``listen_path`` (or the listening socket ``listen_sock``)
    and relays them to ``backend``."""

    def __init__(
        self,
        listen_path: str | None,
        backend: Backend,
        context: ssl.SSLContext,
        client_cert_pem: str,
        listen_sock: socket.socket | None = None,
    ) -> None:
        self.listen_path = listen_path
        self.listen_sock = listen_sock
        self.backend = backend
        self.context = context
        self.expected_der = ssl.PEM_cert_to_DER_cert(client_cert_pem.strip())
        self._loop = asyncio.new_event_loop()
        self._loop.set_exception_handler(self._on_loop_error)
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tls-front", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._error: BaseException | None = None
        self._relays = 0  # connections being relayed; touched on the loop's thread only

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error

    def stop(self, drain_seconds: float = 0.0) -> None:
        """Stops once every relayed connection has closed (Terraform hangs up right after the
        Shutdown answer), or after ``drain_seconds`` at the most."""
        if self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self._drain(drain_seconds), self._loop)
        self._thread.join(timeout=1.0)

    async def _drain(self, seconds: float) -> None:
        deadline = self._loop.time() + seconds
        while self._relays and self._loop.time() < deadline:
            await asyncio.sleep(0.002)
        self._loop.stop()

    def serve_until_closed(
        self, control_fd: int, listening: Callable[[], None], drain_seconds: float
    ) -> None:
        """Serves on this thread until ``control_fd`` (a pipe's read end) reaches its end,
        then drains as :meth:`stop` does. ``listening`` is called once the socket is open."""
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(self._listen())
        listening()

        def closed() -> None:
            if not os.read(control_fd, 4096):
                self._loop.remove_reader(control_fd)
                self._loop.create_task(self._drain(drain_seconds))

        self._loop.add_reader(control_fd, closed)
        self._loop.run_forever()

    async def _listen(self) -> asyncio.AbstractServer:
        if self.listen_sock is not None:
            return await self._loop.create_server(
                lambda: _FrontSide(self),
                sock=self.listen_sock,
                ssl=self.context,
                ssl_handshake_timeout=10.0,
            )
        return await self._loop.create_unix_server(
            lambda: _FrontSide(self),
            path=self.listen_path,
            ssl=self.context,
            ssl_handshake_timeout=10.0,
        )

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(self._listen())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    def _on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        # Refused handshakes land here; they are expected, not crashes.
        log.debug("tls front: %s", context.get("message") or context.get("exception"))


class _Side(asyncio.Protocol):
    """One end of a relay: what arrives is written to the other end, with back-pressure."""

    transport: asyncio.Transport | None = None
    peer: _Side | None = None
    # Our end of the TLS hop to the server is dropped, not closed with a TLS goodbye: it does
    # not answer one, and would hold the connection (and its grace period) until it did.
    abort_on_hang_up = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.write(data)

    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.peer is not None and self.peer.transport is not None:
            if self.peer.abort_on_hang_up:
                self.peer.transport.abort()
            else:
                self.peer.transport.close()


class _FrontSide(_Side):
    """Terraform's end: checks the certificate, then joins a connection to the server."""

    def __init__(self, front: TLSFront) -> None:
        self.front = front
        self.counted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sslobj = transport.get_extra_info("ssl_object")
        peer = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
        if peer != self.front.expected_der:
            log.warning("tls front: refused a client that did not present Terraform's certificate")
            transport.close()
            return
        self.front._relays += 1
        self.counted = True
        transport.pause_reading()
        self.joining = asyncio.ensure_future(self._join())

    async def _join(self) -> None:
        loop = asyncio.get_running_loop()
        back = _Side()
        back.peer = self
        back.abort_on_hang_up = self.front.backend.context is not None
        backend = self.front.backend
        try:
            if backend.path is not None:
                await loop.create_unix_connection(lambda: back, backend.path)
            else:
                await loop.create_connection(
                    lambda: back,
                    "127.0.0.1",
                    backend.port or 0,
                    ssl=backend.context,
                    server_hostname="localhost",
                    ssl_handshake_timeout=10.0,
                )
        except (OSError, ssl.SSLError) as exc:
            log.error("tls front: backend unavailable: %s", exc)
            if self.transport is not None:
                self.transport.close()
            return
        self.peer = back
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.counted:
            self.front._relays -= 1
            self.counted = False
        super().connection_lost(exc)
