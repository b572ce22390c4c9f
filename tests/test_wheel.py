"""The Python users' path: `python -m build` gives a wheel and an sdist; the wheel installed
with pip into a fresh venv has a working `terraform-provider-connectly install`."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_and_sdist_install_into_a_fresh_venv(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheels = list(out.glob("terraform_provider_connectly-*-py3-none-any.whl"))
    sdists = list(out.glob("terraform_provider_connectly-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheels[0])],
        check=True,
        capture_output=True,
    )
    plugins = tmp_path / "plugins"
    done = subprocess.run(
        [
            str(env_dir / "bin" / "terraform-provider-connectly"),
            "install",
            "--plugins-dir",
            str(plugins),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert done.startswith("Installed connectly/connectly")
    (launcher,) = plugins.glob("registry.terraform.io/connectly/connectly/*/*/terraform-provider-*")
    assert launcher.read_text().startswith(f"#!{py}")
    version = subprocess.run(
        [str(launcher), "--version"], check=True, capture_output=True, text=True
    ).stdout
    assert "plugin protocol 6" in version
