"""Every example applies against the strict emulator, and both a refreshing plan and a
`-refresh=false` plan right after are empty."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tfharness import Terraform, provider_dir

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PROVIDER_TF = EXAMPLES / "provider" / "provider.tf"

CASES = {
    "resource": [PROVIDER_TF, EXAMPLES / "resources/connectly_webhook/resource.tf"],
    "data-source": [PROVIDER_TF, EXAMPLES / "data-sources/connectly_webhooks/data-source.tf"],
    "demo": [EXAMPLES / "demo/main.tf"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_applies_with_no_phantom_diff(tmp_path: Path, strict_emulator, name: str) -> None:  # type: ignore[no-untyped-def]
    emu = strict_emulator
    emu.seed("biz_123", "report", "https://example.com/seeded")
    emu.seed("biz_456", "report", "https://example.com/seeded-too")
    work = tmp_path / "work"
    work.mkdir()
    for file in CASES[name]:
        shutil.copy(file, work / file.name)
    tf = Terraform(
        work,
        {"connectly/connectly": provider_dir(tmp_path, "connectly")},
        {
            "CONNECTLY_BASE_URL": emu.url,  # the examples leave base_url to the environment
            "TF_VAR_connectly_api_key": emu.api_key,
            "TF_VAR_api_key": emu.api_key,
            "TF_VAR_base_url": emu.url,
            "TF_VAR_webengage_token": "example-token-1234",
        },
    )
    tf.apply()
    assert tf.plan_code().code == 0
    assert tf.plan_code("-refresh=false").code == 0
    tf.destroy()
    left = {(r["businessId"], r["topic"]) for r in emu.registrations()}
    assert left == {("biz_123", "report"), ("biz_456", "report")}
