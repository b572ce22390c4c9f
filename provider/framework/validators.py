"""Named validators, each one check on a single configured value.

They see only known, non-null values (the planning engine holds back unknowns until they are
known), and they report with the attribute path so Terraform can point at the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..plugin.codec import Path
from ..plugin.cty import UNKNOWN
from .diagnostics import Diagnostics


@dataclass(frozen=True)
class OneOf:
    choices: tuple[str, ...]

    @property
    def description(self) -> str:
        return "one of " + ", ".join(f"`{c}`" for c in self.choices)

    def __call__(self, value: Any, path: Path, diags: Diagnostics) -> None:
        if value not in self.choices:
            diags.error(
                "Invalid value",
                f"{_show(value)} is not allowed here; expected {self.description}.",
                path,
            )


@dataclass(frozen=True)
class NotBlank:
    description: str = "must not be empty or only white space"

    def __call__(self, value: Any, path: Path, diags: Diagnostics) -> None:
        if isinstance(value, str) and not value.strip():
            diags.error("Empty value", "This value must not be empty.", path)


@dataclass(frozen=True)
class MaxLength:
    limit: int

    @property
    def description(self) -> str:
        return f"at most {self.limit} characters"

    def __call__(self, value: Any, path: Path, diags: Diagnostics) -> None:
        if isinstance(value, str) and len(value) > self.limit:
            diags.error(
                "Value too long",
                f"This value has {len(value)} characters; the limit is {self.limit}.",
                path,
            )


@dataclass(frozen=True)
class NoControlCharacters:
    description: str = "must not contain control characters"

    def __call__(self, value: Any, path: Path, diags: Diagnostics) -> None:
        if isinstance(value, str) and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            diags.error(
                "Control character in value",
                "This value contains a control character (such as a newline or tab), "
                "which the API cannot store.",
                path,
            )


@dataclass(frozen=True)
class HttpUrl:
    description: str = "an absolute `http://` or `https://` URL"

    def __call__(self, value: Any, path: Path, diags: Diagnostics) -> None:
        if not isinstance(value, str):
            return
        try:
            parts = urlsplit(value)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:
            ok = False
        if not ok or value != value.strip():
            diags.error(
                "Invalid URL",
                f"{_show(value)} is not an absolute http(s) URL, such as "
                '"https://example.com/hooks/messages".',
                path,
            )


@dataclass(frozen=True)
class SizeAtLeast:
    minimum: int
    reason: str = ""

    @property
    def description(self) -> str:
        return f"must have at least {self.minimum} element(s)"

    def __call__(self, value: Any, path: Path, diags: Diagnostics) -> None:
        if isinstance(value, list) and len(value) < self.minimum:
            detail = f"This collection needs at least {self.minimum} element(s)."
            if self.reason:
                detail += " " + self.reason
            diags.error("Too few elements", detail, path)


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else '"' + value + '"'
    return text if len(text) <= 80 else text[:77] + '..."'


@dataclass(frozen=True)
class EachElement:
    """Applies validators to every element of a list or set (reported at the collection)."""

    validators: tuple[Any, ...]

    @property
    def description(self) -> str:
        return "each element " + ", ".join(v.description for v in self.validators)

    def __call__(self, value: Any, path: Path, diags: Diagnostics) -> None:
        if isinstance(value, list):
            for item in value:
                if item is not None and not isinstance(item, type(UNKNOWN)):
                    for validator in self.validators:
                        validator(item, path, diags)
