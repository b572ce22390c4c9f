"""The comparison provider on hfern/tf (``tfpeer/provider.py``), in a venv of its own.

tf 1.2.0 pins ``protobuf<6`` while our provider runs on protobuf 7, so the two never share a
venv: this one lives in ``.bench/tfpeer-venv`` (git-ignored), made on first use.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUIREMENTS = ["tf==1.2.0", "protobuf<6", "httpx"]


def ensure_venv(root: Path) -> Path:
    """The peer venv's python, created and filled when missing."""
    venv = root / ".bench" / "tfpeer-venv"
    python = venv / "bin" / "python"
    stamp = venv / (".installed-" + "-".join(REQUIREMENTS).replace("<", "lt").replace("=", ""))
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if not stamp.exists():
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                *REQUIREMENTS,
            ],
            check=True,
        )
        stamp.touch()
    return python


def plugins_folder(tmp: Path, python: Path) -> Path:
    """A dev_overrides folder whose ``terraform-provider-connectly`` runs the peer."""
    folder = tmp / "plugins-tfpeer"
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / "terraform-provider-connectly"
    script = str(HERE / "tfpeer" / "provider.py")
    exe.write_text(f"#!{python}\nimport runpy\nrunpy.run_path({script!r}, run_name='__main__')\n")
    exe.chmod(0o755)
    return folder
