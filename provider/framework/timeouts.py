"""The ``timeouts`` attribute: Terraform duration strings bounding each operation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..plugin import cty
from ..plugin.path import Path
from .diagnostics import Diagnostics
from .schema import Attribute, NestedAttributes

# Go's time.ParseDuration: an optional sign, then one or more decimal numbers each with a
# unit ("1h30m", "1.5h", ".5s", "500ms", "2us"); a bare "0" is zero.
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_UNIT = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,
    "\u03bcs": 1e-6,
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def parse_go_duration(text: str) -> float | None:
    """Seconds in a duration as Go's ``time.ParseDuration`` reads it (the Go framework's
    timeouts use it), negative and zero included; None when the text is not a duration."""
    body = text
    sign = 1.0
    if body[:1] in "+-" and body:
        sign = -1.0 if body[0] == "-" else 1.0
        body = body[1:]
    if body == "0":
        return 0.0
    if not body:
        return None
    pos, total = 0, 0.0
    for match in _PART.finditer(body):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _UNIT[match.group(2)]
        pos = match.end()
    return sign * total if pos == len(body) and pos > 0 else None


def parse_duration(text: str) -> float | None:
    """Seconds in a usable timeout: a Go duration longer than zero; None otherwise."""
    seconds = parse_go_duration(text)
    return seconds if seconds is not None and seconds > 0 else None


@dataclass(frozen=True)
class Duration:
    """Validates a Go duration string (``time.ParseDuration``), greater than zero."""

    description: str = 'a duration such as "30s", "5m" or "1h30m"'

    def __call__(self, value: Any, path: Path, diags: Diagnostics) -> None:
        if not isinstance(value, str):
            return
        seconds = parse_go_duration(value)
        if seconds is None:
            diags.error(
                "Invalid duration",
                f'"{value}" is not a duration: use numbers with units, such as "30s", '
                '"500ms", "5m" or "1h30m" (units ns, us, ms, s, m, h).',
                path,
            )
        elif seconds <= 0:
            diags.error(
                "Timeout must be longer than zero",
                f'"{value}" would end the operation before it starts; give a positive '
                'duration such as "30s", or leave this timeout out for its default.',
                path,
            )


def timeouts_attribute(defaults: dict[str, float]) -> Attribute:
    """The ``timeouts`` attribute for the given operations and their default seconds."""
    return Attribute(
        nested=NestedAttributes(
            "single",
            {
                op: Attribute(
                    cty.STRING,
                    optional=True,
                    description=f"How long {op} may take, retries included "
                    f"(default {_show(seconds)}).",
                    validators=(Duration(),),
                )
                for op, seconds in defaults.items()
            },
        ),
        optional=True,
        description="Time limits for each operation, as duration strings "
        '(`"30s"`, `"5m"`, `"1h"`).',
    )


def seconds_for(timeouts: Any, operation: str, default: float) -> float:
    value = timeouts.get(operation) if isinstance(timeouts, dict) else None
    parsed = parse_duration(value) if isinstance(value, str) else None
    return parsed if parsed is not None else default


def _show(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f'"{int(seconds // 60)}m"'
    return f'"{seconds:g}s"'
