"""The provider framework: schema, diagnostics, plan rules and the Provider service.

Resources use what this package offers, the value types included, and never the plugin layer
directly.
"""

from ..plugin import cty
from ..plugin.cty import UNKNOWN
from ..plugin.logs import register_secret

__all__ = ["UNKNOWN", "cty", "register_secret"]
