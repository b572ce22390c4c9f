"""``testing_thing``: a resource kept as one JSON file per object in a folder."""

from __future__ import annotations

import json
import os
import uuid
from decimal import Decimal
from pathlib import Path as FsPath
from typing import Any

from terraform_provider_connectly.framework.planmodifiers import RequiresReplace, UseStateForUnknown
from terraform_provider_connectly.framework.resource import (
    ApplyContext,
    DataSource,
    ImportContext,
    PlanContext,
    Provider,
    ReadContext,
    Resource,
    ValidateContext,
)
from terraform_provider_connectly.framework.schema import (
    Attribute,
    Block,
    IdentityAttribute,
    IdentitySchema,
    NestedAttributes,
    NestedBlock,
    Schema,
)
from terraform_provider_connectly.framework.validators import OneOf
from terraform_provider_connectly.plugin import cty

THING = Schema(
    Block(
        {
            "id": Attribute(cty.STRING, computed=True, plan_modifiers=(UseStateForUnknown(),)),
            "name": Attribute(cty.STRING, required=True, plan_modifiers=(RequiresReplace(),)),
            "size": Attribute(cty.NUMBER, optional=True),
            "color": Attribute(
                cty.STRING,
                optional=True,
                computed=True,
                default="red",
                validators=(OneOf(("red", "green", "blue")),),
            ),
            "tags": Attribute(cty.Map(cty.STRING), optional=True),
            "labels": Attribute(cty.Set(cty.STRING), optional=True),
            "secret": Attribute(cty.STRING, optional=True, sensitive=True),
            "parts": Attribute(
                nested=NestedAttributes(
                    "list",
                    {
                        "key": Attribute(cty.STRING, required=True),
                        "weight": Attribute(cty.NUMBER, optional=True),
                    },
                ),
                optional=True,
            ),
            "created": Attribute(cty.STRING, computed=True, plan_modifiers=(UseStateForUnknown(),)),
            "revision": Attribute(cty.NUMBER, computed=True),
        },
        blocks={
            "rule": NestedBlock(
                "list",
                Block(
                    {
                        "match": Attribute(cty.STRING, required=True),
                        "priority": Attribute(cty.NUMBER, optional=True),
                    }
                ),
            ),
            "limits": NestedBlock("single", Block({"max": Attribute(cty.NUMBER, optional=True)})),
        },
    )
)


class Store:
    def __init__(self, folder: str) -> None:
        self.folder = FsPath(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def get(self, id_: str) -> dict[str, Any] | None:
        path = self.folder / f"{id_}.json"
        return json.loads(path.read_text(), parse_float=Decimal) if path.exists() else None

    def put(self, obj: dict[str, Any]) -> None:
        tmp = self.folder / f".{obj['id']}.tmp"
        tmp.write_text(json.dumps(obj, default=float))
        os.replace(tmp, self.folder / f"{obj['id']}.json")

    def delete(self, id_: str) -> None:
        (self.folder / f"{id_}.json").unlink(missing_ok=True)


def _to_remote(values: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "size", "color", "tags", "labels", "parts", "rule", "limits")
    return {k: values.get(k) for k in keys}


class Thing(Resource):
    type_name = "testing_thing"
    schema = THING
    identity_schema = IdentitySchema(
        (IdentityAttribute("id", cty.STRING, required_for_import=True),)
    )

    def identity_of(self, state: Any) -> dict[str, Any]:
        return {"id": state["id"]}

    def modify_plan(self, ctx: PlanContext) -> None:
        if ctx.prior is not None and ctx.planned != ctx.prior:
            ctx.planned["revision"] = cty.UNKNOWN

    def _state(self, obj: dict[str, Any], secret: Any) -> dict[str, Any]:
        return {**obj, "secret": secret}

    def create(self, ctx: ApplyContext) -> Any:
        store: Store = ctx.provider_data
        obj = {
            **_to_remote(ctx.planned),
            "id": uuid.uuid4().hex[:12],
            "created": "2026-01-01T00:00:00Z",
            "revision": 1,
        }
        store.put(obj)
        return self._state(obj, ctx.planned["secret"])

    def read(self, ctx: ReadContext) -> Any:
        store: Store = ctx.provider_data
        obj = store.get(ctx.state["id"])
        if obj is None:
            return None
        return self._state(obj, ctx.state.get("secret"))

    def update(self, ctx: ApplyContext) -> Any:
        store: Store = ctx.provider_data
        obj = store.get(ctx.prior["id"]) or {}
        obj.update(_to_remote(ctx.planned))
        obj["revision"] = int(obj.get("revision", 0)) + 1
        store.put(obj)
        return self._state(obj, ctx.planned["secret"])

    def delete(self, ctx: ApplyContext) -> None:
        ctx.provider_data.delete(ctx.prior["id"])

    def import_state(self, ctx: ImportContext) -> Any:
        id_ = ctx.id or (ctx.identity or {}).get("id")
        if not ctx.provider_data.get(id_):
            ctx.diags.error("Cannot import", f"no thing {id_!r}")
            return None
        # A list block with no blocks is [], never null.
        return {name: None for name in THING.type.attributes} | {"id": id_, "rule": []}


class Things(DataSource):
    type_name = "testing_things"
    schema = Schema(Block({"names": Attribute(cty.List(cty.STRING), computed=True)}))

    def read(self, ctx: ValidateContext) -> Any:
        store: Store = ctx.provider_data
        names = sorted(json.loads(p.read_text())["name"] for p in store.folder.glob("*.json"))
        return {"names": names}


class TestingProvider(Provider):
    type_name = "testing"
    schema = Schema(Block({"store": Attribute(cty.STRING, required=True)}))

    def resources(self) -> list[Resource]:
        return [Thing()]

    def data_sources(self) -> list[DataSource]:
        return [Things()]

    def configure(self, ctx: ValidateContext, terraform_version: str) -> Any:
        return Store(ctx.config["store"])


def main() -> int:
    from terraform_provider_connectly.plugin.server import ServeOptions, serve

    def servicer() -> object:
        from terraform_provider_connectly.framework.servicer import ProviderServicer

        return ProviderServicer(TestingProvider())

    return serve(servicer, ServeOptions(name="provider.testing"))
