"""The value codec: cty values to and from the bytes inside a ``DynamicValue``.

Terraform sends msgpack (object-wire-format.md); raw state arrives as JSON. Decoding checks the
value against its type as it goes, so a malformed message becomes a :class:`CodecError` naming
the path where it went wrong instead of a crash somewhere later.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import msgpack

from .cty import (
    BOOL,
    DYNAMIC,
    NUMBER,
    STRING,
    UNKNOWN,
    CtyType,
    List,
    Map,
    Object,
    Set,
    Tuple,
    Typed,
    TypeJSONError,
    parse_type_json,
    type_from_json,
)
from .path import Key, Path, format_path

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
# A plain unknown: msgpack fixext1, type 0, one zero byte (d4 00 00).
_UNKNOWN_EXT = msgpack.ExtType(0, b"\x00")


class CodecError(ValueError):
    """A value that does not fit its type, with the attribute path where it stopped fitting."""

    def __init__(self, message: str, path: Path = ()) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        if not self.path:
            return self.message
        return f"{format_path(self.path)}: {self.message}"


class _Ext:
    """Marker for any msgpack extension value: every extension code means unknown."""

    __slots__ = ()


_EXT = _Ext()


def _ext_hook(code: int, data: bytes) -> _Ext:
    return _EXT


# ---------------------------------------------------------------------------- msgpack


def decode_msgpack(ty: CtyType, data: bytes) -> Any:
    """Decode msgpack ``data`` as a value of ``ty``. Empty bytes mean null."""
    if not data:
        return None
    try:
        raw = msgpack.unpackb(
            data, raw=False, strict_map_key=False, ext_hook=_ext_hook, use_list=True
        )
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        raise CodecError(f"malformed msgpack value: {exc}") from None
    except Exception as exc:  # the C unpacker raises assorted types on hostile input
        raise CodecError(f"malformed msgpack value: {type(exc).__name__}") from None
    return _decoded(ty, raw, msgpack_mode=True)


def encode_msgpack(ty: CtyType, value: Any) -> bytes:
    """Encode ``value`` of type ``ty`` as msgpack, the way Terraform expects it."""
    try:
        wire = _compiled(ty, False, _build_encoder)(value)
    except (_Bail, CodecError):
        wire = _to_wire(ty, value, ())
    return msgpack.packb(wire, use_bin_type=True)


# ---------------------------------------------------------------------------- JSON


# One decoder for every call: ``json.loads`` with options builds a new one each time, which was
# 1.4% of a plan's provider CPU (every UpgradeResourceState decodes the raw state).
_EXACT_JSON = json.JSONDecoder(parse_float=Decimal)


def parse_json(data: bytes | str) -> Any:
    """JSON text to Python, keeping every number exact (``Decimal``, never ``float``)."""
    try:
        if not isinstance(data, str):  # what json.loads does with bytes
            data = data.decode(json.detect_encoding(data), "surrogatepass")
        return _EXACT_JSON.decode(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CodecError(f"malformed JSON value: {exc}") from None


def decode_json(ty: CtyType, data: bytes | str) -> Any:
    """Decode a JSON value (raw state, or a ``DynamicValue.json``) as ``ty``."""
    if not data:
        return None
    return from_json_value(ty, parse_json(data))


def from_json_value(ty: CtyType, raw: Any) -> Any:
    """Check and convert already-parsed JSON (see :func:`parse_json`) as a value of ``ty``.
    Attributes the type does not have are ignored: state written by an older schema."""
    return _decoded(ty, raw, msgpack_mode=False)


def _decoded(ty: CtyType, raw: Any, *, msgpack_mode: bool) -> Any:
    try:
        return _compiled(ty, msgpack_mode, _build_decoder)(raw)
    except (_Bail, CodecError):
        # Off the fast path: the reference decoder gives the value, or the error and its path.
        return _from_wire(ty, raw, (), msgpack_mode=msgpack_mode)


# ---------------------------------------------------------------------------- decoding


def _number(raw: Any, path: Path) -> int | Decimal:
    if isinstance(raw, bool):
        raise CodecError("number required, got bool", path)
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise CodecError("number must be finite", path)
        return _normal(Decimal(raw))
    if isinstance(raw, Decimal):
        return _normal(raw)
    if isinstance(raw, str):
        try:
            d = Decimal(raw)
        except InvalidOperation:
            raise CodecError(f"number required, got string {raw[:40]!r}", path) from None
        if not d.is_finite():
            raise CodecError("number must be finite", path)
        return _normal(d)
    raise CodecError(f"number required, got {type(raw).__name__}", path)


def _normal(d: Decimal) -> int | Decimal:
    """Integral decimals become ints so that 5 and 5.0 compare and encode alike."""
    if d == d.to_integral_value():
        return int(d)
    return d


def _from_wire(ty: CtyType, raw: Any, path: Path, *, msgpack_mode: bool) -> Any:
    if raw is None:
        return None
    if raw is _EXT:
        return UNKNOWN
    if ty is STRING:
        if isinstance(raw, str):
            return raw
        raise CodecError(f"string required, got {type(raw).__name__}", path)
    if ty is NUMBER:
        return _number(raw, path)
    if ty is BOOL:
        if isinstance(raw, bool):
            return raw
        raise CodecError(f"bool required, got {type(raw).__name__}", path)
    if ty is DYNAMIC:
        return _dynamic_from_wire(raw, path, msgpack_mode=msgpack_mode)
    if isinstance(ty, List | Set):
        if not isinstance(raw, list):
            raise CodecError(f"list required, got {type(raw).__name__}", path)
        return [
            _from_wire(ty.element, item, (*path, i), msgpack_mode=msgpack_mode)
            for i, item in enumerate(raw)
        ]
    if isinstance(ty, Tuple):
        if not isinstance(raw, list) or len(raw) != len(ty.elements):
            raise CodecError(f"tuple of {len(ty.elements)} elements required", path)
        return [
            _from_wire(t, item, (*path, i), msgpack_mode=msgpack_mode)
            for i, (t, item) in enumerate(zip(ty.elements, raw, strict=True))
        ]
    if isinstance(ty, Map):
        if not isinstance(raw, dict):
            raise CodecError(f"map required, got {type(raw).__name__}", path)
        out = {}
        for k, v in raw.items():
            if not isinstance(k, str):
                raise CodecError("map keys must be strings", path)
            out[k] = _from_wire(ty.element, v, (*path, Key(k)), msgpack_mode=msgpack_mode)
        return out
    if isinstance(ty, Object):
        if not isinstance(raw, dict):
            raise CodecError(f"object required, got {type(raw).__name__}", path)
        extra = [k for k in raw if k not in ty.attributes]
        if extra and msgpack_mode:
            raise CodecError(f"unsupported attribute {str(extra[0])[:60]!r}", path)
        obj: dict[str, Any] = {}
        for name, attr_ty in ty.attributes.items():
            if name not in raw:
                if msgpack_mode and name not in ty.optional:
                    raise CodecError(
                        f"an object with {len(ty.attributes)} attributes is required "
                        f"(missing {name!r})",
                        path,
                    )
                obj[name] = None
                continue
            obj[name] = _from_wire(attr_ty, raw[name], (*path, name), msgpack_mode=msgpack_mode)
        return obj
    raise CodecError(f"unsupported type {ty!r}", path)


def _dynamic_from_wire(raw: Any, path: Path, *, msgpack_mode: bool) -> Any:
    try:
        if msgpack_mode:
            if not (isinstance(raw, list) and len(raw) == 2 and isinstance(raw[0], bytes | str)):
                raise CodecError("dynamic value must be [type, value]", path)
            ty = parse_type_json(raw[0])
            return Typed(ty, _from_wire(ty, raw[1], path, msgpack_mode=True))
        if not (isinstance(raw, dict) and "type" in raw and "value" in raw):
            raise CodecError('dynamic value must be {"type", "value"}', path)
        ty = type_from_json(raw["type"])
        return Typed(ty, _from_wire(ty, raw["value"], path, msgpack_mode=False))
    except TypeJSONError as exc:
        raise CodecError(str(exc), path) from None


# ---------------------------------------------------------------------------- encoding


def _number_to_wire(value: Any, path: Path) -> Any:
    if isinstance(value, bool):
        raise CodecError("number required, got bool", path)
    if isinstance(value, int):
        return value if _INT64_MIN <= value <= _INT64_MAX else str(value)
    if isinstance(value, float):
        value = Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise CodecError("number must be finite", path)
        if value == value.to_integral_value():
            return _number_to_wire(int(value), path)
        as_float = float(value)
        if Decimal(as_float) == value:
            return as_float
        return str(value)
    raise CodecError(f"number required, got {type(value).__name__}", path)


def _to_wire(ty: CtyType, value: Any, path: Path) -> Any:
    if value is None:
        return None
    if value is UNKNOWN:
        return _UNKNOWN_EXT
    if ty is STRING:
        if not isinstance(value, str):
            raise CodecError(f"string required, got {type(value).__name__}", path)
        return value
    if ty is NUMBER:
        return _number_to_wire(value, path)
    if ty is BOOL:
        if not isinstance(value, bool):
            raise CodecError(f"bool required, got {type(value).__name__}", path)
        return value
    if ty is DYNAMIC:
        if not isinstance(value, Typed):
            raise CodecError("dynamic value must carry its type (Typed)", path)
        return [value.type.type_json(), _to_wire(value.type, value.value, path)]
    if isinstance(ty, List | Set):
        return [_to_wire(ty.element, v, (*path, i)) for i, v in enumerate(_seq(value, path))]
    if isinstance(ty, Tuple):
        items = _seq(value, path)
        if len(items) != len(ty.elements):
            raise CodecError(f"tuple of {len(ty.elements)} elements required", path)
        return [
            _to_wire(t, v, (*path, i))
            for i, (t, v) in enumerate(zip(ty.elements, items, strict=False))
        ]
    if isinstance(ty, Map):
        if not isinstance(value, dict):
            raise CodecError(f"map required, got {type(value).__name__}", path)
        return {k: _to_wire(ty.element, v, (*path, Key(k))) for k, v in value.items()}
    if isinstance(ty, Object):
        if not isinstance(value, dict):
            raise CodecError(f"object required, got {type(value).__name__}", path)
        # Every attribute is written, null or not: Terraform refuses objects with keys missing.
        return {
            name: _to_wire(attr_ty, value.get(name), (*path, name))
            for name, attr_ty in ty.attributes.items()
        }
    raise CodecError(f"unsupported type {ty!r}", path)


def _seq(value: Any, path: Path) -> list[Any]:
    if isinstance(value, list | tuple | frozenset | set):
        return list(value)
    raise CodecError(f"list required, got {type(value).__name__}", path)


# ---------------------------------------------------------------------------- fast paths
#
# The functions above walk the type for every value: a dozen checks per attribute before the
# one that applies, and a path built for each step in case of an error. Terraform sends every
# resource's values in the same few schema types, so for each of those a tree of small
# functions is built once, each doing only what its type needs. They cover the common shapes
# (exact str, int within int64, bool, list, dict) and give up (``_Bail``) on anything else, on
# anything wrong, and on dynamic values; the reference walk then does the whole value again,
# which gives exactly its result or its error with the path. So a fast path only has to be
# right when it answers: ``tests/test_codec.py`` compares the two on generated values.

_Fast = Callable[[Any], Any]
_MISSING: Any = object()
_MAX_COMPILED = 128  # types remembered; values of any other type take the reference walk
_compiled_types: dict[tuple[int, bool, object], tuple[CtyType, _Fast]] = {}


class _Bail(Exception):
    """The fast path does not handle this value; the reference walk does."""


def _compiled(ty: CtyType, msgpack_mode: bool, build: Callable[[CtyType, bool], _Fast]) -> _Fast:
    # By identity (schema types live as long as the process; the entry keeps ``ty`` alive,
    # so its id is not reused): hashing an object type would cost more than the walk saves.
    key = (id(ty), msgpack_mode, build)
    known = _compiled_types.get(key)
    if known is not None and known[0] is ty:
        return known[1]
    if len(_compiled_types) >= _MAX_COMPILED:  # types made per call: building would cost more
        return _bail
    fast = build(ty, msgpack_mode)
    _compiled_types[key] = (ty, fast)
    return fast


def _bail(_raw: Any) -> Any:
    raise _Bail


def _scalar(kind: type, unknown: Any, unknown_as: Any) -> _Fast:
    """A string or bool, both ways: on the way in the unknown is msgpack's extension and
    becomes UNKNOWN, on the way out the reverse."""

    def scalar(value: Any) -> Any:
        if type(value) is kind or value is None:
            return value
        if value is unknown:
            return unknown_as
        raise _Bail

    return scalar


def _sequence(element: _Fast, unknown: Any, unknown_as: Any) -> _Fast:
    """A list or set of ``element``, both ways (see :func:`_scalar`)."""

    def sequence(value: Any) -> Any:
        if type(value) is list:
            return [element(item) for item in value]
        if value is None:
            return None
        if value is unknown:
            return unknown_as
        raise _Bail

    return sequence


def _build_decoder(ty: CtyType, msgpack_mode: bool) -> _Fast:
    if ty is STRING or ty is BOOL:
        return _scalar(str if ty is STRING else bool, _EXT, UNKNOWN)
    if ty is NUMBER:

        def number(raw: Any) -> Any:
            if type(raw) is int or raw is None:
                return raw
            if raw is _EXT:
                return UNKNOWN
            if type(raw) is Decimal:  # JSON state's fractions
                return _normal(raw)
            raise _Bail

        return number
    if isinstance(ty, List | Set):
        return _sequence(_build_decoder(ty.element, msgpack_mode), _EXT, UNKNOWN)
    if isinstance(ty, Map):
        value_of = _build_decoder(ty.element, msgpack_mode)

        def mapping(raw: Any) -> Any:
            if type(raw) is dict:
                out = {}
                for k, v in raw.items():
                    if type(k) is not str:
                        raise _Bail
                    out[k] = value_of(v)
                return out
            if raw is None:
                return None
            if raw is _EXT:
                return UNKNOWN
            raise _Bail

        return mapping
    if isinstance(ty, Object):
        fields = [(name, _build_decoder(t, msgpack_mode)) for name, t in ty.attributes.items()]
        required = set() if not msgpack_mode else set(ty.attributes) - set(ty.optional)

        def obj(raw: Any) -> Any:
            if type(raw) is not dict:
                if raw is None:
                    return None
                if raw is _EXT:
                    return UNKNOWN
                raise _Bail
            out: dict[str, Any] = {}
            found = 0
            for name, decode in fields:
                v = raw.get(name, _MISSING)
                if v is _MISSING:
                    if name in required:
                        raise _Bail
                    out[name] = None
                else:
                    found += 1
                    out[name] = decode(v)
            if msgpack_mode and found != len(raw):  # attributes the type does not have
                raise _Bail
            return out

        return obj
    return _bail  # dynamic values, tuples, and types the reference walk refuses


def _build_encoder(ty: CtyType, _mode: bool) -> _Fast:
    if ty is STRING or ty is BOOL:
        return _scalar(str if ty is STRING else bool, UNKNOWN, _UNKNOWN_EXT)
    if ty is NUMBER:

        def number(value: Any) -> Any:
            if (type(value) is int and _INT64_MIN <= value <= _INT64_MAX) or value is None:
                return value
            if value is UNKNOWN:
                return _UNKNOWN_EXT
            raise _Bail

        return number
    if isinstance(ty, List | Set):
        return _sequence(_build_encoder(ty.element, _mode), UNKNOWN, _UNKNOWN_EXT)
    if isinstance(ty, Map):
        value_of = _build_encoder(ty.element, _mode)

        def mapping(value: Any) -> Any:
            if type(value) is dict:
                return {k: value_of(v) for k, v in value.items()}
            if value is None:
                return None
            if value is UNKNOWN:
                return _UNKNOWN_EXT
            raise _Bail

        return mapping
    if isinstance(ty, Object):
        fields = [(name, _build_encoder(t, _mode)) for name, t in ty.attributes.items()]

        def obj(value: Any) -> Any:
            if type(value) is dict:
                get = value.get
                return {name: encode(get(name)) for name, encode in fields}
            if value is None:
                return None
            if value is UNKNOWN:
                return _UNKNOWN_EXT
            raise _Bail

        return obj
    return _bail
