"""go-plugin's AutoMTLS, with the client check done where it can actually be done.

Terraform hands us its client certificate in ``PLUGIN_CLIENT_CERT`` and trusts only the server
certificate we announce in the handshake line. Terraform's client key is ECDSA P-521, which
grpcio's TLS stack (BoringSSL) will not accept from a client: with ``require_client_auth`` set,
Terraform sends no certificate and every call fails; without it, any local process could call
the provider. So grpcio listens in plaintext on a socket in our private folder, and this module
puts a TLS front (Python's ``ssl``, OpenSSL, which accepts P-521) on the announced socket: it
requires the client certificate, accepts exactly the one Terraform gave, negotiates ALPN ``h2``
as grpc-go demands, and relays the bytes.

Our own key is made in memory and handed to OpenSSL through an anonymous memory file
(``memfd``): it never touches a disk.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import logging
import os
import ssl
import threading
from dataclasses import dataclass

log = logging.getLogger("plugin.mtls")


@dataclass(frozen=True)
class Identity:
    cert_der: bytes
    cert_pem: bytes
    key_pem: bytes

    def handshake_field(self) -> str:
        """The certificate as go-plugin reads it: DER in base64 without padding."""
        return base64.b64encode(self.cert_der).decode().rstrip("=")


def make_identity() -> Identity:
    """A fresh P-256 key and self-signed certificate, as go-plugin's client expects it:
    SAN DNS ``localhost``, server and client auth, valid from a little before now (UTC)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HashiCorp"),
            x509.NameAttribute(NameOID.COMMON_NAME, "localhost"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(seconds=30))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return Identity(
        cert_der=cert.public_bytes(serialization.Encoding.DER),
        cert_pem=cert.public_bytes(serialization.Encoding.PEM),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def server_context(identity: Identity, client_cert_pem: str) -> ssl.SSLContext:
    """A TLS server context that requires exactly ``client_cert_pem`` from the client."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cadata=client_cert_pem)
    ctx.set_alpn_protocols(["h2"])
    fd = os.memfd_create("plugin-identity", os.MFD_CLOEXEC)
    try:
        os.write(fd, identity.key_pem + identity.cert_pem)
        ctx.load_cert_chain(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)
    return ctx


class TLSFront:
    """Accepts TLS connections on ``listen_path`` and relays them to ``backend_path``."""

    def __init__(
        self, listen_path: str, backend_path: str, context: ssl.SSLContext, client_cert_pem: str
    ) -> None:
        self.listen_path = listen_path
        self.backend_path = backend_path
        self.context = context
        self.expected_der = ssl.PEM_cert_to_DER_cert(client_cert_pem.strip())
        self._loop = asyncio.new_event_loop()
        self._loop.set_exception_handler(self._on_loop_error)
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tls-front", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error

    def stop(self, drain_seconds: float = 0.0) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.call_later, drain_seconds, self._loop.stop)
        self._thread.join(timeout=1.0)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(
                asyncio.start_unix_server(
                    self._handle,
                    path=self.listen_path,
                    ssl=self.context,
                    ssl_handshake_timeout=10.0,
                    limit=1 << 20,
                )
            )
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    def _on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        # Refused handshakes land here; they are expected, not crashes.
        log.debug("tls front: %s", context.get("message") or context.get("exception"))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sslobj = writer.get_extra_info("ssl_object")
        peer = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
        if peer != self.expected_der:
            log.warning("tls front: refused a client that did not present Terraform's certificate")
            writer.close()
            return
        try:
            back_reader, back_writer = await asyncio.open_unix_connection(self.backend_path)
        except OSError as exc:
            log.error("tls front: backend unavailable: %s", exc)
            writer.close()
            return
        await asyncio.gather(_pump(reader, back_writer), _pump(back_reader, writer))


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(1 << 16)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            writer.close()
