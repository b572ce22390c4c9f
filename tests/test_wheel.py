"""The Python users' path: `python -m build` gives a wheel and an sdist; the wheel installed
with pip into a fresh venv has a working `terraform-provider-connectly install`, and serves
Terraform's calls over mutual TLS without grpcio (only the tests use its client)."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

from terraform_provider_connectly.plugin import certificate
from terraform_provider_connectly.plugin.wire import tfplugin6_pb2 as pb
from terraform_provider_connectly.plugin.wire import tfplugin6_pb2_grpc as pb_grpc

from pluginproc import channel, running_plugin

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_and_sdist_install_into_a_fresh_venv(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheels = list(out.glob("terraform_provider_connectly-*-py3-none-any.whl"))
    sdists = list(out.glob("terraform_provider_connectly-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheels[0])],
        check=True,
        capture_output=True,
    )
    plugins = tmp_path / "plugins"
    done = subprocess.run(
        [
            str(env_dir / "bin" / "terraform-provider-connectly"),
            "install",
            "--plugins-dir",
            str(plugins),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert done.startswith("Installed connectly/connectly")
    (launcher,) = plugins.glob("registry.terraform.io/connectly/connectly/*/*/terraform-provider-*")
    assert launcher.read_text().startswith(f"#!{py}")
    version = subprocess.run(
        [str(launcher), "--version"], check=True, capture_output=True, text=True
    ).stdout
    assert "plugin protocol 6" in version

    # Serving needs no grpcio: it is not installed with the wheel, and a start answers.
    no_grpc = subprocess.run([str(py), "-c", "import grpc"], capture_output=True, text=True)
    assert no_grpc.returncode != 0 and "No module named 'grpc'" in no_grpc.stderr
    terraform = certificate.make_identity()
    served = [str(env_dir / "bin" / "terraform-provider-connectly")]
    with (
        running_plugin(tmp_path, terraform, command=served) as (_proc, fields),
        channel(fields, terraform) as ch,
    ):
        schema = pb_grpc.ProviderStub(ch).GetProviderSchema(
            pb.GetProviderSchema.Request(), timeout=20
        )
    assert "connectly_webhook" in schema.resource_schemas
