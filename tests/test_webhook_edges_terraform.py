"""connectly_webhook edge cases: unknown values at plan time, timeouts, already-gone deletes."""

from __future__ import annotations

from tfharness import connectly_config, connectly_terraform

PROVIDER = connectly_config("biz_e")


def test_unknown_values_wait_until_known(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    tf = connectly_terraform(tmp_path, strict_emulator)
    # The address is unknown at plan time: not judged then, judged (and refused) at apply.
    tf.write(
        PROVIDER
        + """
resource "terraform_data" "addr" { input = "not-a-url" }
resource "connectly_webhook" "m" {
  topic   = "messages"
  address = terraform_data.addr.output
}
"""
    )
    plan = tf.plan_code()
    assert plan.code == 2, plan.output
    applied = tf.apply(check=False)
    assert applied.code == 1 and "not an absolute http(s) URL" in applied.output
    assert strict_emulator.registrations() == []


def test_provider_configuration_unknown_at_plan_time(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    tf = connectly_terraform(tmp_path, strict_emulator)
    tf.write(
        connectly_config(None, "business_id = terraform_data.biz.output")
        + """
resource "terraform_data" "biz" { input = "biz_later" }
resource "connectly_webhook" "m" {
  topic   = "messages"
  address = "https://example.com/m"
}
"""
    )
    plan = tf.plan_code()
    assert plan.code == 2 and "business_id   = (known after apply)" in plan.stdout, plan.output
    tf.apply()
    assert [r["businessId"] for r in strict_emulator.registrations()] == ["biz_later"]
    assert tf.plan_code().code == 0


def test_timeouts_bound_an_operation(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    tf = connectly_terraform(tmp_path, strict_emulator)
    tf.write(
        PROVIDER
        + """
resource "connectly_webhook" "m" {
  topic    = "messages"
  address  = "https://example.com/m"
  timeouts = { create = "2s" }
}
"""
    )
    strict_emulator.inject(status=503, endpoint="create", count=1000, retry_after="1")
    result = tf.apply(check=False)
    assert result.code == 1
    assert "timed out" in result.output and "timeouts" in result.output, result.output
    text = " ".join(result.output.split())
    assert "The create timeout of this resource (2s) ran out" in text, text  # the real one
    strict_emulator.clear_faults()
    tf.apply()
    assert len(strict_emulator.registrations()) == 1


def test_delete_of_an_already_deleted_webhook_succeeds(tmp_path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    tf = connectly_terraform(tmp_path, strict_emulator)
    tf.write(
        PROVIDER
        + """
resource "connectly_webhook" "m" {
  topic   = "messages"
  address = "https://example.com/m"
}
"""
    )
    tf.apply()
    assert len(strict_emulator.registrations()) == 1
    strict_emulator.store.clear()
    # Without a refresh Terraform still believes it exists and asks to delete it.
    result = tf.run("destroy", "-auto-approve", "-refresh=false", "-no-color")
    assert "1 destroyed" in result.stdout
    assert tf.resources() == []
