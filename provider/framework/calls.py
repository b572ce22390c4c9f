"""How every RPC of the Provider service answers, whatever happens inside it.

An exception inside a call becomes an error diagnostic naming the operation (the trace goes to
the debug log, never to Terraform), and a failed read or update hands the current state back,
so that nothing is lost. Calls the provider does not offer answer with an error diagnostic, or
UNIMPLEMENTED for streaming calls Terraform never makes for this provider.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from typing import Any, cast

from ..plugin.rpc import StatusCode
from ..plugin.wire import tfplugin6_pb2 as pb
from . import wire
from .diagnostics import DiagnosticError, Diagnostics, Severity

log = logging.getLogger("framework")


def guarded(operation: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Turns every exception of one RPC into diagnostics on its response."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        response_type = getattr(pb, operation).Response

        @functools.wraps(method)
        def call(self: Any, request: Any, context: Any) -> Any:
            diags = Diagnostics()
            try:
                response = method(self, request, diags)
            except DiagnosticError as exc:
                diags.items.append(exc.diagnostic)
                response = None
            except Exception as exc:
                log.debug("%s failed", operation, exc_info=True)
                diags.error(
                    f"Unexpected error in {operation}",
                    f"{type(exc).__name__}: {exc}\n\nThis is a bug in the provider; "
                    "please report it, with the output of TF_LOG=debug.",
                )
                response = None
            if response is None:
                response = response_type()
                if operation in ("ReadResource",) and request.HasField("current_state"):
                    # Never lose state on a failed read: hand the current one back.
                    response.new_state.CopyFrom(request.current_state)
                    response.private = request.private
                if operation == "ApplyResourceChange" and request.HasField("prior_state"):
                    response.new_state.CopyFrom(request.prior_state)
                    response.private = request.planned_private
            fields = response.DESCRIPTOR.fields_by_name
            if "diagnostics" in fields:
                response.diagnostics.extend(wire.diag_to_proto(d) for d in diags)
            elif "diagnostic" in fields:  # ListResource.Event
                response.diagnostic.extend(wire.diag_to_proto(d) for d in diags)
            elif "Error" in fields and diags.has_errors:  # StopProvider
                response.Error = "; ".join(f"{d.summary}: {d.detail}" for d in diags)
            return response

        return call

    return wrap


def _unsupported(operation: str) -> Callable[..., Any]:
    """For calls Terraform makes only when the schema declares something we do not have."""
    method = getattr(pb, operation, None)

    def call(self: Any, request: Any, context: Any) -> Any:
        text = f"This provider does not support {operation}."
        response_type = getattr(method, "Response", None) if method is not None else None
        if response_type is not None and "diagnostics" in response_type.DESCRIPTOR.fields_by_name:
            response = response_type()
            response.diagnostics.append(
                pb.Diagnostic(
                    severity=cast(Any, int(Severity.ERROR)), summary="Unsupported call", detail=text
                )
            )
            return response
        context.abort(StatusCode.UNIMPLEMENTED, text)

    return call


def _stream_unsupported(operation: str) -> Callable[..., Iterator[Any]]:
    def call(self: Any, request: Any, context: Any) -> Iterator[Any]:
        context.abort(StatusCode.UNIMPLEMENTED, f"This provider does not support {operation}.")
        yield from ()

    return call


_STREAMING = {"ReadStateBytes", "WriteStateBytes", "InvokeAction"}


def answer_unoffered(servicer: type) -> None:
    """Gives ``servicer`` a method for every Provider call it does not define: an error
    diagnostic where the response can carry one, else UNIMPLEMENTED."""
    for method in pb.DESCRIPTOR.services_by_name["Provider"].methods:
        if method.name in servicer.__dict__:
            continue
        if method.name in _STREAMING:
            setattr(servicer, method.name, _stream_unsupported(method.name))
        else:
            request_name = method.input_type.containing_type
            op = request_name.name if request_name is not None else method.name
            setattr(servicer, method.name, _unsupported(op))
