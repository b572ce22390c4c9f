"""The value codec against byte strings written from the published wire format
(object-wire-format.md and go-cty's msgpack encoding), not from our own encoder."""

from __future__ import annotations

import contextlib
import os
from decimal import Decimal

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terraform_provider_connectly.plugin import cty
from terraform_provider_connectly.plugin.codec import (
    CodecError,
    Key,
    decode_json,
    decode_msgpack,
    encode_msgpack,
)

OBJ = cty.Object({"a": cty.STRING, "b": cty.NUMBER})


@pytest.mark.parametrize(
    ("ty", "value", "wire"),
    [
        (cty.STRING, "hi", "a26869"),
        (cty.STRING, None, "c0"),
        (cty.STRING, cty.UNKNOWN, "d40000"),
        (cty.BOOL, True, "c3"),
        (cty.NUMBER, 1, "01"),
        (cty.NUMBER, -1, "ff"),
        (cty.NUMBER, 2**40, "cf0000010000000000"),
        (cty.NUMBER, Decimal("1.5"), "cb3ff8000000000000"),
        # 0.1 has no exact float64: cty sends the decimal string.
        (cty.NUMBER, Decimal("0.1"), "a3302e31"),
        # beyond int64: a decimal string
        (cty.NUMBER, 2**64, "b4" + b"18446744073709551616".hex()),
        (cty.List(cty.STRING), ["a", "b"], "92a161a162"),
        (cty.Set(cty.NUMBER), [1], "9101"),
        (cty.Map(cty.BOOL), {"k": False}, "81a16bc2"),
        (cty.Tuple((cty.STRING, cty.BOOL)), ["x", True], "92a178c3"),
        # objects carry every attribute, null ones included
        (OBJ, {"a": "x", "b": None}, "82a161a178a162c0"),
        (OBJ, {"a": "x"}, "82a161a178a162c0"),
        # dynamic: [type JSON as bin, value]
        (cty.DYNAMIC, cty.Typed(cty.STRING, "v"), "92c408" + b'"string"'.hex() + "a176"),
    ],
)
def test_encoding_matches_the_wire_format(ty: cty.CtyType, value: object, wire: str) -> None:
    assert encode_msgpack(ty, value).hex() == wire
    expected = {"a": "x", "b": None} if value == {"a": "x"} else value
    assert decode_msgpack(ty, bytes.fromhex(wire)) == expected


def test_refined_unknowns_and_any_extension_decode_as_unknown() -> None:
    # ext 12 with a refinement map (nullness: false), as Terraform sends for refined unknowns
    refined = msgpack.packb(msgpack.ExtType(12, msgpack.packb({1: False})))
    assert decode_msgpack(cty.STRING, refined) is cty.UNKNOWN
    assert decode_msgpack(cty.List(cty.STRING), bytes.fromhex("d40000")) is cty.UNKNOWN
    nested = msgpack.packb({"a": msgpack.ExtType(0, b"\x00"), "b": 1})
    assert decode_msgpack(OBJ, nested) == {"a": cty.UNKNOWN, "b": 1}


def test_empty_bytes_mean_null() -> None:
    assert decode_msgpack(OBJ, b"") is None


def test_numbers_from_terraform_in_every_form() -> None:
    assert decode_msgpack(cty.NUMBER, msgpack.packb(7)) == 7
    assert decode_msgpack(cty.NUMBER, msgpack.packb(2.5)) == Decimal("2.5")
    assert decode_msgpack(cty.NUMBER, msgpack.packb(3.0)) == 3
    big = "123456789012345678901234567890.000000000000000000001"
    assert decode_msgpack(cty.NUMBER, msgpack.packb(big)) == Decimal(big)
    assert encode_msgpack(cty.NUMBER, Decimal(big)) == msgpack.packb(big)


def test_nested_round_trip_with_nulls_and_unknowns() -> None:
    ty = cty.Object(
        {
            "list": cty.List(cty.Object({"k": cty.STRING, "n": cty.NUMBER})),
            "map": cty.Map(cty.Set(cty.STRING)),
            "dyn": cty.DYNAMIC,
            "tuple": cty.Tuple((cty.NUMBER, cty.List(cty.BOOL))),
        }
    )
    value = {
        "list": [{"k": "a", "n": None}, {"k": cty.UNKNOWN, "n": Decimal("0.25")}],
        "map": {"x": ["p", "q"], "y": None, "z": cty.UNKNOWN},
        "dyn": cty.Typed(cty.Map(cty.NUMBER), {"one": 1}),
        "tuple": [10**30, [True, None]],
    }
    assert decode_msgpack(ty, encode_msgpack(ty, value)) == value


def test_json_state_decoding_keeps_numbers_exact() -> None:
    ty = cty.Object({"n": cty.NUMBER, "d": cty.DYNAMIC, "s": cty.Set(cty.STRING)})
    raw = '{"n": 12345678901234567890.123456789, "d": {"type": "bool", "value": true}, "s": null}'
    assert decode_json(ty, raw) == {
        "n": Decimal("12345678901234567890.123456789"),
        "d": cty.Typed(cty.BOOL, True),
        "s": None,
    }


@pytest.mark.parametrize(
    ("ty", "wire", "message"),
    [
        (OBJ, "81a161a178", "an object with 2 attributes is required"),
        (OBJ, "83a161a178a162c0a163c0", "unsupported attribute 'c'"),
        (cty.STRING, "01", "string required"),
        (cty.NUMBER, "a3616263", "number required"),
        (cty.BOOL, "a178", "bool required"),
        (cty.List(cty.STRING), "92a16101", "[1]: string required"),
        (cty.Map(cty.STRING), "810101", "map keys must be strings"),
        (cty.STRING, "a5616263", "malformed msgpack"),  # truncated
        (cty.STRING, "c1", "malformed msgpack"),  # never-used byte
        (cty.DYNAMIC, "92c4037b7b7ba176", "type is not valid JSON"),
    ],
)
def test_malformed_values_name_what_and_where(ty: cty.CtyType, wire: str, message: str) -> None:
    with pytest.raises(CodecError) as err:
        decode_msgpack(ty, bytes.fromhex(wire))
    assert message in str(err.value)


def test_error_paths_name_map_keys_and_indexes() -> None:
    ty = cty.Object({"m": cty.Map(cty.List(cty.NUMBER))})
    with pytest.raises(CodecError) as err:
        decode_msgpack(ty, msgpack.packb({"m": {"k": [1, "x"]}}))
    assert err.value.path == ("m", Key("k"), 1)
    assert str(err.value).startswith("m['k'][1]: number required")


SCHEMA_TYPE = cty.Object(
    {
        "s": cty.STRING,
        "l": cty.List(cty.Object({"n": cty.NUMBER, "b": cty.BOOL})),
        "m": cty.Map(cty.STRING),
        "d": cty.DYNAMIC,
    }
)


@settings(max_examples=int(os.environ.get("CONNECTLY_FUZZ_BYTES", "3000")), deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_never_crash(data: bytes) -> None:
    with contextlib.suppress(CodecError):
        decode_msgpack(SCHEMA_TYPE, data)


def test_type_json_round_trip() -> None:
    ty = cty.Object(
        {"a": cty.List(cty.Map(cty.Set(cty.DYNAMIC))), "t": cty.Tuple((cty.BOOL,))},
        optional=frozenset({"t"}),
    )
    assert cty.parse_type_json(ty.type_json()) == ty
    assert ty.type_json() == (
        b'["object",{"a":["list",["map",["set","dynamic"]]],"t":["tuple",["bool"]]},["t"]]'
    )
