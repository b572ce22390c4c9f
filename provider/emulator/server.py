"""A local Connectly WebhookService over real HTTP.

Built on the standard library's ``ThreadingHTTPServer`` so it runs anywhere Python does. It is
bounded on purpose (a connection cap and a body size limit) and never leaves a request
hanging: malformed input of any kind gets a JSON error, and ``stop()`` closes open keep-alive
connections and joins every thread it started.
"""

from __future__ import annotations

import dataclasses
import hmac
import logging
import os
import secrets
import threading
from typing import Any

from . import validation
from .faults import ENDPOINTS, Fault, Faults, RandomFaults
from .httpserver import Server
from .modes import MODE_NAMES, Modes, resolve
from .responses import error_body
from .store import Store

__all__ = ["MODE_NAMES", "Emulator", "error_body"]

logger = logging.getLogger(__name__)


class Emulator:
    """The Connectly WebhookService on 127.0.0.1, for tests and local Terraform runs.

    ``**modes`` are the fields of :class:`.modes.Modes` (:data:`.modes.MODE_NAMES`, each with
    its allowed values there); ``strict=True`` starts from the least forgiving combination.
    Options left ``None`` take the preset's value.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        state_file: str | os.PathLike[str] | None = None,
        strict: bool = False,
        max_connections: int = 64,
        max_body_bytes: int = 1 << 20,
        request_timeout: float = 30.0,
        **modes: Any,
    ) -> None:
        self.api_key = api_key or secrets.token_urlsafe(24)
        self._key_bytes = self.api_key.encode("utf-8")
        self.host = host
        self._requested_port = port
        self.max_connections = max_connections
        self.max_body_bytes = max_body_bytes
        self.request_timeout = request_timeout
        self._modes_lock = threading.Lock()
        self._modes = resolve(strict, **modes)
        self.store = Store(state_file)
        self.faults = Faults()
        self._counters_lock = threading.Lock()
        self._counters = dict.fromkeys(ENDPOINTS, 0)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Bind and serve in a background thread; returns once the port accepts connections."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        server = Server((self.host, self._requested_port), self, self.max_connections)
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="connectly-emulator",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        """Stop accepting, end open connections, join every thread. Safe to call twice."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.stopping.set()
        server.shutdown()
        thread.join()
        server.close_connections(timeout=5.0)
        server.server_close()
        self._server = self._thread = None

    def __enter__(self) -> Emulator:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -- behaviour ---------------------------------------------------------------------------

    @property
    def modes(self) -> Modes:
        with self._modes_lock:
            return self._modes

    def set_modes(self, *, strict: bool | None = None, **changes: Any) -> None:
        """Change modes at runtime; ``strict=True`` first resets to the strict preset."""
        with self._modes_lock:
            base = resolve(True) if strict else self._modes
            if "on_conflict" in changes and changes["on_conflict"] is not None:
                changes["on_conflict"] = str(changes["on_conflict"])
            self._modes = dataclasses.replace(
                base, **{k: v for k, v in changes.items() if v is not None}
            )

    def key_matches(self, provided: str) -> bool:
        """Constant-time comparison, so response timing reveals nothing about the key."""
        return hmac.compare_digest(provided.encode("utf-8", "surrogateescape"), self._key_bytes)

    # -- inspection and control (tests) -----------------------------------------------------

    def registrations(self, business_id: str | None = None) -> list[dict[str, Any]]:
        """Every stored registration as stored (tokens included), with its ``businessId``."""
        return self.store.all(business_id)

    def seed(
        self,
        business_id: str,
        topic: Any,
        address: Any,
        *,
        type: str = "custom",
        configuration: dict[str, Any] | None = None,
        webhook_id: str | None = None,
        force: bool = False,
    ) -> str:
        """Store a registration directly, as if made outside Terraform; returns its id.
        Values are validated like a create. ``force`` allows a second one for a topic."""
        try:
            fields = validation.check_create(
                {
                    "topic": topic,
                    "address": address,
                    "type": type,
                    "configuration": configuration or {},
                }
            )
        except validation.BadRequest as exc:
            raise ValueError(str(exc)) from None
        registration, _ = self.store.create(
            business_id, fields, replace=False, webhook_id=webhook_id, force=force
        )
        return str(registration["id"])

    def count(self, endpoint: str) -> None:
        with self._counters_lock:
            self._counters[endpoint] = self._counters.get(endpoint, 0) + 1

    def counters(self) -> dict[str, int]:
        """API requests received per endpoint (faulted and unauthorized ones included)."""
        with self._counters_lock:
            return dict(self._counters)

    def reset_counters(self) -> None:
        with self._counters_lock:
            self._counters = dict.fromkeys(ENDPOINTS, 0)

    def inject(self, fault: Fault | None = None, **fields: Any) -> None:
        """Queue a fault: ``inject(Fault(...))`` or ``inject(status=503, endpoint="list")``."""
        self.faults.add(fault if fault is not None else Fault(**fields))

    def clear_faults(self) -> None:
        """Forget queued faults, latency and random faults."""
        self.faults.clear()

    def set_latency(self, ms: int) -> None:
        self.faults.set_latency(ms)

    def set_random_faults(
        self,
        *,
        rate_503: float = 0.0,
        rate_429: float = 0.0,
        rate_drop_create: float = 0.0,
        retry_after: str = "1",
        seed: int | None = None,
    ) -> None:
        self.faults.set_random(
            RandomFaults(
                rate_503=float(rate_503),
                rate_429=float(rate_429),
                rate_drop_create=float(rate_drop_create),
                retry_after=str(retry_after),
                seed=seed,
            )
        )

    def reset(self) -> None:
        """Empty store, no faults, zero counters (modes are kept)."""
        self.store.clear()
        self.clear_faults()
        self.reset_counters()
