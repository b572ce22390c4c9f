"""The documented variants of the API, as switches.

The API page leaves several behaviours open (409 or replace on a taken topic, ``type`` and the
webengage token in listings, 200 or 201 on create, two error body shapes). Each is a mode here
so that tests can run the provider against every variant; ``strict`` is the least forgiving
combination in one word.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

ON_CONFLICT = ("409", "replace")
LISTING_TYPE = ("include", "omit")
LISTING_TOKEN = ("omit", "mask", "echo")
CREATE_STATUS = (200, 201)
ERROR_SHAPE = ("connectly", "grpc")

MASK = "****"
DEFAULTS: dict[str, Any] = {"echo": False, "channelTypes": ["whatsapp"], "filters": []}


@dataclasses.dataclass(frozen=True)
class Modes:
    on_conflict: str = "409"
    listing_type: str = "include"
    listing_token: str = "mask"
    fill_defaults: bool = True
    omit_empty_webhooks: bool = False
    create_status: int = 200
    error_shape: str = "connectly"

    def __post_init__(self) -> None:
        for name, allowed in (
            ("on_conflict", ON_CONFLICT),
            ("listing_type", LISTING_TYPE),
            ("listing_token", LISTING_TOKEN),
            ("create_status", CREATE_STATUS),
            ("error_shape", ERROR_SHAPE),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, not {getattr(self, name)!r}")
        for name in ("fill_defaults", "omit_empty_webhooks"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a boolean")

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# The switches' names, listed once: the emulator's keyword options and its CLI flags.
MODE_NAMES = tuple(f.name for f in dataclasses.fields(Modes))

STRICT = Modes(
    on_conflict="409",
    listing_type="omit",
    listing_token="omit",
    fill_defaults=True,
    omit_empty_webhooks=True,
    create_status=201,
)


def resolve(strict: bool = False, **overrides: Any) -> Modes:
    """Start from the default (or strict) modes and apply the options actually given."""
    base = STRICT if strict else Modes()
    given = {k: v for k, v in overrides.items() if v is not None}
    if "on_conflict" in given:
        given["on_conflict"] = str(given["on_conflict"])
    if "create_status" in given:
        given["create_status"] = int(given["create_status"])
    return dataclasses.replace(base, **given)


def render_webhook(registration: dict[str, Any], modes: Modes) -> dict[str, Any]:
    """A stored registration as the listing shows it."""
    out: dict[str, Any] = {
        "id": registration["id"],
        "topic": registration["topic"],
        "address": registration["address"],
    }
    if modes.listing_type == "include":
        out["type"] = registration["type"]
    conf = copy.deepcopy(registration.get("configuration") or {})
    if modes.fill_defaults:
        for key, value in DEFAULTS.items():
            conf.setdefault(key, copy.deepcopy(value))
    we = conf.get("webengageConfiguration")
    if isinstance(we, dict) and "webengageToken" in we:
        if modes.listing_token == "omit":
            del we["webengageToken"]
        elif modes.listing_token == "mask":
            we["webengageToken"] = MASK
    if conf:
        out["configuration"] = conf
    return out
