"""go-plugin's handshake, AutoMTLS and lifecycle, checked from outside the process."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import time
from pathlib import Path

import grpc
import pytest

from terraform_provider_connectly.plugin import certificate
from terraform_provider_connectly.plugin.server import COOKIE_KEY, COOKIE_VALUE
from terraform_provider_connectly.plugin.wire import (
    grpc_controller_pb2,
    grpc_controller_pb2_grpc,
    tfplugin6_pb2,
    tfplugin6_pb2_grpc,
)

from pluginproc import PROVIDER, channel, env_for, running_plugin


def test_without_cookie_explains_and_exits_1(tmp_path: Path) -> None:
    proc = subprocess.run(PROVIDER, env=env_for(tmp_path), capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "This binary is a plugin. These are not meant to be executed directly." in proc.stderr
    assert "terraform-provider-connectly install" in proc.stderr


def test_protocol_5_only_is_refused_clearly(tmp_path: Path) -> None:
    env = env_for(tmp_path, **{COOKIE_KEY: COOKIE_VALUE, "PLUGIN_PROTOCOL_VERSIONS": "5"})
    proc = subprocess.run(PROVIDER, env=env, capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "speaks Terraform plugin protocol 6 only" in proc.stderr
    assert "offered protocol 5" in proc.stderr


def test_mutual_tls_accepts_terraform_and_refuses_others(tmp_path: Path) -> None:
    terraform = certificate.make_identity()
    with running_plugin(tmp_path, terraform) as (proc, fields):
        assert fields[:3] == ["1", "6", "unix"] and fields[4] == "grpc"
        assert "=" not in fields[5] and len(fields[5]) > 50  # raw base64 DER, no padding
        folder = Path(fields[3]).parent
        assert folder.stat().st_mode & 0o777 == 0o700

        # The client Terraform introduced itself as gets through.
        with channel(fields, terraform) as ch:
            stub = tfplugin6_pb2_grpc.ProviderStub(ch)
            schema = stub.GetProviderSchema(tfplugin6_pb2.GetProviderSchema.Request(), timeout=10)
            assert "connectly_webhook" in schema.resource_schemas
            assert schema.server_capabilities.plan_destroy
            assert not schema.HasField("provider_meta")

        # Another certificate, and no certificate, are refused.
        stranger = certificate.make_identity()
        with channel(fields, stranger) as ch:
            stub = tfplugin6_pb2_grpc.ProviderStub(ch)
            with pytest.raises(grpc.RpcError) as refused:
                stub.GetProviderSchema(tfplugin6_pb2.GetProviderSchema.Request(), timeout=5)
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        import socket

        with socket.socket(socket.AF_UNIX) as raw:
            raw.connect(fields[3])
            raw.settimeout(5)
            answer = b""
            try:
                with ctx.wrap_socket(raw) as tls:
                    tls.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                    answer = tls.recv(1024)
            except (ssl.SSLError, ConnectionError):
                pass
            assert answer == b"", "a client without a certificate got an HTTP/2 answer"
        # A plaintext client gets nowhere either.
        with grpc.insecure_channel("unix:" + fields[3]) as ch:
            stub = tfplugin6_pb2_grpc.ProviderStub(ch)
            with pytest.raises(grpc.RpcError):
                stub.GetProviderSchema(tfplugin6_pb2.GetProviderSchema.Request(), timeout=5)

        # No key material anywhere on disk: not next to the socket, not in HOME or TMPDIR.
        for root in (folder, tmp_path / "home", tmp_path / "tmp"):
            for path in root.rglob("*"):
                if path.is_file() and not path.is_socket():
                    assert b"PRIVATE KEY" not in path.read_bytes(), path

        # SIGINT is ignored (Ctrl-C reaches the whole process group; Terraform decides).
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
        assert proc.poll() is None

        # Shutdown through the controller: exit well within go-plugin's 2 s, folder removed.
        with channel(fields, terraform) as ch:
            grpc_controller_pb2_grpc.GRPCControllerStub(ch).Shutdown(
                grpc_controller_pb2.Empty(), timeout=5
            )
        proc.wait(timeout=2)
        assert proc.returncode == 0
        assert not folder.exists()
        assert proc.stdout is not None and proc.stdout.read() == b""  # nothing after the line


def test_stop_provider_does_not_exit(tmp_path: Path) -> None:
    with running_plugin(tmp_path, None) as (proc, fields):
        assert fields[5] == ""  # no TLS without PLUGIN_CLIENT_CERT
        with channel(fields, None) as ch:
            stub = tfplugin6_pb2_grpc.ProviderStub(ch)
            answer = stub.StopProvider(tfplugin6_pb2.StopProvider.Request(), timeout=5)
            assert answer.Error == ""
            # Still serving after StopProvider.
            stub.GetProviderSchema(tfplugin6_pb2.GetProviderSchema.Request(), timeout=5)
            assert proc.poll() is None


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] not in "ZX"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_tls_front_child_holds_no_stdout_and_dies_with_the_provider(tmp_path: Path) -> None:
    terraform = certificate.make_identity()
    with running_plugin(tmp_path, terraform) as (proc, fields):
        children = _children(proc.pid)
        assert len(children) == 1, children  # the TLS front, forked at start
        child = children[0]
        assert Path(f"/proc/{child}/fd/1").resolve() == Path("/dev/null")
        with channel(fields, terraform) as ch:
            stub = tfplugin6_pb2_grpc.ProviderStub(ch)
            stub.GetProviderSchema(tfplugin6_pb2.GetProviderSchema.Request(), timeout=10)
        proc.kill()  # no Shutdown, no cleanup: the child must notice by itself
        proc.wait()
        deadline = time.monotonic() + 3
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _alive(child), "the TLS front outlived the provider"


def test_shutdown_reaps_the_tls_front(tmp_path: Path) -> None:
    terraform = certificate.make_identity()
    with running_plugin(tmp_path, terraform) as (proc, fields):
        (child,) = _children(proc.pid)
        with channel(fields, terraform) as ch:
            grpc_controller_pb2_grpc.GRPCControllerStub(ch).Shutdown(
                grpc_controller_pb2.Empty(), timeout=5
            )
        proc.wait(timeout=2)
        assert not _alive(child)


NOT_A_CERTIFICATE = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"


def test_unusable_client_certificate_fails_in_one_line(tmp_path: Path) -> None:
    env = env_for(
        tmp_path,
        **{
            COOKIE_KEY: COOKIE_VALUE,
            "PLUGIN_PROTOCOL_VERSIONS": "6",
            "PLUGIN_CLIENT_CERT": NOT_A_CERTIFICATE,
        },
    )
    proc = subprocess.run(PROVIDER, env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert proc.stdout == ""  # no handshake line
    assert "could not start serving: the TLS front could not start" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not list((tmp_path / "tmp").glob("tfplugin-*")), "socket folder left behind"


def test_ctrl_c_to_the_process_group_reaches_neither_process(tmp_path: Path) -> None:
    terraform = certificate.make_identity()
    with running_plugin(tmp_path, terraform, new_session=True) as (proc, fields):
        (child,) = _children(proc.pid)
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        time.sleep(0.3)
        assert proc.poll() is None and _alive(child)
        with channel(fields, terraform) as ch:
            stub = tfplugin6_pb2_grpc.ProviderStub(ch)
            stub.GetProviderSchema(tfplugin6_pb2.GetProviderSchema.Request(), timeout=10)


def test_a_dead_tls_front_stops_the_provider_with_a_reason(tmp_path: Path) -> None:
    terraform = certificate.make_identity()
    with running_plugin(tmp_path, terraform) as (proc, _fields):
        (child,) = _children(proc.pid)
        os.kill(child, signal.SIGKILL)
        proc.wait(timeout=5)  # no call could reach it any more: it says so and goes
        assert proc.returncode == 1
        assert proc.stderr is not None
        err = proc.stderr.read().decode()
        assert "the TLS front process stopped (killed by signal 9)" in err
        assert "Traceback" not in err
