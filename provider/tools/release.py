"""``make release``: writes ``dist/`` as the Terraform Registry ingests a provider release.

    python -m terraform_provider_connectly.tools.release build [--dist DIR] [--work DIR]
    python -m terraform_provider_connectly.tools.release smoke DIST_DIR [--terraform PATH]

``build`` freezes the provider for this machine (tools/freeze.py), zips it, and writes the
manifest and SHA256SUMS; with ``GPG_FINGERPRINT`` set it signs the sums with that key from
the caller's ``GNUPGHOME``. ``smoke`` installs a built release with plain ``terraform init``
from a registry served on 127.0.0.1 and runs apply, an empty plan, an import and destroy
against a local emulator (tools/smoke.py): what CI runs on every runner of the matrix.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import tomllib
from pathlib import Path

from . import artifacts
from .freeze import FreezeError, Names, freeze


def project_version(root: Path) -> str:
    """The project's one version, from pyproject.toml."""
    return str(tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"])


def build(root: Path, dist: Path, work: Path, fingerprint: str | None) -> list[Path]:
    """Builds this machine's release into ``dist``; returns the files written."""
    version = project_version(root)
    goos, goarch = artifacts.go_os(), artifacts.go_arch()
    started = time.monotonic()
    tree = freeze(root, work / f"{goos}_{goarch}", Names(version, goos))
    dist.mkdir(parents=True, exist_ok=True)
    for stale in dist.glob(f"{artifacts.PROJECT}_{version}_SHA256SUMS*"):
        stale.unlink()
    zipped = dist / artifacts.zip_name(version, goos, goarch)
    artifacts.write_zip(tree, zipped)
    manifest = dist / artifacts.manifest_name(version)
    artifacts.write_manifest(root, manifest)
    sums = artifacts.write_sums(dist, version)
    written = [zipped, manifest, sums]
    if fingerprint:
        written.append(artifacts.sign(sums, fingerprint))
    took = time.monotonic() - started
    print(f"Built {zipped.name} ({zipped.stat().st_size / 1e6:.1f} MB) in {took:.0f} s:")
    for path in written:
        print(f"  {path}")
    return written


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(prog="release", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build this machine's release into dist/")
    b.add_argument("--dist", type=Path, default=root / "dist")
    b.add_argument("--work", type=Path, default=root / "build" / "release")
    s = sub.add_parser("smoke", help="install a built release from a local registry and use it")
    s.add_argument("dist", type=Path, help="the folder holding the zip, manifest and sums")
    s.add_argument("--terraform", default=shutil.which("terraform") or "")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            build(root, args.dist, args.work, os.environ.get("GPG_FINGERPRINT") or None)
            return 0
        from .smoke import run_smoke

        if not args.terraform:
            print("smoke: no terraform binary (pass --terraform PATH)", file=sys.stderr)
            return 2
        run_smoke(args.dist.resolve(), [args.terraform], echo=True)
        print("Smoke test passed: init from the registry, apply, empty plan, import, destroy.")
        return 0
    except (FreezeError, RuntimeError, ValueError, OSError) as exc:
        print(f"release {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
