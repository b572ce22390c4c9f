"""Between :class:`WebhookState` and the client's models: the attribute rules of
``docs/design.md`` that decide what is sent and what a listing means for state.

Pure functions: no I/O, no diagnostics, no framework calls, so each rule is tested on its own
(``tests/resources/test_webhook_mapping.py``). The API has no read-one endpoint, hides the
webengage token, may leave ``type`` out of listings and fills defaults the user never wrote:
configured values come back as configured, server-filled values are kept once known, and what
the API will not reveal is kept from state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...framework import UNKNOWN
from .state import DEFAULT_TYPE, Configuration, Filter, WebengageSettings, WebhookState

if TYPE_CHECKING:
    from ...connectly.models import Webhook, WebhookConfiguration


def configuration_to_api(
    configuration: Configuration | None, write_only_token: str | None = None
) -> WebhookConfiguration | None:
    """What a create or update sends. Unknown parts (left to the server) are not sent, nor is
    an empty ``channel_types`` (the API stores none); a configured token wins over the
    write-only one."""
    from ...connectly.models import Filter as ApiFilter
    from ...connectly.models import WebengageConfiguration, WebhookConfiguration

    if not isinstance(configuration, Configuration):
        return None
    channels = _known(configuration.channel_types)
    filters = _known(configuration.filters)
    webengage = configuration.webengage()
    return WebhookConfiguration(
        echo=_known(configuration.echo),
        channel_types=sorted(channels) if channels else None,
        filters=[ApiFilter(f.field, f.expression) for f in filters]
        if isinstance(filters, list)
        else None,
        webengage_configuration=WebengageConfiguration(
            webengage_token=webengage.webengage_token or write_only_token,
            webengage_webhook_url=webengage.webengage_webhook_url,
        )
        if webengage is not None
        else None,
    )


def changed_configuration(planned: Any, prior: Any) -> Configuration | None:
    """The configuration parts an update must send, or ``None`` when none changed.

    Connectly replaces each part it is sent (``webengage_configuration`` as a whole, token
    included), so unchanged parts stay unsent, and so do unknown or null ones. ``channel_types``
    and ``filters`` are sets: the order Terraform or the API list them in means nothing.
    """
    if not isinstance(planned, Configuration):
        return None
    before = prior if isinstance(prior, Configuration) else Configuration()
    changed = Configuration()
    any_changed = False
    for name in ("echo", "channel_types", "filters", "webengage_configuration"):
        value, old = getattr(planned, name), getattr(before, name)
        if value is UNKNOWN or value is None:
            continue
        if name in ("channel_types", "filters"):
            wanted = _as_set(value)
            same = wanted is not None and isinstance(old, list) and wanted == _as_set(old)
        else:
            same = value == old
        if not same:
            setattr(changed, name, value)
            any_changed = True
    return changed if any_changed else None


def configuration_from_api(
    observed: WebhookConfiguration | None, kept: Configuration | None
) -> Configuration | None:
    """The listing's configuration, with what the listing cannot show kept from ``kept``:
    a part the listing leaves out keeps its known value, and the token is always kept (the API
    hides or masks it; what the user set is what state keeps)."""
    if observed is None:
        return kept
    kept = kept or Configuration()
    webengage = kept.webengage_configuration
    if observed.webengage_configuration is not None:
        listed_url = observed.webengage_configuration.webengage_webhook_url
        kept_we = kept.webengage() or WebengageSettings()
        webengage = WebengageSettings(
            webengage_token=kept_we.webengage_token,
            webengage_token_wo=None,
            webengage_token_wo_version=kept_we.webengage_token_wo_version,
            webengage_webhook_url=listed_url
            if listed_url is not None
            else kept_we.webengage_webhook_url,
        )
    return Configuration(
        echo=observed.echo if observed.echo is not None else kept.echo,
        channel_types=list(observed.channel_types)
        if observed.channel_types is not None
        else kept.channel_types,
        filters=[Filter(f.field, f.expression) for f in observed.filters]
        if observed.filters is not None
        else kept.filters,
        webengage_configuration=webengage,
    )


@dataclass(frozen=True)
class Observed:
    """A listing entry as state, and what it says about the type: ``type_assumed`` is True when
    the type was guessed just now, False when the listing reported it (any earlier guess is
    settled), and None when the type was kept from state (an earlier mark stands)."""

    state: WebhookState
    type_assumed: bool | None


def state_from_api(webhook: Webhook, business_id: str, kept: WebhookState | None) -> Observed:
    """A full state from a listing entry; ``kept`` (state or the plan's known values) supplies
    what the listing does not say."""
    kept = kept or WebhookState()
    type_assumed: bool | None = None
    if webhook.type is not None:
        type_, type_assumed = webhook.type, False
    elif kept.type is not None:
        type_ = kept.type
    else:
        type_, type_assumed = assumed_type(webhook), True
    return Observed(
        WebhookState(
            id=webhook.id,
            business_id=business_id,
            topic=webhook.topic if webhook.topic is not None else kept.topic,
            address=webhook.address if webhook.address is not None else kept.address,
            type=type_,
            configuration=configuration_from_api(webhook.configuration, kept.conf()),
            timeouts=kept.timeouts,
        ),
        type_assumed,
    )


def assumed_type(webhook: Webhook) -> str:
    """The type of a webhook whose listing does not say: only webengage webhooks carry
    webengage settings; anything else is a guess of the default."""
    configuration = webhook.configuration
    if configuration is not None and configuration.webengage_configuration:
        return "webengage"
    return DEFAULT_TYPE


def listing_order(webhooks: Iterable[Webhook]) -> list[Webhook]:
    """The order the data source and ``terraform query`` show webhooks in: topic, then id."""
    return sorted(webhooks, key=lambda w: (w.topic or "", w.id))


def summary_from_api(webhook: Webhook) -> dict[str, Any]:
    """One element of ``connectly_webhooks.webhooks``: what the listing says, no more (``type``
    stays null when the listing omits it, and no token is shown)."""
    configuration = configuration_from_api(webhook.configuration, None)
    summary: dict[str, Any] | None = None
    if configuration is not None:
        we = configuration.webengage()
        summary = {
            "echo": configuration.echo,
            "channel_types": configuration.channel_types,
            "filters": None
            if configuration.filters is None
            else [f.to_value() for f in configuration.filters],
            "webengage_webhook_url": we.webengage_webhook_url if we is not None else None,
        }
    return {
        "id": webhook.id,
        "topic": webhook.topic,
        "address": webhook.address,
        "type": webhook.type,
        "configuration": summary,
    }


def may_hold_hidden_token(prior: WebhookState | None) -> bool:
    """Whether the server may hold a token Terraform does not know: the API never shows one,
    so any webhook whose state has no token may have one (set before an import, by another
    tool, or written with webengage_token_wo)."""
    we = prior.webengage() if prior is not None else None
    return we is None or we.webengage_token is None


class ImportIdError(ValueError):
    """An import id that is neither ``<webhook_id>`` nor ``<business_id>/<webhook_id>``."""


_ID_PART = re.compile(r"[A-Za-z0-9_.:~-]{1,256}")


def parse_import_id(raw: str) -> tuple[str | None, str]:
    """``"<webhook_id>"`` or ``"<business_id>/<webhook_id>"`` as (business or None, webhook).
    Ids are opaque, but never hold a slash, white space or control characters, and are of sane
    length."""
    parts = raw.strip().split("/")
    if len(parts) > 2 or not all(_ID_PART.fullmatch(p) and p.strip(".") for p in parts):
        shown = raw if len(raw) <= 80 else raw[:77] + "..."
        raise ImportIdError(
            f'Expected "<webhook_id>" or "<business_id>/<webhook_id>", got {json.dumps(shown)}.'
        )
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])


def _known(value: Any) -> Any:
    return None if value is UNKNOWN else value


def _as_set(items: list[Any]) -> list[str] | None:
    """A comparable form of a set's elements; None (never equal) when one is not known."""
    if any(_has_unknown(item) for item in items):
        return None
    return sorted(
        json.dumps(item.to_value() if isinstance(item, Filter) else item, sort_keys=True)
        for item in items
    )


def _has_unknown(item: Any) -> bool:
    if isinstance(item, Filter):
        return item.field is UNKNOWN or item.expression is UNKNOWN
    return item is UNKNOWN
