"""Connectly WebhookService client: typed models, typed errors, retries, shared listings.

Knows nothing of Terraform; the ``resources`` layer builds on it. Names load on first use:
the client module brings in the whole HTTP stack, which a provider process that never calls
the API (Terraform starts several per command) should not pay for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import DEFAULT_BASE_URL, ConnectlyClient
    from .errors import (
        Conflict,
        ConnectlyError,
        InvalidRequest,
        InvalidResponse,
        NotFound,
        OperationTimeout,
        RateLimited,
        ServerError,
        TransportError,
        Unauthorized,
    )
    from .models import Filter, WebengageConfiguration, Webhook, WebhookConfiguration, WebhookSpec
    from .retry import RetryPolicy

_HOME = {
    "DEFAULT_BASE_URL": "client",
    "ConnectlyClient": "client",
    "Conflict": "errors",
    "ConnectlyError": "errors",
    "InvalidRequest": "errors",
    "InvalidResponse": "errors",
    "NotFound": "errors",
    "OperationTimeout": "errors",
    "RateLimited": "errors",
    "ServerError": "errors",
    "TransportError": "errors",
    "Unauthorized": "errors",
    "Filter": "models",
    "WebengageConfiguration": "models",
    "Webhook": "models",
    "WebhookConfiguration": "models",
    "WebhookSpec": "models",
    "RetryPolicy": "retry",
}

__all__ = [
    "DEFAULT_BASE_URL",
    "Conflict",
    "ConnectlyClient",
    "ConnectlyError",
    "Filter",
    "InvalidRequest",
    "InvalidResponse",
    "NotFound",
    "OperationTimeout",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "Unauthorized",
    "WebengageConfiguration",
    "Webhook",
    "WebhookConfiguration",
    "WebhookSpec",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value
