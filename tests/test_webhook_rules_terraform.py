"""Plan and apply rules of connectly_webhook that once went wrong (each a regression test)."""

from __future__ import annotations

from tfharness import connectly_config, connectly_terraform

PROVIDER = connectly_config("biz_r")

WEBENGAGE = """
resource "connectly_webhook" "we" {
  topic   = "messages"
  address = "https://example.com/we"
  type    = "webengage"
  configuration = {
    echo = ECHO
    WEBENGAGE_BLOCK
  }
}
"""
BLOCK = """webengage_configuration = {
      webengage_webhook_url = "https://webengage.example/hook"
    }"""


def webengage(echo: str = "false", block: str = BLOCK) -> str:
    return PROVIDER + WEBENGAGE.replace("ECHO", echo).replace("WEBENGAGE_BLOCK", block)


def test_replacing_with_create_before_destroy_keeps_one_live_webhook(
    tmp_path, emulator_factory
) -> None:  # type: ignore[no-untyped-def]
    emu = emulator_factory(strict=True, on_conflict="replace")
    tf = connectly_terraform(tmp_path, emu)
    tf.write(
        PROVIDER
        + """
resource "connectly_webhook" "w" {
  topic   = "messages"
  address = "https://example.com/w"
  lifecycle { create_before_destroy = true }
}
"""
    )
    tf.apply()
    tf.apply("-replace=connectly_webhook.w")
    [reg] = emu.registrations()
    [res] = tf.resources()
    assert res["attributes"]["id"] == reg["id"]
    assert tf.plan_code().code == 0


def test_changing_echo_does_not_wipe_a_token_terraform_never_saw(
    tmp_path, emulator_factory
) -> None:  # type: ignore[no-untyped-def]
    emu = emulator_factory(listing_token="echo")
    wid = emu.seed(
        "biz_r",
        "messages",
        "https://example.com/we",
        type="webengage",
        configuration={
            "echo": False,
            "webengageConfiguration": {
                "webengageToken": "ORIGINAL-TOKEN",
                "webengageWebhookUrl": "https://webengage.example/hook",
            },
        },
    )
    tf = connectly_terraform(tmp_path, emu)
    tf.write(webengage())
    tf.run("import", "-no-color", "connectly_webhook.we", f"biz_r/{wid}")
    tf.write(webengage(echo="true"))
    result = tf.apply()
    [reg] = emu.registrations()
    assert reg["configuration"]["echo"] is True
    assert reg["configuration"]["webengageConfiguration"]["webengageToken"] == "ORIGINAL-TOKEN"
    assert "sent without a token" not in result.output


def test_leaving_out_webengage_configuration_keeps_it_and_converges(
    tmp_path, strict_emulator
) -> None:  # type: ignore[no-untyped-def]
    tf = connectly_terraform(tmp_path, strict_emulator)
    tf.write(webengage())
    tf.apply()
    tf.write(webengage(block=""))
    assert tf.plan_code().code == 0
    [reg] = strict_emulator.registrations()
    assert reg["configuration"]["webengageConfiguration"]["webengageWebhookUrl"]


def test_removing_type_plans_the_default_and_a_replacement(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    tf = connectly_terraform(tmp_path, strict_emulator)
    hook = """
resource "connectly_webhook" "z" {
  topic   = "report"
  address = "https://example.com/z"
  TYPE
}
"""
    tf.write(PROVIDER + hook.replace("TYPE", 'type = "zapier"'))
    tf.apply()
    tf.write(PROVIDER + hook.replace("TYPE", ""))
    plan = tf.plan_code()
    assert plan.code == 2 and '"zapier" -> "custom" # forces replacement' in plan.stdout


def test_blank_channel_type_is_refused_before_any_call(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    tf = connectly_terraform(tmp_path, strict_emulator)
    tf.write(
        PROVIDER
        + """
resource "connectly_webhook" "c" {
  topic         = "messages"
  address       = "https://example.com/c"
  configuration = { channel_types = ["whatsapp", ""] }
}
"""
    )
    result = tf.plan_code()
    assert result.code == 1 and "must not be empty" in result.output
    assert sum(strict_emulator.counters().values()) == 0


def test_unusable_ca_bundle_is_a_diagnostic_on_the_attribute(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    bundle = tmp_path / "not.pem"
    bundle.write_text("not a pem\n")
    tf = connectly_terraform(tmp_path, strict_emulator)
    tf.write(
        connectly_config("biz_r", f'ca_bundle = "{bundle}"')
        + 'resource "connectly_webhook" "m" {\n  topic = "messages"\n  address = "https://e.com/m"\n}\n'
    )
    result = tf.plan_code()
    assert result.code == 1 and "Unusable CA bundle" in result.output
    assert "bug in the provider" not in result.output


def test_an_api_key_with_a_newline_is_refused_at_configure(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    tf = connectly_terraform(tmp_path, strict_emulator)
    tf.env["TF_VAR_api_key"] = strict_emulator.api_key + "\n"
    tf.write(
        PROVIDER
        + 'resource "connectly_webhook" "m" {\n  topic = "messages"\n  address = "https://e.com/m"\n}\n'
    )
    result = tf.plan_code()
    assert result.code == 1 and "Unusable Connectly API key" in result.output
    assert "trimspace(file(...))" in " ".join(result.output.split())
    assert strict_emulator.api_key not in result.output
    assert sum(strict_emulator.counters().values()) == 0
