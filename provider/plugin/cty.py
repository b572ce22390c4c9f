"""cty types, the type system Terraform uses for every value it exchanges with a provider.

Types are small immutable objects; ``type_json`` gives the JSON that schemas and dynamic values
carry, ``parse_type_json`` reads it back. Values are plain Python: ``None`` for null,
:data:`UNKNOWN` for a value not yet known, ``str``, ``bool``, ``int`` or ``Decimal`` for numbers
(never ``float``: Terraform numbers are arbitrary precision), ``list`` for lists, sets and tuples,
``dict`` for maps and objects, and :class:`Typed` for a value of a dynamic type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


class _Unknown:
    """The one unknown value. Refinements that Terraform attaches are accepted and dropped:
    the plan check compares unrefined values, so dropping them is always safe."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __reduce__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


class CtyType:
    """Base of all cty types."""

    def json(self) -> Any:
        raise NotImplementedError

    def type_json(self) -> bytes:
        return json.dumps(self.json(), separators=(",", ":")).encode()


@dataclass(frozen=True)
class Primitive(CtyType):
    """A cty primitive type: string, number, bool, or the dynamic pseudo-type."""

    name: str  # "string" | "number" | "bool" | "dynamic"

    def json(self) -> Any:
        return self.name

    def __repr__(self) -> str:
        return self.name


STRING = Primitive("string")
NUMBER = Primitive("number")
BOOL = Primitive("bool")
DYNAMIC = Primitive("dynamic")


@dataclass(frozen=True)
class List(CtyType):
    """A cty list of ``element``."""

    element: CtyType

    def json(self) -> Any:
        return ["list", self.element.json()]


@dataclass(frozen=True)
class Set(CtyType):
    """A cty set of ``element``."""

    element: CtyType

    def json(self) -> Any:
        return ["set", self.element.json()]


@dataclass(frozen=True)
class Map(CtyType):
    """A cty map of ``element`` by string key."""

    element: CtyType

    def json(self) -> Any:
        return ["map", self.element.json()]


@dataclass(frozen=True)
class Tuple(CtyType):
    """A cty tuple: a fixed sequence of ``elements``."""

    elements: tuple[CtyType, ...]

    def json(self) -> Any:
        return ["tuple", [e.json() for e in self.elements]]


@dataclass(frozen=True)
class Object(CtyType):
    """A cty object: named ``attributes``, those in ``optional`` allowed to be absent."""

    attributes: dict[str, CtyType] = field(hash=False)
    optional: frozenset[str] = frozenset()

    def __hash__(self) -> int:
        return hash((tuple(sorted(self.attributes)), self.optional))

    def json(self) -> Any:
        attrs = {name: t.json() for name, t in self.attributes.items()}
        if self.optional:
            return ["object", attrs, sorted(self.optional)]
        return ["object", attrs]


@dataclass(frozen=True)
class Typed:
    """A value together with its concrete type: what a ``dynamic`` attribute holds."""

    type: CtyType
    value: Any


class TypeJSONError(ValueError):
    pass


def parse_type_json(data: bytes | str) -> CtyType:
    """Read a cty type from its JSON text."""
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise TypeJSONError(f"type is not valid JSON: {exc}") from None
    return type_from_json(raw)


def type_from_json(raw: Any) -> CtyType:
    """Read a cty type from its decoded JSON form."""
    if isinstance(raw, str):
        for prim in (STRING, NUMBER, BOOL, DYNAMIC):
            if raw == prim.name:
                return prim
        raise TypeJSONError(f"unknown primitive type {raw!r}")
    if isinstance(raw, list) and len(raw) >= 2 and isinstance(raw[0], str):
        kind, arg = raw[0], raw[1]
        if kind == "list":
            return List(type_from_json(arg))
        if kind == "set":
            return Set(type_from_json(arg))
        if kind == "map":
            return Map(type_from_json(arg))
        if kind == "tuple" and isinstance(arg, list):
            return Tuple(tuple(type_from_json(e) for e in arg))
        if kind == "object" and isinstance(arg, dict):
            optional: frozenset[str] = frozenset()
            if len(raw) > 2 and isinstance(raw[2], list):
                optional = frozenset(str(o) for o in raw[2])
            return Object({k: type_from_json(v) for k, v in arg.items()}, optional)
    raise TypeJSONError(f"not a cty type: {raw!r:.80}")
