"""The executable explains itself to a person."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tomllib
from pathlib import Path

from terraform_provider_connectly.plugin import logs

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "terraform_provider_connectly"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=30)


def test_version_comes_from_pyproject() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    out = run("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"terraform-provider-connectly {version} (plugin protocol 6)"


def test_help_and_unknown_command() -> None:
    helped = run("--help")
    assert helped.returncode == 0 and "terraform-provider-connectly install" in helped.stdout
    wrong = run("frobnicate")
    assert wrong.returncode == 2 and "unknown command 'frobnicate'" in wrong.stderr


def test_registry_manifest_declares_protocol_6() -> None:
    manifest = json.loads((ROOT / "terraform-registry-manifest.json").read_text())
    assert manifest["metadata"]["protocol_versions"] == ["6.0"]


def test_log_lines_are_what_terraform_parses(capsys) -> None:  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    try:
        check_log_lines(capsys)
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])


def check_log_lines(capsys) -> None:  # type: ignore[no-untyped-def]

    logs.configure("provider.test", {"TF_LOG_PROVIDER": "DEBUG", "TF_LOG": "ERROR"})
    logs.register_secret("s3cr3t-value")
    logging.getLogger("resources").debug("sending %s", "s3cr3t-value")
    logging.getLogger("resources").log(logs.TRACE, "too detailed")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    entry = json.loads(line)
    assert entry["@level"] == "debug" and entry["@module"] == "provider.test.resources"
    assert entry["@message"] == "sending ***"
    # 2006-01-02T15:04:05.000000Z07:00
    stamp = entry["@timestamp"]
    assert len(stamp) == 27 and stamp[10] == "T" and stamp[19] == "." and stamp.endswith("Z")
    assert all(isinstance(entry[k], str) for k in ("@level", "@message", "@timestamp"))
    assert "too detailed" not in line
    logs.configure("provider.test", {})
    logging.getLogger("resources").error("invisible")
    assert capsys.readouterr().err == ""
