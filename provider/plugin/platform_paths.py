"""Which way each platform-dependent step of serving goes, decided by what this Python has.

Three steps differ between Linux, macOS and Windows; each is chosen by a capability, never by
the platform's name, so that every combination can run (and is tested) on Linux with the
facility taken away:

- how our private key reaches OpenSSL without touching a disk (``KEY_*``):
  an anonymous memory file where there is ``os.memfd_create`` (Linux); else one pipe for the
  certificate and one for the key, opened by OpenSSL as ``/dev/fd/N`` (macOS, BSDs); else
  straight from memory through OpenSSL's own API (Windows: no ``/dev/fd``);
- where the TLS front runs: a child process where ``os.fork`` exists and forking is safe, else
  a thread (Windows has no fork; a process that already runs threads must not fork);
- what Terraform dials: a Unix socket where ``socket.AF_UNIX`` exists, else TCP on 127.0.0.1 in
  ``PLUGIN_MIN_PORT``..``PLUGIN_MAX_PORT``, as go-plugin does on Windows. Over TCP the front
  always runs on a thread: the credentials of its hop to the server never leave the process.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from dataclasses import dataclass
from typing import Literal

FD_DIR = "/dev/fd"  # where an open descriptor can be opened again by name (POSIX)

KeyWay = Literal["memfd", "pipes", "memory"]
KEY_MEMFD: KeyWay = "memfd"
KEY_PIPES: KeyWay = "pipes"
KEY_MEMORY: KeyWay = "memory"


@dataclass(frozen=True)
class Paths:
    """How this process hands the key to OpenSSL, and what it listens on."""

    key: KeyWay
    listener: Literal["unix", "tcp"]

    def describe(self, front: str) -> str:
        """One line for the debug log: which way each step went."""
        return (
            f"key to OpenSSL via {self.key}; TLS front on a {front}; listening on {self.listener}"
        )


def key_way() -> KeyWay:
    if not os.path.isdir(FD_DIR):
        return KEY_MEMORY
    if hasattr(os, "memfd_create"):
        return KEY_MEMFD
    return KEY_PIPES


def listener() -> Literal["unix", "tcp"]:
    return "unix" if hasattr(socket, "AF_UNIX") else "tcp"


def choose() -> Paths:
    return Paths(key=key_way(), listener=listener())


def fork_is_safe() -> bool:
    """Forking copies one thread only: safe only while this process has no other thread and
    grpcio (which starts its own; tests load its client) is not loaded. Windows has no fork."""
    return hasattr(os, "fork") and "grpc" not in sys.modules and threading.active_count() == 1
