"""`install` puts the provider where a plain `terraform init` finds it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from terraform_provider_connectly import version

from tfharness import Terraform

CONFIG = """
terraform {
  required_providers {
    connectly = { source = "connectly/connectly" }
  }
}
provider "connectly" {
  api_key     = "KEY"
  business_id = "biz_install"
  base_url    = "URL"
}
resource "connectly_webhook" "m" {
  topic   = "messages"
  address = "https://example.com/hooks/m"
}
"""


def install(home: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "terraform_provider_connectly", "install"],
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout


def test_install_then_plain_init_and_apply(tmp_path: Path, strict_emulator) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"
    home.mkdir()
    first = install(home)
    exe = home / ".terraform.d/plugins/registry.terraform.io/connectly/connectly" / version()
    assert first.startswith("Installed connectly/connectly")
    assert 'source  = "connectly/connectly"' in first
    assert any(exe.glob("linux_*/terraform-provider-connectly_v*"))
    assert install(home).startswith("Already installed")  # idempotent

    tf = Terraform(tmp_path / "work", {}, {"HOME": str(home)})
    tf.write(CONFIG.replace("KEY", strict_emulator.api_key).replace("URL", strict_emulator.url))
    init = tf.run("init", "-input=false", "-no-color")
    assert f"Installing connectly/connectly v{version()}" in init.stdout
    lock = (tf.workdir / ".terraform.lock.hcl").read_text()
    assert 'provider "registry.terraform.io/connectly/connectly"' in lock
    tf.apply()
    assert [r["businessId"] for r in strict_emulator.registrations()] == ["biz_install"]
    assert tf.plan_code().code == 0
    tf.destroy()
    assert strict_emulator.registrations() == []


def test_dev_overrides_prints_a_cli_config() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "terraform_provider_connectly", "install", "--dev-overrides"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert 'dev_overrides {\n    "connectly/connectly" = "' in out
