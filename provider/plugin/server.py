"""Serving a provider to Terraform: go-plugin's handshake, the gRPC server and its lifecycle.

Terraform starts the provider executable with a magic cookie and the protocol versions it
speaks, reads one handshake line from its stdout, dials the socket named there, and, when done,
calls ``GRPCController.Shutdown`` and waits two seconds before killing us. Everything here is
about getting those steps exactly right; nothing here knows what the provider manages.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import logs

log = logging.getLogger("plugin.server")

COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
COOKIE_VALUE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
PROTOCOL_VERSION = 6
CORE_PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 256 * 1024 * 1024

NOT_A_PLUGIN = """\
This binary is a plugin. These are not meant to be executed directly.
Please execute the program that consumes these plugins, which will
load any plugins automatically
"""


class HandshakeError(Exception):
    """Terraform and this plugin cannot talk; the message says why, for a person."""


@dataclass
class ServeOptions:
    """What a provider tells the server about itself."""

    name: str
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    max_workers: int = 64
    # Called when Terraform asks the provider to stop work in flight (StopProvider).
    on_stop: Callable[[], None] | None = None


def check_handshake_env(env: Mapping[str, str]) -> None:
    if env.get(COOKIE_KEY) != COOKIE_VALUE:
        raise HandshakeError(NOT_A_PLUGIN)
    offered = env.get("PLUGIN_PROTOCOL_VERSIONS", "").strip()
    if offered:
        versions = {v.strip() for v in offered.split(",") if v.strip()}
        if str(PROTOCOL_VERSION) not in versions:
            raise HandshakeError(
                f"This provider speaks Terraform plugin protocol {PROTOCOL_VERSION} only, but "
                f"Terraform offered protocol {', '.join(sorted(versions))}. Protocol 6 needs "
                "Terraform 1.0 or newer (or OpenTofu); please upgrade Terraform.\n"
            )


def serve(make_servicer: Callable[[], Any], options: ServeOptions) -> int:
    """Serves the ``tfplugin6.Provider`` servicer that ``make_servicer`` returns until
    Terraform shuts us down.

    The servicer is made only once the TLS front is on its way: the front forks only while
    nothing else (grpcio, threads) is loaded. Returns the process exit code.
    """
    env = options.env
    try:
        check_handshake_env(env)
    except HandshakeError as exc:
        sys.stderr.write(str(exc))
        sys.stderr.flush()
        return 1

    # Start-up allocates much and frees little, so the cycle collector would only cost time
    # (~7 ms a start); once serving, what start-up made is frozen, never scanned again.
    gc.disable()
    # Ctrl-C reaches the whole process group; Terraform decides what happens (StopProvider).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs.configure(options.name, env)

    try:
        folder = tempfile.mkdtemp(prefix="tfplugin-", dir=env.get("PLUGIN_UNIX_SOCKET_DIR") or None)
        os.chmod(folder, 0o700)
    except OSError as exc:
        sys.stderr.write(f"{options.name}: could not start serving: no socket folder: {exc}\n")
        return 1
    announced = os.path.join(folder, "plugin.sock")
    client_cert = env.get("PLUGIN_CLIENT_CERT", "").strip()

    stopped = threading.Event()
    front = None
    server = None
    serving = False
    code = 0
    try:
        grpc_path = os.path.join(folder, "grpc.sock") if client_cert else announced
        if client_cert:
            # First, before grpcio is loaded: the front may fork, and sets up beside us.
            from . import tlschild

            front = tlschild.start(announced, grpc_path, client_cert, on_failure=stopped.set)
        server = _grpc_server(make_servicer(), options, stopped)
        server.add_insecure_port("unix:" + grpc_path)
        server.start()
        cert_field = front.handshake_field() if front is not None else ""
        line = f"{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|unix|{announced}|grpc|{cert_field}\n"
        out = sys.stdout
        out.write(line)
        out.flush()
        serving = True
        # Nothing else may reach stdout: stray prints go to the log stream instead.
        sys.stdout = sys.stderr
        gc.freeze()
        gc.enable()
        log.debug("serving", extra={})

        signal.signal(signal.SIGTERM, lambda *_: stopped.set())
        stopped.wait()
        failure = front.failure() if front is not None else None
        if failure:
            sys.stderr.write(f"{options.name}: {failure}\n")
            code = 1
        log.debug("shutting down")
    except Exception as exc:
        # Terraform reports that the plugin exited; this line says why, not a traceback.
        what = "stopped serving" if serving else "could not start serving"
        text = " ".join(str(exc).split()) or type(exc).__name__
        sys.stderr.write(f"{options.name}: {what}: {text}\n")
        code = 1
    finally:
        # gRPC first, with a short grace so the Shutdown answer itself still goes out; then
        # the TLS front, once it has relayed that answer.
        if server is not None:
            server.stop(grace=0.3).wait(1.0)
        if front is not None:
            front.stop()
        shutil.rmtree(folder, ignore_errors=True)
    sys.stderr.flush()
    return code


def _grpc_server(servicer: Any, options: ServeOptions, stopped: threading.Event) -> Any:
    from concurrent import futures

    import grpc

    from .wire import (
        grpc_controller_pb2,
        grpc_controller_pb2_grpc,
        grpc_stdio_pb2_grpc,
        health_pb2,
        health_pb2_grpc,
        tfplugin6_pb2_grpc,
    )

    class Controller(grpc_controller_pb2_grpc.GRPCControllerServicer):
        def Shutdown(self, request: Any, context: Any) -> Any:
            stopped.set()
            return grpc_controller_pb2.Empty()

    class Stdio(grpc_stdio_pb2_grpc.GRPCStdioServicer):
        def StreamStdio(self, request: Any, context: Any) -> Any:
            # We never write to stdout or stderr through this channel; logs go to stderr.
            stopped.wait()
            return iter(())

    class Health(health_pb2_grpc.HealthServicer):
        def Check(self, request: Any, context: Any) -> Any:
            return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)

    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=options.max_workers, thread_name_prefix="rpc"),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
        ],
    )
    tfplugin6_pb2_grpc.add_ProviderServicer_to_server(servicer, server)
    grpc_controller_pb2_grpc.add_GRPCControllerServicer_to_server(Controller(), server)
    grpc_stdio_pb2_grpc.add_GRPCStdioServicer_to_server(Stdio(), server)
    health_pb2_grpc.add_HealthServicer_to_server(Health(), server)
    return server
