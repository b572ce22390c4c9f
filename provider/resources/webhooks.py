"""``connectly_webhooks``: every webhook registration of a business, read-only."""

from __future__ import annotations

import time
from typing import Any

from ..framework import cty
from ..framework.resource import DataSource, ValidateContext
from ..framework.schema import Attribute, Block, Schema
from ..framework.validators import NotBlank
from .errors import api_calls
from .provider_data import configured, default_business
from .webhook import mapping
from .webhook.schema import TIMEOUT_DEFAULTS

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
        data = configured(ctx.provider_data)
        business_id = default_business((ctx.config or {}).get("business_id"), data, "here")
        with api_calls(
            "list webhooks",
            {"business_id": business_id},
            base_url=data.base_url,
            interrupted="Terraform was interrupted before the listing finished.",
        ):
            webhooks = data.client().list_webhooks(
                business_id, deadline=time.monotonic() + TIMEOUT_DEFAULTS["read"], shared=True
            )
        return {
            "business_id": business_id,
            "webhooks": [mapping.summary_from_api(w) for w in mapping.listing_order(webhooks)],
        }
