"""Wire conversion: protobuf and dynamic values to Python values and back, diagnostics and
paths to protobuf, schemas to their protobuf form.

The Go framework's ``proto6server`` half: :mod:`.servicer` decides what each call means, on
Python values, and uses these functions at its edges only.
"""

from __future__ import annotations

import functools
from typing import Any, cast

from ..plugin import logs
from ..plugin.codec import CodecError, decode_json, decode_msgpack, encode_msgpack
from ..plugin.cty import CtyType
from ..plugin.cty import Object as CtyObject
from ..plugin.path import Key, Path
from ..plugin.wire import tfplugin6_pb2 as pb
from .diagnostics import Diagnostic, DiagnosticError
from .resource import ListResource
from .schema import Attribute, Block, IdentitySchema, Schema


def path_to_proto(path: Path) -> Any:
    steps = []
    for step in path:
        if isinstance(step, int):
            steps.append(pb.AttributePath.Step(element_key_int=step))
        elif isinstance(step, Key):
            steps.append(pb.AttributePath.Step(element_key_string=str(step)))
        else:
            steps.append(pb.AttributePath.Step(attribute_name=step))
    return pb.AttributePath(steps=steps)


def diag_to_proto(d: Diagnostic) -> Any:
    msg = pb.Diagnostic(
        severity=cast(Any, int(d.severity)),
        summary=logs.redact(d.summary),
        detail=logs.redact(d.detail),
    )
    if d.path:
        msg.attribute.CopyFrom(path_to_proto(d.path))
    return msg


def encode(ty: CtyType, value: Any) -> Any:
    """A Python value as the ``DynamicValue`` Terraform reads (msgpack)."""
    return pb.DynamicValue(msgpack=encode_msgpack(ty, value))


def decode(ty: CtyType, dv: Any, what: str) -> Any:
    """A ``DynamicValue`` from Terraform as a Python value; ``what`` names it in the error."""
    if dv is None:
        return None
    try:
        if dv.msgpack:
            return decode_msgpack(ty, dv.msgpack)
        if dv.json:
            return decode_json(ty, dv.json)
        return None
    except CodecError as exc:
        raise DiagnosticError(
            f"Invalid {what} received from Terraform",
            f"The {what} could not be decoded: {exc}",
            exc.path or None,
        ) from None


def decode_list_config(lr: ListResource, dv: Any) -> Any:
    """The list block's ``config``: Terraform wraps the list schema in a ``config`` block, and
    we accept the value with or without that wrapper."""
    try:
        return decode(lr.schema.type, dv, "list configuration")
    except DiagnosticError:
        value = decode(_wrapped(lr.schema.type), dv, "list configuration")
        return value.get("config") if isinstance(value, dict) else None


@functools.lru_cache(maxsize=64)
def _wrapped(ty: Any) -> CtyObject:
    """``{config: ty}``, made once per list schema: the codec keeps its fast paths per type
    object, and a new one per call would take a place among those it remembers."""
    return CtyObject({"config": ty})


_NESTING_ATTR: dict[str, Any] = {"single": 1, "list": 2, "set": 3, "map": 4}
_NESTING_BLOCK: dict[str, Any] = {"single": 1, "list": 2, "set": 3, "map": 4, "group": 5}
_MARKDOWN: Any = 1


def schema_to_proto(schema: Schema) -> Any:
    return pb.Schema(version=schema.version, block=_block_to_proto(schema.block, schema.version))


def _block_to_proto(block: Block, version: int = 0) -> Any:
    return pb.Schema.Block(
        version=version,
        attributes=[_attr_to_proto(n, a) for n, a in block.attributes.items()],
        block_types=[
            pb.Schema.NestedBlock(
                type_name=name,
                block=_block_to_proto(nb.block),
                nesting=_NESTING_BLOCK[nb.nesting],
                min_items=nb.min_items,
                max_items=nb.max_items,
            )
            for name, nb in block.blocks.items()
        ],
        description=block.description,
        description_kind=_MARKDOWN,
        deprecated=block.deprecated,
    )


def _attr_to_proto(name: str, attr: Attribute) -> Any:
    msg = pb.Schema.Attribute(
        name=name,
        description=attr.description,
        description_kind=_MARKDOWN,
        required=attr.required,
        optional=attr.optional,
        computed=attr.computed,
        sensitive=attr.sensitive,
        write_only=attr.write_only,
        deprecated=bool(attr.deprecation_message),
        deprecation_message=attr.deprecation_message,
    )
    if attr.type is not None:
        msg.type = attr.type.type_json()
    else:
        assert attr.nested is not None
        msg.nested_type.CopyFrom(
            pb.Schema.Object(
                attributes=[_attr_to_proto(n, a) for n, a in attr.nested.attributes.items()],
                nesting=_NESTING_ATTR[attr.nested.nesting],
            )
        )
    return msg


def identity_to_proto(identity: IdentitySchema) -> Any:
    return pb.ResourceIdentitySchema(
        version=identity.version,
        identity_attributes=[
            pb.ResourceIdentitySchema.IdentityAttribute(
                name=a.name,
                type=a.type.type_json(),
                description=a.description,
                required_for_import=a.required_for_import,
                optional_for_import=a.optional_for_import,
            )
            for a in identity.attributes
        ],
    )


def provider_schema(
    provider: Schema,
    capabilities: Any,
    resources: dict[str, Schema],
    data_sources: dict[str, Schema],
    list_resources: dict[str, Schema],
) -> Any:
    """The whole ``GetProviderSchema`` answer (built once: schemas never change in a run)."""
    response = pb.GetProviderSchema.Response(
        provider=schema_to_proto(provider), server_capabilities=capabilities
    )
    for name, schema in resources.items():
        response.resource_schemas[name].CopyFrom(schema_to_proto(schema))
    for name, schema in data_sources.items():
        response.data_source_schemas[name].CopyFrom(schema_to_proto(schema))
    for name, schema in list_resources.items():
        response.list_resource_schemas[name].CopyFrom(schema_to_proto(schema))
    return response
