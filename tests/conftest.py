from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator_fixture import *  # noqa: F403  (emulator fixtures)
from tfharness import Terraform, connectly_terraform, provider_dir


@pytest.fixture
def testing_tf(tmp_path: Path) -> Iterator[Terraform]:
    """Terraform wired to the test provider (tests/testprovider), which stores in a folder."""
    plugins = provider_dir(tmp_path, "testing", "testprovider.provider")
    yield Terraform(tmp_path / "work", {"example.com/test/testing": plugins}, {})


@pytest.fixture
def connectly_tf(tmp_path: Path, strict_emulator) -> Terraform:  # type: ignore[no-untyped-def]
    return connectly_terraform(tmp_path, strict_emulator)
