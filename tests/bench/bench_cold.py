"""Cold start of a plugin process, measured the way Terraform starts one.

Terraform (go-plugin) executes the plugin with a magic cookie, the protocol versions and, for
AutoMTLS, its client certificate in ``PLUGIN_CLIENT_CERT``; it reads one handshake line
``1|6|unix|PATH|grpc|CERT`` from the plugin's stdout, dials ``PATH`` (over TLS with the
announced server certificate when CERT is set) and calls ``GetProviderSchema``. This module
does exactly that from Python and times two instants from the ``exec``: the handshake line
read, and the first ``GetProviderSchema`` answer received.
"""

from __future__ import annotations

import base64
import os
import select
import ssl
import subprocess
import sys
import time
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
HANDSHAKE_TIMEOUT = 30.0

# The floor: a bare grpcio server that answers one call, started the same way as the provider.
FLOOR_SCRIPT = """\
import os
import shutil
import sys
import tempfile
import threading
from concurrent import futures

import grpc

answered = threading.Event()


def get_provider_schema(request, context):
    answered.set()
    return b""


def get_metadata(request, context):
    return b""


folder = tempfile.mkdtemp(prefix="bench-floor-")
path = os.path.join(folder, "plugin.sock")
server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
    "tfplugin6.Provider",
    {"GetProviderSchema": grpc.unary_unary_rpc_method_handler(get_provider_schema),
     "GetMetadata": grpc.unary_unary_rpc_method_handler(get_metadata)}),))
server.add_insecure_port("unix:" + path)
server.start()
sys.stdout.write(f"1|6|unix|{path}|grpc|\\n")
sys.stdout.flush()
answered.wait(30)
if os.environ.get("BENCH_FLOOR_SERVE"):
    threading.Event().wait(600)  # serving calls until killed
server.stop(grace=0.2).wait(1)
shutil.rmtree(folder, ignore_errors=True)
"""


def write_floor_script(folder: Path) -> Path:
    path = folder / "bare-grpc-plugin"
    path.write_text(f"#!{sys.executable}\n" + FLOOR_SCRIPT)
    path.chmod(0o755)
    return path


@dataclass
class ColdSample:
    handshake: float  # seconds from exec to the handshake line
    first_call: float  # seconds from exec to the first GetProviderSchema answer
    exit: float  # seconds from the last answer (Shutdown, or the one call) to the process exit


class ColdStart:
    """Starts plugin executables and times them; grpc and the stubs are loaded beforehand so
    only the plugin's own work is on the clock."""

    def __init__(self, tmp: Path) -> None:
        import grpc

        from terraform_provider_connectly.plugin import certificate
        from terraform_provider_connectly.plugin.wire import (
            grpc_controller_pb2,
            grpc_controller_pb2_grpc,
            tfplugin6_pb2,
            tfplugin6_pb2_grpc,
        )

        self.grpc: Any = grpc
        self.tfplugin6_pb2: Any = tfplugin6_pb2
        self.tfplugin6_pb2_grpc: Any = tfplugin6_pb2_grpc
        self.controller_pb2: Any = grpc_controller_pb2
        self.controller_pb2_grpc: Any = grpc_controller_pb2_grpc
        self.client = certificate.make_identity()
        self.tmp = tmp
        self.socket_dir = tmp / "sockets"
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.stderr_path = tmp / "plugin-stderr.log"

    def _env(self, mutual_tls: bool) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PLUGIN_"))}
        env.update(
            {
                COOKIE_KEY: COOKIE_VALUE,
                "PLUGIN_PROTOCOL_VERSIONS": "6",
                "TMPDIR": str(self.socket_dir),
            }
        )
        if mutual_tls:
            env["PLUGIN_CLIENT_CERT"] = self.client.cert_pem.decode()
        return env

    def _channel(self, fields: list[str]) -> Any:
        grpc = self.grpc
        target = "unix:" + fields[3]
        if not fields[5]:
            return grpc.insecure_channel(target)
        server_der = base64.b64decode(fields[5] + "=" * (-len(fields[5]) % 4))
        creds = grpc.ssl_channel_credentials(
            root_certificates=ssl.DER_cert_to_PEM_cert(server_der).encode(),
            private_key=self.client.key_pem,
            certificate_chain=self.client.cert_pem,
        )
        return grpc.secure_channel(
            target, creds, options=[("grpc.ssl_target_name_override", "localhost")]
        )

    def launch(
        self, executable: Path, env: dict[str, str]
    ) -> tuple[subprocess.Popen[bytes], list[str], float]:
        """Starts ``executable`` as go-plugin does and reads its handshake line: the process,
        the line's fields, and when the exec happened (``time.perf_counter``)."""
        with self.stderr_path.open("ab") as err:
            start = time.perf_counter()
            proc = subprocess.Popen(
                [str(executable)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
            )
        try:
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], HANDSHAKE_TIMEOUT)
            if not ready:
                raise RuntimeError(f"{executable}: no handshake line in {HANDSHAKE_TIMEOUT} s")
            line = proc.stdout.readline().decode()
            fields = line.rstrip("\n").split("|")
            if len(fields) != 6 or fields[:3] != ["1", "6", "unix"]:
                raise RuntimeError(f"{executable}: unexpected handshake line {line!r}")
            if "PLUGIN_CLIENT_CERT" in env and not fields[5]:
                raise RuntimeError(f"{executable}: no server certificate with mutual TLS")
        except BaseException:
            _end(proc)
            raise
        return proc, fields, start

    def sample(self, executable: Path, mutual_tls: bool, shutdown: bool) -> ColdSample:
        """One start. ``shutdown``: end it with GRPCController.Shutdown, as Terraform does
        (the floor script ends by itself after its one call)."""
        proc, fields, start = self.launch(executable, self._env(mutual_tls))
        handshake = time.perf_counter() - start
        try:
            with self._channel(fields) as channel:
                stub = self.tfplugin6_pb2_grpc.ProviderStub(channel)
                stub.GetProviderSchema(self.tfplugin6_pb2.GetProviderSchema.Request(), timeout=30)
                first_call = time.perf_counter() - start
                answered = time.perf_counter()
                if shutdown:
                    controller = self.controller_pb2_grpc.GRPCControllerStub(channel)
                    controller.Shutdown(self.controller_pb2.Empty(), timeout=10)
                    answered = time.perf_counter()
            # go-plugin closes its connection after the Shutdown answer, then waits for exit.
            proc.wait(timeout=5)
            exited = time.perf_counter() - answered
            return ColdSample(handshake, first_call, exited)
        finally:
            _end(proc)


def _end(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def cpu_of_tree(pid: int) -> float:
    """CPU seconds of ``pid`` and of its child processes (a provider's TLS front)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        kids = [int(k) for k in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        kids = []
    for p in (pid, *kids):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def call_cost(cold: ColdStart, executable: Path, mutual_tls: bool, calls: int = 2000) -> float:
    """CPU seconds per ``GetMetadata`` call (the cheapest RPC: what a call costs before any
    provider logic), for the plugin and its children, with 10 calls in flight as Terraform's
    default parallelism has."""
    env = {**cold._env(mutual_tls), "BENCH_FLOOR_SERVE": "1"}
    proc, fields, _ = cold.launch(executable, env)
    try:
        request = cold.tfplugin6_pb2.GetMetadata.Request()
        with cold._channel(fields) as channel:
            stub = cold.tfplugin6_pb2_grpc.ProviderStub(channel)
            stub.GetProviderSchema(cold.tfplugin6_pb2.GetProviderSchema.Request(), timeout=30)
            for _ in range(100):  # warm-up: thread pools, caches
                stub.GetMetadata(request, timeout=30)
            before = cpu_of_tree(proc.pid)
            with futures.ThreadPoolExecutor(10) as pool:
                list(pool.map(lambda _: stub.GetMetadata(request, timeout=30), range(calls)))
            after = cpu_of_tree(proc.pid)
        return (after - before) / calls
    finally:
        _end(proc)
