"""Real Terraform through the provider on the Windows path, run here: no memfd, no fork, no
AF_UNIX and no /dev/fd in the provider's Python (tests/platform_site/sitecustomize.py), so the
key reaches OpenSSL through its API, the TLS front runs on a thread, and Terraform dials TCP.
The cheaper checks of each facility alone are in test_platform_paths.py."""

from __future__ import annotations

from pathlib import Path

from tfharness import connectly_config, connectly_terraform

SITE = str(Path(__file__).resolve().parent / "platform_site")
WINDOWS = "memfd,fork,af_unix,dev_fd"

WEBHOOK = """
resource "connectly_webhook" "messages" {
  topic   = "messages"
  address = "ADDRESS"
}
"""


def test_lifecycle_on_the_windows_path(tmp_path: Path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    emu = strict_emulator
    tf = connectly_terraform(tmp_path, emu)
    log = tmp_path / "terraform.log"
    tf.env.update(
        PYTHONPATH=SITE,
        CONNECTLY_TEST_WITHOUT=WINDOWS,
        TF_LOG_PROVIDER="DEBUG",
        TF_LOG_PATH=str(log),
    )
    header = connectly_config("biz_123")

    def write(address: str) -> None:
        tf.write(header + WEBHOOK.replace("ADDRESS", address))

    write("https://example.com/hooks/a")
    tf.apply()
    [created] = tf.resources("connectly_webhook")
    wid = created["attributes"]["id"]
    assert [r["id"] for r in emu.registrations()] == [wid]
    assert tf.plan_code().code == 0, "a plan right after apply must show no changes"

    write("https://example.com/hooks/b")
    plan = tf.plan_code()
    assert plan.code == 2 and "update in-place" in plan.stdout, plan.output
    tf.apply()
    [updated] = tf.resources("connectly_webhook")
    assert updated["attributes"]["id"] == wid
    assert updated["attributes"]["address"] == "https://example.com/hooks/b"
    assert tf.plan_code().code == 0

    # An import block brings a webhook made elsewhere under management.
    seeded = emu.seed("biz_123", "delivery_status", "https://example.com/hooks/seeded")
    tf.write(
        header
        + WEBHOOK.replace("ADDRESS", "https://example.com/hooks/b")
        + WEBHOOK.replace('"messages"', '"delivery_status"', 2).replace(
            "ADDRESS", "https://example.com/hooks/seeded"
        )
        + f'import {{\n  to = connectly_webhook.delivery_status\n  id = "{seeded}"\n}}\n'
    )
    plan = tf.plan_code()
    assert "will be imported" in plan.stdout and "0 to add" in plan.stdout, plan.output
    tf.apply()
    assert tf.plan_code().code == 0
    assert {r["attributes"]["id"] for r in tf.resources("connectly_webhook")} == {wid, seeded}

    tf.destroy()
    assert emu.registrations() == []
    assert tf.resources("connectly_webhook") == []

    # Every provider process of every command took the Windows path.
    text = log.read_text()
    paths = [line for line in text.splitlines() if "key to OpenSSL via" in line]
    assert paths, "no provider process said which path it took"
    windows = "key to OpenSSL via memory; TLS front on a thread; listening on tcp"
    assert all(windows in line for line in paths), paths[:3]
