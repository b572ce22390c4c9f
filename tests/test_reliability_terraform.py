"""Whatever the network and the API do, apply converges or stops with a clear error, state
matches what exists, nothing is duplicated or orphaned, and nothing secret leaks.

Sizes are small by default so `make test` stays quick; `make soak` runs the full sizes
(CONNECTLY_SOAK_N=200)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter

from tfharness import COMMAND_TIMEOUT, connectly_config, connectly_terraform, terraform_command

SOAK_N = int(os.environ.get("CONNECTLY_SOAK_N", "40"))

HEADER = connectly_config()


def many(n: int, extra: str = "") -> str:
    """n webhooks over n/2 businesses, two topics each (``extra`` goes into each block)."""
    return (
        HEADER
        + f"""
locals {{
  hooks = {{
    for i in range({n}) : "h${{i}}" => {{
      business = "biz_${{floor(i / 2)}}"
      topic    = i % 2 == 0 ? "messages" : "delivery_status"
    }}
  }}
}}
resource "connectly_webhook" "w" {{
  for_each    = local.hooks
  business_id = each.value.business
  topic       = each.value.topic
  address     = "https://example.com/hooks/${{each.key}}"
  configuration = {{
    filters = [{{ field = "campaign_name", expression = "${{each.key}}-*" }}]
  }}
  {extra}
}}
"""
    )


def state_ids(tf) -> set[str]:  # type: ignore[no-untyped-def]
    return {r["attributes"]["id"] for r in tf.resources("connectly_webhook")}


def assert_one_per_topic(emu) -> None:  # type: ignore[no-untyped-def]
    per_topic = Counter((r["businessId"], r["topic"]) for r in emu.registrations())
    assert per_topic and max(per_topic.values()) == 1, per_topic.most_common(3)


def test_load_with_faults_converges_in_one_apply(tmp_path, emulator_factory) -> None:  # type: ignore[no-untyped-def]
    emu = emulator_factory(strict=True)
    emu.set_latency(20)
    emu.set_random_faults(
        rate_503=0.10, rate_429=0.05, rate_drop_create=0.02, retry_after="1", seed=7
    )
    tf = connectly_terraform(tmp_path, emu)
    tf.write(many(SOAK_N))
    tf.apply("-parallelism=20")
    assert len(emu.registrations()) == SOAK_N
    assert state_ids(tf) == {r["id"] for r in emu.registrations()}
    assert_one_per_topic(emu)
    faulted = emu.counters()
    assert faulted["create"] >= SOAK_N  # retries happened: more requests than webhooks
    print(f"\nload: {SOAK_N} webhooks, apply requests by endpoint: {faulted}")
    assert tf.plan_code("-parallelism=20").code == 0
    tf.destroy()
    assert emu.registrations() == []


def test_interrupted_apply_is_finished_by_the_next_without_duplicates(
    tmp_path, emulator_factory
) -> None:  # type: ignore[no-untyped-def]
    emu = emulator_factory(strict=True)
    emu.set_latency(150)
    n = 50
    tf = connectly_terraform(tmp_path, emu)
    tf.write(many(n))
    proc = subprocess.Popen(
        [*terraform_command(), "apply", "-auto-approve", "-input=false", "-no-color"],
        cwd=tf.workdir,
        env=tf.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while len(emu.registrations()) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # Ctrl-C: Terraform sends StopProvider
    output, _ = proc.communicate(timeout=COMMAND_TIMEOUT)
    assert "Interrupt received" in output, output
    assert proc.returncode != 0
    made = {r["id"] for r in emu.registrations()}
    assert len(made) >= 10 and len(made) < n
    # Requests on the wire finish after Ctrl-C: everything made is recorded, nothing else.
    assert state_ids(tf) == made
    assert_one_per_topic(emu)

    emu.set_latency(0)
    tf.apply()
    after = {r["id"] for r in emu.registrations()}
    assert len(after) == n and made <= after  # every registration kept, none duplicated
    print(f"\ninterrupt: {len(made)} made before Ctrl-C, {len(state_ids(tf))} in state after")
    assert state_ids(tf) == after
    assert_one_per_topic(emu)
    assert tf.plan_code().code == 0


SECRET_CONFIG = (
    connectly_config("biz_s")
    + """
variable "token" {
  type      = string
  sensitive = true
}
resource "connectly_webhook" "we" {
  topic   = "messages"
  address = "https://example.com/we"
  type    = "webengage"
  configuration = {
    webengage_configuration = {
      webengage_token       = var.token
      webengage_webhook_url = "https://webengage.example/hook"
    }
  }
}
"""
)


def test_trace_logs_never_show_the_api_key_or_token(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    token = "we-token-secret-4c1d9"
    tf = connectly_terraform(tmp_path, strict_emulator)
    tf.env.update(TF_LOG="trace", TF_VAR_token=token)
    tf.write(SECRET_CONFIG)
    outputs = [tf.apply(), tf.run("plan", "-no-color"), tf.run("show", "-no-color")]
    for result in outputs:
        assert strict_emulator.api_key not in result.output
        assert token not in result.output
    assert any("provider.connectly" in r.stderr for r in outputs)  # provider logs were on
    # The token lives only in state's own (sensitive) value.
    state = (tf.workdir / "terraform.tfstate").read_text()
    assert token in state and '"sensitive_attributes"' in state
    shown = tf.run("show", "-json").stdout
    assert strict_emulator.api_key not in shown


def test_api_garbage_gives_a_clear_error_and_keeps_state(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    emu = strict_emulator
    tf = connectly_terraform(tmp_path, emu)
    tf.write(many(2, 'timeouts = { read = "3s" }'))
    tf.apply()
    before = state_ids(tf)
    for body, status in (("html", 200), ("truncated", 200), ("empty", 200), ("html", 502)):
        emu.inject(status=status, endpoint="list", body=body, count=20)
        result = tf.plan_code()
        emu.clear_faults()
        assert result.code == 1, (body, status, result.output)
        assert "Could not read webhook" in result.output, result.output
        assert "Traceback" not in result.output
        assert state_ids(tf) == before  # nothing dropped
    assert tf.plan_code().code == 0


def test_unicode_round_trips_and_hostile_values_are_refused(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    tf = connectly_terraform(tmp_path, strict_emulator)
    base = connectly_config("biz_u")
    tf.write(
        base
        + """
resource "connectly_webhook" "u" {
  topic   = "messages"
  address = "https://例え.jp/hooks/ünïcødé?q=✓"
  configuration = {
    filters = [{ field = "campaign_name", expression = "プロモ-*-🚀" }]
  }
}
"""
    )
    tf.apply()
    [reg] = strict_emulator.registrations()
    assert reg["configuration"]["filters"][0]["expression"] == "プロモ-*-🚀"
    assert tf.plan_code().code == 0
    strict_emulator.reset_counters()
    for bad, message in (
        ('"https://example.com/a\\nb"', "control character"),
        ('"https://example.com/' + "x" * 3000 + '"', "the limit is 2048"),
        ('"javascript:alert(1)"', "not an absolute http(s) URL"),
    ):
        tf.write(
            base
            + f"""
resource "connectly_webhook" "u" {{
  topic   = "messages"
  address = {bad}
}}
"""
        )
        result = tf.plan_code()
        assert result.code == 1 and message in result.output, result.output
    assert strict_emulator.counters()["update"] == 0
