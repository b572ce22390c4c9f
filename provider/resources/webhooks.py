"""``connectly_webhooks``: every webhook registration of a business, read-only."""

from __future__ import annotations

import time
from typing import Any

from ..framework import cty
from ..framework.diagnostics import DiagnosticError
from ..framework.resource import DataSource, ValidateContext
from ..framework.schema import Attribute, Block, Schema
from ..framework.validators import NotBlank

WEBHOOK = cty.Object(
    {
        "id": cty.STRING,
        "topic": cty.STRING,
        "address": cty.STRING,
        "type": cty.STRING,
        "configuration": cty.Object(
            {
                "echo": cty.BOOL,
                "channel_types": cty.Set(cty.STRING),
                "filters": cty.List(cty.Object({"field": cty.STRING, "expression": cty.STRING})),
                "webengage_webhook_url": cty.STRING,
            }
        ),
    }
)

SCHEMA = Schema(
    Block(
        {
            "business_id": Attribute(
                cty.STRING,
                optional=True,
                computed=True,
                description="The business to list. Defaults to the provider's `business_id`.",
                validators=(NotBlank(),),
            ),
            "webhooks": Attribute(
                cty.List(WEBHOOK),
                computed=True,
                description="The business's webhooks, ordered by topic then id. `type` is null "
                "when the API does not report it; webengage tokens are never shown.",
            ),
        },
        description="Lists the webhook registrations of a business.",
    )
)


class WebhooksDataSource(DataSource):
    type_name = "connectly_webhooks"
    schema = SCHEMA

    def read(self, ctx: ValidateContext) -> Any:
        from ..connectly.errors import ConnectlyError
        from .errors import api_error
        from .provider import Interrupted

        data = ctx.provider_data
        if data is None:
            raise DiagnosticError("Provider not configured", "See the errors above.")
        business_id = (ctx.config or {}).get("business_id") or data.business_id
        if not isinstance(business_id, str):
            raise DiagnosticError(
                "Missing business_id",
                "Set business_id here, in the provider block, or in CONNECTLY_BUSINESS_ID.",
                ("business_id",),
            )
        try:
            webhooks = data.client().list_webhooks(
                business_id, deadline=time.monotonic() + 120.0, shared=True
            )
        except ConnectlyError as exc:
            raise api_error(
                "list webhooks", exc, {"business_id": business_id}, base_url=data.base_url
            ) from None
        except Interrupted:
            raise DiagnosticError(
                "Interrupted", "Terraform was interrupted before the listing finished."
            ) from None
        items = []
        for w in sorted(webhooks, key=lambda w: (w.topic or "", w.id)):
            c = w.configuration
            we = c.webengage_configuration if c is not None else None
            items.append(
                {
                    "id": w.id,
                    "topic": w.topic,
                    "address": w.address,
                    "type": w.type,
                    "configuration": None
                    if c is None
                    else {
                        "echo": c.echo,
                        "channel_types": c.channel_types,
                        "filters": None
                        if c.filters is None
                        else [{"field": f.field, "expression": f.expression} for f in c.filters],
                        "webengage_webhook_url": we.webengage_webhook_url if we else None,
                    },
                }
            )
        return {"business_id": business_id, "webhooks": items}
