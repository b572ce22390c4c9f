"""The API key, checked without loading the HTTP stack (the provider checks it at configure)."""

from __future__ import annotations


def check_api_key(api_key: str) -> None:
    """An API key must be sendable as a header value. Raised errors never show the key."""
    if not api_key or api_key != api_key.strip():
        raise ValueError("the API key is empty or has white space around it")
    if not all(33 <= ord(ch) <= 126 for ch in api_key):
        raise ValueError("the API key has characters that cannot be sent in an HTTP header")
