"""State saved by an older schema version (or an older Terraform), read into today's shape."""

from __future__ import annotations

from typing import Any

from ..plugin.codec import CodecError, from_json_value, parse_json
from .diagnostics import DiagnosticError
from .resource import Resource


def upgraded_state(
    res: Resource, type_name: str, version: int, raw_json: bytes, flatmap: bool
) -> Any:
    """The stored state as a value of the current schema: the resource's ``upgrade_state``
    moves an older version's JSON first; attributes the schema no longer has are dropped and
    new ones start null. A state too old, too new or unreadable is refused with the reason."""
    if flatmap and not raw_json:
        raise DiagnosticError(
            "State too old",
            "This state was written by Terraform 0.11 or older and cannot be read; "
            "remove it from state and import the object again.",
        )
    if version > res.schema.version:
        raise DiagnosticError(
            "State from a newer provider",
            f"The state of this {type_name} was written by a newer version of the "
            f"provider (schema version {version}, this one knows "
            f"{res.schema.version}). Upgrade the provider.",
        )
    try:
        data = parse_json(raw_json) if raw_json else None
    except CodecError as exc:
        raise DiagnosticError("Invalid state", f"The stored state is not JSON: {exc}") from None
    if isinstance(data, dict) and version < res.schema.version:
        data = res.upgrade_state(version, data)
    try:
        return from_json_value(res.schema.type, data)
    except CodecError as exc:
        raise DiagnosticError(
            "Invalid state", f"The stored state does not fit the schema: {exc}", exc.path
        ) from None
