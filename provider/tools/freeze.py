"""Freezes the provider into one folder that runs without Python: PyInstaller, then, on Linux,
the host's C library taken out of the picture.

Why PyInstaller in one-folder mode: a one-file build unpacks itself at every start and
Terraform starts the provider 3 to 5 times per command; one folder starts straight from the
unpacked zip (figures: docs/releasing.md and ``make bench``).

On Linux a frozen program still needs the build machine's glibc and its loader at
``/lib64/ld-linux-x86-64.so.2``, which Alpine (musl) and an empty container do not have. So
the loader, the C library and every shared library the program needs are copied into the
folder, every ELF file there gets an ``$ORIGIN``-relative RPATH (patchelf; DT_RPATH, searched
before any LD_LIBRARY_PATH, and applying to libraries loaded with ``dlopen``), and the
top-level executable is a small static launcher (packaging/launcher.c) that runs the bundled
loader on the frozen program. Nothing is a colon-separated list of paths, since the folder
Terraform unpacks into may hold ``localhost:8443``.

The layout, the same on every OS: ``terraform-provider-connectly_vVERSION`` (``.exe`` on
Windows) and beside it the folder ``terraform-provider-connectly_vVERSION_runtime``. Terraform
takes the first *file* named ``terraform-provider-connectly[_.]*`` as the provider, so the
folder's name never competes.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "terraform_provider_connectly"
DIST_NAME = "terraform-provider-connectly"
# What serving never imports; left out of the frozen program.
LEFT_OUT = ("tools", "emulator")
# The frozen program inside the runtime folder on Linux (must not look like ``ld-*.so.N``:
# PyInstaller's bootloader takes a program of that name for the loader).
PROGRAM = "provider"


class FreezeError(Exception):
    """A build step failed; the message says which and why."""


@dataclass(frozen=True)
class Names:
    """The file names inside the zip for one version and OS."""

    version: str
    goos: str

    @property
    def executable(self) -> str:
        suffix = ".exe" if self.goos == "windows" else ""
        return f"{DIST_NAME}_v{self.version}{suffix}"

    @property
    def runtime(self) -> str:
        return f"{DIST_NAME}_v{self.version}_runtime"


def stage_sources(root: Path, stage: Path, version: str) -> Path:
    """Copies the package (without what serving never imports), the entry script and a
    minimal metadata folder (``version()`` reads it) into ``stage``: PyInstaller then sees
    paths relative to the stage only, and nothing of the clone or the venv."""
    if stage.exists():
        shutil.rmtree(stage)
    src = root / "provider"
    dest = stage / PACKAGE
    shutil.copytree(
        src,
        dest,
        ignore=lambda folder, names: [
            n for n in names if n in ("__pycache__",) or (Path(folder) == src and n in LEFT_OUT)
        ],
    )
    shutil.copy2(root / "packaging" / "entry.py", stage / "entry.py")
    info = stage / "metadata" / f"{PACKAGE}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {DIST_NAME}\nVersion: {version}\n"
    )
    return stage


def run_pyinstaller(root: Path, stage: Path, work: Path, names: Names, log: Path) -> Path:
    """Runs PyInstaller on packaging/pyinstaller.spec; returns the one-folder bundle."""
    out = work / "dist"
    linux = names.goos == "linux"
    args = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level=WARN",
        "--distpath",
        str(out),
        "--workpath",
        str(work / "pyinstaller"),
        str(root / "packaging" / "pyinstaller.spec"),
        "--",
        "--src",
        str(stage),
        "--name",
        PROGRAM if linux else names.executable.removesuffix(".exe"),
        "--contents",
        "." if linux else names.runtime,
    ]
    if names.goos != "windows":
        args.append("--strip")
    with log.open("w") as stream:
        proc = subprocess.run(args, cwd=work, stdout=stream, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise FreezeError(f"PyInstaller failed (exit {proc.returncode}); its log: {log}")
    return out / "bundle"


# ---- Linux: bring the C library and the loader along -------------------------------------

_LDD_LINE = re.compile(r"^\s*(\S+)\s+=>\s+(/\S+)\s+\(0x[0-9a-f]+\)\s*$")
_LDD_LOADER = re.compile(r"^\s*(/\S*ld-linux\S*)\s+\(0x[0-9a-f]+\)\s*$")


def is_elf(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as f:
        return f.read(4) == b"\x7fELF"


def _needed(path: Path) -> tuple[dict[str, Path], Path | None]:
    """The shared libraries ``path`` needs, as the host's loader resolves them (``ldd``), and
    the loader itself."""
    proc = subprocess.run(["ldd", str(path)], capture_output=True, text=True)
    libs: dict[str, Path] = {}
    loader: Path | None = None
    for line in proc.stdout.splitlines():
        if m := _LDD_LINE.match(line):
            libs[m.group(1)] = Path(m.group(2))
        elif m := _LDD_LOADER.match(line):
            loader = Path(m.group(1))
    if "not found" in proc.stdout:
        missing = [ln.split()[0] for ln in proc.stdout.splitlines() if "not found" in ln]
        raise FreezeError(f"{path.name} needs libraries this machine lacks: {missing}")
    return libs, loader


def bundle_system_libraries(runtime: Path) -> str:
    """Copies every library any ELF file in ``runtime`` needs from outside it (the C library
    too), and the loader; returns the loader's file name."""
    loader_name = ""
    # glibc loads libgcc_s itself (thread cancellation, unwinding); never in any DT_NEEDED.
    extra = {"libgcc_s.so.1"}
    seen: set[Path] = set()
    pending = [p for p in runtime.rglob("*") if is_elf(p)]
    while pending:
        elf = pending.pop()
        if elf in seen:
            continue
        seen.add(elf)
        libs, loader = _needed(elf)
        if loader is not None and not loader_name:
            loader_name = loader.name
            target = runtime / loader.name
            if not target.exists():
                shutil.copy2(loader.resolve(), target)
        for name, where in libs.items():
            target = runtime / name
            if name in extra:
                extra.discard(name)
            if target.exists() or where.resolve().is_relative_to(runtime.resolve()):
                continue
            shutil.copy2(where.resolve(), target)
            pending.append(target)
    for name in extra:
        target = runtime / name
        if not target.exists():
            found = _find_host_library(name)
            shutil.copy2(found, target)
            pending.append(target)
    if not loader_name:
        raise FreezeError("could not tell which dynamic loader the frozen program uses")
    return loader_name


def _find_host_library(name: str) -> Path:
    proc = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        parts = line.strip().split(" => ")
        if len(parts) == 2 and parts[0].split()[0] == name and "x86-64" in parts[0]:
            return Path(parts[1]).resolve()
        if len(parts) == 2 and parts[0].split()[0] == name and "AArch64" in parts[0]:
            return Path(parts[1]).resolve()
    raise FreezeError(f"{name} not found on this machine")


def set_relative_rpaths(runtime: Path, loader_name: str) -> int:
    """Gives every ELF file in ``runtime`` (the loader aside) a DT_RPATH of ``$ORIGIN`` up to
    the runtime folder, where the libraries are; returns how many files were changed."""
    count = 0
    for path in sorted(runtime.rglob("*")):
        if not is_elf(path) or path.name == loader_name:
            continue
        up = len(path.relative_to(runtime).parts) - 1
        rpath = "$ORIGIN" + "/.." * up
        mode = path.stat().st_mode
        path.chmod(mode | stat.S_IWUSR)
        proc = subprocess.run(
            ["patchelf", "--force-rpath", "--set-rpath", rpath, str(path)],
            capture_output=True,
            text=True,
        )
        path.chmod(mode)
        if proc.returncode != 0:
            raise FreezeError(f"patchelf on {path.name}: {proc.stderr.strip()}")
        count += 1
    return count


URANDOM_FALLBACK = "liburandom_fallback.so"


def link_urandom_fallback(root: Path, runtime: Path) -> None:
    """Builds packaging/urandom_fallback.c into the runtime folder and makes it the frozen
    program's first needed library, so that its ``open`` comes before the C library's: the
    provider then starts in a root that has no ``/dev`` (grpcio, once in the release, aborted
    without ``/dev/urandom``; the stand-in stays for any library that opens it)."""
    out = runtime / URANDOM_FALLBACK
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise FreezeError("a C compiler (cc) is needed for a Linux release")
    source = root / "packaging" / "urandom_fallback.c"
    args = [cc, "-shared", "-fPIC", "-O2", "-s", "-Wall", "-Werror", "-o", str(out), str(source)]
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise FreezeError(f"could not build {URANDOM_FALLBACK}: {proc.stderr.strip()}")
    program = runtime / PROGRAM
    # The RPATH now too (set_relative_rpaths sets it again): ldd must find the library. Two
    # calls: patchelf 0.14 given both options at once writes the library's name as the RPATH.
    for change in (["--add-needed", URANDOM_FALLBACK], ["--force-rpath", "--set-rpath", "$ORIGIN"]):
        proc = subprocess.run(["patchelf", *change, str(program)], capture_output=True, text=True)
        if proc.returncode != 0:
            raise FreezeError(f"patchelf {change[0]} on {program.name}: {proc.stderr.strip()}")
    first = needed_libraries(program)[:1]
    if first != [URANDOM_FALLBACK]:
        raise FreezeError(f"{URANDOM_FALLBACK} is not the first needed library: {first}")


def needed_libraries(path: Path) -> list[str]:
    """The DT_NEEDED entries of ``path``, in the order the loader searches them."""
    proc = subprocess.run(["readelf", "-dW", str(path)], capture_output=True, text=True)
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", proc.stdout)


def compile_launcher(root: Path, out: Path, names: Names, loader_name: str) -> str:
    """Compiles packaging/launcher.c into a static executable; returns the compiler used."""
    source = root / "packaging" / "launcher.c"
    defines = [
        f'-DRUNTIME="{names.runtime}"',
        f'-DPROGRAM="{PROGRAM}"',
        f'-DLOADER="{loader_name}"',
    ]
    for compiler in ("musl-gcc", "cc"):
        if shutil.which(compiler) is None:
            continue
        proc = subprocess.run(
            [
                compiler,
                "-static",
                "-Os",
                "-s",
                "-Wall",
                "-Werror",
                *defines,
                "-o",
                str(out),
                str(source),
            ],
            capture_output=True,
            text=True,
        )
        if proc.returncode == 0:
            out.chmod(0o755)
            return compiler
        last = proc.stderr.strip()
    else:
        last = "no C compiler (musl-gcc or cc) found"
    raise FreezeError(f"could not build the static launcher: {last}")


def check_static(path: Path) -> None:
    """The launcher must need nothing from the host: no program interpreter (PT_INTERP)."""
    proc = subprocess.run(["readelf", "-l", str(path)], capture_output=True, text=True)
    if proc.returncode != 0 or "INTERP" in proc.stdout:
        raise FreezeError(f"{path.name} is not a static executable")


def freeze(root: Path, work: Path, names: Names) -> Path:
    """Builds the folder whose contents go into the zip; returns it."""
    work.mkdir(parents=True, exist_ok=True)
    stage = stage_sources(root, work / "src", names.version)
    bundle = run_pyinstaller(root, stage, work, names, work / "pyinstaller.log")
    tree = work / "tree"
    if tree.exists():
        shutil.rmtree(tree)
    tree.mkdir()
    if names.goos == "linux":
        for tool in ("patchelf", "ldd", "readelf"):
            if shutil.which(tool) is None:
                raise FreezeError(f"{tool} is needed for a Linux release (apt-get install it)")
        runtime = tree / names.runtime
        shutil.move(str(bundle), runtime)
        link_urandom_fallback(root, runtime)
        loader = bundle_system_libraries(runtime)
        set_relative_rpaths(runtime, loader)
        launcher = tree / names.executable
        compile_launcher(root, launcher, names, loader)
        check_static(launcher)
    else:
        for entry in bundle.iterdir():
            shutil.move(str(entry), tree / entry.name)

    os.utime(tree)
    return tree
