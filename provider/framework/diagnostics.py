"""Diagnostics: what a person reads when something is wrong, and where in their HCL it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from ..plugin.path import Path, format_path


class Severity(IntEnum):
    # Values match tfplugin6.Diagnostic.Severity; INVALID (0) is never produced.
    ERROR = 1
    WARNING = 2


@dataclass(frozen=True)
class Diagnostic:
    """One error or warning for Terraform to show, at ``path`` when it concerns one attribute."""

    severity: Severity
    summary: str
    detail: str = ""
    path: Path | None = None

    def __str__(self) -> str:
        where = f" (at {format_path(self.path)})" if self.path else ""
        return f"{self.severity.name.lower()}: {self.summary}{where}: {self.detail}"


@dataclass
class Diagnostics:
    """An ordered collection; ``has_errors`` decides whether an operation goes on."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, summary: str, detail: str = "", path: Path | None = None) -> None:
        self.items.append(Diagnostic(Severity.ERROR, summary, detail, path))

    def warning(self, summary: str, detail: str = "", path: Path | None = None) -> None:
        self.items.append(Diagnostic(Severity.WARNING, summary, detail, path))

    def extend(self, other: Diagnostics | list[Diagnostic]) -> None:
        self.items.extend(other.items if isinstance(other, Diagnostics) else other)

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.items)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class DiagnosticError(Exception):
    """Raised inside an operation to stop it with diagnostics already written for the user."""

    def __init__(self, summary: str, detail: str = "", path: Path | None = None) -> None:
        super().__init__(summary)
        self.diagnostic = Diagnostic(Severity.ERROR, summary, detail, path)
