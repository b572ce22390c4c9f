"""Cold start and per-call cost of each platform path through the plugin layer (issue 16).

Each path is the provider with facilities taken away from its Python by
``tests/platform_site/sitecustomize.py``, as on the platform named: memfd + fork (Linux), no
memfd (the key through pipes, macOS), no fork (the TLS front on a thread), no AF_UNIX (TCP,
with the front on a thread and mutual TLS on its hop to grpcio), and all of them with no
``/dev/fd`` (the key through OpenSSL's API: Windows). Started as Terraform starts it, timed
from the exec to the handshake line and to the first ``GetProviderSchema`` answer; the CPU
per ``GetMetadata`` call as ``bench_cold.call_cost`` counts it, for the process and its
children.
"""

from __future__ import annotations

import select
import shutil
import subprocess
import sys
import time
from concurrent import futures
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))  # tests/: pluginproc

from bench_cold import HANDSHAKE_TIMEOUT, ColdStart, cpu_of_tree  # noqa: E402
from bench_report import Row, Stat, ms, us  # noqa: E402

from pluginproc import channel  # noqa: E402

SITE = TESTS / "platform_site"
SECTION = "6. platform paths (exec to first GetProviderSchema; CPU per call)"

# name -> facilities taken away (CONNECTLY_TEST_WITHOUT)
PATHS = {
    "memfd + fork (Linux)": "",
    "no memfd: key through pipes (macOS)": "memfd",
    "no fork: TLS front on a thread": "fork",
    "no AF_UNIX: TCP, thread front, inner mutual TLS": "af_unix",
    "all of them, no /dev/fd: key through OpenSSL's API (Windows)": "memfd,fork,af_unix,dev_fd",
}


def _provider() -> Path:
    found = shutil.which("terraform-provider-connectly")
    return Path(found) if found else Path(sys.executable).parent / "terraform-provider-connectly"


def _launch(cold: ColdStart, facilities: str) -> tuple[Any, list[str], float]:
    env = {
        **cold._env(mutual_tls=True),
        "PYTHONPATH": str(SITE),
        "CONNECTLY_TEST_WITHOUT": facilities,
        "PLUGIN_MIN_PORT": "10000",
        "PLUGIN_MAX_PORT": "25000",
    }
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(_provider())], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], HANDSHAKE_TIMEOUT)
    if not ready:
        proc.kill()
        raise RuntimeError(f"no handshake line without {facilities!r}")
    fields = proc.stdout.readline().decode().rstrip("\n").split("|")
    return proc, fields, start


def _cold(cold: ColdStart, facilities: str) -> tuple[float, float]:
    proc, fields, start = _launch(cold, facilities)
    try:
        handshake = time.perf_counter() - start
        with channel(fields, cold.client) as ch:
            cold.tfplugin6_pb2_grpc.ProviderStub(ch).GetProviderSchema(
                cold.tfplugin6_pb2.GetProviderSchema.Request(), timeout=30
            )
            first = time.perf_counter() - start
            cold.controller_pb2_grpc.GRPCControllerStub(ch).Shutdown(
                cold.controller_pb2.Empty(), timeout=10
            )
        proc.wait(timeout=5)
        return handshake, first
    finally:
        _end(proc)


def _call_cost(cold: ColdStart, facilities: str, calls: int) -> float:
    proc, fields, _ = _launch(cold, facilities)
    try:
        request = cold.tfplugin6_pb2.GetMetadata.Request()
        with channel(fields, cold.client) as ch:
            stub = cold.tfplugin6_pb2_grpc.ProviderStub(ch)
            stub.GetProviderSchema(cold.tfplugin6_pb2.GetProviderSchema.Request(), timeout=30)
            for _ in range(100):  # warm-up
                stub.GetMetadata(request, timeout=30)
            before = cpu_of_tree(proc.pid)
            with futures.ThreadPoolExecutor(10) as pool:
                list(pool.map(lambda _: stub.GetMetadata(request, timeout=30), range(calls)))
            after = cpu_of_tree(proc.pid)
        return (after - before) / calls
    finally:
        _end(proc)


def _end(proc: Any) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def measure(runs: int, tmp: Path, log: Any, cost_runs: int = 3, calls: int = 2000) -> list[Row]:
    """The rows of section 6: per path, the median of ``runs`` cold starts (after one
    unmeasured start of each) and of ``cost_runs`` per-call costs."""
    cold = ColdStart(tmp / "paths")
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in PATHS}
    for facilities in PATHS.values():
        _cold(cold, facilities)
    for i in range(runs):
        log(f"platform paths: cold start {i + 1}/{runs}")
        for name, facilities in PATHS.items():
            samples[name].append(_cold(cold, facilities))
    rows = []
    for name, facilities in PATHS.items():
        log(f"platform paths: CPU per call: {name}")
        first = Stat([s[1] for s in samples[name]])
        handshake = Stat([s[0] for s in samples[name]])
        cost = Stat([_call_cost(cold, facilities, calls) for _ in range(cost_runs)])
        rows.append(
            Row(
                SECTION,
                f"{name}: first GetProviderSchema",
                ms(first.median),
                ms(first.min),
                ms(first.max),
                note=f"handshake line {ms(handshake.median)}",
            )
        )
        rows.append(
            Row(
                SECTION,
                f"{name}: CPU per call",
                us(cost.median),
                us(cost.min),
                us(cost.max),
            )
        )
    return rows


if __name__ == "__main__":  # a quick look: .venv/bin/python tests/bench/bench_paths.py
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        for row in measure(3, Path(scratch), print, cost_runs=1, calls=500):
            print(f"{row.name}: {row.median} ({row.low}..{row.high}) {row.note}")
