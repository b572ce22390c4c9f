"""``terraform-provider-connectly emulator``: run the emulator until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from .modes import CREATE_STATUS, ERROR_SHAPE, LISTING_TOKEN, LISTING_TYPE, MODE_NAMES, ON_CONFLICT
from .server import Emulator


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="terraform-provider-connectly emulator",
        description="Run a local Connectly WebhookService on 127.0.0.1.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    p.add_argument("--api-key", help="key clients must send (default: a random one, printed)")
    p.add_argument("--state", metavar="FILE", help="keep registrations in this JSON file")
    p.add_argument(
        "--strict",
        action="store_true",
        help="least forgiving modes: 409 on conflict, no type or token in "
        "listings, defaults filled, 201 on create, no empty webhooks key",
    )
    p.add_argument("--on-conflict", choices=ON_CONFLICT)
    p.add_argument("--listing-type", choices=LISTING_TYPE)
    p.add_argument("--listing-token", choices=LISTING_TOKEN)
    p.add_argument(
        "--no-defaults",
        dest="fill_defaults",
        action="store_false",
        default=None,
        help="list configuration as sent, without server defaults",
    )
    p.add_argument(
        "--omit-empty-webhooks",
        action="store_true",
        default=None,
        help="leave out the webhooks key when a business has none",
    )
    p.add_argument("--create-status", type=int, choices=CREATE_STATUS)
    p.add_argument("--error-shape", choices=ERROR_SHAPE)
    p.add_argument("--latency-ms", type=int, default=0, help="delay every API request")
    p.add_argument("--max-connections", type=int, default=64)
    p.add_argument("--max-body-bytes", type=int, default=1 << 20)
    return p


def main(argv: list[str] | None = None) -> int:
    """Start, print where to connect (and the key), serve until SIGINT/SIGTERM, exit 0."""
    args = _parser().parse_args(argv)
    try:
        emulator = Emulator(
            args.api_key,
            host=args.host,
            port=args.port,
            state_file=args.state,
            strict=args.strict,
            max_connections=args.max_connections,
            max_body_bytes=args.max_body_bytes,
            **{name: getattr(args, name) for name in MODE_NAMES},
        )
        emulator.set_latency(args.latency_ms)
        emulator.start()
    except (OSError, ValueError) as exc:
        print(f"emulator: {exc}", file=sys.stderr, flush=True)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_signal)
    try:
        modes = ", ".join(f"{k}={v}" for k, v in emulator.modes.to_json().items())
        print(f"Connectly emulator listening on {emulator.url}", flush=True)
        print(f"API key: {emulator.api_key}", flush=True)
        print(f"Modes: {modes}", flush=True)
        if args.state:
            print(f"State file: {args.state}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    print("Connectly emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
