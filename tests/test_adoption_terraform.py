"""Adopting webhooks made outside Terraform: terraform query, generated configuration,
identity import, and the write-only token. Needs Terraform 1.14+ (the bundled 1.15.5)."""

from __future__ import annotations

import json
import re

from tfharness import connectly_config, connectly_terraform, requires_terraform

PROVIDER = connectly_config("biz_123")

QUERY = """
list "connectly_webhook" "found" {
  provider         = connectly
  include_resource = true
  config {
    business_id = "biz_123"
  }
}
"""


def seed(emu) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "messages": emu.seed(
            "biz_123",
            "messages",
            "https://example.com/m",
            configuration={"filters": [{"field": "campaign_name", "expression": "prod-*"}]},
        ),
        "report": emu.seed("biz_123", "report", "https://example.com/r"),
        # The strict listing leaves out type: the webengage settings tell it apart.
        "webengage": emu.seed(
            "biz_123",
            "delivery_status",
            "https://example.com/we",
            type="webengage",
            configuration={
                "webengageConfiguration": {
                    "webengageToken": "wetoken-secret-1",
                    "webengageWebhookUrl": "https://webengage.example/hook",
                }
            },
        ),
        "other": emu.seed("biz_999", "messages", "https://example.com/other"),
    }


@requires_terraform(1, 14)
def test_query_generate_config_import_with_zero_changes(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    emu = strict_emulator
    ids = seed(emu)
    tf = connectly_terraform(tmp_path, emu)
    tf.write(PROVIDER)
    tf.write(QUERY, "found.tfquery.hcl")
    tf.run("init", "-input=false", "-no-color")

    listed = tf.run("query", "-no-color")
    assert ids["messages"] in listed.stdout and ids["report"] in listed.stdout
    assert ids["other"] not in listed.stdout  # another business

    tf.run("query", "-no-color", "-generate-config-out=generated.tf")
    generated = (tf.workdir / "generated.tf").read_text()
    assert generated.count("import {") == 3 and "identity = {" in generated
    assert "wetoken" not in generated
    assert re.search(r'type += "webengage"', generated), generated

    emu.reset_counters()
    plan = tf.plan_code()
    assert "3 to import, 0 to add, 0 to change, 0 to destroy" in plan.stdout, plan.output
    tf.apply()
    writes = {k: v for k, v in emu.counters().items() if k in ("create", "update", "delete")}
    assert writes == {"create": 0, "update": 0, "delete": 0}
    assert tf.plan_code().code == 0
    assert sorted(r["attributes"]["id"] for r in tf.resources()) == sorted(
        [ids["messages"], ids["report"], ids["webengage"]]
    )


@requires_terraform(1, 12)
def test_identity_import_block(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    emu = strict_emulator
    ids = seed(emu)
    tf = connectly_terraform(tmp_path, emu)
    tf.write(
        PROVIDER
        + """
resource "connectly_webhook" "other" {
  business_id = "biz_999"
  topic       = "messages"
  address     = "https://example.com/other"
}
import {
  to       = connectly_webhook.other
  identity = { business_id = "biz_999", id = "ID" }
}
""".replace("ID", ids["other"])
    )
    plan = tf.plan_code()
    assert "1 to import, 0 to add, 0 to change, 0 to destroy" in plan.stdout, plan.output
    tf.apply()
    [res] = tf.resources()
    assert res["identity"] == {"business_id": "biz_999", "id": ids["other"]}
    assert tf.plan_code().code == 0


WRITE_ONLY = """
resource "connectly_webhook" "we" {
  topic   = "delivery_status"
  address = "https://example.com/we"
  type    = "webengage"
  configuration = {
    webengage_configuration = {
      webengage_token_wo         = "TOKEN"
      webengage_token_wo_version = VERSION
      webengage_webhook_url      = "https://webengage.example/hook"
    }
  }
}
"""


def test_write_only_token_is_never_stored_and_a_version_bump_sends_it(  # type: ignore[no-untyped-def]
    tmp_path, strict_emulator
) -> None:
    emu = strict_emulator
    tf = connectly_terraform(tmp_path, emu)
    first, second = "wo-token-first-1234", "wo-token-second-5678"
    tf.write(PROVIDER + WRITE_ONLY.replace("TOKEN", first).replace("VERSION", "1"))
    tf.apply()
    [reg] = emu.registrations()
    assert reg["configuration"]["webengageConfiguration"]["webengageToken"] == first
    shown = tf.run("show", "-json").stdout
    state_text = (tf.workdir / "terraform.tfstate").read_text()
    assert first not in shown and first not in state_text
    we = json.loads(state_text)["resources"][0]["instances"][0]["attributes"]["configuration"]
    assert we["webengage_configuration"]["webengage_token_wo"] is None
    assert tf.plan_code().code == 0

    # Same version, new token: nothing is sent (Terraform cannot see write-only changes).
    tf.write(PROVIDER + WRITE_ONLY.replace("TOKEN", second).replace("VERSION", "1"))
    assert tf.plan_code().code == 0
    # A version bump sends the new token.
    tf.write(PROVIDER + WRITE_ONLY.replace("TOKEN", second).replace("VERSION", "2"))
    tf.apply()
    [reg] = emu.registrations()
    assert reg["configuration"]["webengageConfiguration"]["webengageToken"] == second
    assert second not in (tf.workdir / "terraform.tfstate").read_text()
    assert tf.plan_code().code == 0


def test_write_only_token_needs_its_version(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    tf = connectly_terraform(tmp_path, strict_emulator)
    hcl = WRITE_ONLY.replace("TOKEN", "x-token-1234").replace(
        "      webengage_token_wo_version = VERSION\n", ""
    )
    tf.write(PROVIDER + hcl)
    result = tf.plan_code()
    assert result.code == 1 and "Missing webengage_token_wo_version" in result.output
    assert sum(strict_emulator.counters().values()) == 0


def test_plan_generate_config_out_with_an_import_block(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    emu = strict_emulator
    ids = seed(emu)
    tf = connectly_terraform(tmp_path, emu)
    tf.write(PROVIDER + f'import {{\n  to = connectly_webhook.m\n  id = "{ids["messages"]}"\n}}\n')
    generated = tf.plan_code("-generate-config-out=generated.tf")
    assert generated.code == 2, generated.output
    text = (tf.workdir / "generated.tf").read_text()
    assert 'resource "connectly_webhook" "m"' in text and "prod-*" in text
    emu.reset_counters()
    tf.apply()
    assert emu.counters()["create"] == emu.counters()["update"] == 0
    assert tf.plan_code().code == 0
