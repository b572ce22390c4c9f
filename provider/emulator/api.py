"""The four WebhookService endpoints on the emulator's store: (status, JSON payload) answers,
free of HTTP."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from . import validation
from .modes import render_webhook
from .responses import error_body
from .store import TopicTaken, UnknownWebhook

if TYPE_CHECKING:
    from .server import Emulator

_ROUTES = (
    ("create", "POST", re.compile(r"/v1/businesses/([^/]+)/create/webhooks")),
    ("list", "GET", re.compile(r"/v1/businesses/([^/]+)/webhooks")),
    ("update", "PUT", re.compile(r"/v1/businesses/([^/]+)/update/webhooks/([^/]+)")),
    ("delete", "DELETE", re.compile(r"/v1/businesses/([^/]+)/delete/webhooks/([^/]+)")),
)


def match(path: str) -> tuple[str, str, list[str]] | None:
    for kind, method, pattern in _ROUTES:
        found = pattern.fullmatch(path)
        if found:
            return kind, method, [unquote(g) for g in found.groups()]
    return None


class Api:
    """The four WebhookService endpoints; returns (status, JSON payload)."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.modes = emulator.modes

    def _err(self, status: int, message: str) -> tuple[int, Any]:
        return status, error_body(status, message, self.modes.error_shape)

    def handle(self, kind: str, params: list[str], raw: bytes) -> tuple[int, Any]:
        business_id = params[0]
        try:
            if kind == "list":
                return self.listing(business_id)
            if kind == "create":
                return self.create(business_id, raw)
            if kind == "update":
                return self.update(business_id, params[1], raw)
            return self.delete(business_id, params[1])
        except validation.BadRequest as exc:
            return self._err(400, str(exc))
        except UnknownWebhook as exc:
            return self._err(404, f"webhook {exc.args[0]!r} not found for business {business_id!r}")

    def listing(self, business_id: str) -> tuple[int, Any]:
        webhooks = [render_webhook(r, self.modes) for r in self.emulator.store.listing(business_id)]
        entity: dict[str, Any] = {"businessId": business_id}
        if webhooks or not self.modes.omit_empty_webhooks:
            entity["webhooks"] = webhooks
        return 200, {"entity": entity}

    def create(self, business_id: str, raw: bytes) -> tuple[int, Any]:
        fields = validation.check_create(validation.parse_json_object(raw))
        try:
            registration, _ = self.emulator.store.create(
                business_id, fields, replace=self.modes.on_conflict == "replace"
            )
        except TopicTaken as taken:
            return self._err(
                409,
                f"a webhook for topic {fields['topic']!r} is already "
                f"registered for this business (id {taken.existing['id']}); "
                "use Update instead",
            )
        return self.modes.create_status, {"id": registration["id"]}

    def update(self, business_id: str, webhook_id: str, raw: bytes) -> tuple[int, Any]:
        address, configuration = validation.check_update(validation.parse_json_object(raw))
        self.emulator.store.update(business_id, webhook_id, address, configuration)
        return 200, {}

    def delete(self, business_id: str, webhook_id: str) -> tuple[int, Any]:
        self.emulator.store.delete(business_id, webhook_id)
        return 200, {}
