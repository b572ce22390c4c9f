"""Attribute paths: where in a value (and so in the user's HCL) something happened.

A module of its own so that validators, diagnostics and plan rules can name a place without
importing the value codec, which is the only part of the plugin that needs msgpack.
"""

from __future__ import annotations


class Key(str):
    """A map key in a path, as opposed to an attribute name."""

    __slots__ = ()


PathStep = str | int
Path = tuple[PathStep, ...]


def format_path(path: Path) -> str:
    """The path as Terraform users write it: ``configuration.filters[0]``, ``tags["env"]``."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        elif isinstance(step, Key):
            out += f"[{str(step)!r}]"
        elif out:
            out += f".{step}"
        else:
            out = step
    return out
