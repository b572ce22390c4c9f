"""Connectly API errors as diagnostics a person can act on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..framework.diagnostics import DiagnosticError

if TYPE_CHECKING:
    from ..connectly.errors import ConnectlyError

_ADVICE = {
    "Unauthorized": "Check the API key: the provider's api_key or CONNECTLY_API_KEY.",
    "RateLimited": "Connectly is rate limiting these requests; try again later or lower "
    "-parallelism.",
    "OperationTimeout": "Raise the matching value in this resource's timeouts, or try again.",
    "TransportError": "Check base_url and the network path to Connectly.",
    "ServerError": "Connectly had a problem; try again. If it persists, contact Connectly "
    "support with the trace id.",
}


def api_error(operation: str, error: ConnectlyError, state: Any) -> DiagnosticError:
    where = ""
    if isinstance(state, dict) and isinstance(state.get("id"), str):
        where = f" webhook {state['id']} in business {state.get('business_id')}"
    elif isinstance(state, dict) and isinstance(state.get("business_id"), str):
        where = f" webhook in business {state['business_id']}"
    advice = next(
        (text for name, text in _ADVICE.items() if _is(error, name)),
        "",
    )
    detail = str(error)
    if advice:
        detail += "\n\n" + advice
    return DiagnosticError(f"Could not {operation}{where}", detail)


def _is(error: Exception, name: str) -> bool:
    return any(cls.__name__ == name for cls in type(error).__mro__)
