"""Debug serving: the provider starts once, and Terraform reattaches to it for every command.

This is go-plugin's reattach protocol, as a Go provider's ``-debug`` flag uses it. The provider
listens, prints ``TF_REATTACH_PROVIDERS`` for the user to export, and serves until Ctrl-C.
Terraform, seeing its source address in that variable, does not start a process: it dials the
address given there. What is saved: the 3 to 5 starts per command; what is gained: one process
that a Python debugger (or py-spy) can attach to and that keeps its state between commands.

Terraform reattaches without TLS (go-plugin's ``ReattachConfig`` carries no certificate), so
the socket lies in a folder only this user can enter (mode 0700), the same protection the
Unix socket of a normal start has before its TLS. Where there is no ``AF_UNIX`` (Windows) the
server listens on a loopback TCP port, which any local user could dial: the printed message
says so. ``"Test": true`` tells go-plugin that the process is not Terraform's to kill: it
neither sends ``Shutdown`` nor a signal when a command ends.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from typing import IO, Any

from . import logs, platform_paths

log = logging.getLogger("plugin.debug")

DEFAULT_ADDRESS = "registry.terraform.io/connectly/connectly"
ENV_NAME = "TF_REATTACH_PROVIDERS"


def reattach_value(address: str, pid: int, network: str, where: str) -> str:
    """The JSON Terraform reads from ``TF_REATTACH_PROVIDERS`` for one provider."""
    config = {
        "Protocol": "grpc",
        "ProtocolVersion": 6,
        "Pid": pid,
        "Test": True,
        "Addr": {"Network": network, "String": where},
    }
    return json.dumps({address: config}, separators=(",", ":"))


def announcement(value: str, network: str) -> str:
    """What a person reads in their terminal: the variable to export and how to stop."""
    lines = [
        "Provider started in debug mode. To let Terraform use it, set in the shell that runs",
        "Terraform:",
        "",
        f"\t{ENV_NAME}='{value}'",
        "",
        "Every Terraform command then talks to this process instead of starting the provider.",
        "Stop it with Ctrl-C.",
    ]
    if network == "tcp":
        lines.append("Warning: no Unix sockets here; any local user can reach the TCP port.")
    return "\n".join(lines) + "\n"


def serve_debug(
    grpc_server: Callable[[threading.Event], Any],
    name: str,
    address: str = DEFAULT_ADDRESS,
    env: Mapping[str, str] = os.environ,
    out: IO[str] | None = None,
) -> int:
    """Serves the gRPC server that ``grpc_server`` builds (not yet bound) until Ctrl-C,
    SIGTERM or ``GRPCController.Shutdown``; returns the exit code."""
    out = out or sys.stdout
    logs.configure(name, env)
    stopped = threading.Event()
    folder: str | None = None
    server = None
    try:
        server = grpc_server(stopped)
        if platform_paths.listener() == "unix":
            folder = tempfile.mkdtemp(prefix="tfplugin-debug-")
            os.chmod(folder, 0o700)
            network, where = "unix", os.path.join(folder, "plugin.sock")
            server.add_insecure_port("unix:" + where)
        else:
            network = "tcp"
            where = f"127.0.0.1:{server.add_insecure_port('127.0.0.1:0')}"
        server.start()
    except Exception as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        sys.stderr.write(f"{name}: could not start the debug server: {text}\n")
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        return 1

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    out.write(announcement(reattach_value(address, os.getpid(), network, where), network))
    out.flush()
    log.debug("debug server listening", extra={"address": where})
    try:
        while not stopped.wait(0.5):  # a timed wait, so that signals are handled promptly
            pass
    finally:
        out.write("Debug server stopped.\n")
        out.flush()
        server.stop(grace=0.3).wait(1.0)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0
