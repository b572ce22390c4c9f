"""Takes facilities away from a provider's Python, to run the paths of other platforms here.

On ``PYTHONPATH`` for tests and the bench; it acts only in a plugin process (go-plugin's magic
cookie is set), so the Terraform launcher and other Pythons keep everything.
``CONNECTLY_TEST_WITHOUT`` is a comma-separated list of:

- ``memfd``: no ``os.memfd_create`` (macOS, Windows);
- ``fork``: no ``os.fork`` (Windows);
- ``af_unix``: no ``socket.AF_UNIX`` (Windows builds of Python), and ``socket.socketpair``
  the loopback TCP pair CPython builds where the platform has no socketpair (Windows);
- ``dev_fd``: ``/dev/fd`` is not a folder, as far as Python looks (Windows).

``CONNECTLY_TEST_OPEN_LOG``: a file that gets one line per path this Python opens for writing
(an audit hook: paths only, never contents).
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

_COOKIE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"


def _loopback_socketpair(
    family: int | None = None, type: int = socket.SOCK_STREAM, proto: int = 0
) -> tuple[socket.socket, socket.socket]:
    """Two connected TCP sockets over 127.0.0.1, checked to be each other's peer."""
    family = socket.AF_INET if family is None else family
    if family != socket.AF_INET or type != socket.SOCK_STREAM:
        raise ValueError("only AF_INET stream pairs without AF_UNIX")
    with socket.socket(family, type, proto) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        one = socket.socket(family, type, proto)
        try:
            one.connect(listener.getsockname())
            two, _ = listener.accept()
        except BaseException:
            one.close()
            raise
    if one.getsockname() != two.getpeername() or one.getpeername() != two.getsockname():
        one.close()
        two.close()
        raise ConnectionError("another process got into the loopback socket pair")
    return one, two


def _without(facility: str) -> None:
    if facility == "memfd":
        del os.memfd_create
    elif facility == "fork":
        del os.fork
    elif facility == "af_unix":
        del socket.AF_UNIX
        socket.socketpair = _loopback_socketpair  # type: ignore[assignment]
    elif facility == "dev_fd":
        isdir = os.path.isdir

        def no_dev_fd(path: Any) -> bool:
            return os.fspath(path) not in ("/dev/fd", "/dev/fd/") and isdir(path)

        os.path.isdir = no_dev_fd  # type: ignore[assignment]
    else:
        raise SystemExit(f"sitecustomize: unknown facility {facility!r}")


def _log_writes(log_path: str) -> None:
    log_fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def hook(event: str, args: tuple) -> None:
        if event != "open" or isinstance(args[0], int):
            return
        path, mode, flags = args
        if (mode and any(c in mode for c in "wax+")) or (flags or 0) & writing:
            os.write(log_fd, os.fsencode(os.fspath(path)) + b"\n")

    sys.addaudithook(hook)


if os.environ.get("TF_PLUGIN_MAGIC_COOKIE") == _COOKIE:
    for _name in filter(None, os.environ.get("CONNECTLY_TEST_WITHOUT", "").split(",")):
        _without(_name.strip())
    if os.environ.get("CONNECTLY_TEST_OPEN_LOG"):
        _log_writes(os.environ["CONNECTLY_TEST_OPEN_LOG"])
