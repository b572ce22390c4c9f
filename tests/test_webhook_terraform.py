"""connectly_webhook with real Terraform against the emulator in its least forgiving modes."""

from __future__ import annotations

import httpx
import pytest

from tfharness import Terraform, connectly_config, connectly_terraform, terraform_version

HEADER = connectly_config("biz_123")

MESSAGES = """
resource "connectly_webhook" "messages" {
  topic = "messages"
  address = "ADDRESS"
}
"""

FULL = """
resource "connectly_webhook" "we" {
  business_id = "biz_456"
  topic       = "TOPIC"
  address     = "https://example.com/hooks/we"
  type        = "webengage"
  configuration = {
    echo          = true
    channel_types = ["whatsapp", "sms"]
    filters       = [{ field = "campaign_name", expression = "prod-*" }]
    webengage_configuration = {
      webengage_token       = "wetoken-0123456789"
      webengage_webhook_url = "https://webengage.example/hook"
    }
  }
}
"""


def config(
    address: str = "https://example.com/hooks/messages", topic: str = "delivery_status"
) -> str:
    return HEADER + MESSAGES.replace("ADDRESS", address) + FULL.replace("TOPIC", topic)


def ids(tf: Terraform) -> dict[str, str]:
    return {r["address"]: r["attributes"]["id"] for r in tf.resources("connectly_webhook")}


def test_lifecycle(connectly_tf: Terraform, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    emu = strict_emulator
    connectly_tf.write(config())
    connectly_tf.apply()
    regs = {r["id"]: r for r in emu.registrations()}
    created = ids(connectly_tf)
    assert set(created.values()) == set(regs)
    we = regs[created["connectly_webhook.we"]]
    assert we["businessId"] == "biz_456" and we["type"] == "webengage"
    assert we["configuration"]["webengageConfiguration"]["webengageToken"] == "wetoken-0123456789"
    assert sorted(we["configuration"]["channelTypes"]) == ["sms", "whatsapp"]
    state = {r["address"]: r["attributes"] for r in connectly_tf.resources()}
    # Server defaults for the omitted configuration are in state; type defaults to custom.
    assert state["connectly_webhook.messages"]["configuration"]["echo"] is False
    assert state["connectly_webhook.messages"]["type"] == "custom"

    # No phantom diffs, with and without refresh.
    assert connectly_tf.plan_code().code == 0
    assert connectly_tf.plan_code("-refresh=false").code == 0

    # In-place update keeps the id.
    connectly_tf.write(config(address="https://example.com/hooks/v2"))
    plan = connectly_tf.plan_code()
    assert plan.code == 2 and "update in-place" in plan.stdout
    connectly_tf.apply()
    assert ids(connectly_tf) == created
    assert emu.registrations("biz_123")[0]["address"] == "https://example.com/hooks/v2"
    assert connectly_tf.plan_code().code == 0

    # A topic change replaces, and the plan says which attribute forces it.
    connectly_tf.write(config(address="https://example.com/hooks/v2", topic="report"))
    plan = connectly_tf.plan_code()
    assert '"delivery_status" -> "report" # forces replacement' in plan.stdout
    connectly_tf.apply()
    after = ids(connectly_tf)
    assert after["connectly_webhook.we"] != created["connectly_webhook.we"]
    assert [r["topic"] for r in emu.registrations("biz_456")] == ["report"]
    assert connectly_tf.plan_code().code == 0

    # Out-of-band edit shows as drift and apply reverts it.
    api = httpx.Client(base_url=emu.url, headers={"X-API-Key": emu.api_key})
    mid = after["connectly_webhook.messages"]
    api.put(
        f"/v1/businesses/biz_123/update/webhooks/{mid}",
        json={"address": "https://evil.example/x", "configuration": {"echo": True}},
    ).raise_for_status()
    plan = connectly_tf.plan_code()
    assert plan.code == 2
    assert '"https://evil.example/x" -> "https://example.com/hooks/v2"' in plan.stdout
    connectly_tf.apply()
    reg = emu.registrations("biz_123")[0]
    assert reg["address"] == "https://example.com/hooks/v2"
    # echo was not configured: the server's value is kept (the user never asked for one).
    assert connectly_tf.plan_code().code == 0

    # Out-of-band delete: the resource leaves state and is created again.
    api.delete(f"/v1/businesses/biz_123/delete/webhooks/{mid}").raise_for_status()
    plan = connectly_tf.plan_code()
    assert plan.code == 2 and "connectly_webhook.messages will be created" in plan.stdout
    connectly_tf.apply()
    assert len(emu.registrations("biz_123")) == 1
    assert connectly_tf.plan_code().code == 0

    connectly_tf.destroy()
    assert emu.registrations() == []


def test_import_both_ways_then_empty_plan(connectly_tf: Terraform, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    emu = strict_emulator
    mid = emu.seed("biz_123", "messages", "https://example.com/hooks/messages")
    wid = emu.seed(
        "biz_456",
        "delivery_status",
        "https://example.com/hooks/we",
        type="webengage",
        configuration={
            "echo": True,
            "channelTypes": ["whatsapp", "sms"],
            "filters": [{"field": "campaign_name", "expression": "prod-*"}],
            "webengageConfiguration": {
                "webengageToken": "wetoken-0123456789",
                "webengageWebhookUrl": "https://webengage.example/hook",
            },
        },
    )
    connectly_tf.write(config())
    # terraform import, with the provider's business and with an explicit one
    connectly_tf.run("import", "-no-color", "connectly_webhook.messages", mid)
    connectly_tf.run("import", "-no-color", "connectly_webhook.we", f"biz_456/{wid}")
    state = {r["address"]: r["attributes"] for r in connectly_tf.resources()}
    assert state["connectly_webhook.we"]["business_id"] == "biz_456"
    assert state["connectly_webhook.we"]["topic"] == "delivery_status"
    plan = connectly_tf.plan_code()
    # Only the token (never revealed by the API) and the unreported type are recorded in place.
    assert plan.code == 2, plan.output
    assert "must be replaced" not in plan.stdout and "forces replacement" not in plan.stdout
    assert "0 to add, 1 to change, 0 to destroy" in plan.stdout
    connectly_tf.apply()
    assert connectly_tf.plan_code().code == 0
    assert {r["id"] for r in emu.registrations()} == {mid, wid}


def test_import_block_and_unknown_id(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    emu = strict_emulator
    mid = emu.seed("biz_123", "messages", "https://example.com/hooks/messages")
    tf = connectly_terraform(tmp_path, emu)
    tf.write(HEADER + MESSAGES.replace("ADDRESS", "https://example.com/hooks/messages"))
    tf.write(f'import {{\n  to = connectly_webhook.messages\n  id = "{mid}"\n}}\n', "imports.tf")
    plan = tf.plan_code()
    assert "will be imported" in plan.stdout and "0 to add, 0 to change" in plan.stdout
    tf.apply()
    assert tf.plan_code().code == 0
    tf.run("state", "rm", "connectly_webhook.messages")
    (tf.workdir / "imports.tf").unlink()
    failed = tf.run(
        "import", "-no-color", "connectly_webhook.messages", "biz_123/wh_nope", check=False
    )
    assert failed.code == 1
    assert "no webhook wh_nope in business biz_123" in failed.output


BAD_INPUTS = [
    ('topic = "messages"', 'topic = "chat"', '"chat" is not allowed here', "topic"),
    (
        'address = "https://example.com/hooks/messages"',
        'address = "ftp://x"',
        "not an absolute http(s) URL",
        "address",
    ),
    (
        'address = "https://example.com/hooks/messages"',
        'address = "example.com/hook"',
        "not an absolute http(s) URL",
        "address",
    ),
    (
        'topic = "messages"',
        'topic = "messages"\n  type = "slack"',
        '"slack" is not allowed here',
        "type",
    ),
    (
        'topic = "messages"',
        'topic = "messages"\n  configuration = { filters = [{ field = "", expression = "x" }] }',
        "must not be empty",
        "field",
    ),
    (
        'topic = "messages"',
        'topic = "messages"\n  configuration = { channel_types = [] }',
        "stores no empty list",
        "channel_types",
    ),
    (
        'topic = "messages"',
        'topic = "messages"\n  configuration = {\n'
        '    webengage_configuration = { webengage_webhook_url = "https://w.example" }\n  }',
        'needs type "webengage"',
        "webengage_configuration",
    ),
]


@pytest.mark.parametrize(("old", "new", "message", "where"), BAD_INPUTS)
def test_bad_input_fails_before_any_api_call(
    connectly_tf: Terraform, strict_emulator, old: str, new: str, message: str, where: str
) -> None:  # type: ignore[no-untyped-def]
    connectly_tf.write(
        HEADER
        + MESSAGES.replace("ADDRESS", "https://example.com/hooks/messages").replace(old, new, 1)
    )
    result = connectly_tf.plan_code()
    assert result.code == 1
    assert message in result.output
    if terraform_version() >= (1, 12):  # older Terraform points at the block, not the line
        assert where in result.output.split("Error:", 1)[1]
    assert sum(strict_emulator.counters().values()) == 0


def test_wrong_key_gives_readable_401(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    tf = connectly_terraform(tmp_path, strict_emulator)
    tf.env["TF_VAR_api_key"] = "not-the-key"
    tf.write(HEADER + MESSAGES.replace("ADDRESS", "https://example.com/hooks/messages"))
    result = tf.apply(check=False)
    assert result.code == 1
    assert "401" in result.output and "Check the API key" in result.output
    assert "Traceback" not in result.output
    assert strict_emulator.registrations() == []


def test_taken_topic_names_holder_and_import_command(
    connectly_tf: Terraform, strict_emulator
) -> None:  # type: ignore[no-untyped-def]
    holder = strict_emulator.seed("biz_123", "messages", "https://other.example/hook")
    connectly_tf.write(HEADER + MESSAGES.replace("ADDRESS", "https://example.com/hooks/messages"))
    result = connectly_tf.apply(check=False)
    assert result.code == 1
    text = " ".join(result.output.split())
    assert f"already has webhook {holder} (address https://other.example/hook)" in text
    assert f'terraform import ADDRESS "biz_123/{holder}"' in text
    assert "ADDRESS is this resource's address" in text and "<this resource" not in text
    assert "interrupted" not in text  # a different registration: someone else's
    assert [r["id"] for r in strict_emulator.registrations()] == [holder]


def test_replace_mode_warns_about_displaced_webhook(tmp_path, emulator_factory) -> None:  # type: ignore[no-untyped-def]
    emu = emulator_factory(strict=True, on_conflict="replace")
    old = emu.seed("biz_123", "messages", "https://other.example/hook")
    tf = connectly_terraform(tmp_path, emu)
    tf.write(HEADER + MESSAGES.replace("ADDRESS", "https://example.com/hooks/messages"))
    result = tf.apply()
    assert "An existing webhook was replaced" in result.output
    assert old in result.output
    assert [r["id"] for r in emu.registrations()] == list(ids(tf).values())


def test_data_source_and_env_only_configuration(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    emu = strict_emulator
    emu.seed("biz_9", "messages", "https://example.com/a")
    emu.seed("biz_9", "report", "https://example.com/b")
    tf = connectly_terraform(tmp_path, emu)
    tf.env.update(
        CONNECTLY_API_KEY=emu.api_key, CONNECTLY_BUSINESS_ID="biz_9", CONNECTLY_BASE_URL=emu.url
    )
    tf.write(
        """
        terraform {
          required_providers {
            connectly = { source = "connectly/connectly" }
          }
        }
        provider "connectly" {}
        data "connectly_webhooks" "all" {}
        output "topics" { value = [for w in data.connectly_webhooks.all.webhooks : w.topic] }
        output "business" { value = data.connectly_webhooks.all.business_id }
        """
    )
    tf.apply()
    out = tf.run("output", "-json").stdout
    assert '"messages"' in out and '"report"' in out and '"biz_9"' in out


def test_missing_api_key_names_both_ways(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    tf = connectly_terraform(tmp_path, strict_emulator)
    tf.write(
        """
        terraform {
          required_providers {
            connectly = { source = "connectly/connectly" }
          }
        }
        provider "connectly" { business_id = "b" }
        resource "connectly_webhook" "m" {
          topic   = "messages"
          address = "https://example.com/h"
        }
        """
    )
    result = tf.plan_code()
    assert result.code == 1
    assert result.output.count("Missing Connectly API key") == 1
    assert "CONNECTLY_API_KEY" in result.output and "api_key" in result.output
