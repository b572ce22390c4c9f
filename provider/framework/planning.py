"""The generic half of planning and validation, shared by every resource.

Terraform hands a provider the configuration, the prior state and its own proposed new state;
the provider answers with a plan that Terraform then checks strictly (see "Consistency rules" in
the protocol notes). The steps here follow the Go plugin framework, because users expect the
same plans from us as from Go providers:

1. start from the proposed new state;
2. apply defaults for attributes the configuration leaves null;
3. when the resource changes at all, mark computed attributes with a null configuration as
   unknown (their value may change and cannot be predicted);
4. run each attribute's value plan modifiers (for example ``UseStateForUnknown``);
5. the resource's own ``modify_plan`` hook (run by the caller);
6. run the replace checks (``RequiresReplace``), which see the final planned values.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from ..plugin.cty import UNKNOWN
from ..plugin.path import Key, Path
from .diagnostics import Diagnostics
from .schema import Attribute
from .values import copied


@dataclass
class AttributePlan:
    """One attribute's planning question, handed to its plan modifiers."""

    path: Path
    attribute: Attribute
    config: Any
    prior: Any
    planned: Any
    creating: bool
    requires_replace: bool = False


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else None


def _children(
    attr: Attribute, config: Any, prior: Any, planned: Any
) -> list[tuple[Any, Any, Any, Any]]:
    """Pairs up the nested objects of one nested attribute: (key, config, prior, planned)."""
    assert attr.nested is not None
    nesting = attr.nested.nesting
    if planned is None or planned is UNKNOWN:
        return []
    if nesting == "single":
        return [(None, config, prior, planned)]
    if nesting == "list":
        return [
            (
                i,
                config[i] if isinstance(config, list) and i < len(config) else None,
                prior[i] if isinstance(prior, list) and i < len(prior) else None,
                item,
            )
            for i, item in enumerate(planned)
        ]
    if nesting == "map":
        return [(Key(k), _get(config, k), _get(prior, k), v) for k, v in planned.items()]
    # set: elements have no identity across config and prior; Terraform's proposed element is
    # the configured one, so it stands in for its own configuration.
    return [(i, item, None, item) for i, item in enumerate(planned)]


def apply_defaults(attributes: dict[str, Attribute], config: Any, planned: dict[str, Any]) -> None:
    for name, attr in attributes.items():
        value_config = _get(config, name)
        if value_config is None and attr.default is not None:
            # As in the Go framework: left out of the configuration means the default, even
            # when the prior state holds something else.
            planned[name] = copy.deepcopy(attr.default)
        if attr.nested is not None and value_config is not None:
            for _key, c, _p, pl in _children(attr, value_config, None, planned.get(name)):
                if isinstance(pl, dict):
                    apply_defaults(attr.nested.attributes, c, pl)


def mark_computed_unknown(
    attributes: dict[str, Attribute], config: Any, planned: dict[str, Any]
) -> None:
    for name, attr in attributes.items():
        value_config = _get(config, name)
        if attr.computed and value_config is None and attr.default is None:
            planned[name] = UNKNOWN
            continue
        if attr.nested is not None and value_config is not None:
            for _key, c, _p, pl in _children(attr, value_config, None, planned.get(name)):
                if isinstance(pl, dict):
                    mark_computed_unknown(attr.nested.attributes, c, pl)


def null_write_only(attributes: dict[str, Attribute], planned: dict[str, Any]) -> None:
    """Write-only values are never planned nor stored; Terraform requires them null."""
    for name, attr in attributes.items():
        if attr.write_only:
            planned[name] = None
        elif attr.nested is not None:
            for _key, _c, _p, pl in _children(attr, None, None, planned.get(name)):
                if isinstance(pl, dict):
                    null_write_only(attr.nested.attributes, pl)


def run_plan_modifiers(
    attributes: dict[str, Attribute],
    config: Any,
    prior: Any,
    planned: dict[str, Any],
    *,
    creating: bool,
    phase: str,
    path: Path = (),
    replace_paths: list[Path],
) -> None:
    for name, attr in attributes.items():
        here = (*path, name)
        modifiers = [m for m in attr.plan_modifiers if m.phase == phase]
        if modifiers:
            question = AttributePlan(
                path=here,
                attribute=attr,
                config=_get(config, name),
                prior=_get(prior, name),
                planned=planned.get(name),
                creating=creating,
            )
            for modifier in modifiers:
                modifier(question)
            planned[name] = question.planned
            if question.requires_replace:
                replace_paths.append(here)
        if attr.nested is not None:
            for key, c, p, pl in _children(
                attr, _get(config, name), _get(prior, name), planned.get(name)
            ):
                if isinstance(pl, dict):
                    sub = here if key is None else (*here, key)
                    run_plan_modifiers(
                        attr.nested.attributes,
                        c,
                        p,
                        pl,
                        creating=creating or p is None,
                        phase=phase,
                        path=sub,
                        replace_paths=replace_paths,
                    )


def plan_attributes(
    attributes: dict[str, Attribute], config: Any, prior: Any, proposed: Any
) -> dict[str, Any]:
    """Steps 1 to 4 of the module docstring; returns the planned object."""
    planned: dict[str, Any] = copied(proposed)
    creating = prior is None
    apply_defaults(attributes, config, planned)
    if creating or planned != prior:
        mark_computed_unknown(attributes, config, planned)
    run_plan_modifiers(
        attributes, config, prior, planned, creating=creating, phase="value", replace_paths=[]
    )
    null_write_only(attributes, planned)
    return planned


def replace_checks(
    attributes: dict[str, Attribute], config: Any, prior: Any, planned: dict[str, Any]
) -> list[Path]:
    """Step 6: the paths whose change forces a replacement."""
    paths: list[Path] = []
    if prior is None:
        return paths
    run_plan_modifiers(
        attributes, config, prior, planned, creating=False, phase="replace", replace_paths=paths
    )
    return paths


def validate_attributes(
    attributes: dict[str, Attribute], config: Any, diags: Diagnostics, path: Path = ()
) -> None:
    """Runs every validator on known, non-null configured values; unknowns wait until known."""
    if not isinstance(config, dict):
        return
    for name, attr in attributes.items():
        value = config.get(name)
        here = (*path, name)
        if value is None or value is UNKNOWN:
            continue
        for validator in attr.validators:
            validator(value, here, diags)
        if attr.nested is not None:
            for key, _c, _p, item in _children(attr, value, None, value):
                validate_attributes(
                    attr.nested.attributes, item, diags, here if key is None else (*here, key)
                )
