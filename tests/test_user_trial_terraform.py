"""What a user trial found (issue 13), each a regression test through real Terraform."""

from __future__ import annotations

import json

from emulator_fixture import running_emulator
from tfharness import connectly_config, connectly_terraform

BIZ = "biz_t"
PROVIDER = connectly_config(BIZ)
TOKEN = "ORIGINAL-TOKEN-5f1e"
WEBENGAGE_CONFIGURATION = {
    "echo": False,
    "webengageConfiguration": {
        "webengageToken": TOKEN,
        "webengageWebhookUrl": "https://webengage.example/hook",
    },
}


def webengage(url: str, token_lines: str = "") -> str:
    return (
        PROVIDER
        + f"""
resource "connectly_webhook" "we" {{
  topic   = "messages"
  address = "https://example.com/we"
  type    = "webengage"
  configuration = {{
    webengage_configuration = {{
      webengage_webhook_url = "{url}"
      {token_lines}
    }}
  }}
}}
"""
    )


def one_webhook(body: str = "", address: str = "https://example.com/m", type_: str = "") -> str:
    type_line = f'type = "{type_}"' if type_ else ""
    return (
        PROVIDER
        + f"""
resource "connectly_webhook" "m" {{
  topic   = "messages"
  address = "{address}"
  {type_line}
  {body}
}}
"""
    )


# 1 ---------------------------------------------------------------------------------------


def test_an_update_that_would_drop_a_hidden_token_is_refused_at_plan(
    tmp_path, strict_emulator
) -> None:  # type: ignore[no-untyped-def]
    emu = strict_emulator
    wid = emu.seed(
        BIZ,
        "messages",
        "https://example.com/we",
        type="webengage",
        configuration=WEBENGAGE_CONFIGURATION,
    )
    tf = connectly_terraform(tmp_path, emu)
    tf.write(webengage("https://webengage.example/hook"))
    tf.run("import", "-no-color", "connectly_webhook.we", f"{BIZ}/{wid}")
    assert tf.plan_code().code == 0

    tf.write(webengage("https://webengage.example/new"))
    emu.reset_counters()
    plan = tf.plan_code()
    text = " ".join(plan.output.split())
    assert plan.code == 1, plan.output
    assert "Webengage token would be removed" in text
    assert "webengage_token_wo" in text and "webengage_token_wo_version" in text
    # At the attribute path: Terraform points at its nearest configured part (1.15 shows
    # the webengage_configuration line, 1.11 the resource's).
    assert "with connectly_webhook.we, on main.tf line" in text
    assert emu.counters()["update"] == 0
    [reg] = emu.registrations()
    assert reg["configuration"]["webengageConfiguration"]["webengageToken"] == TOKEN

    # The way out the error names: the token, write-only, with its version.
    tf.write(
        webengage(
            "https://webengage.example/new",
            'webengage_token_wo = "NEW-TOKEN-88"\n      webengage_token_wo_version = 1',
        )
    )
    tf.apply()
    [reg] = emu.registrations()
    we = reg["configuration"]["webengageConfiguration"]
    assert we == {
        "webengageToken": "NEW-TOKEN-88",
        "webengageWebhookUrl": "https://webengage.example/new",
    }
    assert tf.plan_code().code == 0


# 2 ---------------------------------------------------------------------------------------


def test_a_dead_api_fails_after_a_few_quick_attempts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with running_emulator(strict=True) as emu:
        tf = connectly_terraform(tmp_path, emu)
        tf.write(
            one_webhook()
            + """
data "connectly_webhooks" "all" {}
"""
        )
        tf.apply()
        url = emu.url
    # The emulator is gone: its port refuses connections.
    tf.env["TF_VAR_base_url"] = url
    plan = tf.plan_code()
    text = " ".join(plan.output.split())
    assert plan.code == 1, plan.output
    assert "Could not read webhook" in text and f"Could not list webhooks in business {BIZ}" in text
    assert "could not connect" in text and "gave up after 3 attempts" in text
    assert f"Check that Connectly is reachable at base_url ({url})" in text
    assert "timeouts" not in text  # no time limit ran out; the data source has none anyway
    assert len(tf.resources("connectly_webhook")) == 1  # nothing dropped


def test_repeated_502s_give_up_quickly_but_a_server_asking_to_wait_is_waited_for(
    tmp_path, strict_emulator
) -> None:  # type: ignore[no-untyped-def]
    emu = strict_emulator
    tf = connectly_terraform(tmp_path, emu)
    tf.write(one_webhook())
    tf.apply()
    emu.inject(status=502, endpoint="list", count=1000)
    emu.reset_counters()
    plan = tf.plan_code("-target=connectly_webhook.m")
    assert plan.code == 1 and "502" in plan.output, plan.output
    assert emu.counters()["list"] == 3
    emu.clear_faults()
    # 503 with Retry-After: patient, within the operation's timeout.
    emu.inject(status=503, endpoint="list", count=4, retry_after="1")
    emu.reset_counters()
    assert tf.plan_code().code == 0
    assert emu.counters()["list"] == 5


# 3 ---------------------------------------------------------------------------------------


def test_an_identical_orphan_is_named_as_left_by_an_interrupted_run(
    tmp_path, strict_emulator
) -> None:  # type: ignore[no-untyped-def]
    emu = strict_emulator
    orphan = emu.seed(
        BIZ, "messages", "https://example.com/m", configuration={"echo": True, "filters": []}
    )
    tf = connectly_terraform(tmp_path, emu)
    tf.write(one_webhook("configuration = { echo = true }"))
    result = tf.apply(check=False)
    text = " ".join(result.output.split())
    assert result.code == 1
    assert "Topic already has this webhook" in text and "interrupted" in text, text
    assert f'terraform import ADDRESS "{BIZ}/{orphan}"' in text
    assert "with connectly_webhook.m" in text  # where ADDRESS is, as the message says
    assert [r["id"] for r in emu.registrations()] == [orphan]  # not adopted, not duplicated
    tf.run("import", "-no-color", "connectly_webhook.m", f"{BIZ}/{orphan}")
    assert tf.plan_code().code == 0


def test_create_before_destroy_is_named_when_the_old_webhook_holds_the_topic(
    tmp_path, strict_emulator
) -> None:  # type: ignore[no-untyped-def]
    emu = strict_emulator
    tf = connectly_terraform(tmp_path, emu)
    tf.write(one_webhook("lifecycle { create_before_destroy = true }"))
    tf.apply()
    [old] = [r["id"] for r in emu.registrations()]
    tf.write(one_webhook("lifecycle { create_before_destroy = true }", type_="zapier"))
    plan = tf.plan_code()
    text = " ".join(plan.output.split())
    assert plan.code == 2
    assert "Replacement needs the old webhook deleted first" in text, text
    assert f"replaces webhook {old}" in text and "remove create_before_destroy" in text
    result = tf.apply(check=False)
    text = " ".join(result.output.split())
    assert result.code == 1
    assert "the holder is the webhook being replaced" in text, text
    assert [r["id"] for r in emu.registrations()] == [old]
    [res] = tf.resources("connectly_webhook")
    assert res["attributes"]["id"] == old  # state still holds the live webhook
    # Without create_before_destroy the same replacement goes through.
    tf.write(one_webhook(type_="zapier"))
    tf.apply()
    [reg] = emu.registrations()
    assert reg["id"] != old and reg["type"] == "zapier"
    assert tf.resources("connectly_webhook")[0]["attributes"]["id"] == reg["id"]


# 4 ---------------------------------------------------------------------------------------


def test_removing_echo_and_filters_returns_them_to_the_api_default(
    tmp_path, strict_emulator
) -> None:  # type: ignore[no-untyped-def]
    emu = strict_emulator
    tf = connectly_terraform(tmp_path, emu)
    tf.write(
        one_webhook(
            """configuration = {
    echo          = true
    channel_types = ["sms"]
    filters       = [{ field = "campaign_name", expression = "prod-*" }]
  }"""
        )
    )
    tf.apply()
    tf.write(one_webhook('configuration = { channel_types = ["sms"] }'))
    plan = tf.plan_code()
    assert plan.code == 2, plan.output
    assert "echo          = true -> false" in plan.stdout, plan.stdout
    tf.apply()
    [reg] = emu.registrations()
    assert reg["configuration"]["echo"] is False
    assert reg["configuration"]["filters"] == []
    assert reg["configuration"]["channelTypes"] == ["sms"]  # cannot be reset: kept
    assert tf.plan_code().code == 0


# 5 ---------------------------------------------------------------------------------------


def test_addresses_that_cannot_be_urls_are_refused_and_plain_http_warns(
    tmp_path, strict_emulator
) -> None:  # type: ignore[no-untyped-def]
    emu = strict_emulator
    tf = connectly_terraform(tmp_path, emu)
    for bad, why in (
        ("https://exa mple.com/x", "white space"),
        ("https://example.com:99999/x", "Port out of range"),
        ("https://exa$mple.com/x", "not a valid host name"),
    ):
        tf.write(one_webhook(address=bad))
        plan = tf.plan_code()
        text = " ".join(plan.output.split())
        assert plan.code == 1 and "Invalid URL" in text and why in text, text
    tf.write(one_webhook(address="http://receiver.internal/hook"))
    plan = tf.plan_code()
    assert plan.code == 2, plan.output
    assert "Plain http address" in plan.output
    assert sum(emu.counters().values()) == 0  # all of it judged before any call


# 6 ---------------------------------------------------------------------------------------


def test_an_assumed_type_never_forces_a_replacement_until_the_api_confirms_it(
    tmp_path, strict_emulator
) -> None:  # type: ignore[no-untyped-def]
    emu = strict_emulator  # its listings leave `type` out
    wid = emu.seed(BIZ, "messages", "https://example.com/m", type="zapier")
    tf = connectly_terraform(tmp_path, emu)
    tf.write(one_webhook())
    imported = tf.run("import", "-no-color", "connectly_webhook.m", f"{BIZ}/{wid}")
    assert "Webhook type not reported" in imported.output, imported.output
    # An unrelated update first, with the assumed type left as it is...
    tf.write(one_webhook(address="https://example.com/m2"))
    tf.apply()
    # ... then the correction: still recorded in place, never a replacement.
    tf.write(one_webhook(address="https://example.com/m2", type_="zapier"))
    plan = tf.plan_code()
    assert plan.code == 2, plan.output
    assert "forces replacement" not in plan.stdout and "1 to change" in plan.stdout, plan.stdout
    tf.apply()
    assert [r["id"] for r in emu.registrations()] == [wid]
    assert tf.plan_code().code == 0


# 7 ---------------------------------------------------------------------------------------


def test_durations_are_read_as_go_reads_them(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    tf = connectly_terraform(tmp_path, strict_emulator)
    tf.write(one_webhook('timeouts = { create = "1m500ms", read = "1.5h", delete = ".5s" }'))
    assert tf.plan_code().code == 2
    for value, message in (
        ("0s", "Timeout must be longer than zero"),
        ("-5s", "Timeout must be longer than zero"),
        ("5 minutes", "is not a duration"),
    ):
        tf.write(one_webhook(f'timeouts = {{ create = "{value}" }}'))
        plan = tf.plan_code()
        assert plan.code == 1 and message in plan.output, plan.output


# 8 ---------------------------------------------------------------------------------------


def test_no_plan_noise_for_other_types_and_filter_order(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    emu = strict_emulator
    tf = connectly_terraform(tmp_path, emu)
    filters = [
        '{ field = "campaign_name", expression = "prod-*" }',
        '{ field = "channel", expression = "whatsapp" }',
    ]
    tf.write(one_webhook(f"configuration = {{ filters = [{', '.join(filters)}] }}"))
    plan = tf.plan_code()
    assert plan.code == 2
    assert "webengage_configuration" not in plan.stdout, plan.stdout  # null: not shown
    tf.apply()
    tf.write(one_webhook(f"configuration = {{ filters = [{', '.join(reversed(filters))}] }}"))
    assert tf.plan_code().code == 0

    # A state written by schema version 0 (filters as a list) is upgraded without a change.
    path = tf.workdir / "terraform.tfstate"
    state = json.loads(path.read_text())
    state["resources"][0]["instances"][0]["schema_version"] = 0
    path.write_text(json.dumps(state))
    assert tf.plan_code().code == 0
    tf.apply("-refresh-only")
    assert tf.state()["resources"][0]["instances"][0]["schema_version"] == 1
