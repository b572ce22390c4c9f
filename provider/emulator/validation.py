"""Request bodies as the WebhookService accepts them.

Written from the API page, not from the client: values are checked the way the documented
enums and fields allow, and anything else is a 400 with a message naming the field. JSON
``null`` is read as "absent", as gRPC-gateway does. Unknown fields are rejected, which makes
the emulator catch a client that sends snake_case or misspelt keys.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

TOPICS = ("messages", "delivery_status", "report")
TYPES = ("custom", "zapier", "webengage", "integromat_make")
DEFAULT_TYPE = "custom"
MAX_ADDRESS_CHARS = 2048

_CREATE_FIELDS = {"topic", "address", "type", "configuration"}
_UPDATE_FIELDS = {"address", "configuration"}
_CONFIG_FIELDS = {"echo", "channelTypes", "filters", "webengageConfiguration"}
_FILTER_FIELDS = {"field", "expression"}
_WEBENGAGE_FIELDS = {"webengageToken", "webengageWebhookUrl"}


class BadRequest(Exception):
    """A body the API would answer with 400; the text is what the caller sees."""


def parse_json_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise BadRequest("the request body is empty; a JSON object is required")
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("the request body is not UTF-8") from None
    except ValueError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadRequest("the request body must be a JSON object")
    return value


def _present(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def _check_fields(body: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"{where}: unknown field {unknown[0]!r}")


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"{where} must be a string, got {type(value).__name__}")
    return value


def check_topic(value: Any) -> str:
    topic = _string(value, "topic")
    if topic not in TOPICS:
        raise BadRequest(f"topic {topic!r} is not a usable topic; use one of {', '.join(TOPICS)}")
    return topic


def check_type(value: Any) -> str:
    kind = _string(value, "type")
    if kind not in TYPES:
        raise BadRequest(f"type {kind!r} is not a webhook type; use one of {', '.join(TYPES)}")
    return kind


def check_address(value: Any, where: str = "address") -> str:
    address = _string(value, where)
    try:
        parts = urlsplit(address)
        hostname = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise BadRequest(f"{where} {address[:100]!r} is not an absolute http(s) URL") from None
    if (
        parts.scheme not in ("http", "https")
        or not hostname
        or any(c.isspace() for c in address)
        or len(address) > MAX_ADDRESS_CHARS
    ):
        raise BadRequest(f"{where} {address[:100]!r} is not an absolute http(s) URL")
    return address


def check_configuration(value: Any) -> dict[str, Any]:
    """Return the configuration fields present, camelCase, validated."""
    if not isinstance(value, dict):
        raise BadRequest("configuration must be an object")
    conf = _present(value)
    _check_fields(conf, _CONFIG_FIELDS, "configuration")
    out: dict[str, Any] = {}
    if "echo" in conf:
        if not isinstance(conf["echo"], bool):
            raise BadRequest("configuration.echo must be a boolean")
        out["echo"] = conf["echo"]
    if "channelTypes" in conf:
        channels = conf["channelTypes"]
        if not isinstance(channels, list) or not all(isinstance(c, str) and c for c in channels):
            raise BadRequest("configuration.channelTypes must be a list of channel names")
        out["channelTypes"] = list(channels)
    if "filters" in conf:
        filters = conf["filters"]
        if not isinstance(filters, list):
            raise BadRequest("configuration.filters must be a list")
        checked = []
        for i, item in enumerate(filters):
            where = f"configuration.filters[{i}]"
            if not isinstance(item, dict):
                raise BadRequest(f"{where} must be an object with field and expression")
            item = _present(item)
            _check_fields(item, _FILTER_FIELDS, where)
            field = _string(item.get("field"), f"{where}.field")
            expression = _string(item.get("expression"), f"{where}.expression")
            if not field:
                raise BadRequest(f"{where}.field must not be empty")
            checked.append({"field": field, "expression": expression})
        out["filters"] = checked
    if "webengageConfiguration" in conf:
        we = conf["webengageConfiguration"]
        where = "configuration.webengageConfiguration"
        if not isinstance(we, dict):
            raise BadRequest(f"{where} must be an object")
        we = _present(we)
        _check_fields(we, _WEBENGAGE_FIELDS, where)
        checked_we: dict[str, str] = {}
        if "webengageToken" in we:
            checked_we["webengageToken"] = _string(we["webengageToken"], f"{where}.webengageToken")
        if "webengageWebhookUrl" in we:
            checked_we["webengageWebhookUrl"] = check_address(
                we["webengageWebhookUrl"], f"{where}.webengageWebhookUrl"
            )
        out["webengageConfiguration"] = checked_we
    return out


def check_create(body: dict[str, Any]) -> dict[str, Any]:
    """Validated ``{topic, address, type, configuration}`` for a new registration."""
    body = _present(body)
    _check_fields(body, _CREATE_FIELDS, "create")
    if "topic" not in body:
        raise BadRequest("topic is required (topic_unspecified is not a usable topic)")
    if "address" not in body:
        raise BadRequest("address is required")
    return {
        "topic": check_topic(body["topic"]),
        "address": check_address(body["address"]),
        "type": check_type(body["type"]) if "type" in body else DEFAULT_TYPE,
        "configuration": check_configuration(body.get("configuration", {})),
    }


def check_update(body: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """Validated ``(address, configuration)``; ``None`` for a part that is not changing."""
    body = _present(body)
    for fixed in ("topic", "type"):
        if fixed in body:
            raise BadRequest(f"{fixed} cannot be changed by update; delete and create instead")
    _check_fields(body, _UPDATE_FIELDS, "update")
    address = check_address(body["address"]) if "address" in body else None
    configuration = check_configuration(body["configuration"]) if "configuration" in body else None
    return address, configuration
