"""Log lines on stderr in the JSON shape Terraform's plugin logger reads (hclog).

Terraform parses each stderr line as JSON and reads ``@level``, ``@message`` and ``@timestamp``
with unchecked type assertions, so all three are always strings, and the timestamp has exactly
the layout ``2006-01-02T15:04:05.000000Z07:00``. The level comes from ``TF_LOG_PROVIDER``, else
``TF_LOG``; with neither set nothing is written, because Terraform would drop it anyway.

Secrets registered with :func:`register_secret` are replaced in every line, whatever logger
wrote it: a last guard, not the first (callers should never log them at all).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Mapping
from typing import IO

TRACE = 5
logging.addLevelName(TRACE, "TRACE")

_LEVELS = {
    "TRACE": TRACE,
    "JSON": TRACE,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "ERROR": logging.ERROR,
}
_NAMES = {TRACE: "trace", logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warn"}

# Replaced, never mutated, so that readers on other threads need no lock.
_secrets: tuple[str, ...] = ()
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Masks ``value`` in every log line from now on. Short values are ignored: masking
    every "a" in a log would hide everything and protect nothing."""
    global _secrets
    if value and len(value) >= 4:
        with _secrets_lock:
            if value not in _secrets:
                # Longest first, so a secret containing another is masked whole.
                _secrets = tuple(sorted((*_secrets, value), key=len, reverse=True))


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


def level_from_env(env: Mapping[str, str]) -> int | None:
    raw = (env.get("TF_LOG_PROVIDER") or env.get("TF_LOG") or "").strip().upper()
    if not raw or raw == "OFF":
        return None
    return _LEVELS.get(raw, TRACE)


class JSONLineFormatter(logging.Formatter):
    def __init__(self, module: str) -> None:
        super().__init__()
        self.module = module

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        seconds = record.created
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        micros = int((seconds % 1) * 1_000_000)
        line = {
            "@level": _NAMES.get(record.levelno, "error"),
            "@message": redact(message),
            "@module": f"{self.module}.{record.name}",
            "@timestamp": f"{stamp}.{micros:06d}Z",
        }
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(module: str, env: Mapping[str, str], stream: IO[str] | None = None) -> None:
    """Routes the root logger to stderr as JSON lines at the level Terraform asked for."""
    level = level_from_env(env)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    if level is None:
        root.setLevel(logging.CRITICAL + 1)
        root.addHandler(logging.NullHandler())
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JSONLineFormatter(module))
    root.addHandler(handler)
    root.setLevel(level)
    # grpc and httpx are chatty below INFO; their lines carry nothing a user needs.
    for noisy in ("grpc", "httpcore", "asyncio", "hpack"):
        logging.getLogger(noisy).setLevel(max(level, logging.INFO))
