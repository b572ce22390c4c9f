"""What a provider, a resource and a data source implement, and what each call hands them.

A resource file declares its schema next to these methods and implements only what is its own:
the generic plan steps (defaults, unknown marking, plan modifiers, replace checks) and the wire
handling live in the framework.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..plugin.path import Path
from .diagnostics import Diagnostics
from .privatestate import PrivateState
from .schema import IdentitySchema, Schema


@dataclass
class CallContext:
    """Shared by every call: the configured provider's data, diagnostics, a stop signal."""

    provider_data: Any
    diags: Diagnostics
    stop: threading.Event


@dataclass
class ValidateContext(CallContext):
    """What ``Resource.validate`` gets: the configuration, possibly with unknown values."""

    config: Any = None


@dataclass
class PlanContext(CallContext):
    """What ``Resource.modify_plan`` gets and changes: ``planned`` and the paths that
    force a replacement."""

    config: Any = None
    prior: Any = None
    planned: Any = None
    private: PrivateState = field(default_factory=PrivateState)
    requires_replace: list[Path] = field(default_factory=list)

    @property
    def creating(self) -> bool:
        return self.prior is None


@dataclass
class ApplyContext(CallContext):
    """What ``create``, ``update`` and ``delete`` get: the plan, the prior state and the
    private state they may change."""

    config: Any = None
    prior: Any = None
    planned: Any = None
    private: PrivateState = field(default_factory=PrivateState)
    # A create that made something remote and then failed sets this, so the object is saved
    # (tainted) instead of being forgotten and later created a second time.
    partial_state: Any = None


@dataclass
class ReadContext(CallContext):
    """What ``Resource.read`` gets: the state to refresh, its private state and identity."""

    state: Any = None
    private: PrivateState = field(default_factory=PrivateState)
    identity: Any = None


@dataclass
class ImportContext(CallContext):
    """What ``Resource.import_state`` gets: the id the user gave, or the identity."""

    id: str = ""
    identity: Any = None
    private: PrivateState = field(default_factory=PrivateState)


class Resource:
    """A managed resource type. Subclasses set ``type_name`` and ``schema``.

    ``validate``, ``modify_plan`` and ``upgrade_state`` (and every validator and plan
    modifier) must not wait on I/O: the server runs those calls on the connection's own
    thread (``ProviderServicer.inline_methods``), so one that blocked would hold up every
    call behind it. The API is for ``create``, ``read``, ``update``, ``delete`` and imports.
    """

    type_name: str = ""
    schema: Schema
    identity_schema: IdentitySchema | None = None

    def validate(self, ctx: ValidateContext) -> None:
        """Cross-attribute checks, after each attribute's own validators ran."""

    def modify_plan(self, ctx: PlanContext) -> None:
        """Resource-wide plan rules, after the generic ones."""

    def create(self, ctx: ApplyContext) -> Any:
        raise NotImplementedError

    def read(self, ctx: ReadContext) -> Any:
        """The current remote object, or ``None`` when it no longer exists."""
        raise NotImplementedError

    def update(self, ctx: ApplyContext) -> Any:
        raise NotImplementedError

    def delete(self, ctx: ApplyContext) -> None:
        raise NotImplementedError

    def import_state(self, ctx: ImportContext) -> Any:
        ctx.diags.error("Import not supported", f"{self.type_name} cannot be imported.")
        return None

    def upgrade_state(self, version: int, state: dict[str, Any]) -> dict[str, Any]:
        """Moves a state saved by an older schema version to the current one."""
        return state

    def identity_of(self, state: Any) -> dict[str, Any] | None:
        """The identity of a known object (required when ``identity_schema`` is set)."""
        return None


@dataclass
class ListContext(CallContext):
    """What ``ListResource.list`` gets: the list block's config and how much to return."""

    config: Any = None
    include_resource: bool = False
    limit: int = 100


@dataclass(frozen=True)
class ListResult:
    """One object found by a list resource: its identity, a name for people, and (when
    Terraform asked for it) the full resource object."""

    identity: dict[str, Any]
    display_name: str
    state: Any = None


class ListResource:
    """Finds existing objects of a managed resource type for ``terraform query``.

    ``type_name`` must equal the managed resource's, and that resource needs an identity.
    """

    type_name: str = ""
    schema: Schema

    def validate(self, ctx: ValidateContext) -> None:
        """Cross-attribute checks of the list block's ``config``."""

    def list(self, ctx: ListContext) -> Iterator[ListResult]:
        raise NotImplementedError


class DataSource:
    type_name: str = ""
    schema: Schema

    def validate(self, ctx: ValidateContext) -> None:
        """Cross-attribute checks, after each attribute's own validators ran."""

    def read(self, ctx: ValidateContext) -> Any:
        raise NotImplementedError


class Provider:
    """The provider itself: its configuration schema and the types it serves."""

    type_name: str = ""
    schema: Schema

    def resources(self) -> list[Resource]:
        return []

    def data_sources(self) -> list[DataSource]:
        return []

    def list_resources(self) -> list[ListResource]:
        return []

    def validate(self, ctx: ValidateContext) -> None:
        """Cross-attribute checks of the provider configuration."""

    def configure(self, ctx: ValidateContext, terraform_version: str) -> Any:
        """Returns the data handed to every later call as ``provider_data``."""
        return None

    def stop(self) -> None:
        """Terraform asked to stop work in flight (Ctrl-C); cancel what can be cancelled."""
