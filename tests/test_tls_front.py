"""The TLS front on a thread: where the provider cannot fork (grpcio already loaded, threads
running, or no process to spare), the same front relays in-process."""

from __future__ import annotations

import base64
import os
import socket
import ssl
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc  # noqa: F401  (loaded, as in a process where forking is unsafe)
import pytest

from terraform_provider_connectly.plugin import certificate, platform_paths, tlschild
from terraform_provider_connectly.plugin.tlschild import Backend


def _echo_backend(path: str) -> socket.socket:
    """A plaintext backend that sends back what it gets, upper-cased, per connection."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(65536):
                    conn.sendall(data.upper())

    threading.Thread(target=serve, daemon=True).start()
    return server


@contextmanager
def _front_before_echo(
    tmp: Path, terraform: certificate.Identity
) -> Iterator[tuple[tlschild.Front, str]]:
    """A TLS front for ``terraform`` before an echo backend: the front and its socket path."""
    announced, backend = str(tmp / "plugin.sock"), str(tmp / "grpc.sock")
    server = _echo_backend(backend)
    front = tlschild.start(
        tlschild.Listen(path=announced),
        Backend(path=backend),
        terraform.cert_pem.decode(),
        lambda: None,
        platform_paths.key_way(),
    )
    try:
        yield front, announced
    finally:
        front.stop()
        server.close()


def _client(field: str, identity: certificate.Identity, tmp: Path) -> ssl.SSLContext:
    server_der = base64.b64decode(field + "=" * (-len(field) % 4))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=ssl.DER_cert_to_PEM_cert(server_der))
    pair = tmp / f"client-{id(identity)}.pem"
    pair.write_bytes(identity.key_pem + identity.cert_pem)
    ctx.load_cert_chain(str(pair))
    ctx.set_alpn_protocols(["h2"])
    return ctx


def _round_trip(announced: str, ctx: ssl.SSLContext, payload: bytes) -> bytes:
    """What comes back for ``payload``; short (or empty) if the front hangs up."""
    got = b""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as raw:
        raw.settimeout(10)
        raw.connect(announced)
        try:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                assert tls.selected_alpn_protocol() == "h2"
                tls.sendall(payload)
                while len(got) < len(payload):
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    got += chunk
        except (ssl.SSLError, ConnectionError):
            pass
    return got


def test_thread_front_relays_for_terraform_only(tmp_path: Path) -> None:
    assert "grpc" in sys.modules  # as in any process that already loaded grpcio
    terraform = certificate.make_identity()
    with _front_before_echo(tmp_path, terraform) as (front, announced):
        assert isinstance(front, tlschild._ThreadFront)
        field = front.handshake_field()
        big = os.urandom(300_000)  # many TLS records each way
        assert _round_trip(announced, _client(field, terraform, tmp_path), big) == big.upper()
        stranger = certificate.make_identity()
        assert _round_trip(announced, _client(field, stranger, tmp_path), b"hello") == b""


def test_failed_fork_falls_back_to_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fork() -> int:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.delitem(sys.modules, "grpc", raising=False)
    monkeypatch.setattr(os, "fork", no_fork)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    terraform = certificate.make_identity()
    with _front_before_echo(tmp_path, terraform) as (front, announced):
        assert isinstance(front, tlschild._ThreadFront)
        ctx = _client(front.handshake_field(), terraform, tmp_path)
        assert _round_trip(announced, ctx, b"ping") == b"PING"
