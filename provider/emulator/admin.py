"""``/_emulator/...``: the admin API, for tests that drive an emulator in another process."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from . import validation
from .faults import Fault
from .store import TopicTaken

if TYPE_CHECKING:
    from .httpserver import Handler
    from .server import Emulator


class Admin:
    """``/_emulator/...``: control and inspection for tests running in another process."""

    def __init__(self, handler: Handler, emulator: Emulator) -> None:
        self.handler = handler
        self.emulator = emulator

    def handle(self, method: str, path: str, query: str, raw: bytes) -> None:
        routes = {
            "/_emulator/registrations": {"GET": self.registrations, "POST": self.seed},
            "/_emulator/reset": {"POST": self.reset},
            "/_emulator/counters": {"GET": self.counters, "DELETE": self.reset_counters},
            "/_emulator/faults": {
                "GET": self.faults,
                "POST": self.add_fault,
                "DELETE": self.clear_faults,
            },
            "/_emulator/latency": {"PUT": self.latency, "POST": self.latency},
            "/_emulator/random-faults": {"PUT": self.random_faults, "POST": self.random_faults},
            "/_emulator/modes": {"GET": self.get_modes, "PUT": self.set_modes},
        }
        methods = routes.get(path.rstrip("/"))
        if methods is None:
            self.handler._error(404, f"no such admin endpoint: {path[:200]}")
            return
        action = methods.get(method)
        if action is None:
            allowed = ", ".join(sorted(methods))
            self.handler._error(
                405, f"{method} is not allowed on {path}; use {allowed}", headers={"Allow": allowed}
            )
            return
        try:
            body = validation.parse_json_object(raw) if raw.strip() else {}
            payload = action(body, parse_qs(query))
        except (validation.BadRequest, ValueError, TypeError) as exc:
            self.handler._error(400, str(exc))
            return
        except TopicTaken as taken:
            self.handler._error(409, f"topic already registered (id {taken.existing['id']})")
            return
        self.handler._send(200, payload)

    def registrations(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        business = query.get("businessId", [None])[0]
        return {"registrations": self.emulator.registrations(business)}

    def seed(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        business_id = body.get("businessId")
        if not isinstance(business_id, str) or not business_id:
            raise ValueError("businessId is required")
        webhook_id = self.emulator.seed(
            business_id,
            body.get("topic"),
            body.get("address"),
            type=body.get("type") or "custom",
            configuration=body.get("configuration"),
            webhook_id=body.get("id"),
            force=bool(body.get("force", False)),
        )
        return {"id": webhook_id}

    def reset(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        self.emulator.reset()
        return {}

    def counters(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        return self.emulator.counters()

    def reset_counters(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        self.emulator.reset_counters()
        return {}

    def faults(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        return {
            "faults": [f.to_json() for f in self.emulator.faults.pending()],
            "latencyMs": self.emulator.faults.latency_ms,
        }

    def add_fault(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        self.emulator.inject(Fault.from_json(body))
        return {}

    def clear_faults(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        self.emulator.clear_faults()
        return {}

    def latency(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        ms = body.get("ms")
        if not isinstance(ms, int) or isinstance(ms, bool):
            raise ValueError("ms must be an integer")
        self.emulator.set_latency(ms)
        return {}

    def random_faults(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        names = {
            "rate503": "rate_503",
            "rate429": "rate_429",
            "rateDropCreate": "rate_drop_create",
            "retryAfter": "retry_after",
            "seed": "seed",
        }
        unknown = set(body) - set(names)
        if unknown:
            raise ValueError(f"unknown field {sorted(unknown)[0]!r}")
        self.emulator.set_random_faults(**{names[k]: v for k, v in body.items()})
        return {}

    def get_modes(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        return self.emulator.modes.to_json()

    def set_modes(self, body: dict[str, Any], query: dict[str, list[str]]) -> Any:
        self.emulator.set_modes(**body)
        return self.emulator.modes.to_json()
