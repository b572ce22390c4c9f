"""TLS to the API is always verified; `ca_bundle` (or CONNECTLY_CA_BUNDLE) adds trust."""

from __future__ import annotations

import http.server
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from terraform_provider_connectly.plugin import certificate

from tfharness import connectly_config, connectly_terraform


@contextmanager
def https_front(target: str, cert: Path, key: Path) -> Iterator[str]:
    """An HTTPS server on 127.0.0.1 that forwards every request to ``target`` (the emulator)."""

    class Forward(http.server.BaseHTTPRequestHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            request = urllib.request.Request(
                target + self.path,
                data=body,
                method=self.command,
                headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    status, data, ctype = (
                        answer.status,
                        answer.read(),
                        answer.headers["Content-Type"],
                    )
            except urllib.error.HTTPError as err:
                status, data, ctype = err.code, err.read(), err.headers["Content-Type"]
            self.send_response(status)
            self.send_header("Content-Type", ctype or "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _forward

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


RESOURCE = """
resource "connectly_webhook" "m" {
  topic   = "messages"
  address = "https://example.com/m"
}
"""


def test_unknown_certificate_is_refused_and_ca_bundle_trusts_it(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    identity = certificate.make_identity()  # a self-signed certificate for localhost
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    cert.write_bytes(identity.cert_pem)
    key.write_bytes(identity.key_pem)
    with https_front(strict_emulator.url, cert, key) as url:
        tf = connectly_terraform(tmp_path, strict_emulator)
        tf.env["TF_VAR_base_url"] = url
        tf.write(connectly_config("biz_tls") + RESOURCE)
        refused = tf.apply(check=False)
        assert refused.code == 1
        text = " ".join(refused.output.split())
        assert "TLS certificate is not trusted (set ca_bundle to trust it)" in text
        assert strict_emulator.registrations() == []

        tf.write(connectly_config("biz_tls", f'ca_bundle = "{cert}"') + RESOURCE)
        tf.apply()
        assert len(strict_emulator.registrations()) == 1
        assert tf.plan_code().code == 0
        tf.destroy()
