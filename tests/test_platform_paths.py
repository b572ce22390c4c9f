"""The paths of macOS and Windows through the plugin layer, each run here with the facility
taken away from the provider's Python (tests/platform_site/sitecustomize.py): the way each
step goes, the handshake line, mutual TLS on every path (TCP and its inner hop included),
and no private key on any disk while the provider serves."""

from __future__ import annotations

import base64
import json
import re
import ssl
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from terraform_provider_connectly.plugin import certificate, tcp
from terraform_provider_connectly.plugin.server import COOKIE_KEY, COOKIE_VALUE
from terraform_provider_connectly.plugin.wire import (
    grpc_controller_pb2,
    grpc_controller_pb2_grpc,
    tfplugin6_pb2,
    tfplugin6_pb2_grpc,
)

from pluginproc import PROVIDER, channel, env_for, running_plugin, target

SITE = str(Path(__file__).resolve().parent / "platform_site")
PORTS = {"PLUGIN_MIN_PORT": "21000", "PLUGIN_MAX_PORT": "21999"}

# facilities taken away -> (key to OpenSSL, where the TLS front runs, what Terraform dials)
PATHS = {
    "": ("memfd", "child process", "unix"),  # Linux
    "memfd": ("pipes", "child process", "unix"),  # macOS
    "fork": ("memfd", "thread", "unix"),
    "af_unix": ("memfd", "thread", "tcp"),
    "dev_fd": ("memory", "child process", "unix"),
    "memfd,fork,af_unix": ("pipes", "thread", "tcp"),
    "memfd,fork,af_unix,dev_fd": ("memory", "thread", "tcp"),  # Windows
}


def without(facilities: str, **extra: str) -> dict[str, str]:
    """The environment that takes ``facilities`` away from the provider's Python."""
    return {
        "PYTHONPATH": SITE,
        "CONNECTLY_TEST_WITHOUT": facilities,
        "TF_LOG_PROVIDER": "DEBUG",
        **PORTS,
        **extra,
    }


def schema(fields: list[str], client: certificate.Identity) -> tfplugin6_pb2.GetProviderSchema:
    with channel(fields, client) as ch:
        stub = tfplugin6_pb2_grpc.ProviderStub(ch)
        return stub.GetProviderSchema(tfplugin6_pb2.GetProviderSchema.Request(), timeout=10)


def refused_over_grpc(target: str, creds: grpc.ChannelCredentials | None) -> bool:
    options = [("grpc.ssl_target_name_override", "localhost")]
    with (
        grpc.secure_channel(target, creds, options=options)
        if creds is not None
        else grpc.insecure_channel(target)
    ) as ch:
        stub = tfplugin6_pb2_grpc.ProviderStub(ch)
        try:
            stub.GetProviderSchema(tfplugin6_pb2.GetProviderSchema.Request(), timeout=5)
        except grpc.RpcError:
            return True
    return False


def h2_answer_without_certificate(fields: list[str]) -> bytes:
    """What a TLS client presenting no certificate gets back for an HTTP/2 preface."""
    import socket

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if fields[2] == "unix":
        raw = socket.socket(socket.AF_UNIX)
        raw.connect(fields[3])
    else:
        host, port = fields[3].rsplit(":", 1)
        raw = socket.create_connection((host, int(port)))
    answer = b""
    with raw:
        raw.settimeout(5)
        try:
            with ctx.wrap_socket(raw) as tls:
                tls.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                answer = tls.recv(1024)
        except (ssl.SSLError, ConnectionError):
            pass
    return answer


def listening_tcp_ports(pid: int) -> set[int]:
    """The loopback TCP ports the process ``pid`` listens on (from /proc: the test's view)."""
    inodes = set()
    for link in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = link.readlink().as_posix()
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):  # grpcio listens on IPv6 sockets, v4-mapped
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] == "0A" and cols[9] in inodes:  # LISTEN
                ports.add(int(cols[1].rsplit(":", 1)[1], 16))
    return ports


def shut_down(proc: subprocess.Popen, fields: list[str], client: certificate.Identity) -> str:
    """GRPCController.Shutdown as Terraform sends it; the provider's stderr once it exited."""
    with channel(fields, client) as ch:
        grpc_controller_pb2_grpc.GRPCControllerStub(ch).Shutdown(
            grpc_controller_pb2.Empty(), timeout=5
        )
    proc.wait(timeout=3)
    assert proc.returncode == 0
    assert proc.stderr is not None
    return proc.stderr.read().decode()


@pytest.mark.parametrize("facilities", list(PATHS), ids=lambda f: f"without[{f or 'nothing'}]")
def test_each_path_serves_terraform_only(tmp_path: Path, facilities: str) -> None:
    key_way, front, listener = PATHS[facilities]
    terraform = certificate.make_identity()
    stranger = certificate.make_identity()
    with running_plugin(tmp_path, terraform, env=without(facilities)) as (proc, fields):
        assert fields[:3] == ["1", "6", listener] and fields[4] == "grpc"
        if listener == "tcp":
            host, port = fields[3].rsplit(":", 1)
            assert host == "127.0.0.1"
            assert 21000 <= int(port) <= 21999
        assert "connectly_webhook" in schema(fields, terraform).resource_schemas

        # Refused on every path: another certificate, no certificate, plaintext.
        with pytest.raises(grpc.RpcError) as refused:
            schema(fields, stranger)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert h2_answer_without_certificate(fields) == b""
        assert refused_over_grpc(target(fields), None)

        if listener == "tcp":
            # grpcio's own loopback port is no way in either: plaintext and a certificate
            # other than the front's inner one are refused there.
            inner = listening_tcp_ports(proc.pid) - {int(fields[3].rsplit(":", 1)[1])}
            assert len(inner) == 1, inner
            inner_target = f"ipv4:127.0.0.1:{inner.pop()}"
            assert refused_over_grpc(inner_target, None)
            assert refused_over_grpc(
                inner_target,
                grpc.ssl_channel_credentials(
                    root_certificates=None,
                    private_key=stranger.key_pem,
                    certificate_chain=stranger.cert_pem,
                ),
            )
        err = shut_down(proc, fields, terraform)
    described = f"key to OpenSSL via {key_way}; TLS front on a {front}; listening on {listener}"
    # (grpcio's own lines about refused handshakes on its inner port are not JSON)
    messages = [json.loads(line)["@message"] for line in err.splitlines() if line[:1] == "{"]
    assert described in messages
    assert "Traceback" not in err
    assert not list((tmp_path / "tmp").glob("tfplugin-*")), "socket folder left behind"


def test_no_free_port_in_the_range_fails_in_one_line(tmp_path: Path) -> None:
    holder = tcp.listen({})  # the one port of the range is taken
    port = str(holder.getsockname()[1])
    try:
        env = env_for(
            tmp_path,
            **{COOKIE_KEY: COOKIE_VALUE, "PLUGIN_PROTOCOL_VERSIONS": "6"},
            **without("af_unix", PLUGIN_MIN_PORT=port, PLUGIN_MAX_PORT=port),
            PLUGIN_CLIENT_CERT=certificate.make_identity().cert_pem.decode(),
        )
        proc = subprocess.run(PROVIDER, env=env, capture_output=True, text=True, timeout=30)
    finally:
        holder.close()
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().splitlines()[-1] == (
        "provider.connectly: could not start serving: no free TCP port on 127.0.0.1 in "
        f"PLUGIN_MIN_PORT..PLUGIN_MAX_PORT ({port}..{port})"
    )


def test_port_range_is_read_as_go_plugin_sets_it() -> None:
    assert list(tcp.candidate_ports({})) == [0]
    ports = list(tcp.candidate_ports({"PLUGIN_MIN_PORT": "10", "PLUGIN_MAX_PORT": "14"}))
    assert sorted(ports) == [10, 11, 12, 13, 14]  # each once, from a random start
    start = ports[0] - 10  # upwards from there, wrapping round
    assert ports == [10 + (start + i) % 5 for i in range(5)]
    for low, high in (("x", "3"), ("30", "20"), ("0", "5"), ("1", "70000")):
        with pytest.raises(tcp.PortRangeError):
            list(tcp.candidate_ports({"PLUGIN_MIN_PORT": low, "PLUGIN_MAX_PORT": high}))


def test_sitecustomize_takes_the_facilities_away_in_plugin_processes_only() -> None:
    probe = (
        "import os, socket; a, b = socket.socketpair(); "
        "print(hasattr(os, 'memfd_create'), hasattr(os, 'fork'), hasattr(socket, 'AF_UNIX'), "
        "os.path.isdir('/dev/fd'), a.family == socket.AF_INET, "
        "a.family == socket.AF_INET and a.getpeername() == b.getsockname() "
        "and a.getpeername()[0] == '127.0.0.1')"
    )
    env = {"PYTHONPATH": SITE, "CONNECTLY_TEST_WITHOUT": "memfd,fork,af_unix,dev_fd"}
    plugin = subprocess.run(
        [sys.executable, "-c", probe],
        env={**env, COOKIE_KEY: COOKIE_VALUE},
        capture_output=True,
        text=True,
        check=True,
    )
    assert plugin.stdout.split() == ["False", "False", "False", "False", "True", "True"]
    other = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert other.stdout.split() == ["True", "True", "True", "True", "False", "False"]


# -- no private key on disk --------------------------------------------------------------------


def files_holding_key(roots: list[Path], since: float, cert_der: bytes) -> list[Path]:
    """Regular files under ``roots`` changed since ``since`` that hold the private key of
    ``cert_der``'s public key: as PEM (any PEM private key whose public key is the
    certificate's), or as DER (which carries the public point next to the private value)."""
    public = x509.load_der_x509_certificate(cert_der).public_key()
    wanted = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    point = public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    pem = re.compile(rb"-----BEGIN ([A-Z ]*)PRIVATE KEY-----.*?-----END \1PRIVATE KEY-----", re.S)
    found = []
    for root in roots:
        for path in root.rglob("*") if root.is_dir() else []:
            try:
                st = path.lstat()
                if not path.is_file() or path.is_symlink() or max(st.st_mtime, st.st_ctime) < since:
                    continue
                data = path.read_bytes()[: 4 << 20]
            except OSError:
                continue
            if point in data:
                found.append(path)
                continue
            for block in pem.finditer(data):
                try:
                    key = serialization.load_pem_private_key(block.group(0), None)
                except (ValueError, TypeError):
                    continue
                if (
                    key.public_key().public_bytes(
                        serialization.Encoding.DER,
                        serialization.PublicFormat.SubjectPublicKeyInfo,
                    )
                    == wanted
                ):
                    found.append(path)
    return found


def process_tree(pid: int) -> list[int]:
    kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *(int(k) for k in kids)]


def test_the_key_scan_finds_a_key_file(tmp_path: Path) -> None:
    """The scan below would see a key written to disk, as PEM or as DER."""
    since = time.time() - 1
    identity = certificate.make_identity()
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "k.pem").write_bytes(b"junk\n" + identity.key_pem)
    der = serialization.load_pem_private_key(identity.key_pem, None).private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (tmp_path / "k.der").write_bytes(der)
    (tmp_path / "other.pem").write_bytes(certificate.make_identity().key_pem)
    found = files_holding_key([tmp_path], since, identity.cert_der)
    assert sorted(p.name for p in found) == ["k.der", "k.pem"]


@pytest.mark.parametrize("facilities", ["memfd", "memfd,fork,af_unix,dev_fd"])
def test_no_file_holds_the_private_key_while_serving(tmp_path: Path, facilities: str) -> None:
    since = time.time() - 1
    opened = tmp_path / "opened-for-writing.log"
    opened.touch()
    # The write log is live: a plugin Python that writes a file shows up in it.
    subprocess.run(
        [sys.executable, "-c", f"open({str(tmp_path / 'probe')!r}, 'w')"],
        env={**without(""), COOKIE_KEY: COOKIE_VALUE, "CONNECTLY_TEST_OPEN_LOG": str(opened)},
        check=True,
    )
    assert opened.read_text() == f"{tmp_path / 'probe'}\n"
    opened.write_text("")

    terraform = certificate.make_identity()
    env = without(facilities, CONNECTLY_TEST_OPEN_LOG=str(opened), PYTHONDONTWRITEBYTECODE="1")
    with running_plugin(tmp_path, terraform, env=env) as (proc, fields):
        assert "connectly_webhook" in schema(fields, terraform).resource_schemas
        server_der = base64.b64decode(fields[5] + "=" * (-len(fields[5]) % 4))
        # What the provider and its TLS front hold open: pipes, sockets, event fds, devices;
        # no regular file, no memory file either (there is no memfd on this path).
        for pid in process_tree(proc.pid):
            for link in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    target = link.readlink().as_posix()
                except FileNotFoundError:
                    continue
                if target == str(opened):  # the test's own write log
                    continue
                assert re.match(r"(pipe|socket|anon_inode):|/dev/(null|u?random)$", target), (
                    pid,
                    link.name,
                    target,
                )
            maps = Path(f"/proc/{pid}/maps").read_text()
            assert "(deleted)" not in maps and "memfd:" not in maps
        home, cwd_tmp = tmp_path / "home", tmp_path / "tmp"
        roots = [Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), home, cwd_tmp, Path.cwd()]
        assert files_holding_key(roots, since, server_der) == []
        shut_down(proc, fields, terraform)
    # Python in the provider (and in its TLS front) opened no file for writing but the TLS
    # front's /dev/null (its stdout) and, on the Unix socket path, the file with which
    # tempfile checks once that TMPDIR is writable (it writes b"blat" and removes it).
    for path in map(Path, opened.read_text().splitlines()):
        probe = path.parent == tmp_path / "tmp" and re.fullmatch(r"[a-z0-9_]{8}", path.name)
        assert path == Path("/dev/null") or (probe and not path.exists()), path
