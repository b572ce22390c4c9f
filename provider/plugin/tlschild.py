"""The TLS front (``mtls.TLSFront``) in a child process of its own, forked at start-up.

Why a process: Terraform starts the provider 3 to 5 times per command and waits for each
start, and then sends it every call of the run. Forked before anything else is loaded, the
child makes the key and certificate, sets up OpenSSL and listens while the parent loads the
gRPC server and the provider (the two run on two cores instead of one after the other);
later, every byte Terraform sends is decrypted and relayed by the child without taking the
parent's GIL, which the parent's gRPC threads need for themselves.

The child holds no stdout (go-plugin reads the handshake from it), ignores SIGINT like its
parent, and exits as soon as the parent closes the control pipe, or dies: it cannot outlive
the provider. Where there is no fork (Windows), where forking is not safe (threads already
running, grpcio already loaded, as in a test process), and where Terraform dials TCP (see
``platform_paths``), :func:`start` runs the same front on a thread instead.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from . import platform_paths

if TYPE_CHECKING:
    import socket
    import ssl

    from .mtls import TLSFront

log = logging.getLogger("plugin.mtls")

WAIT_FOR_CHILD = 10.0  # seconds the parent waits for the child's certificate
DRAIN_SECONDS = 0.05  # how long relays may still run once the provider stops
EXIT_GRACE = 0.3  # seconds more the parent waits for the child before killing it


class Front(Protocol):
    where: str  # "child process" or "thread", for the debug log

    def handshake_field(self) -> str: ...

    def failure(self) -> str | None:
        """Why the front stopped on its own while serving, or None."""
        ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class Listen:
    """Where the front takes Terraform's connections: a Unix socket it creates at ``path``,
    or ``sock``, a TCP socket already listening (``tcp.listen``)."""

    path: str | None = None
    sock: socket.socket | None = None


@dataclass(frozen=True)
class Backend:
    """Where the front relays to: the gRPC server's private Unix socket (``path``), or its
    loopback TCP ``port`` over mutual TLS with ``context`` (``mtls.inner_credentials``).
    Defined here, not in ``mtls``, so that the parent loads neither asyncio nor ssl before
    it forks the front (only the front uses them)."""

    path: str | None = None
    port: int | None = None
    context: ssl.SSLContext | None = None


def start(
    listen: Listen,
    backend: Backend,
    client_cert_pem: str,
    on_failure: Callable[[], None],
    key_way: str,
) -> Front:
    """Starts the TLS front on ``listen`` relaying to ``backend`` (which may not be
    listening yet: Terraform dials only after the handshake line). ``on_failure`` is called
    if the front stops on its own: without it no call from Terraform can reach us."""
    if listen.sock is None and platform_paths.fork_is_safe():
        try:
            return _ChildFront(listen, backend, client_cert_pem, on_failure, key_way)
        except OSError as exc:  # no process to spare: the thread does the same job
            log.debug("tls front: fork failed (%s); running it on a thread", exc)
    return _ThreadFront(listen, backend, client_cert_pem, key_way)


def _make_front(
    listen: Listen, backend: Backend, client_cert_pem: str, key_way: str
) -> tuple[TLSFront, str]:
    """A fresh identity and a front using it, with the handshake line's certificate field."""
    from . import certificate, mtls

    identity = certificate.make_identity()
    context = mtls.server_context(identity, client_cert_pem, key_way)
    front = mtls.TLSFront(listen.path, backend, context, client_cert_pem, listen.sock)
    return front, identity.handshake_field()


class _ThreadFront:
    where = "thread"

    def __init__(
        self, listen: Listen, backend: Backend, client_cert_pem: str, key_way: str
    ) -> None:
        self.front, self.field = _make_front(listen, backend, client_cert_pem, key_way)
        self.front.start()

    def handshake_field(self) -> str:
        return self.field

    def failure(self) -> str | None:
        return None

    def stop(self) -> None:
        self.front.stop(DRAIN_SECONDS)


class _ChildFront:
    where = "child process"

    def __init__(
        self,
        listen: Listen,
        backend: Backend,
        client_cert_pem: str,
        on_failure: Callable[[], None],
        key_way: str,
    ) -> None:
        fds: list[int] = []
        try:
            report_r, report_w = os.pipe()  # child -> parent: the certificate, or an error
            fds += (report_r, report_w)
            control_r, control_w = os.pipe()  # parent -> child: closed when the child must go
            fds += (control_r, control_w)
            pid = os.fork()
        except OSError:
            for fd in fds:
                os.close(fd)
            raise
        if pid == 0:  # the child
            code = 1
            try:
                os.close(report_r)
                os.close(control_w)
                code = _child(listen, backend, client_cert_pem, key_way, report_w, control_r)
            finally:
                os._exit(code)
        os.close(report_w)
        os.close(control_r)
        self.pid = pid
        self._report = report_r
        self._control: int | None = control_w
        self._field: str | None = None
        self._on_failure = on_failure
        self._status: int | None = None
        self._exited = threading.Event()
        threading.Thread(target=self._reap, name="tls-front-reaper", daemon=True).start()

    def _reap(self) -> None:
        """Waits for the child; its end while we still serve is a failure worth a word."""
        try:
            _, status = os.waitpid(self.pid, 0)
            self._status = status
        except ChildProcessError:  # reaped elsewhere (SIGCHLD ignored): it is gone all the same
            self._status = -1
        self._exited.set()
        if self._control is not None and self._field is not None:
            log.error("tls front: %s", self.failure())
            self._on_failure()

    def handshake_field(self) -> str:
        """The child's certificate, once it is listening; raises if it could not start."""
        if self._field is None:
            try:
                data = _read_all(self._report, WAIT_FOR_CHILD)
            finally:
                os.close(self._report)
            if not data.startswith(b"C"):
                message = data[1:].decode(errors="replace") or "it exited without a word"
                raise RuntimeError(f"the TLS front could not start: {message}")
            self._field = data[1:].decode()
            if self._exited.is_set():  # started, then died before we looked
                raise RuntimeError(self.failure() or "the TLS front stopped")
        return self._field

    def failure(self) -> str | None:
        if not self._exited.is_set() or self._control is None:
            return None
        status = self._status if self._status is not None else -1
        if status >= 0 and os.WIFSIGNALED(status):
            how = f"killed by signal {os.WTERMSIG(status)}"
        elif status >= 0:
            how = f"exit status {os.waitstatus_to_exitcode(status)}"
        else:
            how = "status unknown"
        return f"the TLS front process stopped ({how}); Terraform's calls cannot reach us"

    def stop(self) -> None:
        """Closes the control pipe (the child drains its relays, then exits); a child that
        is still there after a grace period is killed: it holds Terraform's stderr, and
        go-plugin waits for that to close."""
        control, self._control = self._control, None
        if control is not None:
            os.close(control)
        if self._exited.wait(DRAIN_SECONDS + EXIT_GRACE):
            return
        log.debug("tls front: child still running at exit; killing it")
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self._exited.wait(1.0)


def _child(
    listen: Listen, backend: Backend, client_cert_pem: str, key_way: str, report: int, control: int
) -> int:
    def report_error(exc: Exception) -> None:
        os.write(report, b"E" + f"{type(exc).__name__}: {exc}".encode())
        os.close(report)

    try:
        _release_stdout()
        front, field = _make_front(listen, backend, client_cert_pem, key_way)
    except Exception as exc:  # told to the parent, which turns it into an exit with a reason
        report_error(exc)
        return 1

    reported = False

    def listening() -> None:
        nonlocal reported
        os.write(report, b"C" + field.encode())
        os.close(report)
        reported = True
        gc.freeze()  # the parent disabled collection for start-up; resume it, as it does
        gc.enable()

    try:
        front.serve_until_closed(control, listening, drain_seconds=DRAIN_SECONDS)
    except Exception as exc:
        if not reported:
            report_error(exc)
        else:  # Terraform's calls fail from here on; the log says why
            log.error("tls front stopped: %s: %s", type(exc).__name__, exc)
        return 1
    return 0


def _release_stdout() -> None:
    """Never hold Terraform's stdout: go-plugin waits for it to close. Where there is no
    ``/dev/null`` (an empty root), a pipe with no reader takes its place: a write fails
    instead of reaching Terraform."""
    try:
        stand_in = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        read_end, stand_in = os.pipe()
        os.close(read_end)
    os.dup2(stand_in, 1)
    os.close(stand_in)


def _read_all(fd: int, timeout: float) -> bytes:
    import select

    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError("the TLS front did not start in time")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
