"""The release smoke test: a built release installed by plain ``terraform init`` from a
provider registry on 127.0.0.1 (tools/registry.py), then apply, an empty plan, an import
block and destroy against a local emulator.

CI runs it on every runner of the release matrix (``release smoke dist``); the tests run the
same steps with Python hidden and in an empty root. Terraform itself is run through a
``Runner`` so that a test can put it in a mount namespace or a chroot; ``inner`` maps a path
of this machine to the path that Terraform sees there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import artifacts
from .registry import Registry, Release

# (argv, env) -> (exit code, stdout + stderr)
Runner = Callable[[list[str], dict[str, str]], tuple[int, str]]
TIMEOUT = 300
TEST_KEY_UID = "Connectly release smoke test <release-smoke@example.invalid>"


class SmokeFailed(RuntimeError):
    pass


def _gpg(home: Path, *args: str) -> str:
    proc = subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--no-tty", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise SmokeFailed(f"gpg {args[0]} failed: {proc.stderr.strip()}")
    return proc.stdout


def throwaway_key(home: Path) -> str:
    """A new passphrase-less signing key in a new GNUPGHOME ``home``; returns its
    fingerprint. For tests and smoke runs only: it signs nothing that is published."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    _gpg(home, "--passphrase", "", "--quick-gen-key", TEST_KEY_UID, "rsa3072", "sign", "1d")
    return key_ids(home)[1]


def key_ids(home: Path | None, fingerprint: str | None = None) -> tuple[str, str]:
    """(long key id, fingerprint) of ``fingerprint``'s key, or of the first key."""
    args = ["--with-colons", "--list-keys"] + ([fingerprint] if fingerprint else [])
    out = _gpg(home, *args) if home else _gpg(Path(os.environ.get("GNUPGHOME", "~")), *args)
    keyid = fpr = ""
    for line in out.splitlines():
        parts = line.split(":")
        if parts[0] == "pub" and not keyid:
            keyid = parts[4]
        elif parts[0] == "fpr" and keyid and not fpr:
            fpr = parts[9]
    if not fpr:
        raise SmokeFailed("no signing key found")
    return keyid, fpr


def public_key(home: Path, fingerprint: str) -> str:
    return _gpg(home, "--armor", "--export", fingerprint)


def signed_copy(dist: Path, version: str, into: Path) -> Release:
    """The release files of ``dist`` copied into ``into``. With ``GPG_FINGERPRINT`` set and a
    signature in ``dist``, that key's public half is offered; otherwise the sums are signed
    again with a throwaway key (a release is smoke-tested before the real key signs it)."""
    into.mkdir(parents=True, exist_ok=True)
    for path in dist.glob(f"{artifacts.PROJECT}_{version}_*"):
        shutil.copy2(path, into / path.name)
    sums = into / artifacts.sums_name(version)
    if not sums.exists():
        raise SmokeFailed(f"{dist} holds no {sums.name}: build the release first")
    fingerprint = os.environ.get("GPG_FINGERPRINT")
    if fingerprint and (into / (sums.name + ".sig")).exists():
        home = Path(os.environ.get("GNUPGHOME", Path.home() / ".gnupg"))
    else:
        home = into.parent / "gnupg"
        fingerprint = throwaway_key(home)
        env = {**os.environ, "GNUPGHOME": str(home)}
        subprocess.run(
            [
                "gpg",
                "--batch",
                "--yes",
                "--local-user",
                fingerprint,
                "--output",
                str(sums) + ".sig",
                "--detach-sign",
                str(sums),
            ],
            check=True,
            env=env,
            capture_output=True,
            stdin=subprocess.DEVNULL,
        )
    keyid, fpr = key_ids(home, fingerprint)
    return Release(into, version, keyid, public_key(home, fpr))


def local_runner(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    proc = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL
    )
    return proc.returncode, proc.stdout + proc.stderr


@dataclass
class Session:
    """One Terraform working directory using the registry and an emulator."""

    terraform: list[str]
    workdir: Path
    registry: Registry
    env: dict[str, str]
    runner: Runner = local_runner
    inner: Callable[[Path], str] = str
    outputs: dict[str, str] = field(default_factory=dict)

    def run(self, step: str, *args: str, expect: int = 0) -> str:
        argv = [*self.terraform, f"-chdir={self.inner(self.workdir)}", *args]
        code, out = self.runner(argv, self.env)
        self.outputs[step] = out
        if code != expect:
            raise SmokeFailed(f"terraform {step} exited {code} (expected {expect}):\n{out}")
        return out


CONFIG = """\
terraform {
  required_providers {
    connectly = {
      source  = "SOURCE"
      version = "VERSION"
    }
  }
}
variable "api_key" {
  type      = string
  sensitive = true
}
variable "base_url" { type = string }
provider "connectly" {
  api_key     = var.api_key
  base_url    = var.base_url
  business_id = "biz_smoke"
}
resource "connectly_webhook" "messages" {
  topic   = "messages"
  address = "https://example.com/hooks/messages"
}
"""

ADOPTED = """
import {
  to = connectly_webhook.adopted
  id = "ID"
}
resource "connectly_webhook" "adopted" {
  topic   = "delivery_status"
  address = "https://example.com/hooks/made-by-hand"
}
"""


@contextmanager
def serving(dist: Path, version: str, tmp: Path) -> Iterator[Registry]:
    release = signed_copy(dist, version, tmp / "registry-files")
    registry = Registry(release, tmp / "registry-tls").start()
    try:
        yield registry
    finally:
        registry.stop()


def session_env(home: Path, inner: Callable[[Path], str], registry: Registry) -> dict[str, str]:
    """Terraform's environment: a private HOME and CLI configuration, the registry's
    certificate trusted, nothing inherited that could point elsewhere."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "tmp").mkdir(exist_ok=True)
    cli_config = home / "terraform.rc"
    cli_config.write_text("# no provider_installation: the registry named in the source\n")
    shutil.copy2(registry.cert_path, home / "registry-ca.pem")
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": inner(home),
        "TMPDIR": inner(home / "tmp"),
        "TF_CLI_CONFIG_FILE": inner(cli_config),
        "SSL_CERT_FILE": inner(home / "registry-ca.pem"),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
    }


def exercise(session: Session, emulator: object, version: str, zip_path: Path) -> None:
    """init from the registry (signed, zip hash locked), apply, empty plan, an import block
    adopting a webhook made outside Terraform, an empty plan again, destroy."""
    emu: object = emulator
    api_key, url = emu.api_key, emu.url  # type: ignore[attr-defined]
    session.env.update({"TF_VAR_api_key": api_key, "TF_VAR_base_url": url})
    session.workdir.mkdir(parents=True, exist_ok=True)
    main = session.workdir / "main.tf"
    main.write_text(CONFIG.replace("SOURCE", session.registry.source).replace("VERSION", version))
    init = session.run("init", "init", "-input=false", "-no-color")
    key_id = session.registry.release.key_id
    installed = f"Installed {session.registry.source} v{version} ("
    line = next((ln for ln in init.splitlines() if installed in ln), "")
    # Terraform prints "(self-signed, key ID ...)" for a community key, "(signed by a
    # HashiCorp partner, key ID ...)" for a partner's; "(unauthenticated)" would be a failure.
    if "signed" not in line or f"key ID {key_id}" not in line:
        raise SmokeFailed(f"init did not report the provider as signed by {key_id}:\n{init}")
    lock = (session.workdir / ".terraform.lock.hcl").read_text()
    zh = f'"zh:{artifacts.sha256(zip_path)}"'
    if zh not in lock:
        raise SmokeFailed(f"the lock file lacks the zip's hash {zh}:\n{lock}")
    session.run("apply", "apply", "-auto-approve", "-input=false", "-no-color")
    made = emu.registrations("biz_smoke")  # type: ignore[attr-defined]
    if [r["topic"] for r in made] != ["messages"]:
        raise SmokeFailed(f"apply left {made} in the emulator")
    session.run("plan", "plan", "-detailed-exitcode", "-input=false", "-no-color")
    hand_made = emu.seed(  # type: ignore[attr-defined]
        "biz_smoke", "delivery_status", "https://example.com/hooks/made-by-hand"
    )
    with main.open("a") as f:
        f.write(ADOPTED.replace("ID", hand_made))
    imported = session.run("import", "apply", "-auto-approve", "-input=false", "-no-color")
    if "1 imported, 0 added, 0 changed, 0 destroyed" not in imported:
        raise SmokeFailed(f"the import block did not import exactly one webhook:\n{imported}")
    session.run("plan-after-import", "plan", "-detailed-exitcode", "-input=false", "-no-color")
    session.run("destroy", "destroy", "-auto-approve", "-input=false", "-no-color")
    left = emu.registrations("biz_smoke")  # type: ignore[attr-defined]
    if left:
        raise SmokeFailed(f"destroy left {left} in the emulator")


def run_smoke(dist: Path, terraform: list[str], echo: bool = False) -> dict[str, str]:
    """The whole smoke test from ``dist`` with this machine's zip; returns each step's
    output."""
    from ..emulator import Emulator
    from .release import project_version

    version = _dist_version(dist) or project_version(Path(__file__).resolve().parents[2])
    zip_path = dist / artifacts.zip_name(version, artifacts.go_os(), artifacts.go_arch())
    if not zip_path.exists():
        raise SmokeFailed(f"no {zip_path.name} in {dist}")
    with tempfile.TemporaryDirectory(prefix="connectly-smoke-") as raw:
        tmp = Path(raw)
        emulator = Emulator(strict=True).start()
        try:
            with serving(dist, version, tmp) as registry:
                env = session_env(tmp / "home", str, registry)
                session = Session(terraform, tmp / "work", registry, env)
                try:
                    exercise(session, emulator, version, zip_path)
                finally:
                    if echo:
                        for step, out in session.outputs.items():
                            print(f"==> terraform {step}\n{out}", flush=True)
                return session.outputs
        finally:
            emulator.stop()


def _dist_version(dist: Path) -> str:
    """The version of the release in ``dist``, from its manifest's name."""
    for path in dist.glob(f"{artifacts.PROJECT}_*_manifest.json"):
        return path.name[len(artifacts.PROJECT) + 1 : -len("_manifest.json")]
    return ""
