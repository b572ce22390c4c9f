"""The generic planning engine, on schemas Connectly does not use (set and map nesting)."""

from __future__ import annotations

from terraform_provider_connectly.framework import UNKNOWN, cty
from terraform_provider_connectly.framework.diagnostics import Diagnostics
from terraform_provider_connectly.framework.planmodifiers import RequiresReplace, UseStateForUnknown
from terraform_provider_connectly.framework.planning import (
    plan_attributes,
    replace_checks,
    validate_attributes,
)
from terraform_provider_connectly.framework.schema import Attribute, NestedAttributes
from terraform_provider_connectly.framework.validators import OneOf
from terraform_provider_connectly.plugin.path import Key

PORTS = NestedAttributes(
    "set",
    {
        "name": Attribute(cty.STRING, required=True),
        "port": Attribute(cty.NUMBER, optional=True, computed=True),
    },
)
ATTRS = {
    "id": Attribute(cty.STRING, computed=True, plan_modifiers=(UseStateForUnknown(),)),
    "name": Attribute(cty.STRING, required=True, plan_modifiers=(RequiresReplace(),)),
    "mode": Attribute(cty.STRING, optional=True, computed=True, default="fast"),
    "ports": Attribute(nested=PORTS, optional=True),
    "zones": Attribute(
        nested=NestedAttributes(
            "map", {"tier": Attribute(cty.STRING, optional=True, validators=(OneOf(("a",)),))}
        ),
        optional=True,
    ),
}


def test_set_elements_keep_configured_values_and_mark_only_null_computed_ones() -> None:
    config = {
        "id": None,
        "name": "x",
        "mode": None,
        "ports": [{"name": "a", "port": 80}, {"name": "b", "port": None}],
        "zones": None,
    }
    planned = plan_attributes(ATTRS, config, None, dict(config))
    assert planned["ports"] == [{"name": "a", "port": 80}, {"name": "b", "port": UNKNOWN}]
    assert planned["id"] is UNKNOWN and planned["mode"] == "fast"


def test_defaults_apply_when_the_configuration_leaves_a_value_out() -> None:
    prior = {"id": "1", "name": "x", "mode": "slow", "ports": None, "zones": None}
    config = {**prior, "id": None, "mode": None}
    planned = plan_attributes(ATTRS, config, prior, dict(prior))
    assert planned["mode"] == "fast" and planned["id"] == "1"


def test_replace_paths_and_no_replace_without_change() -> None:
    prior = {"id": "1", "name": "x", "mode": "fast", "ports": None, "zones": None}
    same = plan_attributes(ATTRS, {**prior, "id": None}, prior, dict(prior))
    assert replace_checks(ATTRS, prior, prior, same) == []
    changed = plan_attributes(
        ATTRS, {**prior, "id": None, "name": "y"}, prior, {**prior, "name": "y"}
    )
    assert replace_checks(ATTRS, prior, prior, changed) == [("name",)]
    assert changed["id"] == "1"  # UseStateForUnknown keeps it through a change


def test_validation_paths_name_map_keys() -> None:
    diags = Diagnostics()
    validate_attributes(ATTRS, {"zones": {"eu": {"tier": "b"}}, "name": UNKNOWN}, diags)
    [d] = diags.items
    assert d.path == ("zones", Key("eu"), "tier")
