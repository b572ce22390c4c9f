"""The loopback TCP port Terraform dials where there are no Unix sockets (Windows).

go-plugin listens on 127.0.0.1 on the first free port in ``PLUGIN_MIN_PORT``..``PLUGIN_MAX_PORT``
(Terraform sets 10000..25000) and announces ``tcp|127.0.0.1:PORT``. We take the first free port
too, but scan from a random place in the range: Terraform starts several providers at once,
and a scan from the bottom would have them race for the same few ports.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Callable, Iterator, Mapping

HOST = "127.0.0.1"


class PortRangeError(Exception):
    """PLUGIN_MIN_PORT/PLUGIN_MAX_PORT are unusable, or no port in them is free."""


def candidate_ports(env: Mapping[str, str]) -> Iterator[int]:
    """Every port of the range once, from a random start; just 0 (any free port, chosen by
    the system) when Terraform sets no range."""
    low_text, high_text = env.get("PLUGIN_MIN_PORT", ""), env.get("PLUGIN_MAX_PORT", "")
    if not low_text.strip() and not high_text.strip():
        yield 0
        return
    try:
        low, high = int(low_text), int(high_text)
    except ValueError:
        raise PortRangeError(
            f"PLUGIN_MIN_PORT={low_text!r} and PLUGIN_MAX_PORT={high_text!r} are not port numbers"
        ) from None
    if not 0 < low <= high <= 65535:
        raise PortRangeError(f"PLUGIN_MIN_PORT..PLUGIN_MAX_PORT ({low}..{high}) is not a range")
    size = high - low + 1
    start = random.randrange(size)
    for i in range(size):
        yield low + (start + i) % size


def first_free(env: Mapping[str, str], bind: Callable[[int], int | None]) -> int:
    """The port ``bind`` took: it is tried with each candidate and returns the port it bound,
    or None when that one was taken."""
    for port in candidate_ports(env):
        bound = bind(port)
        if bound:
            return bound
    raise PortRangeError(
        f"no free TCP port on {HOST} in PLUGIN_MIN_PORT..PLUGIN_MAX_PORT "
        f"({env.get('PLUGIN_MIN_PORT')}..{env.get('PLUGIN_MAX_PORT')})"
    )


def listen(env: Mapping[str, str]) -> socket.socket:
    """A socket listening on 127.0.0.1 on the first free candidate port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Windows would otherwise let another program bind the same port with SO_REUSEADDR.
    exclusive = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)
    if exclusive is not None:
        sock.setsockopt(socket.SOL_SOCKET, exclusive, 1)

    def bind(port: int) -> int | None:
        try:
            sock.bind((HOST, port))
        except OSError:
            return None
        return int(sock.getsockname()[1])

    try:
        first_free(env, bind)
        sock.listen(64)
    except BaseException:
        sock.close()
        raise
    return sock
