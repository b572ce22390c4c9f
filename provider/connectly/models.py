"""Typed views of Connectly's webhook JSON.

The API speaks camelCase JSON in the gRPC-gateway style, where a field left at its zero value
may simply be absent. The listing is also allowed to differ from what was sent (defaults filled
in, ``type`` dropped, the webengage token hidden). So parsing here never invents values: an
absent field becomes ``None`` and the caller decides what absence means. Wrong *types*, on the
other hand, are not guessed around; they raise :class:`ShapeError` naming the offending field,
which the client turns into an ``InvalidResponse``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = [
    "Filter",
    "ShapeError",
    "WebengageConfiguration",
    "Webhook",
    "WebhookConfiguration",
    "WebhookSpec",
    "parse_created_id",
    "parse_listing",
]


class ShapeError(ValueError):
    """The JSON is valid but not shaped like the documented message."""


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ShapeError(f"{where}: expected an object, got {_kind(value)}")
    return value


def _opt_str(data: dict[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ShapeError(f"{where}.{key}: expected a string, got {_kind(value)}")


def _opt_bool(data: dict[str, Any], key: str, where: str) -> bool | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise ShapeError(f"{where}.{key}: expected a boolean, got {_kind(value)}")


def _opt_list(data: dict[str, Any], key: str, where: str) -> list[Any] | None:
    value = data.get(key)
    if value is None or isinstance(value, list):
        return value
    raise ShapeError(f"{where}.{key}: expected a list, got {_kind(value)}")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


@dataclasses.dataclass(frozen=True)
class Filter:
    """One ``{field, expression}`` filter; absent members read as "" (the proto3 zero value)."""

    field: str
    expression: str

    def to_api(self) -> dict[str, Any]:
        return {"field": self.field, "expression": self.expression}

    @classmethod
    def from_api(cls, data: object, where: str = "filter") -> Filter:
        obj = _object(data, where)
        return cls(
            field=_opt_str(obj, "field", where) or "",
            expression=_opt_str(obj, "expression", where) or "",
        )


@dataclasses.dataclass(frozen=True)
class WebengageConfiguration:
    """Webengage settings. The token is a secret: it is kept out of ``repr`` so that it does not
    end up in logs or tracebacks, and listings may return it masked or not at all."""

    webengage_token: str | None = None
    webengage_webhook_url: str | None = None

    def __repr__(self) -> str:
        token = None if self.webengage_token is None else "***"
        return (
            f"WebengageConfiguration(webengage_token={token!r}, "
            f"webengage_webhook_url={self.webengage_webhook_url!r})"
        )

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.webengage_token is not None:
            out["webengageToken"] = self.webengage_token
        if self.webengage_webhook_url is not None:
            out["webengageWebhookUrl"] = self.webengage_webhook_url
        return out

    @classmethod
    def from_api(
        cls, data: object, where: str = "webengageConfiguration"
    ) -> WebengageConfiguration:
        obj = _object(data, where)
        return cls(
            webengage_token=_opt_str(obj, "webengageToken", where),
            webengage_webhook_url=_opt_str(obj, "webengageWebhookUrl", where),
        )


@dataclasses.dataclass(frozen=True)
class WebhookConfiguration:
    """Optional delivery settings. ``None`` means "not sent" on the way out and "not reported"
    on the way in; an empty list is a real value (on update it clears the field)."""

    echo: bool | None = None
    channel_types: list[str] | None = None
    filters: list[Filter] | None = None
    webengage_configuration: WebengageConfiguration | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> WebhookConfiguration:
        # Shared listings hand each reader a deep copy. Only the two lists can change; the
        # rest is immutable and shared (copy.deepcopy would rebuild it all, field by field).
        return dataclasses.replace(
            self,
            channel_types=None if self.channel_types is None else list(self.channel_types),
            filters=None if self.filters is None else list(self.filters),
        )

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.echo is not None:
            out["echo"] = self.echo
        if self.channel_types is not None:
            out["channelTypes"] = list(self.channel_types)
        if self.filters is not None:
            out["filters"] = [f.to_api() for f in self.filters]
        if self.webengage_configuration is not None:
            out["webengageConfiguration"] = self.webengage_configuration.to_api()
        return out

    @classmethod
    def from_api(cls, data: object, where: str = "configuration") -> WebhookConfiguration:
        obj = _object(data, where)
        channels = _opt_list(obj, "channelTypes", where)
        if channels is not None:
            for i, channel in enumerate(channels):
                if not isinstance(channel, str):
                    raise ShapeError(
                        f"{where}.channelTypes[{i}]: expected a string, got {_kind(channel)}"
                    )
        raw_filters = _opt_list(obj, "filters", where)
        filters = None
        if raw_filters is not None:
            filters = [
                Filter.from_api(f, f"{where}.filters[{i}]") for i, f in enumerate(raw_filters)
            ]
        raw_we = obj.get("webengageConfiguration")
        return cls(
            echo=_opt_bool(obj, "echo", where),
            channel_types=None if channels is None else list(channels),
            filters=filters,
            webengage_configuration=None
            if raw_we is None
            else WebengageConfiguration.from_api(raw_we, f"{where}.webengageConfiguration"),
        )

    def secrets(self) -> list[str]:
        """Values that must never appear in error text or logs."""
        we = self.webengage_configuration
        return [we.webengage_token] if we is not None and we.webengage_token else []


@dataclasses.dataclass(frozen=True)
class WebhookSpec:
    """What a create sends. ``type=None`` leaves the choice to the server (documented default
    ``custom``) rather than sending a value the user never wrote."""

    topic: str
    address: str
    type: str | None = None
    configuration: WebhookConfiguration | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"topic": self.topic, "address": self.address}
        if self.type is not None:
            out["type"] = self.type
        if self.configuration is not None:
            out["configuration"] = self.configuration.to_api()
        return out


@dataclasses.dataclass(frozen=True)
class Webhook:
    """A registration as the listing reports it. Any field the server left out is ``None``;
    in particular ``type`` is ``None`` when the listing omits it, which is not the same as
    ``"custom"``."""

    id: str
    topic: str | None = None
    address: str | None = None
    type: str | None = None
    configuration: WebhookConfiguration | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> Webhook:
        if self.configuration is None:  # nothing in it can change
            return self
        return dataclasses.replace(self, configuration=self.configuration.__deepcopy__(memo))

    @classmethod
    def from_api(cls, data: object, where: str = "webhook") -> Webhook:
        obj = _object(data, where)
        webhook_id = _opt_str(obj, "id", where)
        if not webhook_id:
            raise ShapeError(f"{where}: has no id")
        raw_conf = obj.get("configuration")
        return cls(
            id=webhook_id,
            topic=_opt_str(obj, "topic", where),
            address=_opt_str(obj, "address", where),
            type=_opt_str(obj, "type", where),
            configuration=None
            if raw_conf is None
            else WebhookConfiguration.from_api(raw_conf, f"{where}.configuration"),
        )


def parse_listing(body: object) -> list[Webhook]:
    """Read ``{"entity": {"webhooks": [...]}}``. A missing ``webhooks`` key is an empty listing
    (documented), but a missing ``entity`` is not: mistaking a wrong shape for "no webhooks"
    would make every resource look deleted and trigger re-creation."""
    top = _object(body, "response")
    if "entity" not in top:
        raise ShapeError("response: has no 'entity'")
    entity = _object(top["entity"], "entity")
    items = _opt_list(entity, "webhooks", "entity")
    if items is None:
        return []
    return [Webhook.from_api(item, f"entity.webhooks[{i}]") for i, item in enumerate(items)]


def parse_created_id(body: object) -> str:
    """Read ``{"id": "..."}`` from a create; an id is the only thing a create must give back."""
    top = _object(body, "response")
    webhook_id = _opt_str(top, "id", "response")
    if not webhook_id:
        raise ShapeError("response: has no webhook id")
    return webhook_id


def same_registration(webhook: Webhook, spec: WebhookSpec, *, settings: bool = True) -> bool:
    """Whether a listed webhook is what ``spec`` would register, as far as the listing shows.

    Parts the listing leaves out (``type`` among them), or the spec leaves to the server, are
    not compared; a spec without a type means the server's default, ``custom``. With
    ``settings=False`` only topic, address and type count (the no-duplicate create's test of
    "this is what I just made", where the server may have normalised the settings).
    """
    if webhook.topic != spec.topic or webhook.address != spec.address:
        return False
    if webhook.type is not None and webhook.type != (spec.type or "custom"):
        return False
    want, have = spec.configuration, webhook.configuration
    if not settings or want is None or have is None:
        return True
    pairs = (
        (want.echo, have.echo),
        (_sorted_or_none(want.channel_types), _sorted_or_none(have.channel_types)),
        (_filters_or_none(want.filters), _filters_or_none(have.filters)),
    )
    if any(w is not None and h is not None and w != h for w, h in pairs):
        return False
    we_want, we_have = want.webengage_configuration, have.webengage_configuration
    if we_want is not None and we_have is not None:
        url = we_want.webengage_webhook_url
        return url is None or url == we_have.webengage_webhook_url
    return True


def _sorted_or_none(values: list[str] | None) -> list[str] | None:
    return None if values is None else sorted(values)


def _filters_or_none(filters: list[Filter] | None) -> list[tuple[str, str]] | None:
    return None if filters is None else sorted((f.field, f.expression) for f in filters)
