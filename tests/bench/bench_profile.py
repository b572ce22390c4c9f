"""Where a webhook's provider CPU goes: one profiled apply, through the reattached debug process.

The debug process (``serve --debug``) serves the whole apply by itself, with no start-up and
no TLS relay, so everything it spends is per-resource work: its CPU is read exactly from
``/proc``, py-spy samples the thread holding the GIL and each sample is given to a component by
its stack, and to the RPC it serves (CPU spent outside the GIL, in grpcio's C core and OpenSSL,
is spread in proportion). Terraform's own trace log
(``GRPCProvider.v6: <RPC>`` lines) counts the gRPC calls, the emulator counts the HTTP
requests. The difference between the normal mode's CPU per webhook (every provider process
of an apply, section 5) and this one is what start-up and the TLS relay cost.

py-spy lives in ``.bench/tools-venv`` (git-ignored), installed on first use.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Issue 15: all provider processes of an apply of 100 took 1.7 s (17 ms a webhook); a third.
CPU_PER_WEBHOOK_MAX = 0.017 / 3

# First match wins, tested on the whole stack for imports, then from the leaf up for the rest.
COMPONENTS: list[tuple[str, tuple[str, ...]]] = [
    (
        "gRPC server (plugin/rpc.py, plugin/http2.py, hpack)",
        ("plugin/rpc.py", "plugin/http2.py", "h2/", "hpack/", "hyperframe/"),
    ),
    ("grpcio (server, threads, cygrpc)", ("grpc/",)),
    ("protobuf", ("google/protobuf",)),
    ("value codec (msgpack, cty)", ("msgpack", "plugin/codec.py", "plugin/cty.py")),
    (
        "HTTP client (connectly/direct.py, http.client, httpx, ssl)",
        ("connectly/direct.py", "http/client.py", "httpx/", "httpcore/", "h11/", "/ssl.py"),
    ),
    ("JSON", ("json/",)),
    ("logging", ("logging/", "plugin/logs.py")),
    ("Connectly client (provider/connectly)", ("provider/connectly/",)),
    ("resources (provider/resources)", ("provider/resources/",)),
    ("framework (provider/framework)", ("provider/framework/",)),
    ("plugin layer (provider/plugin)", ("provider/plugin/",)),
    ("thread pool hand-offs", ("threading.py", "concurrent/futures", "queue.py")),
]
IMPORTS = "imports (first use of a module)"
OTHER = "other (standard library)"
RPC_FRAME = re.compile(r"ProviderServicer\.(\w+) \(")
TRACE_RPC = re.compile(r"GRPCProvider\.v6: ([A-Z]\w+)")


@dataclass
class Profile:
    n: int
    cpu: float  # seconds, the debug process, during the apply
    samples: int = 0
    by_component: Counter[str] = field(default_factory=Counter)
    by_rpc: Counter[str] = field(default_factory=Counter)
    rpc_calls: Counter[str] = field(default_factory=Counter)
    requests: dict[str, int] = field(default_factory=dict)


def py_spy(root: Path) -> Path | None:
    """py-spy from the bench's tools venv, installed when missing; None if it cannot be."""
    venv = root / ".bench" / "tools-venv"
    exe = venv / "bin" / "py-spy"
    if exe.exists():
        return exe
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "--disable-pip-version-check", "py-spy"], check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return exe if exe.exists() else None


def component_of(frames: list[str]) -> str:
    if any("importlib" in f for f in frames):
        return IMPORTS
    for frame in reversed(frames):  # from the leaf up
        for name, needles in COMPONENTS:
            if any(needle in frame for needle in needles):
                return name
    return OTHER


def read_samples(raw: str, profile: Profile) -> None:
    """py-spy's raw format: ``thread;frame;frame;... COUNT`` per line, root first."""
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")[1:]
        weight = int(count)
        profile.samples += weight
        profile.by_component[component_of(frames)] += weight
        rpc = next((m.group(1) for f in frames if (m := RPC_FRAME.search(f))), None)
        profile.by_rpc[rpc or "outside any RPC (the server's connection threads)"] += weight


def profile_apply(bench: Any, n: int, hcl: str, spy: Path | None) -> Profile:
    """One apply of ``hcl`` (N webhooks) through the reattached debug process, profiled.
    ``bench`` is bench.py's ``Bench`` (not imported: bench.py runs as ``__main__``)."""
    assert bench.debug is not None
    tf = bench.workdir("reattach", hcl)
    trace = bench.tmp / f"profile-{n}.tflog"
    raw = bench.tmp / f"profile-{n}.txt"
    bench.emulator.reset()
    recorder = None
    if spy is not None:
        pid = str(bench.debug.proc.pid)
        args = ["--pid", pid, "--format", "raw", "--output", str(raw), "--rate", "250"]
        recorder = subprocess.Popen(
            # --gil: only the thread holding the GIL is sampled. Without it, the threads
            # waiting for the GIL (ten calls in flight) look busy too and land on whatever
            # frame they wait in, mostly threading and the pool's queue.
            [str(spy), "record", *args, "--threads", "--gil", "--nonblocking"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # py-spy attaches
    before = bench.emulator.counters()
    env = {"TF_LOG": "trace", "TF_LOG_PATH": str(trace)}
    bench.apply(tf, env=env)
    profile = Profile(n, bench.last_debug_cpu)
    after = bench.emulator.counters()
    profile.requests = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    if recorder is not None:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(30)
        if raw.exists():
            read_samples(raw.read_text(), profile)
    if trace.exists():
        profile.rpc_calls.update(TRACE_RPC.findall(trace.read_text(errors="replace")))
        trace.unlink()
    bench.destroy(tf)
    return profile


def rows(profile: Profile, normal_cpu: float | None, normal_n: int) -> list[Any]:
    """Section 7 of the table: CPU per webhook and where it goes."""
    from bench_report import Row, verdict

    n = profile.n
    section = f"7. provider CPU per webhook, apply of N={n} (profiled through serve --debug)"
    per = profile.cpu / n
    out = []
    if normal_cpu is not None:
        out.append(
            Row(
                section,
                f"normal mode: all provider processes of an apply of N={normal_n} / N",
                f"{normal_cpu / normal_n * 1000:.1f} ms",
                target=f"<= {CPU_PER_WEBHOOK_MAX * 1000:.1f} ms",
                verdict=verdict(normal_cpu / normal_n <= CPU_PER_WEBHOOK_MAX),
                note="section 5's processes: start-ups, TLS relay and the work itself",
            )
        )
    out.append(
        Row(
            section,
            "reattach: the one provider process / N",
            f"{per * 1000:.1f} ms",
            note=f"{profile.cpu:.2f} s in all; per-resource work only (no start-up, no relay)",
        )
    )
    calls = sum(profile.rpc_calls.values())
    out.append(
        Row(
            section,
            "gRPC calls per webhook",
            f"{calls / n:.2f}",
            note=", ".join(f"{k} {v}" for k, v in profile.rpc_calls.most_common()),
        )
    )
    requests = sum(profile.requests.values())
    out.append(
        Row(
            section,
            "HTTP requests per webhook",
            f"{requests / n:.2f}",
            note=", ".join(f"{k} {v}" for k, v in profile.requests.items() if v),
        )
    )
    if not profile.samples:
        out.append(Row(section, "profile", "not taken", note="py-spy could not be installed"))
        return out
    for title, counter in (("component", profile.by_component), ("RPC", profile.by_rpc)):
        for name, count in counter.most_common():
            share = count / profile.samples
            out.append(
                Row(
                    section,
                    f"{title}: {name}",
                    f"{share * per * 1000:.2f} ms",
                    note=f"{share * 100:.0f}% of {profile.samples} samples holding the GIL",
                )
            )
    return out
