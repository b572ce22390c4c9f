"""framework/schema.py."""

from __future__ import annotations

from terraform_provider_connectly.framework.schema import IdentityAttribute, IdentitySchema
from terraform_provider_connectly.plugin import cty


def test_an_identity_schemas_type_is_made_once() -> None:
    # The codec keeps its fast paths per type object: a new object per call would make it
    # build one for every identity it encodes.
    schema = IdentitySchema(
        (IdentityAttribute("id", cty.STRING), IdentityAttribute("n", cty.NUMBER))
    )
    assert schema.type is schema.type
    assert schema.type == cty.Object({"id": cty.STRING, "n": cty.NUMBER})
    assert schema == IdentitySchema(schema.attributes)  # the cache is not part of equality
