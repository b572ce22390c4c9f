"""``connectly_webhook``: one webhook registration, for one topic of one business.

Each operation follows the attribute rules of ``docs/design.md``; the rules themselves (what a
listing means for state, what an update sends) are the pure functions of ``mapping.py``, and
the values are the typed ones of ``state.py``.
"""

from __future__ import annotations

import time
from typing import Any

from ...framework import UNKNOWN, register_secret
from ...framework.diagnostics import DiagnosticError, Diagnostics
from ...framework.privatestate import PrivateState
from ...framework.resource import (
    ApplyContext,
    ImportContext,
    PlanContext,
    ReadContext,
    Resource,
    ValidateContext,
)
from ...framework.timeouts import seconds_for
from ...framework.values import overlay_known, unknown_as_null
from ..errors import api_calls, interrupted_detail
from ..provider_data import Interrupted, check_stop, configured
from . import mapping, messages
from .schema import IDENTITY, SCHEMA, TIMEOUT_DEFAULTS
from .state import DEFAULT_TYPE, WebhookState, upgrade_from_v0

# Private state: set when the state's `type` is an assumption (an import where the listing
# did not say), so that a configured type different from it is recorded in place instead of
# replacing a webhook that may well have that type already.
TYPE_ASSUMED = "type_assumed"


def _timeout(state: WebhookState, operation: str) -> tuple[str, float]:
    """The operation's ``timeouts`` key and its seconds (configured, else the default)."""
    return operation, seconds_for(state.timeouts, operation, TIMEOUT_DEFAULTS[operation])


def _deadline(state: WebhookState, operation: str) -> float:
    return time.monotonic() + _timeout(state, operation)[1]


def _url(ctx: Any) -> str | None:
    data = ctx.provider_data
    return data.base_url if data is not None else None


def _record_type(private: PrivateState, type_assumed: bool | None) -> None:
    """Marks (or settles) an assumed type; ``None`` leaves an earlier mark as it is."""
    if type_assumed is not None:
        private.set(TYPE_ASSUMED, True if type_assumed else None)


def _write_only_token(config: WebhookState | None) -> str | None:
    """The write-only token from the configuration (it never appears in plans or state)."""
    we = config.webengage() if config is not None else None
    token = we.webengage_token_wo if we is not None else None
    if isinstance(token, str):
        register_secret(token)
        return token
    return None


def _register_secrets(state: WebhookState) -> None:
    we = state.webengage()
    if we is not None:
        register_secret(we.webengage_token)


class WebhookResource(Resource):
    type_name = "connectly_webhook"
    schema = SCHEMA
    identity_schema = IDENTITY

    def identity_of(self, state: Any) -> dict[str, Any] | None:
        return WebhookState.from_value(state).identity()

    def upgrade_state(self, version: int, state: dict[str, Any]) -> dict[str, Any]:
        return upgrade_from_v0(state)

    # ----------------------------------------------------------------- validate

    def validate(self, ctx: ValidateContext) -> None:
        config = WebhookState.from_value(ctx.config or {})
        _validate_write_only(config, ctx.diags)
        type_ = DEFAULT_TYPE if config.type is None else config.type
        conf = config.conf()
        if (
            conf is not None
            and conf.webengage_configuration is not None
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
        config = WebhookState.from_value(ctx.config or {})
        planned = WebhookState.from_value(ctx.planned)
        prior = WebhookState.from_optional(ctx.prior)
        if config.business_id is None:
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
            planned.business_id = default
        # Only webengage webhooks carry webengage settings: for any other known type the plan
        # says null instead of "known after apply".
        conf = planned.conf()
        if (
            conf is not None
            and conf.webengage_configuration is UNKNOWN
            and isinstance(planned.type, str)
            and planned.type != "webengage"
        ):
            conf.webengage_configuration = None
        ctx.planned = planned.to_value()
        if prior is None:
            return
        _refuse_hidden_token_loss(config, planned, prior, ctx.diags)
        if planned.type == prior.type:
            return
        if ctx.private.get(TYPE_ASSUMED):
            # The prior type was a guess (see TYPE_ASSUMED): adopt the configured one in
            # place. The remote webhook keeps whatever type it has; the API cannot change it.
            ctx.prior = {**ctx.prior, "type": planned.type}
            ctx.diags.warning(
                "Webhook type recorded, not changed",
                "This webhook was imported and the API did not report its type; "
                f'Terraform will record type "{planned.type}" from your '
                "configuration without replacing the webhook. The type stays marked as "
                "unconfirmed until the API reports one.",
                ("type",),
            )
        elif (
            isinstance(planned.type, str)
            and prior.topic == planned.topic
            and prior.business_id == planned.business_id
        ):
            # A type change replaces the webhook with one for the same topic of the same
            # business. Terraform does not tell providers about lifecycle settings, so this
            # warns on every such replacement.
            ctx.diags.warning(
                "Replacement needs the old webhook deleted first",
                f"Changing the type replaces webhook {prior.id} with a new one for the same "
                f'topic ("{planned.topic}") of business {planned.business_id}. '
                + messages.CBD_ADVICE,
                ("type",),
            )

    # ----------------------------------------------------------------- read

    def read(self, ctx: ReadContext) -> Any:
        state = WebhookState.from_value(ctx.state)
        client = configured(ctx.provider_data).client()
        assert state.business_id is not None and state.id is not None
        with api_calls(
            "read",
            ctx.state,
            timeout=_timeout(state, "read"),
            base_url=_url(ctx),
            interrupted=interrupted_detail("refresh"),
        ):
            webhook = client.get_webhook(
                state.business_id, state.id, deadline=_deadline(state, "read"), shared=True
            )
        if webhook is None:
            return None
        observed = mapping.state_from_api(webhook, state.business_id, state)
        _record_type(ctx.private, observed.type_assumed)
        return observed.state.to_value()

    # ----------------------------------------------------------------- create

    def create(self, ctx: ApplyContext) -> Any:
        from ...connectly.errors import Conflict
        from ...connectly.models import WebhookSpec

        planned = WebhookState.from_value(ctx.planned)
        business_id = planned.business_id
        assert business_id is not None and planned.topic is not None and planned.address
        client = configured(ctx.provider_data).client()
        deadline = _deadline(planned, "create")
        _register_secrets(planned)
        spec = WebhookSpec(
            topic=planned.topic,
            address=planned.address,
            type=planned.type,
            configuration=mapping.configuration_to_api(
                planned.conf(), _write_only_token(WebhookState.from_optional(ctx.config))
            ),
        )
        timeout = _timeout(planned, "create")
        with api_calls(
            "create",
            ctx.planned,
            timeout=timeout,
            base_url=_url(ctx),
            interrupted=messages.CREATE_INTERRUPTED,
        ):
            try:
                # Only to notice a webhook the API displaces ("replace" behaviour); never
                # taken over: it may be one this very run is deleting (create_before_destroy,
                # renames).
                before = client.list_webhooks(business_id, deadline=deadline, shared=True)
                holder = next((w for w in before if w.topic == spec.topic), None)
                check_stop(ctx)
                webhook_id = client.create_webhook(
                    business_id,
                    spec,
                    deadline=deadline,
                    preexisting={w.id for w in before if w.topic == spec.topic},
                )
            except Conflict as exc:
                raise messages.conflict_error(business_id, spec, exc.existing) from None

        # From here on the webhook exists: whatever fails, the state must keep its id.
        made = unknown_as_null({**ctx.planned, "id": webhook_id})
        ctx.partial_state = made
        with api_calls("read after create", ctx.planned, timeout=timeout, base_url=_url(ctx)):
            try:
                after = client.list_webhooks(business_id, deadline=deadline)
            except Interrupted:
                # The webhook exists with what we sent; the next refresh fills in the rest.
                ctx.partial_state = None
                ctx.diags.warning(
                    "Interrupted after create",
                    f"Webhook {webhook_id} was created; values the server fills in are read "
                    "on the next refresh.",
                )
                return made
        created = next((w for w in after if w.id == webhook_id), None)
        if created is None:
            raise DiagnosticError(
                "Webhook vanished right after create",
                f"Connectly accepted webhook {webhook_id} in business {business_id} but does "
                "not list it. It is saved as tainted; the next apply replaces it.",
            )
        if holder is not None and holder.id != webhook_id and all(w.id != holder.id for w in after):
            ctx.diags.warning(
                "An existing webhook was replaced",
                f"Business {business_id} already had webhook {holder.id} for topic "
                f'"{spec.topic}" (address {holder.address}). Connectly replaced it with this '
                "one. If another Terraform configuration managed it, its next plan will want "
                "to create it again.",
            )
        kept = WebhookState.from_value(unknown_as_null(ctx.planned))
        observed = mapping.state_from_api(created, business_id, kept)
        ctx.private.clear()  # a new object; and we sent the type ourselves
        ctx.partial_state = None
        return overlay_known(ctx.planned, observed.state.to_value())

    # ----------------------------------------------------------------- update

    def update(self, ctx: ApplyContext) -> Any:
        from ...connectly.errors import NotFound

        planned = WebhookState.from_value(ctx.planned)
        prior = WebhookState.from_value(ctx.prior)
        business_id, webhook_id = prior.business_id, prior.id
        assert business_id is not None and webhook_id is not None
        client = configured(ctx.provider_data).client()
        deadline = _deadline(planned, "update")
        _register_secrets(planned)
        address = planned.address if planned.address != prior.address else None
        changed = mapping.changed_configuration(planned.configuration, prior.configuration)
        api_configuration = None
        if changed is not None:
            api_configuration = mapping.configuration_to_api(
                changed, _write_only_token(WebhookState.from_optional(ctx.config))
            )
            we = api_configuration.webengage_configuration if api_configuration else None
            if we is not None and not we.webengage_token and mapping.may_hold_hidden_token(prior):
                # The plan refuses this already; never send it even if a plan slipped by.
                raise messages.hidden_token_error()
        with api_calls(
            "update", ctx.planned, timeout=_timeout(planned, "update"), base_url=_url(ctx)
        ):
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
                raise messages.gone_error(business_id, webhook_id) from None
        if current is None:
            raise messages.gone_error(business_id, webhook_id, " during the update")
        # An assumed type stays marked until a listing reports the type: the update did not
        # change the remote type (the API cannot), it only recorded the configured one.
        kept = WebhookState.from_value(unknown_as_null(ctx.planned))
        observed = mapping.state_from_api(current, business_id, kept)
        _record_type(ctx.private, observed.type_assumed)
        return overlay_known(ctx.planned, observed.state.to_value())

    # ----------------------------------------------------------------- delete

    def delete(self, ctx: ApplyContext) -> None:
        prior = WebhookState.from_value(ctx.prior)
        assert prior.business_id is not None and prior.id is not None
        client = configured(ctx.provider_data).client()
        with api_calls("delete", ctx.prior, timeout=_timeout(prior, "delete"), base_url=_url(ctx)):
            client.delete_webhook(prior.business_id, prior.id, deadline=_deadline(prior, "delete"))

    # ----------------------------------------------------------------- import

    def import_state(self, ctx: ImportContext) -> Any:
        data = configured(ctx.provider_data)
        if ctx.identity:
            business_id, webhook_id = ctx.identity.get("business_id"), ctx.identity.get("id")
        else:
            try:
                business_id, webhook_id = mapping.parse_import_id(ctx.id)
            except mapping.ImportIdError as exc:
                raise DiagnosticError("Invalid import id", str(exc)) from None
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
        with api_calls("import", None, base_url=data.base_url):
            webhook = data.client().get_webhook(
                business_id, webhook_id, deadline=time.monotonic() + TIMEOUT_DEFAULTS["read"]
            )
        if webhook is None:
            raise DiagnosticError(
                "Cannot import webhook",
                f"no webhook {webhook_id} in business {business_id}",
            )
        observed = mapping.state_from_api(webhook, business_id, None)
        _record_type(ctx.private, observed.type_assumed)
        if observed.type_assumed:
            ctx.diags.warning(
                "Webhook type not reported",
                messages.type_assumed_detail(webhook_id, observed.state.type),
                ("type",),
            )
        return observed.state.to_value()


def _validate_write_only(config: WebhookState, diags: Diagnostics) -> None:
    we = config.webengage()
    if we is None:
        return
    path = ("configuration", "webengage_configuration")
    if we.webengage_token is not None and we.webengage_token_wo is not None:
        diags.error(
            "Two tokens set",
            "Set either webengage_token or webengage_token_wo, not both.",
            (*path, "webengage_token_wo"),
        )
    if we.webengage_token_wo is not None and we.webengage_token_wo_version is None:
        diags.error(
            "Missing webengage_token_wo_version",
            "webengage_token_wo is never stored, so Terraform cannot see when it changes: set "
            "webengage_token_wo_version too, and change it whenever the token changes.",
            (*path, "webengage_token_wo_version"),
        )


def _refuse_hidden_token_loss(
    config: WebhookState, planned: WebhookState, prior: WebhookState, diags: Diagnostics
) -> None:
    """An update must never remove a secret Terraform cannot see: refuse the plan that would."""
    changed = mapping.changed_configuration(planned.configuration, prior.configuration)
    we = changed.webengage() if changed is not None else None
    if we is None or we.webengage_token is not None:
        return
    config_we = config.webengage()
    if config_we is not None and config_we.webengage_token_wo is not None:
        return  # the write-only token is sent with the settings
    if mapping.may_hold_hidden_token(prior):
        diags.extend([messages.hidden_token_error().diagnostic])
