"""``connectly_webhook``: one webhook registration, for one topic of one business.

The API has no read-one endpoint, hides the webengage token, may leave ``type`` out of
listings and fills defaults the user never wrote. Each attribute's rule for plan, read and
import is decided in ``docs/design.md``; the short version: configured values come back
exactly as configured, server-filled values are kept once known, and what the API will not
reveal is kept from state.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..framework import UNKNOWN, cty, register_secret
from ..framework.diagnostics import DiagnosticError
from ..framework.planmodifiers import RequiresReplace, UseStateForUnknown
from ..framework.resource import (
    ApplyContext,
    ImportContext,
    ListContext,
    ListResource,
    ListResult,
    PlanContext,
    ReadContext,
    Resource,
    ValidateContext,
)
from ..framework.schema import (
    Attribute,
    Block,
    IdentityAttribute,
    IdentitySchema,
    NestedAttributes,
    Schema,
)
from ..framework.timeouts import seconds_for, timeouts_attribute
from ..framework.validators import (
    EachElement,
    HttpUrl,
    MaxLength,
    NoControlCharacters,
    NotBlank,
    OneOf,
    SizeAtLeast,
)
from .errors import api_error

if TYPE_CHECKING:
    from ..connectly.models import Webhook, WebhookConfiguration, WebhookSpec
    from .provider import ProviderData

from .provider import Interrupted

TOPICS = ("messages", "delivery_status", "report")
TYPES = ("custom", "zapier", "webengage", "integromat_make")
DEFAULT_TYPE = "custom"
TIMEOUT_DEFAULTS = {"create": 300.0, "read": 120.0, "update": 300.0, "delete": 300.0}

_TEXT = (NoControlCharacters(), MaxLength(2048))

WEBENGAGE = NestedAttributes(
    "single",
    {
        "webengage_token": Attribute(
            cty.STRING,
            optional=True,
            sensitive=True,
            description="Webengage token. The API never shows it back, so Terraform keeps the "
            "value you set and cannot see changes made outside Terraform.",
            validators=(NotBlank(), *_TEXT),
        ),
        "webengage_token_wo": Attribute(
            cty.STRING,
            optional=True,
            sensitive=True,
            write_only=True,
            description="Webengage token, write-only (Terraform 1.11+): sent to Connectly but "
            "never stored in state or plan files. Set `webengage_token_wo_version` with it, and "
            "change that number to send a new token. Use instead of `webengage_token`.",
            validators=(NotBlank(), *_TEXT),
        ),
        "webengage_token_wo_version": Attribute(
            cty.NUMBER,
            optional=True,
            description="Any number; changing it sends `webengage_token_wo` again.",
        ),
        "webengage_webhook_url": Attribute(
            cty.STRING,
            optional=True,
            description="Webengage webhook URL.",
            validators=(HttpUrl(prefer_https=True), *_TEXT),
        ),
    },
)

FILTER = NestedAttributes(
    "set",
    {
        "field": Attribute(
            cty.STRING,
            required=True,
            description="Event field to match, such as `campaign_name`.",
            validators=(NotBlank(), *_TEXT),
        ),
        "expression": Attribute(
            cty.STRING,
            required=True,
            description="Glob to match the field against, such as `prod-*`.",
            validators=(NotBlank(), *_TEXT),
        ),
    },
)

CONFIGURATION = NestedAttributes(
    "single",
    {
        "echo": Attribute(
            cty.BOOL,
            optional=True,
            computed=True,
            default=False,
            description="Also deliver the business's own outbound messages. Defaults to "
            "`false`, the API's default: removing it turns echo off again.",
        ),
        "channel_types": Attribute(
            cty.Set(cty.STRING),
            optional=True,
            computed=True,
            description="Channels to deliver, such as `whatsapp` and `sms`. Server default "
            "when unset. Cannot be empty: the API stores no empty list, so it has no way back "
            "to its default either, and removing `channel_types` keeps the current channels.",
            validators=(
                EachElement((NotBlank(), NoControlCharacters(), MaxLength(64))),
                SizeAtLeast(
                    1,
                    "The API stores no empty list and answers its default instead; leave "
                    "channel_types out to use the server's default.",
                ),
            ),
            plan_modifiers=(UseStateForUnknown(),),
        ),
        "filters": Attribute(
            nested=FILTER,
            optional=True,
            computed=True,
            default=[],
            description="Deliver only events that match every filter. A set: every filter "
            "must match, so their order means nothing. Defaults to none: removing `filters` "
            "clears them.",
        ),
        "webengage_configuration": Attribute(
            nested=WEBENGAGE,
            optional=True,
            computed=True,
            description='Settings for `type = "webengage"` only (null for other types). Left '
            "out, the server's settings are kept.",
            plan_modifiers=(UseStateForUnknown(),),
        ),
    },
)

SCHEMA = Schema(
    Block(
        {
            "id": Attribute(
                cty.STRING,
                computed=True,
                description="The webhook's id, assigned by Connectly.",
                plan_modifiers=(UseStateForUnknown(),),
            ),
            "business_id": Attribute(
                cty.STRING,
                optional=True,
                computed=True,
                description="The business to register the webhook for. Defaults to the "
                "provider's `business_id`.",
                validators=(NotBlank(), NoControlCharacters(), MaxLength(256)),
                plan_modifiers=(RequiresReplace(),),
            ),
            "topic": Attribute(
                cty.STRING,
                required=True,
                description="What to deliver. A business has at most one webhook per topic.",
                validators=(OneOf(TOPICS),),
                plan_modifiers=(RequiresReplace(),),
            ),
            "address": Attribute(
                cty.STRING,
                required=True,
                description="The absolute https URL that receives the events (plain http gets a "
                "warning). Updated in place.",
                validators=(HttpUrl(prefer_https=True), *_TEXT),
            ),
            "type": Attribute(
                cty.STRING,
                optional=True,
                computed=True,
                default=DEFAULT_TYPE,
                description="The integration that receives the events; only `webengage` uses "
                "`configuration.webengage_configuration`.",
                validators=(OneOf(TYPES),),
                plan_modifiers=(RequiresReplace(),),
            ),
            "configuration": Attribute(
                nested=CONFIGURATION,
                optional=True,
                computed=True,
                description="Delivery settings. `echo`, `channel_types` and `filters` left out "
                "keep the server's values.",
                plan_modifiers=(UseStateForUnknown(),),
            ),
            "timeouts": timeouts_attribute(TIMEOUT_DEFAULTS),
        },
        description="A Connectly webhook registration: where Connectly delivers the events of "
        "one topic for one business.",
    ),
    # 1: configuration.filters became a set (version 0 stored a list).
    version=1,
)

IDENTITY = IdentitySchema(
    (
        IdentityAttribute(
            "business_id",
            cty.STRING,
            description="The business the webhook belongs to (default: the provider's).",
            optional_for_import=True,
        ),
        IdentityAttribute(
            "id", cty.STRING, description="The webhook's id.", required_for_import=True
        ),
    )
)

# Private state: set when the state's `type` is an assumption (an import where the listing
# did not say), so that a configured type different from it is recorded in place instead of
# replacing a webhook that may well have that type already.
_TYPE_ASSUMED = "type_assumed"
_CBD_ADVICE = (
    "Connectly allows one webhook per topic, so the new webhook can only be created after "
    "the old one is deleted, which is Terraform's default order. With lifecycle "
    "create_before_destroy the create is refused (the topic is taken): remove "
    "create_before_destroy from this resource."
)


def _private(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _pack(private: dict[str, Any]) -> bytes:
    return json.dumps(private, sort_keys=True).encode() if private else b""


def _timeout(state: Any, operation: str) -> tuple[str, float]:
    """The operation's ``timeouts`` key and its seconds (configured, else the default)."""
    timeouts = state.get("timeouts") if isinstance(state, dict) else None
    return operation, seconds_for(timeouts, operation, TIMEOUT_DEFAULTS[operation])


def _deadline(state: Any, operation: str) -> float:
    return time.monotonic() + _timeout(state, operation)[1]


def _url(ctx: Any) -> str | None:
    data = ctx.provider_data
    return data.base_url if data is not None else None


def _data(ctx: Any) -> ProviderData:
    data = ctx.provider_data
    if data is None:
        raise DiagnosticError(
            "Provider not configured",
            "The connectly provider was not configured; see the errors above.",
        )
    return data


# --------------------------------------------------------------------- value mapping


def configuration_to_api(
    value: Any, write_only_token: str | None = None
) -> WebhookConfiguration | None:
    from ..connectly.models import Filter, WebengageConfiguration, WebhookConfiguration

    if not isinstance(value, dict):
        return None
    # Unknown parts (left to the server on create) are simply not sent.
    known = {k: (None if v is UNKNOWN else v) for k, v in value.items()}
    filters = known.get("filters")
    webengage = known.get("webengage_configuration")
    channels = known.get("channel_types")
    return WebhookConfiguration(
        echo=known.get("echo"),
        channel_types=sorted(channels) if channels else None,
        filters=[Filter(f["field"], f["expression"]) for f in filters]
        if isinstance(filters, list)
        else None,
        webengage_configuration=WebengageConfiguration(
            webengage_token=webengage.get("webengage_token") or write_only_token,
            webengage_webhook_url=webengage.get("webengage_webhook_url"),
        )
        if isinstance(webengage, dict)
        else None,
    )


def changed_configuration(planned: Any, prior: Any) -> dict[str, Any]:
    """The configuration parts the update must send: Connectly replaces each part it is sent
    (webengage_configuration as a whole, token included), so unchanged parts stay unsent."""
    if not isinstance(planned, dict):
        return {}
    prior = prior if isinstance(prior, dict) else {}
    changed = {}
    for key, value in planned.items():
        if value is UNKNOWN or value is None:
            continue
        before = prior.get(key)
        if key in ("channel_types", "filters") and isinstance(value, list):
            # Sets: the order Terraform or the API list them in means nothing.
            same = isinstance(before, list) and _as_set(value) == _as_set(before)
        else:
            same = value == before
        if not same:
            changed[key] = value
    return changed


def _as_set(items: list[Any]) -> list[str]:
    return sorted(json.dumps(item, sort_keys=True) for item in items)


def configuration_from_api(observed: WebhookConfiguration | None, kept: Any) -> Any:
    """The listing's configuration, with what the listing cannot show kept from ``kept``."""
    kept = kept if isinstance(kept, dict) else {}
    if observed is None:
        return kept or None
    kept_we = kept.get("webengage_configuration")
    webengage = kept_we
    if observed.webengage_configuration is not None:
        we = observed.webengage_configuration
        kept_we = kept_we if isinstance(kept_we, dict) else {}
        webengage = {
            # The API hides or masks the token: what the user set is what we keep.
            "webengage_token": kept_we.get("webengage_token"),
            "webengage_token_wo": None,
            "webengage_token_wo_version": kept_we.get("webengage_token_wo_version"),
            "webengage_webhook_url": we.webengage_webhook_url
            if we.webengage_webhook_url is not None
            else kept_we.get("webengage_webhook_url"),
        }
    return {
        "echo": observed.echo if observed.echo is not None else kept.get("echo"),
        "channel_types": list(observed.channel_types)
        if observed.channel_types is not None
        else kept.get("channel_types"),
        "filters": [{"field": f.field, "expression": f.expression} for f in observed.filters]
        if observed.filters is not None
        else kept.get("filters"),
        "webengage_configuration": webengage,
    }


def state_from_api(
    webhook: Webhook, business_id: str, kept: dict[str, Any], private: dict[str, Any]
) -> dict[str, Any]:
    """A full state from a listing entry; ``kept`` supplies what the listing does not say."""
    type_: str | None
    if webhook.type is not None:
        type_ = webhook.type
        private.pop(_TYPE_ASSUMED, None)
    else:
        type_ = kept.get("type")
        if type_ is None:
            # Only webengage webhooks carry webengage settings; anything else is a guess.
            configuration = webhook.configuration
            has_webengage = configuration is not None and configuration.webengage_configuration
            type_ = "webengage" if has_webengage else DEFAULT_TYPE
            private[_TYPE_ASSUMED] = True
    return {
        "id": webhook.id,
        "business_id": business_id,
        "topic": webhook.topic if webhook.topic is not None else kept.get("topic"),
        "address": webhook.address if webhook.address is not None else kept.get("address"),
        "type": type_,
        "configuration": configuration_from_api(webhook.configuration, kept.get("configuration")),
        "timeouts": kept.get("timeouts"),
    }


def overlay_known(planned: Any, observed: Any) -> Any:
    """What apply returns: every value the plan knew, and the server's answer for the rest.

    Terraform insists that apply keeps each known planned value exactly; if the server
    normalised one, the next refresh shows it as drift, which is the honest place for it.
    """
    if planned is UNKNOWN:
        return observed
    if isinstance(planned, dict) and isinstance(observed, dict):
        return {k: overlay_known(v, observed.get(k)) for k, v in planned.items()}
    if isinstance(planned, list) and any(v is UNKNOWN for v in planned):
        return observed
    return planned


def _fill_unknown(value: Any) -> Any:
    if value is UNKNOWN:
        return None
    if isinstance(value, dict):
        return {k: _fill_unknown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_unknown(v) for v in value]
    return value


_ID_PART = re.compile(r"[A-Za-z0-9_.:~-]{1,256}")


def _split_import_id(raw: str) -> tuple[str | None, str]:
    """``"<webhook_id>"`` or ``"<business_id>/<webhook_id>"``; ids are opaque, but never hold
    a slash, white space or control characters, and are of sane length."""
    parts = raw.strip().split("/")
    if len(parts) > 2 or not all(_ID_PART.fullmatch(p) and p.strip(".") for p in parts):
        shown = raw if len(raw) <= 80 else raw[:77] + "..."
        raise DiagnosticError(
            "Invalid import id",
            f'Expected "<webhook_id>" or "<business_id>/<webhook_id>", got {json.dumps(shown)}.',
        )
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])


# --------------------------------------------------------------------- the resource


class WebhookResource(Resource):
    type_name = "connectly_webhook"
    schema = SCHEMA
    identity_schema = IDENTITY

    def identity_of(self, state: Any) -> dict[str, Any] | None:
        return {"business_id": state.get("business_id"), "id": state.get("id")}

    def upgrade_state(self, version: int, state: dict[str, Any]) -> dict[str, Any]:
        """Version 0 stored configuration.filters as a list; a set holds each filter once."""
        configuration = state.get("configuration")
        if not isinstance(configuration, dict):
            return state
        filters = configuration.get("filters")
        if isinstance(filters, list):
            unique: dict[str, Any] = {}
            for item in filters:
                unique.setdefault(json.dumps(item, sort_keys=True), item)
            configuration["filters"] = list(unique.values())
        return state

    # ----------------------------------------------------------------- validate

    def validate(self, ctx: ValidateContext) -> None:
        config = ctx.config or {}
        _validate_write_only(config.get("configuration"), ctx.diags)
        type_ = config.get("type")
        configuration = config.get("configuration")
        if type_ is None:
            type_ = DEFAULT_TYPE
        if (
            isinstance(configuration, dict)
            and configuration.get("webengage_configuration") is not None
            and type_ is not UNKNOWN
            and type_ != "webengage"
        ):
            ctx.diags.error(
                'webengage_configuration needs type "webengage"',
                f'webengage_configuration is only used by webhooks of type "webengage", but '
                f'this one has type "{type_}". Set type = "webengage" or remove the block.',
                ("configuration", "webengage_configuration"),
            )

    # ----------------------------------------------------------------- plan

    def modify_plan(self, ctx: PlanContext) -> None:
        config = ctx.config or {}
        if config.get("business_id") is None:
            data = ctx.provider_data
            default = data.business_id if data is not None else UNKNOWN
            if default is None:
                ctx.diags.error(
                    "Missing business_id",
                    "Set business_id on this resource, or a default in the provider "
                    '"connectly" block (business_id) or the CONNECTLY_BUSINESS_ID '
                    "environment variable.",
                    ("business_id",),
                )
                return
            ctx.planned["business_id"] = default
        private = _private(ctx.private)
        _plan_webengage_null_unless_webengage(ctx.planned)
        if ctx.prior is not None:
            _refuse_hidden_token_loss(ctx)
        assumed = ctx.prior is not None and private.get(_TYPE_ASSUMED)
        if assumed and ctx.planned.get("type") != ctx.prior.get("type"):
            # The prior type was a guess (see _TYPE_ASSUMED): adopt the configured one in
            # place. The remote webhook keeps whatever type it has; the API cannot change it.
            ctx.prior = {**ctx.prior, "type": ctx.planned.get("type")}
            ctx.diags.warning(
                "Webhook type recorded, not changed",
                "This webhook was imported and the API did not report its type; "
                f'Terraform will record type "{ctx.planned.get("type")}" from your '
                "configuration without replacing the webhook. The type stays marked as "
                "unconfirmed until the API reports one.",
                ("type",),
            )
        elif ctx.prior is not None and ctx.planned.get("type") != ctx.prior.get("type"):
            _warn_replacement_needs_delete_first(ctx)

    # ----------------------------------------------------------------- read

    def read(self, ctx: ReadContext) -> Any:
        from ..connectly.errors import ConnectlyError

        state = ctx.state
        client = _data(ctx).client()
        private = _private(ctx.private)
        try:
            webhook = client.get_webhook(
                state["business_id"], state["id"], deadline=_deadline(state, "read"), shared=True
            )
        except ConnectlyError as exc:
            raise api_error(
                "read", exc, state, timeout=_timeout(state, "read"), base_url=_url(ctx)
            ) from None
        except Interrupted:
            raise _interrupted("refresh") from None
        if webhook is None:
            return None
        new = state_from_api(webhook, state["business_id"], state, private)
        ctx.private = _pack(private)
        return new

    # ----------------------------------------------------------------- create

    def create(self, ctx: ApplyContext) -> Any:
        from ..connectly.errors import Conflict, ConnectlyError
        from ..connectly.models import WebhookSpec

        planned = ctx.planned
        business_id = planned["business_id"]
        client = _data(ctx).client()
        deadline = _deadline(planned, "create")
        configuration = planned.get("configuration")
        _register_secrets(configuration)
        spec = WebhookSpec(
            topic=planned["topic"],
            address=planned["address"],
            type=planned["type"],
            configuration=configuration_to_api(configuration, _write_only_token(ctx.config))
            if configuration is not UNKNOWN
            else None,
        )
        try:
            # Only to notice a webhook the API displaces ("replace" behaviour); never taken
            # over: it may be one this very run is deleting (create_before_destroy, renames).
            before = client.list_webhooks(business_id, deadline=deadline, shared=True)
            holder = next((w for w in before if w.topic == spec.topic), None)
            _check_stop(ctx)
            webhook_id = client.create_webhook(
                business_id,
                spec,
                deadline=deadline,
                preexisting={w.id for w in before if w.topic == spec.topic},
            )
        except Conflict as exc:
            raise _conflict_error(business_id, spec, exc.existing) from None
        except ConnectlyError as exc:
            raise api_error(
                "create", exc, planned, timeout=_timeout(planned, "create"), base_url=_url(ctx)
            ) from None
        except Interrupted:
            raise DiagnosticError(
                "Interrupted",
                "Terraform was interrupted during the create; if a request had already "
                "reached Connectly the webhook may exist. If the next apply reports the topic "
                "as taken, import the webhook it names.",
            ) from None

        # From here on the webhook exists: whatever fails, the state must keep its id.
        private: dict[str, Any] = {}
        ctx.partial_state = _fill_unknown({**planned, "id": webhook_id})
        try:
            after = client.list_webhooks(business_id, deadline=deadline)
        except ConnectlyError as exc:
            raise api_error(
                "read after create",
                exc,
                planned,
                timeout=_timeout(planned, "create"),
                base_url=_url(ctx),
            ) from None
        except Interrupted:
            # The webhook exists with what we sent; the next refresh fills in the rest.
            ctx.partial_state = None
            ctx.diags.warning(
                "Interrupted after create",
                f"Webhook {webhook_id} was created; values the server fills in are read on "
                "the next refresh.",
            )
            return _fill_unknown({**planned, "id": webhook_id})
        created = next((w for w in after if w.id == webhook_id), None)
        if created is None:
            raise DiagnosticError(
                "Webhook vanished right after create",
                f"Connectly accepted webhook {webhook_id} in business {business_id} but does "
                "not list it. It is saved as tainted; the next apply replaces it.",
            )
        displaced = holder is not None and holder.id != webhook_id
        if displaced and holder is not None and all(w.id != holder.id for w in after):
            ctx.diags.warning(
                "An existing webhook was replaced",
                f"Business {business_id} already had webhook {holder.id} for topic "
                f'"{spec.topic}" (address {holder.address}). Connectly replaced it with this '
                "one. If another Terraform configuration managed it, its next plan will want "
                "to create it again.",
            )
        observed = state_from_api(created, business_id, planned_known(planned), private)
        private.pop(_TYPE_ASSUMED, None)  # we sent the type ourselves
        ctx.private = _pack(private)
        ctx.partial_state = None
        return overlay_known(planned, observed)

    # ----------------------------------------------------------------- update

    def update(self, ctx: ApplyContext) -> Any:
        from ..connectly.errors import ConnectlyError, NotFound

        planned, prior = ctx.planned, ctx.prior
        business_id, webhook_id = prior["business_id"], prior["id"]
        client = _data(ctx).client()
        deadline = _deadline(planned, "update")
        configuration = planned.get("configuration")
        _register_secrets(configuration)
        address = planned["address"] if planned["address"] != prior["address"] else None
        changed = changed_configuration(configuration, prior.get("configuration"))
        api_configuration = None
        if changed:
            api_configuration = configuration_to_api(changed, _write_only_token(ctx.config))
            we = api_configuration.webengage_configuration if api_configuration else None
            if we is not None and not we.webengage_token and _may_hold_hidden_token(prior):
                # The plan refuses this already; never send it even if a plan slipped by.
                raise _hidden_token_error()
        private = _private(ctx.private)
        try:
            if address is not None or api_configuration is not None:
                client.update_webhook(
                    business_id,
                    webhook_id,
                    address=address,
                    configuration=api_configuration,
                    deadline=deadline,
                )
            current = client.get_webhook(business_id, webhook_id, deadline=deadline)
        except NotFound:
            raise DiagnosticError(
                "Webhook no longer exists",
                f"Webhook {webhook_id} in business {business_id} was deleted outside Terraform. "
                "Run terraform apply again to create it anew.",
            ) from None
        except ConnectlyError as exc:
            raise api_error(
                "update", exc, planned, timeout=_timeout(planned, "update"), base_url=_url(ctx)
            ) from None
        except Interrupted:
            raise _interrupted("update") from None
        if current is None:
            raise DiagnosticError(
                "Webhook no longer exists",
                f"Webhook {webhook_id} in business {business_id} was deleted outside Terraform "
                "during the update. Run terraform apply again to create it anew.",
            )
        # An assumed type stays marked until a listing reports the type: the update did not
        # change the remote type (the API cannot), it only recorded the configured one.
        observed = state_from_api(current, business_id, planned_known(planned), private)
        ctx.private = _pack(private)
        return overlay_known(planned, observed)

    # ----------------------------------------------------------------- delete

    def delete(self, ctx: ApplyContext) -> None:
        from ..connectly.errors import ConnectlyError

        prior = ctx.prior
        client = _data(ctx).client()
        try:
            client.delete_webhook(
                prior["business_id"], prior["id"], deadline=_deadline(prior, "delete")
            )
        except ConnectlyError as exc:
            raise api_error(
                "delete", exc, prior, timeout=_timeout(prior, "delete"), base_url=_url(ctx)
            ) from None
        except Interrupted:
            raise _interrupted("delete") from None

    # ----------------------------------------------------------------- import

    def import_state(self, ctx: ImportContext) -> Any:
        from ..connectly.errors import ConnectlyError

        data = _data(ctx)
        if ctx.identity:
            business_id, webhook_id = ctx.identity.get("business_id"), ctx.identity.get("id")
        else:
            business_id, webhook_id = _split_import_id(ctx.id)
        business_id = business_id or (
            data.business_id if isinstance(data.business_id, str) else None
        )
        if not webhook_id:
            raise DiagnosticError(
                "Invalid import id",
                f'Expected "<webhook_id>" or "<business_id>/<webhook_id>", got "{ctx.id}".',
            )
        if not business_id:
            raise DiagnosticError(
                "Business unknown for import",
                f'Import "{webhook_id}" needs a business: use "<business_id>/{webhook_id}", or '
                "set business_id in the provider block or CONNECTLY_BUSINESS_ID.",
            )
        try:
            webhook = data.client().get_webhook(
                business_id, webhook_id, deadline=time.monotonic() + TIMEOUT_DEFAULTS["read"]
            )
        except ConnectlyError as exc:
            raise api_error("import", exc, None, base_url=data.base_url) from None
        except Interrupted:
            raise _interrupted("import") from None
        if webhook is None:
            raise DiagnosticError(
                "Cannot import webhook",
                f"no webhook {webhook_id} in business {business_id}",
            )
        private: dict[str, Any] = {}
        state = state_from_api(webhook, business_id, {}, private)
        ctx.private = _pack(private)
        if private.get(_TYPE_ASSUMED):
            ctx.diags.warning(
                "Webhook type not reported",
                f"Connectly's listing does not say the type of webhook {webhook_id}; Terraform "
                f'recorded "{state["type"]}" as an assumption (generated configuration shows '
                "it too). Set type in the configuration to the webhook's real type: until "
                "the API reports one, a different configured type is recorded in place, "
                "never by replacing the webhook.",
                ("type",),
            )
        return state


def planned_known(planned: dict[str, Any]) -> dict[str, Any]:
    return _fill_unknown(planned)


def _write_only_token(config: Any) -> str | None:
    """The write-only token from the configuration (it never appears in plans or state)."""
    configuration = config.get("configuration") if isinstance(config, dict) else None
    we = configuration.get("webengage_configuration") if isinstance(configuration, dict) else None
    token = we.get("webengage_token_wo") if isinstance(we, dict) else None
    if isinstance(token, str):
        register_secret(token)
        return token
    return None


def _validate_write_only(configuration: Any, diags: Any) -> None:
    we = configuration.get("webengage_configuration") if isinstance(configuration, dict) else None
    if not isinstance(we, dict):
        return
    path = ("configuration", "webengage_configuration")
    if we.get("webengage_token") is not None and we.get("webengage_token_wo") is not None:
        diags.error(
            "Two tokens set",
            "Set either webengage_token or webengage_token_wo, not both.",
            (*path, "webengage_token_wo"),
        )
    if we.get("webengage_token_wo") is not None and we.get("webengage_token_wo_version") is None:
        diags.error(
            "Missing webengage_token_wo_version",
            "webengage_token_wo is never stored, so Terraform cannot see when it changes: set "
            "webengage_token_wo_version too, and change it whenever the token changes.",
            (*path, "webengage_token_wo_version"),
        )


def _check_stop(ctx: Any) -> None:
    data = ctx.provider_data
    if ctx.stop.is_set() or (data is not None and data.stopping.is_set()):
        raise Interrupted()


def _interrupted(operation: str) -> DiagnosticError:
    return DiagnosticError(
        "Interrupted",
        f"Terraform was interrupted before the {operation} finished; nothing more was sent. "
        "Run terraform apply again to finish.",
    )


def _register_secrets(configuration: Any) -> None:
    if isinstance(configuration, dict) and isinstance(
        configuration.get("webengage_configuration"), dict
    ):
        register_secret(configuration["webengage_configuration"].get("webengage_token"))


_ADDRESS_NOTE = (
    'ADDRESS is this resource\'s address, as the line starting with "with" in this error shows it'
)


def _conflict_error(
    business_id: str, spec: WebhookSpec, existing: Webhook | None
) -> DiagnosticError:
    """A 409 on create, told apart by who holds the topic: a registration identical to this
    one (left by an interrupted apply, or the webhook being replaced under
    create_before_destroy), or a different one (someone else's)."""
    topic = spec.topic
    cbd = (
        "\n\nIf Terraform is replacing this resource and its lifecycle has "
        "create_before_destroy, the holder is the webhook being replaced: remove "
        "create_before_destroy and apply again; nothing was changed."
    )
    webhook_id = existing.id if existing is not None else "<webhook id>"
    adopt = (
        f'  terraform import ADDRESS "{business_id}/{webhook_id}"\n\n'
        f"({_ADDRESS_NOTE}), or add an import block with "
        f'id = "{business_id}/{webhook_id}" and apply.'
    )
    if existing is not None and _identical_registration(existing, spec):
        return DiagnosticError(
            "Topic already has this webhook",
            f"Business {business_id} already has webhook {existing.id} for topic "
            f'"{topic}", with the same address and settings as this resource. It was most '
            "likely registered by an earlier apply that was interrupted before it could save "
            "the webhook in state. Adopt it into this resource (nothing is sent to "
            f"Connectly):\n\n{adopt}" + cbd,
            ("topic",),
        )
    holder = (
        "another webhook"
        if existing is None
        else f"webhook {existing.id} (address {existing.address})"
    )
    return DiagnosticError(
        "Topic already has a webhook",
        f'Business {business_id} already has {holder} for topic "{topic}", and Connectly '
        "allows one webhook per topic. If it is not managed elsewhere and you want Terraform "
        f"to manage it with this configuration, adopt it:\n\n{adopt}\n\nOtherwise choose "
        "another topic or business, or delete that webhook first." + cbd,
        ("topic",),
    )


def _identical_registration(existing: Webhook, spec: WebhookSpec) -> bool:
    """Whether a listed webhook is what ``spec`` would register, as far as the listing shows:
    parts the listing leaves out, or the spec leaves to the server, are not compared."""
    if existing.topic != spec.topic or existing.address != spec.address:
        return False
    if existing.type is not None and existing.type != spec.type:
        return False
    want, have = spec.configuration, existing.configuration
    if want is None or have is None:
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


def _sorted_or_none(values: Any) -> list[Any] | None:
    return None if values is None else sorted(values)


def _filters_or_none(filters: Any) -> list[tuple[str, str]] | None:
    return None if filters is None else sorted((f.field, f.expression) for f in filters)


def _warn_replacement_needs_delete_first(ctx: PlanContext) -> None:
    """A type change replaces the webhook with one for the same topic of the same business.
    Terraform does not tell providers about lifecycle settings, so this warns on every such
    replacement (``-replace`` and taints are not visible to the provider at all)."""
    planned, prior = ctx.planned, ctx.prior
    if not isinstance(planned.get("type"), str):
        return
    if prior.get("topic") != planned.get("topic"):
        return
    if prior.get("business_id") != planned.get("business_id"):
        return
    ctx.diags.warning(
        "Replacement needs the old webhook deleted first",
        f"Changing the type replaces webhook {prior.get('id')} with a new one for the same "
        f'topic ("{planned.get("topic")}") of business {planned.get("business_id")}. '
        + _CBD_ADVICE,
        ("type",),
    )


def _plan_webengage_null_unless_webengage(planned: dict[str, Any]) -> None:
    """Only webengage webhooks carry webengage settings: for any other known type the plan
    says null instead of "known after apply"."""
    configuration = planned.get("configuration")
    type_ = planned.get("type")
    if (
        isinstance(configuration, dict)
        and configuration.get("webengage_configuration") is UNKNOWN
        and isinstance(type_, str)
        and type_ != "webengage"
    ):
        configuration["webengage_configuration"] = None


def _may_hold_hidden_token(prior: Any) -> bool:
    """Whether the server may hold a token Terraform does not know: the API never shows one,
    so any webhook whose state has no token may have one (set before an import, by another
    tool, or written with webengage_token_wo)."""
    configuration = prior.get("configuration") if isinstance(prior, dict) else None
    we = configuration.get("webengage_configuration") if isinstance(configuration, dict) else None
    return not (isinstance(we, dict) and we.get("webengage_token") is not None)


def _hidden_token_error() -> DiagnosticError:
    return DiagnosticError(
        "Webengage token would be removed",
        "This change sends webengage_configuration, which Connectly replaces as a whole, "
        "token included. Terraform does not know this webhook's token (the API never shows "
        "it; after an import state has none), so sending the new settings without one would "
        "remove a token the webhook may have. Set webengage_token, or webengage_token_wo "
        "with webengage_token_wo_version, to the token the webhook should keep.",
        ("configuration", "webengage_configuration", "webengage_token"),
    )


def _refuse_hidden_token_loss(ctx: PlanContext) -> None:
    """An update must never remove a secret Terraform cannot see: refuse the plan that would."""
    changed = changed_configuration(
        ctx.planned.get("configuration"), ctx.prior.get("configuration")
    )
    we = changed.get("webengage_configuration")
    if not isinstance(we, dict) or we.get("webengage_token") is not None:
        return
    configuration = ctx.config.get("configuration") if isinstance(ctx.config, dict) else None
    config_we = (
        configuration.get("webengage_configuration") if isinstance(configuration, dict) else None
    )
    if isinstance(config_we, dict) and config_we.get("webengage_token_wo") is not None:
        return  # the write-only token is sent with the settings
    if _may_hold_hidden_token(ctx.prior):
        ctx.diags.extend([_hidden_token_error().diagnostic])


LIST_SCHEMA = Schema(
    Block(
        {
            "business_id": Attribute(
                cty.STRING,
                optional=True,
                description="The business to list. Defaults to the provider's `business_id`.",
                validators=(NotBlank(),),
            ),
            "topic": Attribute(
                cty.STRING,
                optional=True,
                description="Only webhooks of this topic.",
                validators=(OneOf(TOPICS),),
            ),
        },
        description="The webhooks of a business, for `terraform query` and bulk import with "
        "`-generate-config-out`.",
    )
)


class WebhookList(ListResource):
    """``list "connectly_webhook"``: the webhooks of a business, for ``terraform query``."""

    type_name = "connectly_webhook"
    schema = LIST_SCHEMA

    def list(self, ctx: ListContext) -> Iterator[ListResult]:
        from ..connectly.errors import ConnectlyError

        data = _data(ctx)
        config = ctx.config or {}
        business_id = config.get("business_id") or data.business_id
        if not isinstance(business_id, str):
            raise DiagnosticError(
                "Missing business_id",
                "Set business_id in the list block's config, in the provider block, or in "
                "CONNECTLY_BUSINESS_ID.",
                ("business_id",),
            )
        try:
            webhooks = data.client().list_webhooks(
                business_id, deadline=time.monotonic() + TIMEOUT_DEFAULTS["read"]
            )
        except ConnectlyError as exc:
            raise api_error(
                "list webhooks", exc, {"business_id": business_id}, base_url=data.base_url
            ) from None
        except Interrupted:
            raise _interrupted("listing") from None
        topic = config.get("topic")
        for webhook in sorted(webhooks, key=lambda w: (w.topic or "", w.id)):
            if topic and webhook.topic != topic:
                continue
            state = state_from_api(webhook, business_id, {}, {})
            unreported = (
                "" if webhook.type is not None else f" (type not reported: {state['type']} assumed)"
            )
            yield ListResult(
                identity={"business_id": business_id, "id": webhook.id},
                display_name=f"{webhook.topic} webhook {webhook.id} → {webhook.address}"
                + unreported,
                # Terraform needs the object whenever it generates configuration, so it is
                # always sent: it costs nothing more, the listing already has it.
                state=state,
            )
