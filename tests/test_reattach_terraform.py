"""``serve --debug``: one provider process that Terraform reattaches to for every command.

No provider executable is anywhere Terraform looks (an empty HOME, no dev_overrides, no
network): every command can only have been served by the debug process, which must still be
running after all of them and stop cleanly on Ctrl-C.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from terraform_provider_connectly.plugin import debug
from terraform_provider_connectly.plugin.server import hold_stream

from pluginproc import read_reattach
from tfharness import Terraform, connectly_config


@dataclass
class DebugServer:
    proc: subprocess.Popen[str]
    reattach: str  # the value to export
    banner: str


def _start(*args: str, env: dict[str, str] | None = None) -> DebugServer:
    proc = subprocess.Popen(
        [sys.executable, "-m", "terraform_provider_connectly", "serve", "--debug", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    value, banner = read_reattach(proc.stdout)
    if value is None:
        proc.kill()
        raise AssertionError(f"no {debug.ENV_NAME} line; printed: {banner!r}")
    return DebugServer(proc, value, banner)


@pytest.fixture
def debug_server() -> Iterator[DebugServer]:
    server = _start()
    yield server
    if server.proc.poll() is None:
        server.proc.kill()
        server.proc.wait()


def test_terraform_reattaches_to_one_process_for_every_command(
    debug_server: DebugServer, strict_emulator, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    config = json.loads(debug_server.reattach)
    entry = config["registry.terraform.io/connectly/connectly"]
    assert entry["Pid"] == debug_server.proc.pid
    assert entry["Protocol"] == "grpc" and entry["ProtocolVersion"] == 6 and entry["Test"] is True
    socket_path = Path(entry["Addr"]["String"])
    assert entry["Addr"]["Network"] == "unix" and socket_path.exists()
    assert (socket_path.parent.stat().st_mode & 0o777) == 0o700  # plaintext: only we may dial

    home = tmp_path / "home"
    home.mkdir()
    tf = Terraform(
        tmp_path / "work",
        {},  # no dev_overrides; an empty HOME has no plugin mirror either
        {
            "HOME": str(home),
            debug.ENV_NAME: debug_server.reattach,
            "TF_VAR_api_key": strict_emulator.api_key,
            "TF_VAR_base_url": strict_emulator.url,
        },
    )
    tf.write(
        connectly_config("biz_debug")
        + """
resource "connectly_webhook" "hook" {
  topic   = "messages"
  address = "https://example.com/hooks/debug"
}
"""
    )
    tf.run("init", "-input=false", "-no-color")
    assert not (tf.workdir / ".terraform" / "providers").exists()  # nothing was installed
    tf.apply()
    assert [r["topic"] for r in strict_emulator.registrations("biz_debug")] == ["messages"]
    assert tf.plan_code().code == 0
    tf.destroy()
    assert strict_emulator.registrations("biz_debug") == []
    assert debug_server.proc.poll() is None  # Terraform neither stopped nor killed it

    debug_server.proc.send_signal(signal.SIGINT)
    out, _ = debug_server.proc.communicate(timeout=10)
    assert debug_server.proc.returncode == 0
    assert "Debug server stopped." in out
    assert not socket_path.parent.exists()


def test_the_address_can_name_another_source(strict_emulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = _start("--address", "localhost:8443/connectly/connectly")
    try:
        assert list(json.loads(server.reattach)) == ["localhost:8443/connectly/connectly"]
    finally:
        server.proc.send_signal(signal.SIGTERM)
        server.proc.communicate(timeout=10)
    assert server.proc.returncode == 0


@pytest.mark.parametrize(
    "args", [[], ["--debug", "--address"], ["--debug", "--address", "connectly"], ["--debug", "-x"]]
)
def test_serve_refuses_what_it_cannot_do(args: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "terraform_provider_connectly", "serve", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={k: v for k, v in os.environ.items() if not k.startswith("TF_")},
    )
    assert proc.returncode == 2
    assert "serve" in proc.stderr and "Traceback" not in proc.stderr


class _Context:
    """What ``hold_stream`` uses of a grpc ServicerContext: callbacks run when the call ends."""

    def __init__(self, active: bool = True) -> None:
        self.active = active
        self.callbacks: list[Callable[[], None]] = []

    def add_callback(self, callback: Callable[[], None]) -> bool:
        if not self.active:
            return False
        self.callbacks.append(callback)
        return True

    def end(self) -> None:
        self.active = False
        for callback in self.callbacks:
            callback()


def _holding(context: _Context, stopped: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=hold_stream, args=(context, stopped), daemon=True)
    thread.start()
    return thread


def test_a_stdio_stream_lets_its_thread_go_when_the_client_leaves() -> None:
    stopped = threading.Event()
    context = _Context()
    thread = _holding(context, stopped)
    thread.join(0.2)
    assert thread.is_alive()  # open while the client is there
    context.end()
    thread.join(5)
    assert not thread.is_alive()  # its command ended: the thread is free again
    assert not stopped.is_set()


def test_a_stdio_stream_ends_when_the_provider_stops_or_its_call_is_over() -> None:
    stopped = threading.Event()
    thread = _holding(_Context(), stopped)
    stopped.set()
    thread.join(5)
    assert not thread.is_alive()
    already_over = _holding(_Context(active=False), threading.Event())
    already_over.join(5)
    assert not already_over.is_alive()
