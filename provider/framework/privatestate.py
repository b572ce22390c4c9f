"""Private state: what a resource remembers about an object beside its state, by key.

Terraform stores a resource's private bytes with its state and hands them back on the next
read, plan and apply, without looking inside. As in the Go framework's ``privatestate``,
resources get and set keys, and the framework alone knows the encoding: a JSON object, written
with sorted keys, or no bytes at all when nothing is kept. Bytes that are not such an object
read as empty and are handed back untouched unless a resource sets a key.
"""

from __future__ import annotations

import json
from typing import Any


class PrivateState:
    """The private data of one object for one call; :meth:`to_bytes` gives the answer's bytes."""

    def __init__(self, raw: bytes = b"") -> None:
        self._raw = raw
        self._changed = False
        try:
            value = json.loads(raw) if raw else {}
        except ValueError:
            value = {}
        self._values: dict[str, Any] = value if isinstance(value, dict) else {}

    def get(self, key: str) -> Any:
        """The value kept under ``key``, or ``None``."""
        return self._values.get(key)

    def set(self, key: str, value: Any) -> None:
        """Keeps a JSON-serialisable ``value`` under ``key``; ``None`` removes the key."""
        self._changed = True
        if value is None:
            self._values.pop(key, None)
        else:
            self._values[key] = value

    def clear(self) -> None:
        """Forgets every key (a new object starts with nothing remembered)."""
        self._changed = True
        self._values.clear()

    def to_bytes(self) -> bytes:
        if not self._changed:
            return self._raw
        return json.dumps(self._values, sort_keys=True).encode() if self._values else b""

    def __repr__(self) -> str:
        return f"PrivateState({sorted(self._values)})"
