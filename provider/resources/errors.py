"""Connectly API errors as diagnostics a person can act on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..framework.diagnostics import DiagnosticError
from .provider_data import Interrupted

if TYPE_CHECKING:
    from ..connectly.errors import ConnectlyError

_ADVICE = {
    "Unauthorized": "Check the API key: the provider's api_key or CONNECTLY_API_KEY.",
    "RateLimited": "Connectly is rate limiting these requests; try again later or lower "
    "-parallelism.",
    "ServerError": "Connectly had a problem; try again. If it persists, contact Connectly "
    "support with the trace id.",
}


def api_error(
    operation: str,
    error: ConnectlyError,
    state: Any,
    *,
    timeout: tuple[str, float] | None = None,
    base_url: str | None = None,
) -> DiagnosticError:
    """The diagnostic for a failed API call. ``timeout`` is the resource's own time limit for
    this operation (its ``timeouts`` key and seconds), where it has one: only then does the
    advice point at ``timeouts``."""
    where = ""
    if isinstance(state, dict) and isinstance(state.get("id"), str):
        where = f" webhook {state['id']} in business {state.get('business_id')}"
    elif isinstance(state, dict) and isinstance(state.get("business_id"), str):
        what = "" if operation.endswith("webhooks") else " webhook"
        where = f"{what} in business {state['business_id']}"
    if _is(error, "OperationTimeout"):
        if timeout is not None:
            key, seconds = timeout
            advice = (
                f"The {key} timeout of this resource ({_seconds(seconds)}) ran out. Raise "
                f"timeouts.{key} if Connectly needs longer, or try again."
            )
        else:
            advice = "Connectly did not answer in time; try again."
        last = getattr(error, "last_error", None)
        if isinstance(last, Exception) and _is(last, "TransportError"):
            advice += " " + _network_advice(base_url)
    elif _is(error, "TransportError"):
        advice = _network_advice(base_url)
    else:
        advice = next((text for name, text in _ADVICE.items() if _is(error, name)), "")
    detail = str(error)
    if advice:
        detail += "\n\n" + advice
    return DiagnosticError(f"Could not {operation}{where}", detail)


def interrupted_detail(operation: str) -> str:
    """What an interruption before the end of ``operation`` means for the user."""
    return (
        f"Terraform was interrupted before the {operation} finished; nothing more was sent. "
        "Run terraform apply again to finish."
    )


@contextmanager
def api_calls(
    operation: str,
    state: Any = None,
    *,
    timeout: tuple[str, float] | None = None,
    base_url: str | None = None,
    interrupted: str = "",
) -> Iterator[None]:
    """Turns what the client raises inside the block into the diagnostic for ``operation``:
    a :class:`ConnectlyError` through :func:`api_error`, an :class:`Interrupted` into
    "Interrupted" with ``interrupted`` as its detail. Anything else passes through."""
    try:
        yield
    except Interrupted:
        raise DiagnosticError("Interrupted", interrupted or interrupted_detail(operation)) from None
    except Exception as exc:
        # Imported only here: a plan that makes no API call never loads the client.
        from ..connectly.errors import ConnectlyError

        if isinstance(exc, ConnectlyError):
            raise api_error(operation, exc, state, timeout=timeout, base_url=base_url) from None
        raise


def _network_advice(base_url: str | None) -> str:
    at = f" ({base_url})" if base_url else ""
    return f"Check that Connectly is reachable at base_url{at}, and the network path to it."


def _seconds(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{seconds:g}s"


def _is(error: Exception, name: str) -> bool:
    return any(cls.__name__ == name for cls in type(error).__mro__)
