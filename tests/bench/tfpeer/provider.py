"""The benchmark's comparison: ``connectly_webhook`` on the other Python provider framework.

Built on hfern/tf (PyPI ``tf==1.2.0``), with the same resource semantics as ours for what the
bench exercises: ``business_id``, ``topic`` and ``address``; create, read by listing the
business's webhooks and picking the id, update of the address in place, delete. It runs in a
venv of its own (``bench_tfpeer.ensure_venv``): tf 1.2.0 needs ``protobuf<6``. It is not part
of the provider and never imported by it; it uses only tf, httpx and the standard library.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import httpx
from tf import runner
from tf.iface import (
    Config,
    CreateContext,
    DataSource,
    DeleteContext,
    Provider,
    ReadContext,
    Resource,
    State,
    UpdateContext,
)
from tf.schema import Attribute, Schema
from tf.types import String
from tf.utils import Diagnostics


class Client:
    def __init__(self, base_url: str, api_key: str) -> None:
        self.http = httpx.Client(base_url=base_url, headers={"X-API-Key": api_key}, timeout=30)

    def _check(self, response: httpx.Response) -> dict[str, Any]:
        response.raise_for_status()
        return dict(response.json() or {})

    def create(self, business: str, topic: str, address: str) -> str:
        body = {"topic": topic, "address": address, "type": "custom"}
        path = f"/v1/businesses/{business}/create/webhooks"
        return str(self._check(self.http.post(path, json=body))["id"])

    def find(self, business: str, webhook_id: str) -> dict[str, Any] | None:
        entity = self._check(self.http.get(f"/v1/businesses/{business}/webhooks")).get("entity")
        for hook in (entity or {}).get("webhooks") or []:
            if hook.get("id") == webhook_id:
                return dict(hook)
        return None

    def update(self, business: str, webhook_id: str, address: str) -> None:
        path = f"/v1/businesses/{business}/update/webhooks/{webhook_id}"
        self._check(self.http.put(path, json={"address": address}))

    def delete(self, business: str, webhook_id: str) -> None:
        response = self.http.delete(f"/v1/businesses/{business}/delete/webhooks/{webhook_id}")
        if response.status_code != 404:
            self._check(response)


class Webhook(Resource):
    def __init__(self, provider: ConnectlyPeer) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return "webhook"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(
            attributes=[
                Attribute("id", String(), computed=True),
                Attribute("business_id", String(), required=True, requires_replace=True),
                Attribute("topic", String(), required=True, requires_replace=True),
                Attribute("address", String(), required=True),
            ]
        )

    def create(self, ctx: CreateContext, planned: State) -> State:
        hook_id = self.provider.client().create(
            planned["business_id"], planned["topic"], planned["address"]
        )
        return {**planned, "id": hook_id}

    def read(self, ctx: ReadContext, current: State) -> State | None:
        found = self.provider.client().find(current["business_id"], current["id"])
        if found is None:
            return None
        return {**current, "topic": found.get("topic"), "address": found.get("address")}

    def update(self, ctx: UpdateContext, current: State, planned: State) -> State:
        self.provider.client().update(current["business_id"], current["id"], planned["address"])
        return {**planned, "id": current["id"]}

    def delete(self, ctx: DeleteContext, current: State) -> None:
        self.provider.client().delete(current["business_id"], current["id"])


class ConnectlyPeer(Provider):
    def __init__(self) -> None:
        self._client: Client | None = None

    def get_model_prefix(self) -> str:
        return "connectly_"

    def full_name(self) -> str:
        return "registry.terraform.io/connectly/connectly"

    def get_provider_schema(self, diags: Diagnostics) -> Schema:
        return Schema(
            attributes=[
                Attribute("api_key", String(), required=True, sensitive=True),
                Attribute("base_url", String(), required=True),
                Attribute("business_id", String(), optional=True),
            ]
        )

    def validate_config(self, diags: Diagnostics, config: Config) -> None:
        pass

    def configure_provider(self, diags: Diagnostics, config: Config) -> None:
        self._client = Client(config["base_url"], config["api_key"])

    def client(self) -> Client:
        assert self._client is not None, "provider not configured"
        return self._client

    def get_data_sources(self) -> list[type[DataSource]]:
        return []

    def get_resources(self) -> list[type[Resource]]:
        return [Webhook]


if __name__ == "__main__":
    os.environ.setdefault("TF_PLUGIN_TIMING", "0")
    runner.run_provider(ConnectlyPeer(), sys.argv)
