"""``list "connectly_webhook"``: the webhooks of a business, for ``terraform query`` and bulk
import with ``-generate-config-out``."""

from __future__ import annotations

import time
from collections.abc import Iterator

from ...framework.resource import ListContext, ListResource, ListResult
from ..errors import api_calls, interrupted_detail
from ..provider_data import configured, default_business
from . import mapping
from .schema import LIST_SCHEMA, TIMEOUT_DEFAULTS


class WebhookList(ListResource):
    type_name = "connectly_webhook"
    schema = LIST_SCHEMA

    def list(self, ctx: ListContext) -> Iterator[ListResult]:
        data = configured(ctx.provider_data)
        config = ctx.config or {}
        business_id = default_business(
            config.get("business_id"), data, "in the list block's config"
        )
        with api_calls(
            "list webhooks",
            {"business_id": business_id},
            base_url=data.base_url,
            interrupted=interrupted_detail("listing"),
        ):
            webhooks = data.client().list_webhooks(
                business_id, deadline=time.monotonic() + TIMEOUT_DEFAULTS["read"]
            )
        topic = config.get("topic")
        for webhook in mapping.listing_order(webhooks):
            if topic and webhook.topic != topic:
                continue
            state = mapping.state_from_api(webhook, business_id, None).state
            unreported = (
                "" if webhook.type is not None else f" (type not reported: {state.type} assumed)"
            )
            yield ListResult(
                identity=state.identity(),
                display_name=f"{webhook.topic} webhook {webhook.id} → {webhook.address}"
                + unreported,
                # Terraform needs the object whenever it generates configuration, so it is
                # always sent: it costs nothing more, the listing already has it.
                state=state.to_value(),
            )
