"""Named validators, each one check on a single configured value.

They see only known, non-null values (the planning engine holds back unknowns until they are
known), and they report with the attribute path so Terraform can point at the line.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from ..plugin.cty import UNKNOWN
from ..plugin.path import Path
from .diagnostics import Diagnostics


@dataclass(frozen=True)
class OneOf:
    """The value is one of ``choices``."""

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
    """A string is more than white space."""

    description: str = "must not be empty or only white space"

    def __call__(self, value: Any, path: Path, diags: Diagnostics) -> None:
        if isinstance(value, str) and not value.strip():
            diags.error("Empty value", "This value must not be empty.", path)


@dataclass(frozen=True)
class MaxLength:
    """A string has at most ``limit`` characters."""

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
    """A string has no control character (newline, tab, NUL...)."""

    description: str = "must not contain control characters"

    def __call__(self, value: Any, path: Path, diags: Diagnostics) -> None:
        if isinstance(value, str) and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            diags.error(
                "Control character in value",
                "This value contains a control character (such as a newline or tab), "
                "which the API cannot store.",
                path,
            )


_SPACE = re.compile(r"\s")  # what str.isspace() calls white space
_HOST_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?")


@functools.lru_cache(maxsize=4096)  # each address is checked at validate and at plan
def _url_problem(value: str) -> str | None:
    """Why ``value`` cannot be an absolute http(s) URL, or None when it can be one."""
    # Imported here: a provider process that validates nothing (Terraform starts one for the
    # schema alone) need not load them.
    import ipaddress
    from urllib.parse import urlsplit

    if _SPACE.search(value):
        return "it contains white space (write a space in a path as %20)"
    try:
        parts = urlsplit(value)
        port = parts.port  # reading it checks the range: ValueError above 65535
    except ValueError as exc:
        return f"it cannot be parsed ({exc})"
    if parts.scheme not in ("http", "https"):
        return "it does not start with http:// or https://"
    host = parts.hostname
    if not host:
        return "it names no host"
    if port == 0:
        return "port 0 cannot receive connections"
    if ":" in host:  # an IPv6 literal: urlsplit took it from between brackets
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return f"[{host}] is not an IPv6 address"
        return None
    try:  # an ASCII name is its own IDNA form; the labels' check below is the same
        ascii_host = host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        return f"{host!r} is not a valid host name"
    labels = ascii_host.removesuffix(".").split(".")  # one root dot; "a.." has an empty label
    if not all(_HOST_NAME.fullmatch(label) for label in labels):
        return f"{host!r} is not a valid host name"
    return None


@dataclass(frozen=True)
class HttpUrl:
    """An absolute http(s) URL: a scheme, a valid host (name, IPv4 or bracketed IPv6), a port
    within 1..65535, no white space. With ``prefer_https``, plain ``http`` is accepted with a
    warning: the API asks for a publicly reachable HTTPS URL, but local receivers (and the
    emulator) speak plain http."""

    prefer_https: bool = False

    @property
    def description(self) -> str:
        if self.prefer_https:
            return "an absolute `https://` URL (`http://` is accepted with a warning)"
        return "an absolute `http://` or `https://` URL"

    def __call__(self, value: Any, path: Path, diags: Diagnostics) -> None:
        if not isinstance(value, str):
            return
        problem = _url_problem(value)
        if problem is not None:
            diags.error(
                "Invalid URL",
                f"{_show(value)} is not an absolute http(s) URL: {problem}. Use one such as "
                '"https://example.com/hooks/messages".',
                path,
            )
        elif self.prefer_https and value[:7].lower() == "http://":
            diags.warning(
                "Plain http address",
                f"{_show(value)} is not encrypted: Connectly asks for a publicly reachable "
                "HTTPS URL, and events sent over plain http can be read on the way. Plain "
                "http is fine for a local receiver or the emulator.",
                path,
            )


@dataclass(frozen=True)
class SizeAtLeast:
    """A collection has at least ``minimum`` elements; ``reason`` says why, for a person."""

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


def must_clause(phrase: str) -> str:
    """A validator's phrase as a rule: "one of `a`, `b`" reads "must be one of `a`, `b`";
    a phrase that already states a rule ("must not be empty", "every element ...") is kept."""
    phrase = phrase.strip().rstrip(".")
    if phrase.lower().startswith(("must ", "every element ")):
        return phrase
    return "must be " + phrase


@dataclass(frozen=True)
class EachElement:
    """Applies validators to every element of a list or set (reported at the collection)."""

    validators: tuple[Any, ...]

    @property
    def description(self) -> str:
        rules = [must_clause(v.description) for v in self.validators]
        joined = ", ".join(rules[:-1]) + " and " + rules[-1] if len(rules) > 1 else rules[0]
        return "every element " + joined

    def __call__(self, value: Any, path: Path, diags: Diagnostics) -> None:
        if isinstance(value, list):
            for item in value:
                if item is not None and not isinstance(item, type(UNKNOWN)):
                    for validator in self.validators:
                        validator(item, path, diags)
