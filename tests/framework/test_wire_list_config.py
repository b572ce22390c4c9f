"""framework/wire.py: a list block's config, with or without Terraform's ``config`` wrapper."""

from __future__ import annotations

import msgpack

from terraform_provider_connectly.framework import wire
from terraform_provider_connectly.framework.resource import ListResource
from terraform_provider_connectly.framework.schema import Attribute, Block, Schema
from terraform_provider_connectly.plugin import cty
from terraform_provider_connectly.plugin.wire import tfplugin6_pb2 as pb


class Finder(ListResource):
    type_name = "thing"
    schema = Schema(Block({"business_id": Attribute(cty.STRING, optional=True)}))


def _config(value: object) -> object:
    return pb.DynamicValue(msgpack=msgpack.packb(value))


def test_config_is_read_bare_and_wrapped_the_same() -> None:
    finder = Finder()
    assert wire.decode_list_config(finder, _config({"business_id": "b"})) == {"business_id": "b"}
    wrapped = _config({"config": {"business_id": "b"}})
    assert wire.decode_list_config(finder, wrapped) == {"business_id": "b"}
    # The wrapper's type is made once per schema, not per call.
    assert wire._wrapped(finder.schema.type) is wire._wrapped(finder.schema.type)
