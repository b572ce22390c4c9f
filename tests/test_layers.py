"""The layer rules of docs/design.md, checked over the source's imports (the AST, not a run):
plugin and framework import nothing Connectly, the client imports nothing Terraform, and the
emulator shares nothing with the client."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "provider"
TOP = "terraform_provider_connectly"

# layer -> the layers of this package it must never import
FORBIDDEN = {
    "plugin": {"framework", "resources", "connectly", "emulator", "tools", "cli"},
    "framework": {"resources", "connectly", "emulator", "tools", "cli"},
    "connectly": {"plugin", "framework", "resources", "emulator", "tools", "cli"},
    "emulator": {"plugin", "framework", "resources", "connectly", "tools", "cli"},
}


def imported_layers(source: str, module: str) -> set[str]:
    """The first-level subpackages of ours that ``module`` (dotted, below the package) imports,
    however written: absolute, relative, or ``from .. import x``."""
    here = module.split(".")
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name.split(".") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level]
                parts = base + (node.module.split(".") if node.module else [])
            else:
                parts = (node.module or "").split(".")
                if parts[0] != TOP:
                    continue
                parts = parts[1:]
            # from .. import x: the names are the subpackages
            targets = [parts] if parts else [[alias.name] for alias in node.names]
        else:
            continue
        for target in targets:
            if target and target[0] == TOP:
                target = target[1:]
            if target:
                found.add(target[0])
    return found


def violations(root: Path) -> list[str]:
    out: list[str] = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).with_suffix("")
        layer = relative.parts[0]
        if layer not in FORBIDDEN:
            continue
        module = ".".join(relative.parts)
        if relative.name == "__init__":
            module = ".".join(relative.parts[:-1]) + ".__init__"
        bad = imported_layers(path.read_text(), module) & FORBIDDEN[layer]
        out.extend(f"{module} imports {name}" for name in sorted(bad))
    return out


def test_no_layer_imports_what_design_md_forbids() -> None:
    assert violations(PACKAGE) == []


@pytest.mark.parametrize(
    ("layer", "line", "reached"),
    [
        ("framework", "from ..resources.webhook import mapping", "resources"),
        ("plugin", "from terraform_provider_connectly.connectly import models", "connectly"),
        ("connectly", "from ..framework.diagnostics import DiagnosticError", "framework"),
        ("connectly", "from .. import plugin", "plugin"),
        ("emulator", "import terraform_provider_connectly.connectly.models", "connectly"),
    ],
)
def test_a_planted_forbidden_import_is_found(
    tmp_path: Path, layer: str, line: str, reached: str
) -> None:
    (tmp_path / layer).mkdir()
    (tmp_path / layer / "planted.py").write_text(f"import json\nfrom . import sibling\n{line}\n")
    assert violations(tmp_path) == [f"{layer}.planted imports {reached}"]


def test_allowed_imports_are_not_reported(tmp_path: Path) -> None:
    (tmp_path / "framework").mkdir()
    (tmp_path / "framework" / "ok.py").write_text("from ..plugin.path import Path\nimport httpx\n")
    assert violations(tmp_path) == []
