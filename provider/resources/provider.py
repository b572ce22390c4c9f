"""The ``connectly`` provider block: credentials, the default business and the API address."""

from __future__ import annotations

import os
from typing import Any

from ..framework import UNKNOWN, cty, register_secret
from ..framework.resource import DataSource, ListResource, Provider, Resource, ValidateContext
from ..framework.schema import Attribute, Block, Schema
from ..framework.validators import HttpUrl, NotBlank
from .provider_data import ProviderData

DEFAULT_BASE_URL = "https://api.connectly.ai"

SCHEMA = Schema(
    Block(
        {
            "api_key": Attribute(
                cty.STRING,
                optional=True,
                sensitive=True,
                description="Connectly API key, sent as `X-API-Key`. "
                "Defaults to the `CONNECTLY_API_KEY` environment variable.",
                validators=(NotBlank(),),
            ),
            "business_id": Attribute(
                cty.STRING,
                optional=True,
                description="The business that resources belong to unless they set their own "
                "`business_id`. Defaults to the `CONNECTLY_BUSINESS_ID` environment variable.",
                validators=(NotBlank(),),
            ),
            "base_url": Attribute(
                cty.STRING,
                optional=True,
                description=f"The API address. Defaults to `CONNECTLY_BASE_URL`, else "
                f"`{DEFAULT_BASE_URL}`. `http://127.0.0.1:PORT` reaches a local emulator.",
                validators=(HttpUrl(),),
            ),
            "ca_bundle": Attribute(
                cty.STRING,
                optional=True,
                description="Path to a PEM file of the certificate authorities to trust for "
                "the API instead of the system's (TLS verification itself is always on). "
                "Defaults to `CONNECTLY_CA_BUNDLE`.",
            ),
        },
        description="Manage [Connectly](https://connectly.ai) webhook registrations.",
    )
)


def _check_ca_bundle(path: str, ctx: ValidateContext) -> None:
    import ssl

    if not os.path.isfile(path):
        ctx.diags.error("CA bundle not found", f"No file at {path!r}.", ("ca_bundle",))
        return
    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, OSError, ValueError) as exc:
        ctx.diags.error(
            "Unusable CA bundle",
            f"{path!r} is not a PEM file of certificates OpenSSL can load: {exc}",
            ("ca_bundle",),
        )


def _given(config: Any, name: str) -> bool:
    return isinstance(config, dict) and config.get(name) is not None


def _setting(config: Any, name: str, env: str) -> Any:
    value = config.get(name) if isinstance(config, dict) else None
    if value is None:
        value = os.environ.get(env) or None
    return value


class ConnectlyProvider(Provider):
    type_name = "connectly"
    schema = SCHEMA

    def __init__(self) -> None:
        self.data: ProviderData | None = None

    def resources(self) -> list[Resource]:
        from .webhook import WebhookResource

        return [WebhookResource()]

    def data_sources(self) -> list[DataSource]:
        from .webhooks import WebhooksDataSource

        return [WebhooksDataSource()]

    def list_resources(self) -> list[ListResource]:
        from .webhook import WebhookList

        return [WebhookList()]

    def configure(self, ctx: ValidateContext, terraform_version: str) -> Any:
        api_key = _setting(ctx.config, "api_key", "CONNECTLY_API_KEY")
        business_id = _setting(ctx.config, "business_id", "CONNECTLY_BUSINESS_ID")
        base_url = _setting(ctx.config, "base_url", "CONNECTLY_BASE_URL") or DEFAULT_BASE_URL
        ca_bundle = _setting(ctx.config, "ca_bundle", "CONNECTLY_CA_BUNDLE")
        if api_key is None:
            ctx.diags.error(
                "Missing Connectly API key",
                'Set `api_key` in the provider "connectly" block (for example from a '
                "sensitive variable), or set the CONNECTLY_API_KEY environment variable.",
                ("api_key",),
            )
            return None
        if isinstance(api_key, str):
            register_secret(api_key)
            from ..connectly.credentials import check_api_key

            try:
                check_api_key(api_key)
            except ValueError as exc:
                where = "api_key" if _given(ctx.config, "api_key") else "CONNECTLY_API_KEY"
                ctx.diags.error(
                    "Unusable Connectly API key",
                    f"The key in {where}: {exc}. A key read from a file often ends with a "
                    "newline: use trimspace(file(...)).",
                    ("api_key",),
                )
        if base_url is not UNKNOWN:
            HttpUrl()(base_url, ("base_url",), ctx.diags)
        if isinstance(ca_bundle, str):
            _check_ca_bundle(ca_bundle, ctx)
        if ctx.diags.has_errors:
            return None
        self.data = ProviderData(
            api_key=api_key,
            business_id=business_id,
            base_url=str(base_url).rstrip("/") if base_url is not UNKNOWN else "",
            verify=ca_bundle if isinstance(ca_bundle, str) else True,
        )
        return self.data

    def stop(self) -> None:
        if self.data is not None:
            self.data.stopping.set()
