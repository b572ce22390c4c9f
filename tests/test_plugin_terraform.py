"""The plugin layer and framework, proven with real Terraform and the small test provider."""

from __future__ import annotations

import json
from pathlib import Path

from tfharness import Terraform, requires_terraform, terraform_version

CONFIG = """
terraform {
  required_providers {
    testing = { source = "example.com/test/testing" }
  }
}
provider "testing" { store = "STORE" }
resource "testing_thing" "a" {
  name   = "NAME"
  size   = SIZE
  tags   = { env = "dev", "key with space" = "v" }
  labels = ["x", "y"]
  secret = "hunter22-secret"
  parts  = [{ key = "k1", weight = 0.1 }, { key = "k2", weight = 123456789012345678901234567890 }]
  rule {
    match    = "a*"
    priority = 1
  }
  rule { match = "b*" }
  limits { max = 10 }
}
data "testing_things" "all" { depends_on = [testing_thing.a] }
output "names" { value = data.testing_things.all.names }
"""


def write(tf: Terraform, store: Path, name: str = "alpha", size: str = "3") -> None:
    tf.write(CONFIG.replace("STORE", str(store)).replace("NAME", name).replace("SIZE", size))


def objects(store: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(store.glob("*.json"))]


def test_apply_plan_update_replace_import_destroy(testing_tf: Terraform, tmp_path: Path) -> None:
    store = tmp_path / "store"
    write(testing_tf, store)

    applied = testing_tf.apply()
    assert "1 added" in applied.stdout
    [obj] = objects(store)
    assert obj["name"] == "alpha" and obj["color"] == "red"
    # A number beyond float64 survives the round trip exactly.
    [state] = testing_tf.resources("testing_thing")
    assert state["attributes"]["parts"][1]["weight"] == 123456789012345678901234567890
    assert state["attributes"]["id"] == obj["id"]
    if terraform_version() >= (1, 12):
        assert state["identity"] == {"id": obj["id"]}
    assert state["attributes"]["rule"] == [
        {"match": "a*", "priority": 1},
        {"match": "b*", "priority": None},
    ]
    assert state["attributes"]["limits"] == {"max": 10}

    assert testing_tf.plan_code().code == 0, "a plan right after apply must show no changes"
    assert testing_tf.plan_code("-refresh=false").code == 0

    # In-place update keeps the id.
    write(testing_tf, store, size="4")
    plan = testing_tf.plan_code()
    assert plan.code == 2 and "update in-place" in plan.stdout
    testing_tf.apply()
    [obj2] = objects(store)
    assert obj2["id"] == obj["id"] and obj2["size"] == 4 and obj2["revision"] == 2
    assert testing_tf.plan_code().code == 0

    # A RequiresReplace attribute replaces, and the plan says which attribute forces it.
    write(testing_tf, store, name="beta", size="4")
    plan = testing_tf.plan_code()
    assert plan.code == 2 and "forces replacement" in plan.stdout
    assert '"alpha" -> "beta" # forces replacement' in plan.stdout
    testing_tf.apply()
    [obj3] = objects(store)
    assert obj3["id"] != obj["id"] and obj3["name"] == "beta"

    # Import by id, then the plan is empty except the secret that import cannot know.
    testing_tf.run("state", "rm", "testing_thing.a")
    imported = testing_tf.run("import", "-no-color", "testing_thing.a", obj3["id"])
    assert "Import successful" in imported.stdout
    plan = testing_tf.plan_code()
    assert plan.code == 2 and "secret" in plan.stdout and "forces replacement" not in plan.stdout
    testing_tf.apply()
    assert testing_tf.plan_code().code == 0

    # Out-of-band deletion: the resource leaves state and is planned again.
    (store / f"{obj3['id']}.json").unlink()
    plan = testing_tf.plan_code()
    assert plan.code == 2 and "will be created" in plan.stdout

    testing_tf.destroy()
    assert objects(store) == []
    assert testing_tf.resources("testing_thing") == []


@requires_terraform(1, 12)
def test_identity_import_block(testing_tf: Terraform, tmp_path: Path) -> None:
    store = tmp_path / "store"
    write(testing_tf, store)
    testing_tf.apply()
    [obj] = objects(store)
    testing_tf.run("state", "rm", "testing_thing.a")
    testing_tf.write(
        f'import {{\n  to = testing_thing.a\n  identity = {{ id = "{obj["id"]}" }}\n}}\n',
        "imports.tf",
    )
    plan = testing_tf.plan_code()
    assert plan.code == 2 and "will be imported" in plan.stdout, plan.output
    testing_tf.apply()
    assert testing_tf.resources("testing_thing")[0]["attributes"]["id"] == obj["id"]


def test_validation_error_has_attribute_path(testing_tf: Terraform, tmp_path: Path) -> None:
    write(testing_tf, tmp_path / "store")
    main = testing_tf.workdir / "main.tf"
    main.write_text(
        main.read_text().replace('name   = "alpha"', 'name = "alpha"\n  color = "pink"')
    )
    result = testing_tf.run("validate", "-no-color", check=False)
    assert result.code == 1
    assert '"pink" is not allowed here; expected one of `red`, `green`, `blue`' in result.output
    assert 'color = "pink"' in result.output  # Terraform points at the line from our path
