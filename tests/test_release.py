"""The release as users get it: `make release`'s files, installed by plain `terraform init`
from a provider registry on 127.0.0.1, with the bundled Terraform, with the `terraform` on
PATH, with every Python interpreter hidden, and in an empty root holding only a static
`terraform`, a CA file and /etc/hosts.

The release is built once per test run (session fixture, ~30 s) with a throwaway GPG key.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

from terraform_provider_connectly.tools import artifacts, freeze, release, smoke
from terraform_provider_connectly.tools.freeze import Names

from tfharness import terraform_command

ROOT = Path(__file__).resolve().parents[1]
VERSION = release.project_version(ROOT)
GOOS, GOARCH = artifacts.go_os(), artifacts.go_arch()
NAMES = Names(VERSION, GOOS)
ZIP = artifacts.zip_name(VERSION, GOOS, GOARCH)
PATH_TERRAFORM = shutil.which("terraform")


@dataclass(frozen=True)
class Built:
    dist: Path
    work: Path
    gnupghome: Path
    fingerprint: str
    unpacked: Path

    @property
    def zip(self) -> Path:
        return self.dist / ZIP


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("release")
    home = base / "gnupg"
    fingerprint = smoke.throwaway_key(home)
    with mock.patch.dict(os.environ, {"GNUPGHOME": str(home)}):
        release.build(ROOT, base / "dist", base / "build", fingerprint)
    unpacked = base / "unpacked"
    with zipfile.ZipFile(base / "dist" / ZIP) as zf:
        zf.extractall(unpacked)
        for info in zf.infolist():  # extractall drops the mode bits; put them back
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                (unpacked / info.filename).chmod(mode)
    return Built(base / "dist", base / "build", home, fingerprint, unpacked)


@pytest.fixture
def emulator(emulator_factory):  # type: ignore[no-untyped-def]
    return emulator_factory(strict=True)


def test_dist_holds_exactly_the_registry_files(built: Built) -> None:
    prefix = f"terraform-provider-connectly_{VERSION}"
    assert sorted(p.name for p in built.dist.iterdir()) == sorted(
        [
            f"{prefix}_{GOOS}_{GOARCH}.zip",
            f"{prefix}_manifest.json",
            f"{prefix}_SHA256SUMS",
            f"{prefix}_SHA256SUMS.sig",
        ]
    )
    manifest = (built.dist / f"{prefix}_manifest.json").read_text()
    assert '"protocol_versions": [\n      "6.0"\n    ]' in manifest


def test_every_sum_matches_and_the_signature_verifies(built: Built) -> None:
    sums = built.dist / artifacts.sums_name(VERSION)
    lines = sums.read_text().splitlines()
    assert [ln.split("  ")[1] for ln in lines] == [ZIP, artifacts.manifest_name(VERSION)]
    check = subprocess.run(
        ["sha256sum", "--check", "--strict", sums.name],
        cwd=built.dist,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0 and check.stdout.count(": OK") == 2, check.stdout
    verify = subprocess.run(
        [
            "gpg",
            "--homedir",
            str(built.gnupghome),
            "--batch",
            "--status-fd",
            "1",
            "--verify",
            f"{sums}.sig",
            str(sums),
        ],
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stderr
    assert f"VALIDSIG {built.fingerprint}" in verify.stdout
    # A changed byte in the sums must fail the check.
    tampered = built.work / "tampered"
    tampered.write_bytes(sums.read_bytes().replace(b"  ", b" *", 1))
    bad = subprocess.run(
        [
            "gpg",
            "--homedir",
            str(built.gnupghome),
            "--batch",
            "--verify",
            f"{sums}.sig",
            str(tampered),
        ],
        capture_output=True,
    )
    assert bad.returncode != 0


def test_zip_layout_and_run_bits(built: Built) -> None:
    with zipfile.ZipFile(built.zip) as zf:
        infos = {i.filename: i for i in zf.infolist()}
    top = {name.split("/")[0] for name in infos}
    assert top == {NAMES.executable, NAMES.runtime}
    assert (infos[NAMES.executable].external_attr >> 16) & 0o777 == 0o755
    program = infos[f"{NAMES.runtime}/provider"]
    assert (program.external_attr >> 16) & 0o777 == 0o755
    # Modules lie in the folder as .pyc files (no PYZ to inflate at each start), not runnable.
    assert (infos[f"{NAMES.runtime}/abc.pyc"].external_attr >> 16) & 0o777 == 0o644
    assert not any(n.endswith((".pyz", "base_library.zip")) for n in infos)
    # Terraform takes the first file named terraform-provider-connectly[_.]*: only ours.
    files = [n for n in top if not infos.get(n + "/") and "/" not in n]
    assert files == [NAMES.executable]


def test_no_build_machine_path_in_any_file(built: Built) -> None:
    # The clone, the venv and the build folder. (libpython keeps the interpreter's configured
    # install prefix as a compiled-in default the frozen program never reads; see
    # docs/releasing.md.)
    needles = {n.encode() for n in (str(ROOT), sys.prefix, str(built.work)) if len(n) > 4}
    found = []
    for path in built.unpacked.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.name}: {n.decode()}" for n in needles if n in data]
    assert found == []


@pytest.mark.skipif(GOOS != "linux", reason="the Linux bundle's own checks")
def test_linux_bundle_needs_nothing_from_the_host(built: Built) -> None:
    launcher = built.unpacked / NAMES.executable
    headers = subprocess.run(["readelf", "-lW", str(launcher)], capture_output=True, text=True)
    assert "Elf file type is EXEC" in headers.stdout or "DYN" in headers.stdout
    assert "INTERP" not in headers.stdout  # static: no loader of the host
    runtime = built.unpacked / NAMES.runtime
    assert (runtime / "libc.so.6").is_file()
    assert any(runtime.glob("ld-linux*.so.*"))
    # Its open() answers /dev/urandom where a root has no /dev: first, before the C library.
    assert freeze.needed_libraries(runtime / "provider")[0] == freeze.URANDOM_FALLBACK
    for path in runtime.rglob("*"):
        if path.is_file() and path.read_bytes()[:4] == b"\x7fELF" and "ld-linux" not in path.name:
            dyn = subprocess.run(["readelf", "-dW", str(path)], capture_output=True, text=True)
            assert "RUNPATH" not in dyn.stdout, path
            assert "(RPATH)" in dyn.stdout and "[$ORIGIN" in dyn.stdout, path


URANDOM_CHECK = """
import ctypes, os, sys
lib = ctypes.CDLL(sys.argv[1], use_errno=True)
lib.open.argtypes = [ctypes.c_char_p, ctypes.c_int]
def opened(path, flags=os.O_RDONLY):
    fd = lib.open(path, flags)
    return fd, ctypes.get_errno()
assert not os.path.exists("/dev/urandom")
fd1, _ = opened(b"/dev/urandom")
fd2, _ = opened(b"/dev/urandom")
first, second = os.read(fd1, 4096), os.read(fd2, 4096)
print(len(first), first != second, first.count(0) < 256)
print(opened(b"/dev/urandom", os.O_WRONLY)[0], opened(b"/dev/urandom", os.O_WRONLY)[1] == 2)
print(opened(b"/dev/random")[0], opened(b"/nowhere/urandom")[1] == 2)
"""


@pytest.mark.skipif(GOOS != "linux", reason="the Linux bundle's own checks")
def test_urandom_fallback_answers_only_a_missing_dev_urandom(built: Built, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.fail("this test needs root (unshare -m): CI runs as root")
    shim = built.unpacked / NAMES.runtime / freeze.URANDOM_FALLBACK
    script = tmp_path / "check.py"
    script.write_text(URANDOM_CHECK)
    # /dev hidden under an empty tmpfs in a mount namespace of this command only.
    hide_dev = f'mount -t tmpfs none /dev && exec "{sys.executable}" "$@"'
    out = subprocess.run(
        ["unshare", "-m", "sh", "-c", hide_dev, "sh", str(script), str(shim)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    # Fresh random bytes for each open for reading; writing, other paths: ENOENT as before.
    assert out.stdout.split("\n")[:3] == ["4096 True True", "-1 True", "-1 True"]


def _session(tmp: Path, registry, terraform: list[str], **kw) -> smoke.Session:  # type: ignore[no-untyped-def]
    inner = kw.pop("inner", str)
    env = smoke.session_env(tmp / "home", inner, registry)
    return smoke.Session(terraform, tmp / "work", registry, env, inner=inner, **kw)


@pytest.fixture
def registry(built: Built, tmp_path: Path) -> Iterator[object]:
    with smoke.serving(built.dist, VERSION, tmp_path / "serve") as reg:
        yield reg


def test_registry_install_with_the_bundled_terraform(built, registry, emulator, tmp_path) -> None:  # type: ignore[no-untyped-def]
    session = _session(tmp_path, registry, terraform_command())
    smoke.exercise(session, emulator, VERSION, built.zip)
    assert f"(self-signed, key ID {registry.release.key_id})" in session.outputs["init"]
    assert any(p.endswith(f"/download/{GOOS}/{GOARCH}") for p in registry.requests)


@pytest.mark.skipif(PATH_TERRAFORM is None, reason="no terraform binary on this machine")
def test_registry_install_with_the_terraform_on_path(built, registry, emulator, tmp_path) -> None:  # type: ignore[no-untyped-def]
    session = _session(tmp_path, registry, [str(PATH_TERRAFORM)])
    smoke.exercise(session, emulator, VERSION, built.zip)
    installed = tmp_path / "work" / ".terraform" / "providers" / registry.host
    assert list(installed.glob(f"connectly/connectly/{VERSION}/*/{NAMES.executable}"))


def python_places() -> list[str]:
    """Every folder holding a Python interpreter or its library on this machine."""
    places = {sys.prefix, sys.base_prefix, str(Path(sys.executable).parent)}
    for name in ("python3", "python", "python3.11", "python3.12", "python3.13"):
        for found in subprocess.run(
            ["which", "-a", name], capture_output=True, text=True
        ).stdout.split():
            places.add(str(Path(found).parent))
            places.add(str(Path(found).resolve().parent))
    for pattern in ("/usr/lib/python3*", "/usr/local/lib/python3*", "/root/.pyenv"):
        places.update(str(p) for p in Path("/").glob(pattern.lstrip("/")))
    dirs = {Path(p).resolve() for p in places if Path(p).is_dir()}
    # A folder inside another hidden one is hidden with it (and no longer exists to mount on).
    return sorted(str(d) for d in dirs if not any(o != d and d.is_relative_to(o) for o in dirs))


@pytest.mark.skipif(PATH_TERRAFORM is None, reason="no terraform binary on this machine")
def test_registry_install_with_every_python_hidden(built, registry, emulator, tmp_path) -> None:  # type: ignore[no-untyped-def]
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.fail("this test needs root and unshare (util-linux): CI runs as root")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    terraform = shutil.copy2(str(PATH_TERRAFORM), bin_dir / "terraform")
    hidden = python_places()
    interpreters = [str(Path(p) / n) for p in hidden for n in ("python3", "python")]
    # /usr/bin (where mount lives) last; sh's tests and exec are built in.
    hidden.sort(key=lambda p: p == "/usr/bin")
    mount = shutil.which("mount") or "/usr/bin/mount"
    script = (
        "set -e\n"
        + "".join(f"{mount} -t tmpfs none '{p}'\n" for p in hidden)
        + "".join(
            f"if [ -e '{i}' ]; then echo 'still there: {i}'; exit 97; fi\n" for i in interpreters
        )
        + 'exec "$@"\n'
    )

    def hidden_runner(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
        return smoke.local_runner(["unshare", "-m", "sh", "-c", script, "sh", *argv], env)

    session = _session(tmp_path, registry, [str(terraform)], runner=hidden_runner)
    session.env["PATH"] = f"{bin_dir}:/usr/bin:/bin"
    smoke.exercise(session, emulator, VERSION, built.zip)
    assert "/usr/bin" in hidden and any(".pyenv" in p for p in hidden)
    # The provider really ran there: its webhook was made and is gone again.
    assert "Apply complete! Resources: 1 added" in session.outputs["apply"]


def test_empty_root(built, registry, emulator, tmp_path) -> None:  # type: ignore[no-untyped-def]
    if PATH_TERRAFORM is None:
        pytest.skip("no terraform binary on this machine")
    if os.geteuid() != 0:
        pytest.fail("this test needs root (unshare -m, chroot): CI runs as root")
    kind = subprocess.run(["file", "-b", str(PATH_TERRAFORM)], capture_output=True, text=True)
    assert "statically linked" in kind.stdout, kind.stdout
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    (root / "etc").mkdir()
    shutil.copy2(str(PATH_TERRAFORM), root / "bin" / "terraform")
    (root / "etc" / "hosts").write_text("127.0.0.1 localhost\n")

    def inner(path: Path) -> str:
        return "/" + path.relative_to(root).as_posix()

    def chroot_runner(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
        chroot = shutil.which("chroot") or "/usr/sbin/chroot"
        unshare = shutil.which("unshare") or "/usr/bin/unshare"
        # No /proc, no /dev: the provider finds its folder from argv[0], hands its key to
        # OpenSSL through OpenSSL's API, and reads random bytes through getrandom(2).
        return smoke.local_runner([unshare, "-m", chroot, str(root), *argv], env)

    session = smoke.Session(
        ["/bin/terraform"],
        root / "work",
        registry,  # type: ignore[arg-type]
        smoke.session_env(root / "home", inner, registry),  # type: ignore[arg-type]
        runner=chroot_runner,
        inner=inner,
    )
    session.env["PATH"] = "/bin"
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    assert before == [
        "bin",
        "bin/terraform",
        "etc",
        "etc/hosts",
        "home",
        "home/registry-ca.pem",
        "home/terraform.rc",
        "home/tmp",
    ]
    smoke.exercise(session, emulator, VERSION, built.zip)
    assert not (root / "lib64").exists() and not (root / "lib").exists()
    assert not (root / "dev").exists() and not (root / "proc").exists()
    assert not list(root.glob("usr/**/libc.so*"))


def test_install_from_the_release_zip(built, emulator, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tfharness import Terraform

    home = tmp_path / "home"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "terraform_provider_connectly",
            "install",
            "--from",
            str(built.zip),
            "--plugins-dir",
            str(home / ".terraform.d" / "plugins"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    folder = home / ".terraform.d/plugins/registry.terraform.io/connectly/connectly"
    exe = folder / VERSION / f"{GOOS}_{GOARCH}" / NAMES.executable
    assert str(exe.parent) in out and os.access(exe, os.X_OK)
    tf = Terraform(
        tmp_path / "work",
        {},
        {"HOME": str(home), "TF_VAR_api_key": emulator.api_key, "TF_VAR_base_url": emulator.url},
    )
    tf.write(smoke.CONFIG.replace("SOURCE", "connectly/connectly").replace("VERSION", VERSION))
    init = tf.run("init", "-input=false", "-no-color")
    assert f"Installed connectly/connectly v{VERSION} (unauthenticated)" in init.stdout
    tf.apply()
    assert [r["topic"] for r in emulator.registrations("biz_smoke")] == ["messages"]
    tf.destroy()
