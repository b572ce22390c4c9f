"""The ``connectly_webhook`` object as typed Python, built from and turned into Terraform values
here and nowhere else.

Terraform values arrive as ``dict``/``list`` trees in which any part may be ``UNKNOWN`` while
planning. These classes keep an unknown part as ``UNKNOWN`` (so a value read and written back
is the value read), and give every attribute a name that a type checker knows: the rest of the
resource never spells an attribute name as a string.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...framework import UNKNOWN

DEFAULT_TYPE = "custom"


@dataclass
class Filter:
    """One ``configuration.filters`` element."""

    field: str
    expression: str

    @classmethod
    def from_value(cls, value: Any) -> Any:
        """A :class:`Filter`, or ``UNKNOWN`` for an element not known yet."""
        if value is UNKNOWN:
            return UNKNOWN
        return cls(value["field"], value["expression"])

    def to_value(self) -> dict[str, Any]:
        return {"field": self.field, "expression": self.expression}


@dataclass
class WebengageSettings:
    """``configuration.webengage_configuration``. The token is a secret: never in ``repr``."""

    webengage_token: str | None = None
    webengage_token_wo: str | None = None
    webengage_token_wo_version: int | Decimal | None = None
    webengage_webhook_url: str | None = None

    def __repr__(self) -> str:
        def hidden(token: Any) -> Any:
            return token if token is None or token is UNKNOWN else "***"

        return (
            f"WebengageSettings(webengage_token={hidden(self.webengage_token)!r}, "
            f"webengage_token_wo={hidden(self.webengage_token_wo)!r}, "
            f"webengage_token_wo_version={self.webengage_token_wo_version!r}, "
            f"webengage_webhook_url={self.webengage_webhook_url!r})"
        )

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> WebengageSettings:
        return cls(
            webengage_token=value.get("webengage_token"),
            webengage_token_wo=value.get("webengage_token_wo"),
            webengage_token_wo_version=value.get("webengage_token_wo_version"),
            webengage_webhook_url=value.get("webengage_webhook_url"),
        )

    def to_value(self) -> dict[str, Any]:
        return {
            "webengage_token": self.webengage_token,
            "webengage_token_wo": self.webengage_token_wo,
            "webengage_token_wo_version": self.webengage_token_wo_version,
            "webengage_webhook_url": self.webengage_webhook_url,
        }


@dataclass
class Configuration:
    """``configuration``. Each part is ``None`` when null, ``UNKNOWN`` while not known."""

    echo: bool | None = None
    channel_types: list[str] | None = None
    filters: list[Filter] | None = None
    webengage_configuration: WebengageSettings | None = None

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> Configuration:
        filters = value.get("filters")
        channels = value.get("channel_types")
        return cls(
            echo=value.get("echo"),
            channel_types=list(channels) if isinstance(channels, list) else channels,
            filters=[Filter.from_value(f) for f in filters]
            if isinstance(filters, list)
            else filters,
            webengage_configuration=_object(
                value.get("webengage_configuration"), WebengageSettings.from_value
            ),
        )

    def to_value(self) -> dict[str, Any]:
        filters = self.filters
        return {
            "echo": self.echo,
            "channel_types": list(self.channel_types)
            if isinstance(self.channel_types, list)
            else self.channel_types,
            "filters": [_to_value(f) for f in filters] if isinstance(filters, list) else filters,
            "webengage_configuration": _to_value(self.webengage_configuration),
        }

    def webengage(self) -> WebengageSettings | None:
        """The webengage settings when they are known and set, else ``None``."""
        we = self.webengage_configuration
        return we if isinstance(we, WebengageSettings) else None


@dataclass
class WebhookState:
    """A whole ``connectly_webhook`` value: configuration, plan or state.

    ``timeouts`` is the framework's, handed through as Terraform sent it.
    """

    id: str | None = None
    business_id: str | None = None
    topic: str | None = None
    address: str | None = None
    type: str | None = None
    configuration: Configuration | None = None
    timeouts: Any = None

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> WebhookState:
        return cls(
            id=value.get("id"),
            business_id=value.get("business_id"),
            topic=value.get("topic"),
            address=value.get("address"),
            type=value.get("type"),
            configuration=_object(value.get("configuration"), Configuration.from_value),
            timeouts=value.get("timeouts"),
        )

    @classmethod
    def from_optional(cls, value: Any) -> WebhookState | None:
        """``None`` for no object (a create's prior state, a destroy's plan)."""
        return cls.from_value(value) if isinstance(value, dict) else None

    def to_value(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "business_id": self.business_id,
            "topic": self.topic,
            "address": self.address,
            "type": self.type,
            "configuration": _to_value(self.configuration),
            "timeouts": self.timeouts,
        }

    def conf(self) -> Configuration | None:
        """The configuration when it is known and set, else ``None``."""
        return self.configuration if isinstance(self.configuration, Configuration) else None

    def webengage(self) -> WebengageSettings | None:
        """The webengage settings when they are known and set, else ``None``."""
        conf = self.conf()
        return conf.webengage() if conf is not None else None

    def identity(self) -> dict[str, Any]:
        return {"business_id": self.business_id, "id": self.id}


def upgrade_from_v0(value: dict[str, Any]) -> dict[str, Any]:
    """Version 0 stored ``configuration.filters`` as a list; a set holds each filter once (the
    first of repeated ones is kept)."""
    configuration = value.get("configuration")
    if not isinstance(configuration, dict):
        return value
    filters = configuration.get("filters")
    if isinstance(filters, list):
        unique: dict[str, Any] = {}
        for item in filters:
            unique.setdefault(json.dumps(item, sort_keys=True), item)
        configuration["filters"] = list(unique.values())
    return value


def _object(value: Any, build: Any) -> Any:
    """A nested object: null and unknown stay as they are, a known one is built."""
    if value is None or value is UNKNOWN:
        return value
    return build(value)


def _to_value(part: Any) -> Any:
    if part is None or part is UNKNOWN:
        return part
    return part.to_value()
