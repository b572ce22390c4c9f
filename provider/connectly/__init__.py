"""Connectly WebhookService client: typed models, typed errors, retries, shared listings.

Knows nothing of Terraform; the ``resources`` layer builds on it.
"""

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
