"""Registrations, one lock, optional JSON file.

Every check-and-change (is the topic taken? then insert) happens under the one lock, so
concurrent creates for a topic behave like the real service: exactly one wins, or exactly one
remains. With a state file, each change rewrites the whole file atomically (temporary file in
the same directory, fsync, ``os.replace``) so a crash never leaves half a file behind.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import secrets
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
STATE_VERSION = 1


def new_webhook_id() -> str:
    """``wh_`` + a ULID: 48 bits of milliseconds and 80 random bits in 26 Crockford chars."""
    value = (int(time.time() * 1000) & ((1 << 48) - 1)) << 80 | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(CROCKFORD[value & 31])
        value >>= 5
    return "wh_" + "".join(reversed(chars))


class TopicTaken(Exception):
    def __init__(self, existing: dict[str, Any]) -> None:
        super().__init__(existing["id"])
        self.existing = existing


class UnknownWebhook(Exception):
    pass


class Store:
    def __init__(self, state_file: str | os.PathLike[str] | None = None) -> None:
        self._lock = threading.Lock()
        # business id -> webhook id -> registration; dicts keep creation order for listings.
        self._data: dict[str, dict[str, dict[str, Any]]] = {}
        self._path = Path(state_file) if state_file is not None else None
        if self._path is not None and self._path.exists():
            self._load(self._path)

    # -- reads -------------------------------------------------------------------------------

    def listing(self, business_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._data.get(business_id, {}).values()))

    def all(self, business_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            out: list[dict[str, Any]] = []
            for biz, regs in self._data.items():
                if business_id is None or biz == business_id:
                    out.extend({"businessId": biz, **copy.deepcopy(r)} for r in regs.values())
            return out

    # -- writes ------------------------------------------------------------------------------

    def create(
        self,
        business_id: str,
        fields: dict[str, Any],
        *,
        replace: bool,
        webhook_id: str | None = None,
        force: bool = False,
    ) -> tuple[dict[str, Any], str | None]:
        """Insert a registration; returns it and the id it replaced, if any.

        ``replace`` False raises TopicTaken when the topic has a registration; ``force``
        (seeding only) allows a second registration for a topic.
        """
        with self._lock:
            regs = self._data.setdefault(business_id, {})
            holder = next((r for r in regs.values() if r["topic"] == fields["topic"]), None)
            replaced = None
            if holder is not None and not force:
                if not replace:
                    raise TopicTaken(copy.deepcopy(holder))
                del regs[holder["id"]]
                replaced = holder["id"]
            new_id = webhook_id or new_webhook_id()
            if new_id in regs:
                raise TopicTaken(copy.deepcopy(regs[new_id]))
            registration = {
                "id": new_id,
                "topic": fields["topic"],
                "address": fields["address"],
                "type": fields["type"],
                "configuration": copy.deepcopy(fields.get("configuration") or {}),
            }
            regs[new_id] = registration
            self._save()
            return copy.deepcopy(registration), replaced

    def update(
        self,
        business_id: str,
        webhook_id: str,
        address: str | None,
        configuration: dict[str, Any] | None,
    ) -> dict[str, Any]:
        with self._lock:
            registration = self._data.get(business_id, {}).get(webhook_id)
            if registration is None:
                raise UnknownWebhook(webhook_id)
            if address is not None:
                registration["address"] = address
            if configuration is not None:
                registration["configuration"].update(copy.deepcopy(configuration))
            self._save()
            return copy.deepcopy(registration)

    def delete(self, business_id: str, webhook_id: str) -> None:
        with self._lock:
            regs = self._data.get(business_id, {})
            if webhook_id not in regs:
                raise UnknownWebhook(webhook_id)
            del regs[webhook_id]
            if not regs:
                del self._data[business_id]
            self._save()

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._save()

    # -- persistence -------------------------------------------------------------------------

    def _load(self, path: Path) -> None:
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
            if state.get("version") != STATE_VERSION:
                raise ValueError(f"unsupported version {state.get('version')!r}")
            for item in state["registrations"]:
                reg = {k: item[k] for k in ("id", "topic", "address", "type")}
                reg["configuration"] = dict(item.get("configuration") or {})
                self._data.setdefault(item["businessId"], {})[reg["id"]] = reg
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"cannot read emulator state file {path}: {exc}") from exc

    def _save(self) -> None:
        if self._path is None:
            return
        registrations = [
            {"businessId": biz, **reg} for biz, regs in self._data.items() for reg in regs.values()
        ]
        text = json.dumps({"version": STATE_VERSION, "registrations": registrations}, indent=1)
        directory = self._path.parent
        fd, tmp = tempfile.mkstemp(prefix=f".{self._path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self._path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
