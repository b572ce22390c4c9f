"""The ways of running our provider that ``make bench`` sets side by side in one run.

- ``connectly``: the venv's console script, started by Terraform for every command (dev_overrides);
- ``release``: the release build (dist/'s zip, unpacked as Terraform unpacks it), the same way;
- ``reattach``: one ``serve --debug`` process for the whole bench, which Terraform reattaches to
  (``TF_REATTACH_PROVIDERS``): no start-up per command, and its CPU is read exactly from
  ``/proc/PID/stat`` around each command, which gives the provider's own CPU per webhook.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pluginproc import read_reattach

TICKS = os.sysconf("SC_CLK_TCK")


class DebugServer:
    """A ``serve --debug`` provider, running until :meth:`stop`."""

    def __init__(self, stderr: Path) -> None:
        self._err = stderr.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "terraform_provider_connectly", "serve", "--debug"],
            stdout=subprocess.PIPE,
            stderr=self._err,
            stdin=subprocess.DEVNULL,
            text=True,
            env={k: v for k, v in os.environ.items() if not k.startswith("TF_")},
        )
        assert self.proc.stdout is not None
        value, _ = read_reattach(self.proc.stdout, 60)
        if value is None:
            self.stop()
            raise RuntimeError("serve --debug printed no TF_REATTACH_PROVIDERS line")
        self.env = {"TF_REATTACH_PROVIDERS": value}

    def cpu(self) -> float:
        """User and system CPU seconds the process has used so far, all its threads."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._err.close()


def release_plugins(tmp: Path, executable: Path) -> Path:
    """A dev_overrides folder whose ``terraform-provider-connectly`` is the release build."""
    folder = tmp / "plugins-release"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / "terraform-provider-connectly"
    if not link.exists():
        link.symlink_to(executable)
    return folder
