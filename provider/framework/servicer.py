"""The ``tfplugin6.Provider`` gRPC service, dispatching each call to a resource or data source.

Every call is wrapped so that a Python exception becomes an error diagnostic that names the
operation (the trace goes to the debug log, never to Terraform), and the server keeps serving.
Schemas are turned into protobuf once, on first use, and reused for every later call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from ..plugin.wire import tfplugin6_pb2 as pb
from . import planning, upgrade, wire
from .calls import answer_unoffered, guarded
from .diagnostics import DiagnosticError, Diagnostics
from .privatestate import PrivateState
from .resource import (
    ApplyContext,
    DataSource,
    ImportContext,
    ListContext,
    ListResource,
    PlanContext,
    Provider,
    ReadContext,
    Resource,
    ValidateContext,
)
from .values import wholly_known

log = logging.getLogger("framework")


class ProviderServicer:
    """Serves one :class:`Provider` for the life of the plugin process."""

    # The calls that never wait on I/O here (validators, plan modifiers and state upgrades
    # are pure functions of their input, by this framework's contract): the server answers
    # them on the connection's own thread, without a hand-off to a worker.
    inline_methods = frozenset(
        {
            "GetMetadata",
            "GetProviderSchema",
            "GetResourceIdentitySchemas",
            "GetFunctions",
            "ValidateProviderConfig",
            "ValidateResourceConfig",
            "ValidateDataResourceConfig",
            "ValidateListResourceConfig",
            "UpgradeResourceState",
            "UpgradeResourceIdentity",
            "PlanResourceChange",
            "StopProvider",
        }
    )

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.resources: dict[str, Resource] = {r.type_name: r for r in provider.resources()}
        self.data_sources: dict[str, DataSource] = {d.type_name: d for d in provider.data_sources()}
        self.list_resources: dict[str, ListResource] = {
            lr.type_name: lr for lr in provider.list_resources()
        }
        self.provider_data: Any = None
        self._stop = threading.Event()
        self._stop_lock = threading.Lock()
        self._schema_response: Any = None
        self._schema_lock = threading.Lock()

    # ------------------------------------------------------------ helpers

    def _ctx_kwargs(self, diags: Diagnostics) -> dict[str, Any]:
        return {"provider_data": self.provider_data, "diags": diags, "stop": self._stop}

    def _resource(self, type_name: str) -> Resource:
        try:
            return self.resources[type_name]
        except KeyError:
            raise DiagnosticError(
                "Unknown resource type", f"This provider has no resource type {type_name!r}."
            ) from None

    def _data_source(self, type_name: str) -> DataSource:
        try:
            return self.data_sources[type_name]
        except KeyError:
            raise DiagnosticError(
                "Unknown data source", f"This provider has no data source {type_name!r}."
            ) from None

    def _capabilities(self) -> Any:
        return pb.ServerCapabilities(plan_destroy=True, get_provider_schema_optional=True)

    # ------------------------------------------------------------ schema

    @guarded("GetMetadata")
    def GetMetadata(self, request: Any, diags: Diagnostics) -> Any:
        return pb.GetMetadata.Response(
            server_capabilities=self._capabilities(),
            resources=[pb.GetMetadata.ResourceMetadata(type_name=n) for n in self.resources],
            data_sources=[
                pb.GetMetadata.DataSourceMetadata(type_name=n) for n in self.data_sources
            ],
            list_resources=[
                pb.GetMetadata.ListResourceMetadata(type_name=n) for n in self.list_resources
            ],
        )

    @guarded("GetProviderSchema")
    def GetProviderSchema(self, request: Any, diags: Diagnostics) -> Any:
        with self._schema_lock:
            if self._schema_response is None:
                self._schema_response = wire.provider_schema(
                    self.provider.schema,
                    self._capabilities(),
                    {n: r.schema for n, r in self.resources.items()},
                    {n: d.schema for n, d in self.data_sources.items()},
                    {n: lr.schema for n, lr in self.list_resources.items()},
                )
            return self._schema_response

    @guarded("GetResourceIdentitySchemas")
    def GetResourceIdentitySchemas(self, request: Any, diags: Diagnostics) -> Any:
        response = pb.GetResourceIdentitySchemas.Response()
        for name, res in self.resources.items():
            if res.identity_schema is not None:
                response.identity_schemas[name].CopyFrom(
                    wire.identity_to_proto(res.identity_schema)
                )
        return response

    @guarded("GetFunctions")
    def GetFunctions(self, request: Any, diags: Diagnostics) -> Any:
        return pb.GetFunctions.Response()

    # ------------------------------------------------------------ provider

    @guarded("ValidateProviderConfig")
    def ValidateProviderConfig(self, request: Any, diags: Diagnostics) -> Any:
        schema = self.provider.schema
        config = wire.decode(schema.type, request.config, "provider configuration")
        planning.validate_attributes(schema.block.attributes, config, diags)
        self.provider.validate(ValidateContext(config=config, **self._ctx_kwargs(diags)))
        return None

    @guarded("ConfigureProvider")
    def ConfigureProvider(self, request: Any, diags: Diagnostics) -> Any:
        config = wire.decode(self.provider.schema.type, request.config, "provider configuration")
        ctx = ValidateContext(config=config, **self._ctx_kwargs(diags))
        data = self.provider.configure(ctx, request.terraform_version)
        if not diags.has_errors:
            self.provider_data = data
        return None

    @guarded("StopProvider")
    def StopProvider(self, request: Any, diags: Diagnostics) -> Any:
        # Cancel what runs now; calls that start later get a fresh, unset event.
        with self._stop_lock:
            self._stop.set()
            self._stop = threading.Event()
        self.provider.stop()
        return pb.StopProvider.Response()

    # ------------------------------------------------------------ validation

    @guarded("ValidateResourceConfig")
    def ValidateResourceConfig(self, request: Any, diags: Diagnostics) -> Any:
        res = self._resource(request.type_name)
        config = wire.decode(res.schema.type, request.config, "configuration")
        planning.validate_attributes(res.schema.block.attributes, config, diags)
        res.validate(ValidateContext(config=config, **self._ctx_kwargs(diags)))
        return None

    @guarded("ValidateDataResourceConfig")
    def ValidateDataResourceConfig(self, request: Any, diags: Diagnostics) -> Any:
        ds = self._data_source(request.type_name)
        config = wire.decode(ds.schema.type, request.config, "configuration")
        planning.validate_attributes(ds.schema.block.attributes, config, diags)
        ds.validate(ValidateContext(config=config, **self._ctx_kwargs(diags)))
        return None

    # ------------------------------------------------------------ state

    @guarded("UpgradeResourceState")
    def UpgradeResourceState(self, request: Any, diags: Diagnostics) -> Any:
        res = self._resource(request.type_name)
        raw = request.raw_state
        state = upgrade.upgraded_state(
            res, request.type_name, int(request.version), raw.json, bool(raw.flatmap)
        )
        return pb.UpgradeResourceState.Response(upgraded_state=wire.encode(res.schema.type, state))

    @guarded("UpgradeResourceIdentity")
    def UpgradeResourceIdentity(self, request: Any, diags: Diagnostics) -> Any:
        res = self._resource(request.type_name)
        if res.identity_schema is None:
            raise DiagnosticError("No identity", f"{request.type_name} has no identity.")
        ty = res.identity_schema.type
        identity = wire.decode(ty, pb.DynamicValue(json=request.raw_identity.json), "identity")
        return pb.UpgradeResourceIdentity.Response(
            upgraded_identity=pb.ResourceIdentityData(identity_data=wire.encode(ty, identity))
        )

    def _identity(self, res: Resource, state: Any) -> Any:
        if res.identity_schema is None or state is None:
            return None
        identity = res.identity_of(state)
        if identity is None or not wholly_known(identity):
            return None
        return pb.ResourceIdentityData(
            identity_data=wire.encode(res.identity_schema.type, identity)
        )

    @guarded("ReadResource")
    def ReadResource(self, request: Any, diags: Diagnostics) -> Any:
        res = self._resource(request.type_name)
        ty = res.schema.type
        current = wire.decode(ty, request.current_state, "state")
        identity = None
        if res.identity_schema is not None and request.HasField("current_identity"):
            identity = wire.decode(
                res.identity_schema.type, request.current_identity.identity_data, "identity"
            )
        ctx = ReadContext(
            state=current,
            private=PrivateState(request.private),
            identity=identity,
            **self._ctx_kwargs(diags),
        )
        new = res.read(ctx) if current is not None else None
        if diags.has_errors:
            return None  # the guard hands the current state back
        response = pb.ReadResource.Response(
            new_state=wire.encode(ty, new), private=ctx.private.to_bytes()
        )
        new_identity = self._identity(res, new)
        if new_identity is not None:
            response.new_identity.CopyFrom(new_identity)
        return response

    # ------------------------------------------------------------ plan and apply

    @guarded("PlanResourceChange")
    def PlanResourceChange(self, request: Any, diags: Diagnostics) -> Any:
        res = self._resource(request.type_name)
        ty = res.schema.type
        prior = wire.decode(ty, request.prior_state, "prior state")
        proposed = wire.decode(ty, request.proposed_new_state, "proposed new state")
        config = wire.decode(ty, request.config, "configuration")
        if proposed is None:  # destroy
            return pb.PlanResourceChange.Response(
                planned_state=wire.encode(ty, None), planned_private=request.prior_private
            )
        attributes = res.schema.block.attributes
        planned = planning.plan_attributes(attributes, config, prior, proposed)
        ctx = PlanContext(
            config=config,
            prior=prior,
            planned=planned,
            private=PrivateState(request.prior_private),
            **self._ctx_kwargs(diags),
        )
        res.modify_plan(ctx)
        if diags.has_errors:
            return None
        replace = planning.replace_checks(attributes, config, ctx.prior, ctx.planned)
        for extra in ctx.requires_replace:
            if extra not in replace:
                replace.append(extra)
        response = pb.PlanResourceChange.Response(
            planned_state=wire.encode(ty, ctx.planned),
            planned_private=ctx.private.to_bytes(),
            requires_replace=[wire.path_to_proto(p) for p in replace],
        )
        if prior is not None and not replace:
            identity = self._identity(res, ctx.planned)
            if identity is not None:
                response.planned_identity.CopyFrom(identity)
        return response

    @guarded("ApplyResourceChange")
    def ApplyResourceChange(self, request: Any, diags: Diagnostics) -> Any:
        res = self._resource(request.type_name)
        ty = res.schema.type
        prior = wire.decode(ty, request.prior_state, "prior state")
        planned = wire.decode(ty, request.planned_state, "planned state")
        config = wire.decode(ty, request.config, "configuration")
        ctx = ApplyContext(
            config=config,
            prior=prior,
            planned=planned,
            private=PrivateState(request.planned_private),
            **self._ctx_kwargs(diags),
        )
        if planned is None:
            res.delete(ctx)
            if diags.has_errors:
                return None  # keeps the prior state: the object may still exist
            return pb.ApplyResourceChange.Response(new_state=wire.encode(ty, None))
        if prior is None:
            try:
                new = res.create(ctx)
            except DiagnosticError as exc:
                diags.items.append(exc.diagnostic)
                new = None
            except Exception as exc:  # still save what the create made (partial_state)
                log.debug("create failed", exc_info=True)
                diags.error(
                    "Unexpected error in ApplyResourceChange",
                    f"{type(exc).__name__}: {exc}\n\nThis is a bug in the provider; please "
                    "report it, with the output of TF_LOG=debug.",
                )
                new = None
            if diags.has_errors:
                if ctx.partial_state is not None:
                    # Saved as tainted: the remote object exists and must not be forgotten.
                    return self._apply_response(res, ctx.partial_state, ctx.private.to_bytes())
                return pb.ApplyResourceChange.Response(new_state=wire.encode(ty, None))
        else:
            new = res.update(ctx)
            if diags.has_errors:
                return None
        if not wholly_known(new):
            raise DiagnosticError(
                "Provider left values unknown after apply",
                f"{request.type_name}: the result still contains unknown values.",
            )
        return self._apply_response(res, new, ctx.private.to_bytes())

    def _apply_response(self, res: Resource, state: Any, private: bytes) -> Any:
        response = pb.ApplyResourceChange.Response(
            new_state=wire.encode(res.schema.type, state), private=private
        )
        identity = self._identity(res, state)
        if identity is not None:
            response.new_identity.CopyFrom(identity)
        return response

    @guarded("ImportResourceState")
    def ImportResourceState(self, request: Any, diags: Diagnostics) -> Any:
        res = self._resource(request.type_name)
        identity = None
        if res.identity_schema is not None and request.HasField("identity"):
            identity = wire.decode(
                res.identity_schema.type, request.identity.identity_data, "identity"
            )
        ctx = ImportContext(id=request.id, identity=identity, **self._ctx_kwargs(diags))
        state = res.import_state(ctx)
        if diags.has_errors or state is None:
            return None
        imported = pb.ImportResourceState.ImportedResource(
            type_name=request.type_name,
            state=wire.encode(res.schema.type, state),
            private=ctx.private.to_bytes(),
        )
        ident = self._identity(res, state)
        if ident is not None:
            imported.identity.CopyFrom(ident)
        return pb.ImportResourceState.Response(imported_resources=[imported])

    @guarded("MoveResourceState")
    def MoveResourceState(self, request: Any, diags: Diagnostics) -> Any:
        raise DiagnosticError(
            "Moving state is not supported",
            "This provider does not support moving state from another resource type.",
        )

    @guarded("ReadDataSource")
    def ReadDataSource(self, request: Any, diags: Diagnostics) -> Any:
        ds = self._data_source(request.type_name)
        ty = ds.schema.type
        config = wire.decode(ty, request.config, "configuration")
        state = ds.read(ValidateContext(config=config, **self._ctx_kwargs(diags)))
        if diags.has_errors:
            return None
        if not wholly_known(state):
            raise DiagnosticError("Data source left values unknown", request.type_name)
        return pb.ReadDataSource.Response(state=wire.encode(ty, state))

    # ------------------------------------------------------------ list (terraform query)

    def _list_resource(self, type_name: str) -> ListResource:
        try:
            return self.list_resources[type_name]
        except KeyError:
            raise DiagnosticError(
                "Unknown list resource", f"This provider cannot list {type_name!r}."
            ) from None

    @guarded("ValidateListResourceConfig")
    def ValidateListResourceConfig(self, request: Any, diags: Diagnostics) -> Any:
        lr = self._list_resource(request.type_name)
        config = wire.decode_list_config(lr, request.config)
        planning.validate_attributes(lr.schema.block.attributes, config, diags)
        lr.validate(ValidateContext(config=config, **self._ctx_kwargs(diags)))
        return None

    def ListResource(self, request: Any, context: Any) -> Iterator[Any]:
        """Streams what a list resource finds; a failure ends the stream with a diagnostic
        event instead of an exception."""
        diags = Diagnostics()
        try:
            lr = self._list_resource(request.type_name)
            res = self.resources[request.type_name]
            assert res.identity_schema is not None, "a list resource needs an identity"
            config = wire.decode_list_config(lr, request.config)
            ctx = ListContext(
                config=config,
                include_resource=request.include_resource_object,
                limit=request.limit or 100,
                **self._ctx_kwargs(diags),
            )
            for sent, found in enumerate(lr.list(ctx)):
                if sent >= ctx.limit:
                    break
                event = pb.ListResource.Event(
                    identity=pb.ResourceIdentityData(
                        identity_data=wire.encode(res.identity_schema.type, found.identity)
                    ),
                    display_name=found.display_name,
                )
                if found.state is not None:
                    event.resource_object.CopyFrom(wire.encode(res.schema.type, found.state))
                yield event
        except DiagnosticError as exc:
            diags.items.append(exc.diagnostic)
        except Exception as exc:
            log.debug("ListResource failed", exc_info=True)
            diags.error("Unexpected error in ListResource", f"{type(exc).__name__}: {exc}")
        if diags.items:
            yield pb.ListResource.Event(diagnostic=[wire.diag_to_proto(d) for d in diags])

    # ------------------------------------------------------------ not offered

    @guarded("CallFunction")
    def CallFunction(self, request: Any, diags: Diagnostics) -> Any:
        raise DiagnosticError(
            "No such function", f"This provider has no function {request.name!r}."
        )


answer_unoffered(ProviderServicer)
