"""The committed protocol stubs are exactly what ``make proto`` generates from proto/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIRE = ROOT / "provider" / "plugin" / "wire"
PROTOS = ["tfplugin6", "grpc_controller", "grpc_stdio", "grpc_broker", "health"]


def test_generated_stubs_are_fresh(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-Iterraform_provider_connectly/plugin/wire={ROOT / 'proto'}",
            f"--python_out={tmp_path}",
            f"--grpc_python_out={tmp_path}",
            f"--pyi_out={tmp_path}",
            *[str(ROOT / "proto" / f"{name}.proto") for name in PROTOS],
        ],
        check=True,
        cwd=ROOT,
    )
    fresh = tmp_path / "terraform_provider_connectly" / "plugin" / "wire"
    generated = sorted(p.name for p in fresh.iterdir())
    assert len(generated) == 3 * len(PROTOS)
    for name in generated:
        committed = WIRE / name
        assert committed.exists(), f"{name} is not committed: run `make proto`"
        assert committed.read_bytes() == (fresh / name).read_bytes(), (
            f"{name} is stale: run `make proto` and commit the result"
        )


def test_protocol_package_and_version_facts() -> None:
    from terraform_provider_connectly.plugin.wire import tfplugin6_pb2 as pb

    assert pb.DESCRIPTOR.package == "tfplugin6"
    provider = pb.DESCRIPTOR.services_by_name["Provider"]
    assert len(provider.methods) == 36
    assert provider.methods_by_name["ListResource"].server_streaming
    # Field numbers that Terraform relies on (a renumbering would break the wire silently).
    assert pb.Schema.Attribute.DESCRIPTOR.fields_by_name["write_only"].number == 11
    assert pb.ServerCapabilities.DESCRIPTOR.fields_by_name["plan_destroy"].number == 1
    assert pb.ServerCapabilities.DESCRIPTOR.fields_by_name["generate_resource_config"].number == 4
    assert pb.PlanResourceChange.Response.DESCRIPTOR.fields_by_name["planned_identity"].number == 7
