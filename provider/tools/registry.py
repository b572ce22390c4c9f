"""A provider registry (registry protocol v1) serving one release folder over HTTPS on
127.0.0.1, so that a plain ``terraform init`` installs a release exactly as it would from
the Terraform Registry or a private one: service discovery, ``versions``, ``download`` with
the SHA256SUMS, its signature and the public key, and the files themselves.

Used by the release smoke test (tools/smoke.py) and the tests. The certificate is a fresh
self-signed one for ``localhost`` and 127.0.0.1; Terraform trusts it through
``SSL_CERT_FILE``.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from . import artifacts

NAMESPACE = "connectly"
TYPE = "connectly"


@dataclass(frozen=True)
class Release:
    """What the registry offers: one version's files in ``folder``, signed by ``key``."""

    folder: Path
    version: str
    key_id: str  # the signing key's long id (16 hex digits)
    public_key: str  # ASCII-armoured public key

    def platforms(self) -> list[tuple[str, str]]:
        prefix = f"{artifacts.PROJECT}_{self.version}_"
        out = []
        for path in sorted(self.folder.glob(prefix + "*.zip")):
            goos, goarch = path.name[len(prefix) : -len(".zip")].split("_")
            out.append((goos, goarch))
        return out


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A P-256 certificate for localhost and 127.0.0.1 and its key, written into ``folder``
    (the key with mode 0600); returns (certificate, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "registry-cert.pem", folder / "registry-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class Registry:
    """The HTTPS registry; ``start()`` listens on 127.0.0.1 on a free port."""

    def __init__(self, release: Release, tls_folder: Path) -> None:
        self.release = release
        self.cert_path, key_path = self_signed_certificate(tls_folder)
        self.requests: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                registry.requests.append(self.path)
                status, body, kind = registry.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_path, key_path)
        self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"localhost:{self._server.server_address[1]}"

    @property
    def source(self) -> str:
        return f"{self.host}/{NAMESPACE}/{TYPE}"

    def start(self) -> Registry:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, path: str) -> tuple[int, bytes, str]:
        rel = self.release
        base = f"/v1/providers/{NAMESPACE}/{TYPE}/"
        if path == "/.well-known/terraform.json":
            return _json({"providers.v1": "/v1/providers/"})
        if path == base + "versions":
            platforms = [{"os": o, "arch": a} for o, a in rel.platforms()]
            return _json(
                {
                    "versions": [
                        {"version": rel.version, "protocols": ["6.0"], "platforms": platforms}
                    ]
                }
            )
        prefix = f"{base}{rel.version}/download/"
        if path.startswith(prefix):
            goos, _, goarch = path[len(prefix) :].partition("/")
            if (goos, goarch) not in rel.platforms():
                return _json({"errors": ["no such platform"]}, 404)
            filename = artifacts.zip_name(rel.version, goos, goarch)
            sums = artifacts.sums_name(rel.version)
            files = f"https://{self.host}/files/"
            return _json(
                {
                    "protocols": ["6.0"],
                    "os": goos,
                    "arch": goarch,
                    "filename": filename,
                    "download_url": files + filename,
                    "shasums_url": files + sums,
                    "shasums_signature_url": files + sums + ".sig",
                    "shasum": artifacts.sha256(rel.folder / filename),
                    "signing_keys": {
                        "gpg_public_keys": [{"key_id": rel.key_id, "ascii_armor": rel.public_key}]
                    },
                }
            )
        if path.startswith("/files/"):
            name = path[len("/files/") :]
            target = rel.folder / name
            if "/" not in name and target.is_file():
                return 200, target.read_bytes(), "application/octet-stream"
        return _json({"errors": ["not found"]}, 404)


def _json(data: object, status: int = 200) -> tuple[int, bytes, str]:
    return status, json.dumps(data).encode(), "application/json"
