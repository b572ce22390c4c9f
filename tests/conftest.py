from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator_fixture import *  # noqa: F403  (emulator fixtures)
from tfharness import Terraform, provider_dir


@pytest.fixture
def testing_tf(tmp_path: Path) -> Iterator[Terraform]:
    """Terraform wired to the test provider (tests/testprovider), which stores in a folder."""
    plugins = provider_dir(tmp_path, "testing", "testprovider.provider")
    yield Terraform(tmp_path / "work", {"example.com/test/testing": plugins}, {})


@pytest.fixture
def strict_emulator(emulator_factory):  # type: ignore[no-untyped-def]
    """The emulator in its least forgiving modes (409, no type or token in listings, ...)."""
    return emulator_factory(strict=True)


def connectly_terraform(tmp_path: Path, emulator, name: str = "work") -> Terraform:  # type: ignore[no-untyped-def]
    plugins = provider_dir(tmp_path, "connectly")
    return Terraform(
        tmp_path / name,
        {"connectly/connectly": plugins},
        {"TF_VAR_api_key": emulator.api_key, "TF_VAR_base_url": emulator.url},
    )


@pytest.fixture
def connectly_tf(tmp_path: Path, strict_emulator) -> Terraform:  # type: ignore[no-untyped-def]
    return connectly_terraform(tmp_path, strict_emulator)
