"""Schemas: what attributes a resource has, and how each is planned and checked.

An :class:`Attribute` carries its own validators, plan modifiers and default, so that the rules
for one attribute sit next to its declaration, the way the Go plugin framework does it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ..plugin import cty
from ..plugin.path import Path

if TYPE_CHECKING:
    from .diagnostics import Diagnostics
    from .planning import AttributePlan

Nesting = Literal["single", "list", "set", "map", "group"]


class Validator(Protocol):
    """Checks one known, non-null value; writes errors with ``path`` into ``diags``."""

    @property
    def description(self) -> str: ...

    def __call__(self, value: Any, path: Path, diags: Diagnostics) -> None: ...


class PlanModifier(Protocol):
    """Adjusts the planned value of one attribute (see :mod:`.planning`).

    ``phase`` says when it runs: ``"value"`` modifiers before the resource's own plan hook,
    ``"replace"`` ones after it, so that a replace check sees the values that hook decided.
    """

    @property
    def description(self) -> str: ...

    @property
    def phase(self) -> Literal["value", "replace"]: ...

    def __call__(self, plan: AttributePlan) -> None: ...


@dataclass(frozen=True, eq=False)
class Attribute:
    """One attribute: its type (or nested attributes), how it is set, and the rules its
    values follow."""

    type: cty.CtyType | None = None
    nested: NestedAttributes | None = None
    description: str = ""
    required: bool = False
    optional: bool = False
    computed: bool = False
    sensitive: bool = False
    write_only: bool = False
    deprecation_message: str = ""
    default: Any = None
    validators: tuple[Validator, ...] = ()
    plan_modifiers: tuple[PlanModifier, ...] = ()

    def __post_init__(self) -> None:
        if (self.type is None) == (self.nested is None):
            raise ValueError("an attribute has exactly one of type and nested")
        if not (self.required or self.optional or self.computed):
            raise ValueError("an attribute is required, optional or computed")
        if self.required and (self.optional or self.computed):
            raise ValueError("a required attribute is neither optional nor computed")

    def value_type(self) -> cty.CtyType:
        if self.type is not None:
            return self.type
        assert self.nested is not None
        return self.nested.value_type()


@dataclass(frozen=True, eq=False)
class NestedAttributes:
    """Attributes nested inside an attribute, as one object, a list, a set or a map."""

    nesting: Literal["single", "list", "set", "map"]
    attributes: dict[str, Attribute]

    def object_type(self) -> cty.Object:
        return cty.Object({n: a.value_type() for n, a in self.attributes.items()})

    def value_type(self) -> cty.CtyType:
        return _wrap(self.nesting, self.object_type())


@dataclass(frozen=True, eq=False)
class Block:
    """A block's attributes and nested blocks: a schema's body, or a nested block's."""

    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: dict[str, NestedBlock] = field(default_factory=dict)
    description: str = ""
    deprecated: bool = False

    def value_type(self) -> cty.Object:
        attrs: dict[str, cty.CtyType] = {n: a.value_type() for n, a in self.attributes.items()}
        for name, nb in self.blocks.items():
            attrs[name] = _wrap(nb.nesting, nb.block.value_type())
        return cty.Object(attrs)


@dataclass(frozen=True, eq=False)
class NestedBlock:
    """A block inside a block, with how it nests and how many of it may be written."""

    nesting: Nesting
    block: Block
    min_items: int = 0
    max_items: int = 0


@dataclass(frozen=True, eq=False)
class Schema:
    """A resource's, data source's or provider's schema, and the version its state has."""

    block: Block
    version: int = 0

    @functools.cached_property
    def type(self) -> cty.Object:
        """Made once (cached_property writes the instance's __dict__, which a frozen
        dataclass allows): every call decodes values of it."""
        return self.block.value_type()


@dataclass(frozen=True)
class IdentityAttribute:
    """One attribute of a resource identity, and how ``import`` may use it."""

    name: str
    type: cty.CtyType
    description: str = ""
    required_for_import: bool = False
    optional_for_import: bool = False


@dataclass(frozen=True)
class IdentitySchema:
    """The attributes that identify a remote object, for import by identity."""

    attributes: tuple[IdentityAttribute, ...]
    version: int = 0

    @functools.cached_property
    def type(self) -> cty.Object:
        """Made once, as :attr:`Schema.type`: every read and plan encodes an identity, and
        the codec keeps its fast paths per type object."""
        return cty.Object({a.name: a.type for a in self.attributes})


def _wrap(nesting: str, obj: cty.Object) -> cty.CtyType:
    if nesting in ("single", "group"):
        return obj
    if nesting == "list":
        return cty.List(obj)
    if nesting == "set":
        return cty.Set(obj)
    if nesting == "map":
        return cty.Map(obj)
    raise ValueError(f"unknown nesting {nesting!r}")
