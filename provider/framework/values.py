"""Operations on Terraform values as a whole (``dict``/``list`` trees that may hold UNKNOWN)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from ..plugin.cty import UNKNOWN

_IMMUTABLE = frozenset({str, int, float, bool, type(None), Decimal, bytes})


def copied(value: Any) -> Any:
    """A copy of ``value`` that shares none of its dicts and lists: what ``copy.deepcopy``
    gives for these trees, at a fraction of its cost (it runs for every planned resource).
    Strings, numbers, booleans, None and UNKNOWN are immutable and shared; anything else is
    left to ``deepcopy``."""
    kind = type(value)
    if kind is dict:
        return {k: copied(v) for k, v in value.items()}
    if kind is list:
        return [copied(v) for v in value]
    if kind in _IMMUTABLE or value is UNKNOWN:
        return value
    return copy.deepcopy(value)


def wholly_known(value: Any) -> bool:
    """Whether no part of ``value`` is unknown (apply and data source results must be)."""
    if value is UNKNOWN:
        return False
    if isinstance(value, dict):
        return all(wholly_known(v) for v in value.values())
    if isinstance(value, list):
        return all(wholly_known(v) for v in value)
    return True


def unknown_as_null(value: Any) -> Any:
    """``value`` with every unknown part null: what the plan knew, and nothing more."""
    if value is UNKNOWN:
        return None
    if isinstance(value, dict):
        return {k: unknown_as_null(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unknown_as_null(v) for v in value]
    return value


def overlay_known(planned: Any, observed: Any) -> Any:
    """What apply returns: every value the plan knew, and the server's answer for the rest.

    Terraform insists that apply keeps each known planned value exactly; if the server
    normalised one, the next refresh shows it as drift, which is the honest place for it.
    A collection holding an unknown element is taken whole from ``observed``: its elements
    have no identity to pair them by.
    """
    if planned is UNKNOWN:
        return observed
    if isinstance(planned, dict) and isinstance(observed, dict):
        return {k: overlay_known(v, observed.get(k)) for k, v in planned.items()}
    if isinstance(planned, list) and any(v is UNKNOWN for v in planned):
        return observed
    return planned
