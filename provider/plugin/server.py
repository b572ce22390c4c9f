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
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import logs, platform_paths, tlschild

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
    no other thread runs. Returns the process exit code.
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

    paths = platform_paths.choose()  # before any thread starts: the front may fork
    client_cert = env.get("PLUGIN_CLIENT_CERT", "").strip()
    folder: str | None = None
    if paths.listener == "unix":
        try:
            folder = private_folder(env)
        except OSError as exc:
            sys.stderr.write(f"{options.name}: could not start serving: no socket folder: {exc}\n")
            return 1

    stopped = threading.Event()
    front = None
    server = None
    serving = False
    code = 0
    try:
        if folder is not None:
            announced, server = _serve_unix(
                folder, client_cert, paths, make_servicer, options, stopped
            )
        else:
            announced, server = _serve_tcp(env, client_cert, paths, make_servicer, options, stopped)
        front = server.front
        cert_field = front.handshake_field() if front is not None else ""
        log.debug(paths.describe(front.where if front is not None else "no TLS"))
        line = (
            f"{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|{paths.listener}|{announced}|grpc|"
            f"{cert_field}\n"
        )
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
            server.grpc.stop(grace=0.3).wait(1.0)
        if front is not None:
            front.stop()
        if folder is not None:
            remove_folder(folder)
    sys.stderr.flush()
    return code


def private_folder(env: Mapping[str, str]) -> str:
    """A new folder for our sockets that only this user can enter, in
    ``PLUGIN_UNIX_SOCKET_DIR`` when Terraform names one, else where ``tempfile`` would put it.

    The usual case (the folder named by the environment, or ``/tmp``) is one ``mkdir``: every
    start pays for what it imports, and ``tempfile`` with the ``shutil`` and ``random`` it loads
    costs about 6 ms. Anything unusual (no such folder, not writable) is ``tempfile``'s to
    resolve, which tries its whole list of candidates."""
    chosen = env.get("PLUGIN_UNIX_SOCKET_DIR") or None
    base = chosen or next(
        (env[name] for name in ("TMPDIR", "TEMP", "TMP") if env.get(name)), "/tmp"
    )
    for _ in range(16 if os.name == "posix" else 0):
        folder = os.path.join(os.path.abspath(base), "tfplugin-" + os.urandom(8).hex())
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            continue
        except OSError:
            break
        os.chmod(folder, 0o700)  # mkdir's mode is cut by the umask; never widened by it
        return folder
    import tempfile

    folder = tempfile.mkdtemp(prefix="tfplugin-", dir=chosen)
    os.chmod(folder, 0o700)
    return folder


def remove_folder(folder: str) -> None:
    """Removes ``private_folder``'s folder and the sockets in it; never raises (we are exiting
    anyway, and the folder's name is never used again)."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                os.unlink(entry.path)
        os.rmdir(folder)
    except OSError:
        pass


def serve_debug(make_servicer: Callable[[], Any], options: ServeOptions, address: str) -> int:
    """Serves once for many Terraform commands, which reattach to us (``debug``)."""
    from . import debug

    def build(stopped: threading.Event) -> Any:
        return _grpc_server(make_servicer(), options, stopped)

    return debug.serve_debug(build, options.name, address, options.env)


@dataclass
class _Serving:
    """What serving started: the gRPC server, and the TLS front before it."""

    grpc: Any  # the started rpc.Server
    front: tlschild.Front | None  # the TLS front, with mutual TLS


def _serve_unix(
    folder: str,
    client_cert: str,
    paths: platform_paths.Paths,
    make_servicer: Callable[[], Any],
    options: ServeOptions,
    stopped: threading.Event,
) -> tuple[str, _Serving]:
    """The gRPC server on a Unix socket in our private folder, behind the TLS front on the announced
    one (or on the announced one itself, without TLS)."""
    from .tlschild import Backend

    announced = os.path.join(folder, "plugin.sock")
    grpc_path = os.path.join(folder, "grpc.sock") if client_cert else announced
    front = None
    if client_cert:
        # First, before any thread starts: the front may fork, and sets up beside us.
        front = tlschild.start(
            tlschild.Listen(path=announced),
            Backend(path=grpc_path),
            client_cert,
            on_failure=stopped.set,
            key_way=paths.key,
        )
    try:
        server = _grpc_server(make_servicer(), options, stopped)
        server.add_insecure_port("unix:" + grpc_path)
        server.start()
    except BaseException:
        if front is not None:
            front.stop()
        raise
    return announced, _Serving(server, front)


def _serve_tcp(
    env: Mapping[str, str],
    client_cert: str,
    paths: platform_paths.Paths,
    make_servicer: Callable[[], Any],
    options: ServeOptions,
    stopped: threading.Event,
) -> tuple[str, _Serving]:
    """The TLS front on a loopback port in Terraform's range, relaying over mutual TLS to
    the gRPC server on a loopback port of the system's choosing (any local user can dial a loopback
    port: only the holder of this process's inner identity gets through); without TLS,
    the server on the announced port itself."""
    from . import tcp

    server = _grpc_server(make_servicer(), options, stopped)
    if not client_cert:  # TF_DISABLE_PLUGIN_TLS or a reattach: plaintext is what was asked
        port = tcp.first_free(env, lambda p: _grpc_bind(server, f"{tcp.HOST}:{p}", None))
        server.start()
        return f"{tcp.HOST}:{port}", _Serving(server, None)

    from . import certificate, mtls

    listener = tcp.listen(env)
    front = None
    try:
        grpc_creds, front_ctx = mtls.inner_credentials(certificate.make_identity(), paths.key)
        inner_port = _grpc_bind(server, f"{tcp.HOST}:0", grpc_creds)
        if not inner_port:
            raise RuntimeError(f"the gRPC server could not listen on {tcp.HOST}")
        server.start()
        front = tlschild.start(
            tlschild.Listen(sock=listener),
            tlschild.Backend(port=inner_port, context=front_ctx),
            client_cert,
            on_failure=stopped.set,
            key_way=paths.key,
        )
    except BaseException:
        server.stop(grace=None)
        listener.close()
        raise
    return f"{tcp.HOST}:{listener.getsockname()[1]}", _Serving(server, front)


def _grpc_bind(server: Any, address: str, credentials: Any) -> int | None:
    """The port the server bound at ``address``, or None if it could not."""
    try:
        if credentials is None:
            return int(server.add_insecure_port(address)) or None
        return int(server.add_secure_port(address, credentials)) or None
    except RuntimeError:  # raised when the address is taken
        return None


STREAM_POLL_SECONDS = 0.05  # how soon a held stream sees that we stop


def hold_stream(context: Any, stopped: threading.Event) -> None:
    """Keeps go-plugin's stdio stream open until the client goes away or we stop.

    Each stream holds a worker thread while it is open. A provider that Terraform starts lives
    for one command, but one that Terraform reattaches to (``debug``) serves every command of
    a session: a stream waiting only for ``stopped`` would keep its thread after its command
    ended, and the pool would run dry after a few dozen commands."""
    gone = threading.Event()
    if not context.add_callback(gone.set):  # the call has already ended
        return
    while not gone.is_set() and not stopped.is_set():
        gone.wait(STREAM_POLL_SECONDS)


def _grpc_server(servicer: Any, options: ServeOptions, stopped: threading.Event) -> Any:
    """The gRPC server (``rpc.Server``, not yet listening) with the four services go-plugin
    calls: the provider itself, the controller (Shutdown), stdio and health."""
    from . import rpc
    from .wire import grpc_controller_pb2, grpc_stdio_pb2, health_pb2, tfplugin6_pb2

    class Controller:
        def Shutdown(self, request: Any, context: Any) -> Any:
            stopped.set()
            return grpc_controller_pb2.Empty()

    class Stdio:
        def StreamStdio(self, request: Any, context: Any) -> Any:
            # We never write to stdout or stderr through this channel; logs go to stderr.
            hold_stream(context, stopped)
            return iter(())

    class Health:
        def Check(self, request: Any, context: Any) -> Any:
            return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)

    server = rpc.Server(MAX_MESSAGE_BYTES, max_workers=options.max_workers)
    inline: frozenset[str] = getattr(servicer, "inline_methods", frozenset())
    for module, name, impl, quick in (
        (tfplugin6_pb2, "Provider", servicer, inline),
        (grpc_controller_pb2, "GRPCController", Controller(), {"Shutdown"}),
        (grpc_stdio_pb2, "GRPCStdio", Stdio(), ()),
        (health_pb2, "Health", Health(), {"Check"}),
    ):
        server.add_methods(
            rpc.service_methods(module.DESCRIPTOR.services_by_name[name], impl, quick)
        )
    return server
