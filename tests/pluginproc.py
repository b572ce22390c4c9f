"""Starting the provider process the way Terraform does, for tests that talk gRPC to it."""

from __future__ import annotations

import base64
import os
import select
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import grpc

from terraform_provider_connectly.plugin import certificate
from terraform_provider_connectly.plugin.server import COOKIE_KEY, COOKIE_VALUE

PROVIDER = [sys.executable, "-m", "terraform_provider_connectly"]


def env_for(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PLUGIN_"))}
    env.update(HOME=str(tmp / "home"), TMPDIR=str(tmp / "tmp"), **extra)
    (tmp / "home").mkdir(exist_ok=True)
    (tmp / "tmp").mkdir(exist_ok=True)
    return env


@contextmanager
def running_plugin(
    tmp: Path,
    client: certificate.Identity | None,
    new_session: bool = False,
    env: dict[str, str] | None = None,
    command: list[str] | None = None,
) -> Iterator[tuple[subprocess.Popen, list[str]]]:
    """The provider (``command``, else this venv's) started as Terraform starts it (``env``
    added to its environment), and the fields of its handshake line."""
    extra = {COOKIE_KEY: COOKIE_VALUE, "PLUGIN_PROTOCOL_VERSIONS": "5,6", **(env or {})}
    if client is not None:
        extra["PLUGIN_CLIENT_CERT"] = client.cert_pem.decode()
    proc = subprocess.Popen(
        command or PROVIDER,
        env=env_for(tmp, **extra),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=new_session,  # its own process group, as under Terraform
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        assert ready, "no handshake line within 20 s"
        line = proc.stdout.readline().decode()
        assert line.endswith("\n")
        yield proc, line.rstrip("\n").split("|")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def target(fields: list[str]) -> str:
    """The gRPC target of a handshake line: ``unix|PATH`` or ``tcp|HOST:PORT``."""
    return ("unix:" if fields[2] == "unix" else "ipv4:") + fields[3]


def channel(fields: list[str], client: certificate.Identity | None) -> grpc.Channel:
    if client is None:
        return grpc.insecure_channel(target(fields))
    server_der = base64.b64decode(fields[5] + "=" * (-len(fields[5]) % 4))
    creds = grpc.ssl_channel_credentials(
        root_certificates=ssl.DER_cert_to_PEM_cert(server_der).encode(),
        private_key=client.key_pem,
        certificate_chain=client.cert_pem,
    )
    return grpc.secure_channel(
        target(fields), creds, options=[("grpc.ssl_target_name_override", "localhost")]
    )


def read_reattach(stdout: IO[str], timeout: float = 30.0) -> tuple[str | None, str]:
    """The ``TF_REATTACH_PROVIDERS`` value a ``serve --debug`` process prints (None if it
    printed none within ``timeout``), and everything it printed up to there. Read on a
    thread, so that a silent server fails its caller instead of hanging it."""
    from terraform_provider_connectly.plugin import debug

    prefix = f"\t{debug.ENV_NAME}='"
    banner: list[str] = []
    found: list[str] = []

    def read() -> None:
        for line in stdout:
            banner.append(line)
            if line.startswith(prefix):
                found.append(line[len(prefix) :].rstrip("\n").removesuffix("'"))
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    return (found[0] if found else None), "".join(banner)
