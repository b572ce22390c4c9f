"""The plugin's gRPC server (plugin/rpc.py) spoken to by grpcio's client, an independent
implementation of the same protocol: answers, statuses, flow control, streaming, concurrency,
cancellation, stopping, and mutual TLS on its secure port."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import ConnectionTerminated, ResponseReceived, StreamEnded

from terraform_provider_connectly.plugin import certificate, mtls, platform_paths, rpc
from terraform_provider_connectly.plugin.wire import tfplugin6_pb2 as pb

Value = pb.DynamicValue
MAX = 8 * 1024 * 1024


def echo(request: Any, context: rpc.CallContext) -> Any:
    return Value(msgpack=request.msgpack, json=threading.current_thread().name.encode())


def fail(request: Any, context: rpc.CallContext) -> Any:
    context.abort(rpc.StatusCode.INVALID_ARGUMENT, request.msgpack.decode())


def crash(request: Any, context: rpc.CallContext) -> Any:
    raise ValueError("boom")


def count(request: Any, context: rpc.CallContext) -> Iterator[Any]:
    for i in range(int(request.msgpack)):
        yield Value(msgpack=b"%d" % i)


@contextmanager
def serving(tmp: Path, methods: dict[str, rpc.Method]) -> Iterator[tuple[rpc.Server, Any]]:
    server = rpc.Server(MAX, max_workers=32)
    server.add_methods(methods)
    path = str(tmp / "rpc.sock")
    server.add_insecure_port("unix:" + path)
    server.start()
    channel = grpc.insecure_channel(
        "unix:" + path,
        options=[("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)],
    )
    try:
        yield server, channel
    finally:
        channel.close()
        server.stop(grace=0.5).wait(2)


def unary(channel: Any, path: str) -> Any:
    return channel.unary_unary(
        path, request_serializer=Value.SerializeToString, response_deserializer=Value.FromString
    )


def streaming(channel: Any, path: str) -> Any:
    return channel.unary_stream(
        path, request_serializer=Value.SerializeToString, response_deserializer=Value.FromString
    )


def call(channel: Any, path: str, data: bytes, timeout: float = 10) -> Any:
    return unary(channel, path)(Value(msgpack=data), timeout=timeout)


def test_inline_calls_answer_on_the_connection_thread_and_others_on_workers(
    tmp_path: Path,
) -> None:
    methods = {
        "/t.T/Inline": rpc.Method(Value, echo, inline=True),
        "/t.T/Pooled": rpc.Method(Value, echo),
    }
    with serving(tmp_path, methods) as (_, channel):
        inline = call(channel, "/t.T/Inline", b"one")
        pooled = call(channel, "/t.T/Pooled", b"two")
    assert inline.msgpack == b"one" and inline.json == b"rpc-conn"
    assert pooled.msgpack == b"two" and pooled.json.startswith(b"rpc_")


def test_statuses_reach_the_client_with_their_details(tmp_path: Path) -> None:
    methods = {
        "/t.T/Fail": rpc.Method(Value, fail, inline=True),
        "/t.T/FailPooled": rpc.Method(Value, fail),
        "/t.T/Crash": rpc.Method(Value, crash),
        "/t.T/Echo": rpc.Method(Value, echo, inline=True),
    }
    detail = "bad 100% — naïve\nsecond line"
    with serving(tmp_path, methods) as (_, channel):
        for path in ("/t.T/Fail", "/t.T/FailPooled"):
            with pytest.raises(grpc.RpcError) as failed:
                call(channel, path, detail.encode())
            assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert failed.value.details() == detail
        with pytest.raises(grpc.RpcError) as crashed:
            call(channel, "/t.T/Crash", b"")
        assert crashed.value.code() == grpc.StatusCode.UNKNOWN
        assert "ValueError: boom" in crashed.value.details()
        with pytest.raises(grpc.RpcError) as unknown:
            call(channel, "/t.T/Nope", b"")
        assert unknown.value.code() == grpc.StatusCode.UNIMPLEMENTED
        # The connection survives all of that.
        assert call(channel, "/t.T/Echo", b"still here").msgpack == b"still here"


def test_messages_larger_than_frames_and_windows_both_ways(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # HTTP/2's smallest windows, so that both directions wait for window updates.
    monkeypatch.setattr(rpc, "WINDOW", 65535)
    monkeypatch.setattr(rpc, "CONNECTION_WINDOW", 0)
    methods = {
        "/t.T/Inline": rpc.Method(Value, echo, inline=True),
        "/t.T/Pooled": rpc.Method(Value, echo),
    }
    big = bytes(range(256)) * (5 * 4096)  # 5 MiB: many frames, past every initial window
    with serving(tmp_path, methods) as (_, channel):
        for path in ("/t.T/Inline", "/t.T/Pooled"):
            assert call(channel, path, big, timeout=30).msgpack == big
        with pytest.raises(grpc.RpcError) as refused:
            call(channel, "/t.T/Inline", b"x" * (MAX + 1), timeout=30)
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert call(channel, "/t.T/Inline", b"after").msgpack == b"after"


def test_server_streaming_sends_each_answer_then_the_status(tmp_path: Path) -> None:
    methods = {"/t.T/Count": rpc.Method(Value, count, streaming=True)}
    with serving(tmp_path, methods) as (_, channel):
        stream = streaming(channel, "/t.T/Count")
        assert [v.msgpack for v in stream(Value(msgpack=b"5"), timeout=10)] == [
            b"0",
            b"1",
            b"2",
            b"3",
            b"4",
        ]
        assert list(stream(Value(msgpack=b"0"), timeout=10)) == []


def test_pooled_calls_run_together_while_inline_ones_still_answer(tmp_path: Path) -> None:
    arrived = threading.Barrier(8, timeout=10)

    def meet(request: Any, context: rpc.CallContext) -> Any:
        arrived.wait()  # passes only when all eight calls run at the same time
        return Value(msgpack=request.msgpack)

    methods = {
        "/t.T/Meet": rpc.Method(Value, meet),
        "/t.T/Inline": rpc.Method(Value, echo, inline=True),
    }
    with serving(tmp_path, methods) as (_, channel):
        meet_call = unary(channel, "/t.T/Meet")
        futures = [meet_call.future(Value(msgpack=b"%d" % i), timeout=20) for i in range(7)]
        time.sleep(0.2)
        assert call(channel, "/t.T/Inline", b"meanwhile").msgpack == b"meanwhile"
        last = meet_call.future(Value(msgpack=b"7"), timeout=20)
        got = sorted(f.result().msgpack for f in [*futures, last])
    assert got == [b"%d" % i for i in range(8)]


def test_a_cancelled_call_ends_its_context(tmp_path: Path) -> None:
    ended = threading.Event()
    started = threading.Event()

    def hold(request: Any, context: rpc.CallContext) -> Iterator[Any]:
        assert context.add_callback(ended.set)
        started.set()
        ended.wait(10)
        yield from ()

    methods = {"/t.T/Hold": rpc.Method(Value, hold, streaming=True)}
    with serving(tmp_path, methods) as (_, channel):
        stream = streaming(channel, "/t.T/Hold")(Value(), timeout=20)
        assert started.wait(10)
        assert not ended.is_set()
        stream.cancel()
        assert ended.wait(5)


def test_stop_lets_the_call_in_flight_answer_then_closes(tmp_path: Path) -> None:
    release = threading.Event()

    def slow(request: Any, context: rpc.CallContext) -> Any:
        release.wait(5)
        return Value(msgpack=b"done")

    server = rpc.Server(MAX)
    server.add_methods({"/t.T/Slow": rpc.Method(Value, slow)})
    path = str(tmp_path / "rpc.sock")
    server.add_insecure_port("unix:" + path)
    server.start()
    with grpc.insecure_channel("unix:" + path) as channel:
        pending = unary(channel, "/t.T/Slow").future(Value(), timeout=10)
        time.sleep(0.2)
        threading.Timer(0.2, release.set).start()
        gone = server.stop(grace=3)
        assert pending.result().msgpack == b"done"
        assert gone.wait(5)
        assert not server.forced  # closed by GOAWAY once answered, not cut at the grace
    with grpc.insecure_channel("unix:" + path) as channel, pytest.raises(grpc.RpcError):
        call(channel, "/t.T/Slow", b"", timeout=2)


def test_an_address_in_use_is_a_runtime_error(tmp_path: Path) -> None:
    first = rpc.Server(MAX)
    port = first.add_insecure_port("127.0.0.1:0")
    assert port > 0
    try:
        with pytest.raises(RuntimeError):
            rpc.Server(MAX).add_insecure_port(f"127.0.0.1:{port}")
    finally:
        first.stop(grace=None)


def test_secure_port_serves_only_the_client_holding_its_identity(tmp_path: Path) -> None:
    inner = certificate.make_identity()
    stranger = certificate.make_identity()
    context, _front_side = mtls.inner_credentials(inner, platform_paths.key_way())
    server = rpc.Server(MAX)
    server.add_methods({"/t.T/Inline": rpc.Method(Value, echo, inline=True)})
    port = server.add_secure_port("127.0.0.1:0", context)
    server.start()
    options = [("grpc.ssl_target_name_override", "localhost")]

    def channel_as(who: certificate.Identity) -> Any:
        creds = grpc.ssl_channel_credentials(
            root_certificates=inner.cert_pem,
            private_key=who.key_pem,
            certificate_chain=who.cert_pem,
        )
        return grpc.secure_channel(f"127.0.0.1:{port}", creds, options=options)

    try:
        with channel_as(inner) as ok:
            assert call(ok, "/t.T/Inline", b"hi").msgpack == b"hi"
        with channel_as(stranger) as refused, pytest.raises(grpc.RpcError) as failed:
            call(refused, "/t.T/Inline", b"hi", timeout=5)
        assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop(grace=None)


class RawClient:
    """An HTTP/2 client that sends exactly what a test says, as a buggy or hurried peer may."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.sock.settimeout(5)
        self.h2 = H2Connection(H2Configuration(client_side=True, header_encoding=None))
        self.h2.initiate_connection()
        self.events: list[Any] = []

    def request(self, stream_id: int, path: bytes, body: bytes | None, end: bool = True) -> None:
        headers = [(b":method", b"POST"), (b":scheme", b"http"), (b":path", path)]
        headers += [(b":authority", b"x"), (b"content-type", b"application/grpc")]
        self.h2.send_headers(stream_id, headers, end_stream=body is None and end)
        if body is not None:
            self.h2.send_data(stream_id, body, end_stream=end)

    def send(self) -> None:
        self.sock.sendall(self.h2.data_to_send())

    def until(self, done: Callable[[list[Any]], bool]) -> list[Any]:
        while not done(self.events):
            data = self.sock.recv(65536)
            assert data, f"connection closed; events: {self.events}"
            self.events += self.h2.receive_data(data)
            with contextlib.suppress(OSError):  # the server may have closed its side by now
                self.send()
        return self.events


def ended(stream_id: int) -> Callable[[list[Any]], bool]:
    return lambda events: any(type(e) is StreamEnded and e.stream_id == stream_id for e in events)


def test_a_call_cancelled_in_the_read_that_brought_it_never_runs(tmp_path: Path) -> None:
    ran: list[bytes] = []

    def record(request: Any, context: rpc.CallContext) -> Any:
        ran.append(request.msgpack)
        return Value(msgpack=request.msgpack)

    methods = {"/t.T/Inline": rpc.Method(Value, record, inline=True)}
    with serving(tmp_path, methods) as _:
        client = RawClient(str(tmp_path / "rpc.sock"))
        message = rpc._frame(Value(msgpack=b"first").SerializeToString())
        client.request(1, b"/t.T/Inline", message)
        client.h2.reset_stream(1)  # in the same write as the request
        client.request(3, b"/t.T/Inline", rpc._frame(Value(msgpack=b"then").SerializeToString()))
        client.send()
        client.until(ended(3))  # the connection lives on and answers the next call
    assert ran == [b"then"]


def test_an_unknown_stream_left_open_is_refused_at_once_and_does_not_hold_a_stop(
    tmp_path: Path,
) -> None:
    methods = {"/t.T/Inline": rpc.Method(Value, echo, inline=True)}
    with serving(tmp_path, methods) as (server, _):
        client = RawClient(str(tmp_path / "rpc.sock"))
        # As go-plugin opens its broker: a two-way stream it never half-closes.
        client.request(1, b"/plugin.GRPCBroker/StartStream", None, end=False)
        client.send()
        events = client.until(ended(1))
        (answer,) = [e for e in events if type(e) is ResponseReceived]
        assert (b"grpc-status", b"12") in answer.headers
        gone = server.stop(grace=3)
        client.until(lambda events: any(type(e) is ConnectionTerminated for e in events))
        assert gone.wait(5)
        assert not server.forced
