"""Named plan modifiers, each one rule about how a single attribute is planned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..plugin.cty import UNKNOWN
from .planning import AttributePlan


@dataclass(frozen=True)
class UseStateForUnknown:
    """Keep the prior value instead of "known after apply" when nothing will change it.

    For values the server assigns once (ids) or fills in (defaults), so that a plan after
    apply shows no changes and an id stays known across plans.
    """

    description: str = "Once known, plans show the value instead of (known after apply)"
    phase: Literal["value", "replace"] = "value"
    # The same sentence for every attribute using it: documentation says it once.
    documented_once: bool = True

    def __call__(self, plan: AttributePlan) -> None:
        if plan.creating or plan.planned is not UNKNOWN or plan.config is UNKNOWN:
            return
        plan.planned = plan.prior


@dataclass(frozen=True)
class RequiresReplace:
    """A change to this attribute destroys and re-creates the object.

    Runs after the resource's own plan hook, so that it sees values that hook decides
    (a default taken from the provider configuration, say).
    """

    description: str = "Changing this value forces a new resource to be created."
    phase: Literal["value", "replace"] = "replace"

    def __call__(self, plan: AttributePlan) -> None:
        if plan.creating:
            return
        if plan.planned is UNKNOWN or plan.planned != plan.prior:
            plan.requires_replace = True
