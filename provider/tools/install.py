"""``terraform-provider-connectly install``: make ``terraform init`` find this provider.

Terraform looks in ``~/.terraform.d/plugins`` (an "implied local mirror") before any registry,
in the layout ``HOST/NAMESPACE/TYPE/VERSION/OS_ARCH/``. Putting a launcher for this installation
there means a plain ``source = "connectly/connectly"`` works offline, with a lock file, exactly
as for a provider downloaded from the registry.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
from pathlib import Path

SOURCE = "registry.terraform.io/connectly/connectly"

SNIPPET = """\
terraform {
  required_providers {
    connectly = {
      source  = "connectly/connectly"
      version = "VERSION"
    }
  }
}
"""


def target_platform() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine, machine
    )
    return f"{sys.platform}_{arch}"


def launcher_text() -> str:
    """A tiny executable that runs this installation's provider with this Python."""
    return (
        f"#!{sys.executable}\n"
        "# Installed by `terraform-provider-connectly install`; runs the provider from\n"
        f"# the Python environment at {sys.prefix}.\n"
        "from terraform_provider_connectly.cli import main\n"
        "raise SystemExit(main())\n"
    )


def install(plugins_dir: Path, version: str) -> tuple[Path, bool]:
    """Writes the launcher into the mirror; returns its path and whether anything changed."""
    folder = plugins_dir / SOURCE / version / target_platform()
    exe = folder / f"terraform-provider-connectly_v{version}"
    text = launcher_text()
    if exe.exists() and exe.read_text() == text and os.access(exe, os.X_OK):
        return exe, False
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{exe.name}.tmp"
    tmp.write_text(text)
    tmp.chmod(0o755)
    os.replace(tmp, exe)
    return exe, True


def install_zip(plugins_dir: Path, archive: Path) -> Path:
    """Unpacks a release zip (``terraform-provider-connectly_VERSION_OS_ARCH.zip``) into the
    mirror exactly as ``terraform init`` unpacks one, run bits included; returns the folder."""
    import zipfile

    stem = archive.name.removesuffix(".zip")
    parts = stem.split("_")
    if len(parts) != 4 or parts[0] != "terraform-provider-connectly":
        raise SystemExit(f"install: {archive.name} is not a release zip of this provider")
    _, version, goos, goarch = parts
    folder = plugins_dir / SOURCE / version / f"{goos}_{goarch}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            target = folder / info.filename
            if not target.resolve().is_relative_to(folder.resolve()):
                raise SystemExit(f"install: {info.filename} would land outside {folder}")
            zf.extract(info, folder)
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                target.chmod(mode)
    return folder


def dev_overrides_config() -> str:
    exe = shutil.which("terraform-provider-connectly") or str(
        Path(sys.executable).parent / "terraform-provider-connectly"
    )
    folder = Path(exe).resolve().parent if not Path(exe).is_symlink() else Path(exe).parent
    return (
        "# Save as ~/.terraformrc (or point TF_CLI_CONFIG_FILE at it). With dev_overrides,\n"
        "# skip `terraform init` for this provider; plan and apply use this build directly.\n"
        "provider_installation {\n"
        "  dev_overrides {\n"
        f'    "connectly/connectly" = "{folder}"\n'
        "  }\n"
        "  direct {}\n"
        "}\n"
    )


def main(argv: list[str], version: str) -> int:
    parser = argparse.ArgumentParser(
        prog="terraform-provider-connectly install",
        description="Install this provider into Terraform's local plugin mirror.",
    )
    parser.add_argument(
        "--plugins-dir",
        type=Path,
        default=Path.home() / ".terraform.d" / "plugins",
        help="the mirror folder (default: ~/.terraform.d/plugins)",
    )
    parser.add_argument(
        "--dev-overrides",
        action="store_true",
        help="print a CLI configuration with dev_overrides instead of installing",
    )
    parser.add_argument(
        "--from",
        dest="archive",
        type=Path,
        help="install a release zip (dist/terraform-provider-connectly_VERSION_OS_ARCH.zip)",
    )
    args = parser.parse_args(argv)
    if args.archive is not None:
        folder = install_zip(args.plugins_dir, args.archive)
        print(f"Installed {args.archive.name} into:\n  {folder}")
        print("\nUse it with `terraform init` and this in your configuration:\n")
        print(SNIPPET.replace("VERSION", folder.parent.name), end="")
        return 0
    if args.dev_overrides:
        print(dev_overrides_config(), end="")
        return 0
    exe, changed = install(args.plugins_dir, version)
    print(("Installed" if changed else "Already installed") + f" connectly/connectly {version}:")
    print(f"  {exe}")
    print("\nUse it with `terraform init` and this in your configuration:\n")
    print(SNIPPET.replace("VERSION", version), end="")
    return 0
