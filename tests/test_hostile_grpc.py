"""Malformed, truncated and oversized messages sent straight to the provider's gRPC server:
each gets a diagnostic, state handed in is never dropped, and the server keeps serving."""

from __future__ import annotations

import random
from pathlib import Path

import msgpack

from terraform_provider_connectly.plugin.wire import tfplugin6_pb2 as pb
from terraform_provider_connectly.plugin.wire import tfplugin6_pb2_grpc as pb_grpc

from pluginproc import channel, running_plugin

TYPE = "connectly_webhook"


def dv(data: bytes) -> pb.DynamicValue:
    return pb.DynamicValue(msgpack=data)


def errors(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [d.summary for d in response.diagnostics if d.severity == pb.Diagnostic.ERROR]


def test_garbage_gets_diagnostics_and_the_server_keeps_serving(tmp_path: Path) -> None:
    rng = random.Random(1234)
    garbage = [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200))) for _ in range(60)]
    garbage += [
        b"\xd4",  # truncated ext
        msgpack.packb({"id": 1}),  # wrong types, missing attributes
        msgpack.packb([1, 2, 3]),
        msgpack.packb({"topic": "messages", "nope": True}),
        b"\xdf\xff\xff\xff\xff",  # a map claiming four billion entries
    ]
    current = msgpack.packb({"id": "wh_1"})
    with running_plugin(tmp_path, None) as (_proc, fields), channel(fields, None) as ch:
        stub = pb_grpc.ProviderStub(ch)
        for data in garbage:
            answer = stub.ValidateResourceConfig(
                pb.ValidateResourceConfig.Request(type_name=TYPE, config=dv(data)), timeout=10
            )
            assert errors(answer), data
            plan = stub.PlanResourceChange(
                pb.PlanResourceChange.Request(
                    type_name=TYPE, config=dv(data), proposed_new_state=dv(data)
                ),
                timeout=10,
            )
            assert errors(plan)
            read = stub.ReadResource(
                pb.ReadResource.Request(type_name=TYPE, current_state=dv(data), private=b"keep-me"),
                timeout=10,
            )
            assert errors(read)
            # A failed read hands back exactly the state it was given: nothing is dropped.
            assert read.new_state.msgpack == data and read.private == b"keep-me"

        apply = stub.ApplyResourceChange(
            pb.ApplyResourceChange.Request(
                type_name=TYPE, prior_state=dv(current), planned_state=dv(b"\xc1")
            ),
            timeout=10,
        )
        assert errors(apply) and apply.new_state.msgpack == current

        upgrade = stub.UpgradeResourceState(
            pb.UpgradeResourceState.Request(
                type_name=TYPE, version=0, raw_state=pb.RawState(json=b'{"id": ')
            ),
            timeout=10,
        )
        assert errors(upgrade) == ["Invalid state"]

        unknown = stub.ValidateResourceConfig(
            pb.ValidateResourceConfig.Request(type_name="connectly_nope", config=dv(b"\xc0")),
            timeout=10,
        )
        assert errors(unknown) == ["Unknown resource type"]

        # Larger than grpcio's default 4 MB limit: accepted, and judged like any other value.
        big = msgpack.packb({"topic": "x" * (20 * 1024 * 1024)})
        answer = stub.ValidateResourceConfig(
            pb.ValidateResourceConfig.Request(type_name=TYPE, config=dv(big)), timeout=30
        )
        assert errors(answer)

        schema = stub.GetProviderSchema(pb.GetProviderSchema.Request(), timeout=10)
        assert TYPE in schema.resource_schemas


def test_import_of_odd_ids_is_a_clear_diagnostic(tmp_path: Path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    config = msgpack.packb(
        {
            "api_key": strict_emulator.api_key,
            "business_id": "biz_1",
            "base_url": strict_emulator.url,
            "ca_bundle": None,
        }
    )
    with running_plugin(tmp_path, None) as (_proc, fields), channel(fields, None) as ch:
        stub = pb_grpc.ProviderStub(ch)
        configured = stub.ConfigureProvider(
            pb.ConfigureProvider.Request(config=dv(config)), timeout=10
        )
        assert not errors(configured)
        for odd, summary in (
            ("", "Invalid import id"),
            ("/", "Invalid import id"),
            ("a/b/c", "Invalid import id"),
            ("wh_\x00", "Invalid import id"),
            ("x" * 100_000, "Invalid import id"),
            ("biz_1/wh_missing", "Cannot import webhook"),
        ):
            answer = stub.ImportResourceState(
                pb.ImportResourceState.Request(type_name=TYPE, id=odd), timeout=10
            )
            assert errors(answer) == [summary], odd[:20]
            assert not answer.imported_resources
