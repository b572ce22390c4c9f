"""The schemas of ``connectly_webhook``, its identity and its list block, with the words
users read in the docs and in ``terraform providers schema``.

Each attribute carries its own validators and plan modifiers; the rules for plan, read and
import that no single attribute can say live in ``resource.py`` and ``mapping.py``.
"""

from __future__ import annotations

from ...framework import cty
from ...framework.planmodifiers import RequiresReplace, UseStateForUnknown
from ...framework.schema import (
    Attribute,
    Block,
    IdentityAttribute,
    IdentitySchema,
    NestedAttributes,
    Schema,
)
from ...framework.timeouts import timeouts_attribute
from ...framework.validators import (
    EachElement,
    HttpUrl,
    MaxLength,
    NoControlCharacters,
    NotBlank,
    OneOf,
    SizeAtLeast,
)
from .state import DEFAULT_TYPE

TOPICS = ("messages", "delivery_status", "report")
TYPES = ("custom", "zapier", "webengage", "integromat_make")
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
