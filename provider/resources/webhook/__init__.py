"""``connectly_webhook``: the schema, the typed state, the mapping to the API, the CRUD and the
list resource, one module each."""

from .listing import WebhookList
from .resource import WebhookResource
from .schema import IDENTITY, LIST_SCHEMA, SCHEMA

__all__ = ["IDENTITY", "LIST_SCHEMA", "SCHEMA", "WebhookList", "WebhookResource"]
