"""The value codec against byte strings written from the published wire format
(object-wire-format.md and go-cty's msgpack encoding), not from our own encoder."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terraform_provider_connectly.plugin import codec, cty
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
    "raw",
    [
        '{"n": 0.1, "i": 7, "s": "\u00e9"}',
        '{"n": 0.1, "i": 7, "s": "\u00e9"}'.encode(),
        '{"n": 0.1, "i": 7, "s": "\u00e9"}'.encode("utf-8-sig"),
        '{"n": 0.1, "i": 7, "s": "\u00e9"}'.encode("utf-16"),
        '{"n": 0.1, "i": 7, "s": "\u00e9"}'.encode("utf-32-le"),
    ],
)
def test_raw_state_in_any_json_encoding_parses_exactly(raw: str | bytes) -> None:
    # Terraform sends raw state as UTF-8; JSON allows UTF-16 and -32, as json.loads does.
    parsed = codec.parse_json(raw)
    assert parsed == {"n": Decimal("0.1"), "i": 7, "s": "\u00e9"}
    assert type(parsed["n"]) is Decimal and type(parsed["i"]) is int


@pytest.mark.parametrize("raw", ["", "{", b'{"a": }', b"\xff\xfe\x00", "[1] x"])
def test_malformed_raw_state_is_a_codec_error(raw: str | bytes) -> None:
    with pytest.raises(CodecError, match="malformed JSON value"):
        codec.parse_json(raw)


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


# -- the fast paths against the reference walk -------------------------------------------------
#
# codec.py decodes and encodes through functions built once per type, which give up on
# anything unusual and leave it to the reference walk. Wherever they answer, the answer must
# be the reference walk's; wherever the walk fails, the same error (message and path) comes.

_leaf_types = st.sampled_from([cty.STRING, cty.NUMBER, cty.BOOL, cty.DYNAMIC])
_names = st.sampled_from(["a", "b", "id", "filters", "x-y"])


def _objects(children: st.SearchStrategy[cty.CtyType]) -> st.SearchStrategy[cty.CtyType]:
    return st.dictionaries(_names, children, max_size=4).flatmap(
        lambda attrs: st.sets(st.sampled_from(sorted(attrs) or ["a"])).map(
            lambda opt: cty.Object(attrs, optional=frozenset(opt) & frozenset(attrs))
        )
    )


_types = st.recursive(
    _leaf_types,
    lambda children: st.one_of(
        children.map(cty.List),
        children.map(cty.Set),
        children.map(cty.Map),
        st.lists(children, max_size=3).map(lambda ts: cty.Tuple(tuple(ts))),
        _objects(children),
    ),
    max_leaves=8,
)

_junk = st.recursive(
    st.one_of(
        st.none(),
        st.just(codec._EXT),
        st.text(max_size=3),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.booleans(),
        st.floats(allow_nan=True),
        st.decimals(allow_nan=False, allow_infinity=False, places=2),
        st.binary(max_size=2),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.one_of(_names, st.integers(0, 2)), children, max_size=3),
    ),
    max_leaves=6,
)


def _wire_for(ty: cty.CtyType) -> st.SearchStrategy[Any]:
    """Mostly values of ``ty`` as msgpack or JSON would give them; sometimes anything."""
    if ty is cty.STRING:
        fitting: st.SearchStrategy[Any] = st.text(max_size=4)
    elif ty is cty.NUMBER:
        fitting = st.one_of(
            st.integers(-(2**65), 2**65),
            st.decimals(allow_nan=False, allow_infinity=False, places=3),
        )
    elif ty is cty.BOOL:
        fitting = st.booleans()
    elif isinstance(ty, cty.List | cty.Set):
        fitting = st.lists(_wire_for(ty.element), max_size=3)
    elif isinstance(ty, cty.Map):
        fitting = st.dictionaries(st.text(max_size=2), _wire_for(ty.element), max_size=3)
    elif isinstance(ty, cty.Tuple):
        fitting = st.tuples(*[_wire_for(t) for t in ty.elements]).map(list)
    elif isinstance(ty, cty.Object):
        fitting = st.fixed_dictionaries(
            {}, optional={name: _wire_for(t) for name, t in ty.attributes.items()}
        )
    else:
        fitting = _junk
    return st.one_of(fitting, fitting, fitting, st.none(), st.just(codec._EXT), _junk)


def _outcome(run: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "value", run()
    except CodecError as exc:
        return "error", str(exc)


@settings(max_examples=int(os.environ.get("CONNECTLY_FUZZ_FAST", "800")), deadline=None)
@given(_types.flatmap(lambda ty: st.tuples(st.just(ty), _wire_for(ty), st.booleans())))
def test_fast_decoding_gives_the_reference_walks_value_or_error(case: Any) -> None:
    ty, raw, msgpack_mode = case
    codec._compiled_types.clear()  # each example's type is new: room for it on the fast path
    fast = _outcome(lambda: codec._decoded(ty, raw, msgpack_mode=msgpack_mode))
    reference = _outcome(lambda: codec._from_wire(ty, raw, (), msgpack_mode=msgpack_mode))
    assert fast == reference


@settings(max_examples=int(os.environ.get("CONNECTLY_FUZZ_FAST", "800")), deadline=None)
@given(_types.flatmap(lambda ty: st.tuples(st.just(ty), _wire_for(ty))))
def test_fast_encoding_gives_the_reference_walks_bytes_or_error(case: Any) -> None:
    ty, raw = case
    codec._compiled_types.clear()
    # A decoded value (UNKNOWN, Decimal, ...) where decoding works; the raw junk otherwise.
    kind, decoded = _outcome(lambda: codec._from_wire(ty, raw, (), msgpack_mode=False))
    value = decoded if kind == "value" else raw
    fast = _outcome(lambda: encode_msgpack(ty, value))
    reference = _outcome(lambda: msgpack.packb(codec._to_wire(ty, value, ()), use_bin_type=True))
    assert fast == reference


def test_a_resources_values_take_the_fast_path_whole() -> None:
    # If the fast path gave up on ordinary values, the tests above would still pass (the
    # reference walk answers); this one would not.
    ty = cty.Object(
        {
            "id": cty.STRING,
            "count": cty.NUMBER,
            "echo": cty.BOOL,
            "tags": cty.Map(cty.STRING),
            "filters": cty.List(cty.Object({"field": cty.STRING, "expression": cty.STRING})),
            "channels": cty.Set(cty.STRING),
        },
        optional=frozenset({"tags"}),
    )
    raw = {
        "id": "wh_1",
        "count": 3,
        "echo": None,
        "filters": [{"field": "f", "expression": codec._EXT}],
        "channels": ["sms"],
    }
    decoded = codec._build_decoder(ty, True)(raw)
    assert decoded == {
        "id": "wh_1",
        "count": 3,
        "echo": None,
        "tags": None,
        "filters": [{"field": "f", "expression": cty.UNKNOWN}],
        "channels": ["sms"],
    }
    wire = codec._build_encoder(ty, False)(decoded)
    assert wire["filters"][0]["expression"] == msgpack.ExtType(0, b"\x00")
    assert msgpack.packb(wire, use_bin_type=True) == encode_msgpack(ty, decoded)


def test_types_beyond_the_remembered_take_the_reference_walk() -> None:
    codec._compiled_types.clear()
    for n in range(codec._MAX_COMPILED):
        codec._compiled(cty.List(cty.STRING), n % 2 == 0, codec._build_decoder)
    fresh = cty.Object({"a": cty.STRING})
    assert codec._compiled(fresh, True, codec._build_decoder) is codec._bail
    assert decode_msgpack(fresh, msgpack.packb({"a": "x"})) == {"a": "x"}  # still decoded
    codec._compiled_types.clear()
