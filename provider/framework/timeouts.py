"""The ``timeouts`` attribute: Terraform duration strings bounding each operation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..plugin import cty
from ..plugin.codec import Path
from .diagnostics import Diagnostics
from .schema import Attribute, NestedAttributes

_PART = re.compile(r"(\d+(?:\.\d+)?)(h|m|s|ms)")
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str) -> float | None:
    """Seconds in a Go-style duration ("90s", "5m", "1h30m"); None when it is not one."""
    text = text.strip()
    if not text:
        return None
    pos, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _UNIT[match.group(2)]
        pos = match.end()
    return total if pos == len(text) and total > 0 else None


@dataclass(frozen=True)
class Duration:
    description: str = 'a duration such as "30s", "5m" or "1h30m"'

    def __call__(self, value: Any, path: Path, diags: Diagnostics) -> None:
        if isinstance(value, str) and parse_duration(value) is None:
            diags.error(
                "Invalid duration",
                f'"{value}" is not a duration; use a number with a unit, such as "30s", '
                '"5m" or "1h30m".',
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
