"""Start a Connectly emulator in-process for a test, on a free loopback port.

Usable two ways:

* ``with running_emulator(strict=True) as emu: ...`` anywhere;
* the pytest fixtures ``emu`` (default modes), ``strict_emulator`` (the least forgiving modes)
  and ``emulator_factory`` (call it with modes; every emulator it started is stopped at
  teardown), imported into ``tests/conftest.py`` for every test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from terraform_provider_connectly.emulator import Emulator

TEST_API_KEY = "test-key-7f3a9c2e5b1d"


@contextmanager
def running_emulator(api_key: str = TEST_API_KEY, **options: Any) -> Iterator[Emulator]:
    """An emulator listening on 127.0.0.1 for the duration of the block."""
    emulator = Emulator(api_key, host="127.0.0.1", port=0, **options).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """An emulator in its default modes."""
    with running_emulator() as emulator:
        yield emulator


@pytest.fixture
def strict_emulator() -> Iterator[Emulator]:
    """The emulator in its least forgiving modes (409, no type or token in listings, ...)."""
    with running_emulator(strict=True) as emulator:
        yield emulator


@pytest.fixture
def emulator_factory() -> Iterator[Callable[..., Emulator]]:
    started: list[Emulator] = []

    def start(**options: Any) -> Emulator:
        options.setdefault("api_key", TEST_API_KEY)
        emulator = Emulator(host="127.0.0.1", port=0, **options).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in reversed(started):
        emulator.stop()
