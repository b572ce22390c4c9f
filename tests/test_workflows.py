"""The CI workflows parse and name only make targets the Makefile has."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([A-Za-z][\w.-]*):", text, re.MULTILINE))


def commands(node: object) -> list[str]:
    if isinstance(node, dict):
        return [c for k, v in node.items() for c in ([v] if k == "run" else commands(v))]
    if isinstance(node, list):
        return [c for item in node for c in commands(item)]
    return []


def test_both_workflows_parse_and_name_existing_make_targets() -> None:
    targets = make_targets()
    assert {"release", "test", "install"} <= targets
    named: set[str] = set()
    for name in ("release.yml", "test.yml"):
        data = yaml.safe_load((WORKFLOWS / name).read_text())
        assert data["jobs"], name
        for run in commands(data["jobs"]):
            named.update(re.findall(r"\bmake\s+([A-Za-z][\w.-]*)", run))
    assert named >= {"release", "test"}
    assert named - targets == set()


def test_release_matrix_covers_the_five_platforms_and_smoke_tests_each() -> None:
    data = yaml.safe_load((WORKFLOWS / "release.yml").read_text())
    build = data["jobs"]["build"]
    platforms = {(m["goos"], m["goarch"]) for m in build["strategy"]["matrix"]["include"]}
    assert platforms == {
        ("linux", "amd64"),
        ("linux", "arm64"),
        ("darwin", "arm64"),
        ("darwin", "amd64"),
        ("windows", "amd64"),
    }
    assert any("release smoke dist" in c for c in commands(build["steps"]))
    assert data[True]["push"]["tags"] == ["v*"]  # YAML 1.1 reads the key `on` as True
