"""The files of a release as the Terraform Registry ingests them (the goreleaser layout the
Go scaffold ships): per platform a zip, one manifest, one SHA256SUMS and its detached GPG
signature. Pure file work; no freezing here."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

PROJECT = "terraform-provider-connectly"
# 1980-01-01, zip's epoch: every entry gets the same time, so a rebuild gives the same bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def go_os() -> str:
    """This machine's OS as Go spells it (``GOOS``)."""
    return {"win32": "windows", "cygwin": "windows"}.get(sys.platform, sys.platform)


def go_arch(machine: str | None = None) -> str:
    """This machine's architecture as Go spells it (``GOARCH``)."""
    raw = (machine or platform.machine()).lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(raw, raw)


def zip_name(version: str, goos: str, goarch: str) -> str:
    return f"{PROJECT}_{version}_{goos}_{goarch}.zip"


def manifest_name(version: str) -> str:
    return f"{PROJECT}_{version}_manifest.json"


def sums_name(version: str) -> str:
    return f"{PROJECT}_{version}_SHA256SUMS"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_zip(tree: Path, out: Path) -> int:
    """Zips the contents of ``tree`` at the zip's top level, in name order, keeping each
    file's unix mode (run bits) in ``external_attr``; returns the number of files."""
    tmp = out.with_name(out.name + ".tmp")
    count = 0
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(tree.rglob("*")):
            rel = path.relative_to(tree).as_posix()
            mode = path.lstat().st_mode
            if path.is_symlink():
                raise ValueError(f"{rel}: symbolic links do not survive every unzip")
            if path.is_dir():
                info = zipfile.ZipInfo(rel + "/", ZIP_TIME)
                info.external_attr = (stat.S_IFDIR | 0o755) << 16 | 0x10
                zf.writestr(info, b"")
                continue
            info = zipfile.ZipInfo(rel, ZIP_TIME)
            perm = 0o755 if mode & stat.S_IXUSR else 0o644
            info.external_attr = (stat.S_IFREG | perm) << 16
            info.create_system = 3  # unix: the mode bits above are read
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
            count += 1
    os.replace(tmp, out)
    return count


def write_manifest(root: Path, out: Path) -> None:
    """The registry manifest: the repository's terraform-registry-manifest.json (protocol
    6.0), checked, under its release name."""
    data = json.loads((root / "terraform-registry-manifest.json").read_text())
    if data.get("metadata", {}).get("protocol_versions") != ["6.0"]:
        raise ValueError("terraform-registry-manifest.json must declare protocol_versions 6.0")
    out.write_text(json.dumps(data, indent=2) + "\n")


def write_sums(dist: Path, version: str) -> Path:
    """``sha256sum`` lines for every zip of this version in ``dist`` and the manifest."""
    names = sorted(p.name for p in dist.glob(f"{PROJECT}_{version}_*.zip"))
    names.append(manifest_name(version))
    out = dist / sums_name(version)
    out.write_text("".join(f"{sha256(dist / n)}  {n}\n" for n in names))
    return out


def sign(sums: Path, fingerprint: str) -> Path:
    """A detached binary signature of ``sums`` with ``fingerprint``'s key from the caller's
    GNUPGHOME, made without any prompt (the key must need no passphrase, or an agent must
    hold it). gpg's own output goes to the caller's stderr; it never holds key material."""
    sig = sums.with_name(sums.name + ".sig")
    sig.unlink(missing_ok=True)
    proc = subprocess.run(
        [
            "gpg",
            "--batch",
            "--yes",
            "--no-tty",
            "--local-user",
            fingerprint,
            "--output",
            str(sig),
            "--detach-sign",
            str(sums),
        ],
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"gpg could not sign {sums.name} with key {fingerprint}")
    return sig
