"""The private folder that holds the provider's sockets, made without ``tempfile``."""

from __future__ import annotations

import os
import socket
import stat
import tempfile
from pathlib import Path

import pytest

from terraform_provider_connectly.plugin.server import private_folder, remove_folder


def _mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_folder_terraform_names_is_used(tmp_path: Path) -> None:
    folder = private_folder({"PLUGIN_UNIX_SOCKET_DIR": str(tmp_path), "TMPDIR": "/nowhere"})
    assert Path(folder).parent == tmp_path
    assert Path(folder).name.startswith("tfplugin-")
    assert _mode(folder) == 0o700


def test_otherwise_tmpdir_then_temp_then_tmp(tmp_path: Path) -> None:
    for name in ("TMPDIR", "TEMP", "TMP"):
        base = tmp_path / name
        base.mkdir()
        env = {"TMPDIR": "", "TEMP": "", "TMP": "", name: str(base)}
        assert Path(private_folder(env)).parent == base


def test_a_relative_tmpdir_gives_an_absolute_socket_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rel").mkdir()
    folder = private_folder({"TMPDIR": "rel"})
    assert os.path.isabs(folder) and Path(folder).parent == tmp_path / "rel"


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_only_this_user_may_enter_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        folder = private_folder({"PLUGIN_UNIX_SOCKET_DIR": str(tmp_path)})
    finally:
        os.umask(old)
    assert _mode(folder) == 0o700


def test_each_start_gets_a_folder_of_its_own(tmp_path: Path) -> None:
    env = {"PLUGIN_UNIX_SOCKET_DIR": str(tmp_path)}
    folders = {private_folder(env) for _ in range(50)}
    assert len(folders) == 50


def test_an_unusable_default_is_left_to_tempfile(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    folder = private_folder({"TMPDIR": str(missing)})
    try:
        assert not missing.exists()
        assert Path(folder).parent == Path(tempfile.gettempdir())
        assert _mode(folder) == 0o700
    finally:
        os.rmdir(folder)


def test_a_named_folder_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        private_folder({"PLUGIN_UNIX_SOCKET_DIR": str(tmp_path / "missing")})


def test_removal_takes_the_sockets_and_the_folder(tmp_path: Path) -> None:
    folder = private_folder({"PLUGIN_UNIX_SOCKET_DIR": str(tmp_path)})
    listeners = []
    for name in ("plugin.sock", "grpc.sock"):
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(os.path.join(folder, name))
        listeners.append(sock)
    remove_folder(folder)
    for sock in listeners:
        sock.close()
    assert not os.path.exists(folder)
    remove_folder(folder)  # gone already: nothing to say, nothing raised


# What a start must not load before its handshake line: every provider process Terraform starts
# pays for each module it loads, and these are needed later or never (the URL check's parsers
# at the first validation, the API client's at ConfigureProvider, TLS in the front's child).
NOT_AT_START = (
    "tempfile",
    "shutil",
    "random",
    "urllib.parse",
    "ipaddress",
    "asyncio",
    "ssl",
    "cryptography",
    "httpx",
    "http.client",
)

START = """
import sys, threading
from terraform_provider_connectly import cli
from terraform_provider_connectly.plugin import server
server._grpc_server(cli._servicer(), server.ServeOptions(name="x"), threading.Event())
print(" ".join(sorted(sys.modules)))
"""


def test_a_start_loads_nothing_it_does_not_need_yet(tmp_path: Path) -> None:
    import subprocess
    import sys

    import google.protobuf
    import hpack
    import msgpack

    import terraform_provider_connectly

    # -S: no site, as in the release build (site and the editable install's finder load
    # urllib.parse themselves); the package and its dependencies by path instead.
    (tmp_path / "terraform_provider_connectly").symlink_to(
        Path(terraform_provider_connectly.__file__).parent
    )
    paths = {str(tmp_path)} | {
        str(Path(m.__file__ or "").parents[depth])
        for m, depth in ((google.protobuf, 2), (hpack, 1), (msgpack, 1))
    }
    code = f"import sys; sys.path[:0] = {sorted(paths)!r}\n" + START
    out = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    assert "terraform_provider_connectly.resources.provider" in out  # the start did happen
    assert [m for m in NOT_AT_START if m in out] == []
