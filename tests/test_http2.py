"""plugin/http2.py against an independent HTTP/2 client (the h2 library), in memory."""

from __future__ import annotations

from typing import Any

import h2.events as ev
import pytest
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.settings import SettingCodes

from terraform_provider_connectly.plugin import http2
from terraform_provider_connectly.plugin.http2 import (
    DataReceived,
    ProtocolError,
    RequestReceived,
    ServerConnection,
    StreamClosedError,
    StreamEnded,
    StreamReset,
    WindowUpdated,
)

OK = [(b":status", b"200"), (b"content-type", b"application/grpc")]


def request_headers(method: str = "GetMetadata", **extra: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b":method", b"POST"),
        (b":scheme", b"http"),
        (b":path", f"/tfplugin6.Provider/{method}".encode()),
        (b":authority", b"localhost"),
        (b"content-type", b"application/grpc"),
        (b"te", b"trailers"),
        *[(k.encode(), v) for k, v in extra.items()],
    ]


class Pair:
    """Our server and an h2 client, wired back to back."""

    def __init__(self, settings: dict[int, int] | None = None, connection_window: int = 0):
        self.server = ServerConnection()
        self.server.start(
            settings or {http2.INITIAL_WINDOW_SIZE: 2**24, http2.MAX_CONCURRENT_STREAMS: 100},
            connection_window,
        )
        self.client = H2Connection(H2Configuration(client_side=True, header_encoding=None))
        self.client.initiate_connection()
        self.server_events: list[Any] = []
        self.client_events: list[Any] = []
        self.pump()

    def pump(self) -> None:
        for _ in range(10):
            to_server = self.client.data_to_send()
            if to_server:
                self.server_events += self.server.receive_data(to_server)
            to_client = self.server.data_to_send()
            if to_client:
                self.client_events += self.client.receive_data(to_client)
            if not to_server and not to_client:
                return

    def call(self, body: bytes, method: str = "GetMetadata", **extra: bytes) -> int:
        stream_id = self.client.get_next_available_stream_id()
        self.client.send_headers(stream_id, request_headers(method, **extra))
        self.client.send_data(stream_id, body, end_stream=True)
        self.pump()
        return stream_id

    def answer(self, stream_id: int, body: bytes, trailers: list | None = None) -> None:
        self.server.send_headers(stream_id, OK)
        self.server.send_data(stream_id, body)
        self.server.send_headers(stream_id, trailers or [(b"grpc-status", b"0")], end_stream=True)
        self.pump()

    def of(self, kind: Any, stream_id: int | None = None) -> list[Any]:
        events: list[Any]
        events = self.server_events if kind.__module__.endswith("http2") else self.client_events
        return [e for e in events if type(e) is kind and stream_id in (None, e.stream_id)]


def test_a_unary_call_round_trip() -> None:
    pair = Pair()
    sid = pair.call(b"\0\0\0\0\x03abc")
    [req] = pair.of(RequestReceived, sid)
    assert dict(req.headers)[b":path"] == b"/tfplugin6.Provider/GetMetadata"
    assert b"".join(e.data for e in pair.of(DataReceived, sid)) == b"\0\0\0\0\x03abc"
    assert pair.of(StreamEnded, sid)
    pair.answer(sid, b"\0\0\0\0\x02ok", [(b"grpc-status", b"0"), (b"grpc-message", b"fine")])
    [resp] = pair.of(ev.ResponseReceived, sid)
    assert resp.headers == OK
    assert b"".join(e.data for e in pair.of(ev.DataReceived, sid)) == b"\0\0\0\0\x02ok"
    [trailers] = pair.of(ev.TrailersReceived, sid)
    assert trailers.headers == [(b"grpc-status", b"0"), (b"grpc-message", b"fine")]
    assert sid not in pair.server._streams  # closed both ways: forgotten


def test_many_calls_keep_both_header_tables_in_step() -> None:
    # The client indexes its headers (its encoder's dynamic table fills and evicts); ours
    # are literals. 300 calls over three methods and changing values stay decodable.
    pair = Pair()
    for n in range(300):
        method = ("ReadResource", "PlanResourceChange", "ApplyResourceChange")[n % 3]
        sid = pair.call(b"\0\0\0\0\0", method, **{"x-n": str(n).encode() * 40})
        [req] = pair.of(RequestReceived, sid)
        assert dict(req.headers)[b":path"].endswith(method.encode())
        assert dict(req.headers)[b"x-n"] == str(n).encode() * 40
        pair.answer(sid, b"\0\0\0\0\0")
        assert pair.of(ev.TrailersReceived, sid)
    assert not pair.server._streams


def test_a_large_answer_waits_for_the_clients_window_and_keeps_to_its_frame_size() -> None:
    pair = Pair()
    sid = pair.call(b"\0\0\0\0\0")
    body = bytes(range(256)) * 1024  # 256 KiB; the client's windows are 64 KiB
    pair.server.send_headers(sid, OK)
    sent = 0
    for _ in range(1000):
        if sent == len(body):
            break
        room = min(pair.server.local_flow_control_window(sid), pair.server.max_outbound_frame_size)
        if room <= 0:
            # The client gives window back for what it has consumed.
            for event in pair.of(ev.DataReceived, sid)[-64:]:
                pair.client.acknowledge_received_data(event.flow_controlled_length, sid)
            pair.pump()
            continue
        pair.server.send_data(sid, body[sent : sent + room])
        sent += room
        pair.pump()
    pair.server.send_headers(sid, [(b"grpc-status", b"0")], end_stream=True)
    pair.pump()
    chunks = pair.of(ev.DataReceived, sid)
    assert b"".join(e.data for e in chunks) == body
    assert max(len(e.data) for e in chunks) <= 16384
    assert pair.of(ev.TrailersReceived, sid)


def test_sending_beyond_the_window_is_refused() -> None:
    pair = Pair()
    sid = pair.call(b"\0\0\0\0\0")
    pair.server.send_headers(sid, OK)
    with pytest.raises(http2.H2Error):
        pair.server.send_data(sid, b"x" * 16385)  # above the default frame size


def test_the_clients_initial_window_change_moves_open_streams_windows() -> None:
    pair = Pair()
    sid = pair.call(b"\0\0\0\0\0")
    assert pair.server.local_flow_control_window(sid) == 65535
    pair.client.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: 1000})
    pair.pump()
    assert pair.server.local_flow_control_window(sid) == 1000
    pair.client.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: 70000})
    pair.pump()
    assert pair.server.local_flow_control_window(sid) == 65535  # the connection's is smaller
    assert pair.of(WindowUpdated)


def test_a_header_block_split_into_continuations_is_decoded() -> None:
    pair = Pair()
    big = b"v" * 40000  # more than two frames' worth: HEADERS and CONTINUATIONs
    sid = pair.call(b"\0\0\0\0\0", "GetMetadata", **{"x-big": big})
    [req] = pair.of(RequestReceived, sid)
    assert dict(req.headers)[b"x-big"] == big


def test_our_header_block_larger_than_a_frame_goes_in_continuations() -> None:
    pair = Pair()
    sid = pair.call(b"\0\0\0\0\0")
    message = b"m" * 40000
    pair.server.send_headers(
        sid, [*OK, (b"grpc-status", b"13"), (b"grpc-message", message)], end_stream=True
    )
    pair.pump()
    [resp] = pair.of(ev.ResponseReceived, sid)
    assert dict(resp.headers)[b"grpc-message"] == message


def test_padded_frames_and_priorities_are_read_past() -> None:
    pair = Pair()
    sid = pair.client.get_next_available_stream_id()
    pair.client.send_headers(
        sid, request_headers(), priority_weight=200, priority_depends_on=0, priority_exclusive=False
    )
    pair.client.send_data(sid, b"\0\0\0\0\x01z", end_stream=True, pad_length=30)
    pair.pump()
    assert pair.of(RequestReceived, sid)
    [data] = pair.of(DataReceived, sid)
    assert data.data == b"\0\0\0\0\x01z" and data.flow_controlled_length == 6 + 31
    pair.client.prioritize(sid, weight=10)
    pair.pump()  # a PRIORITY frame alone: ignored


def test_a_ping_is_answered() -> None:
    pair = Pair()
    pair.client.ping(b"12345678")
    pair.pump()
    assert [e.ping_data for e in pair.client_events if type(e) is ev.PingAckReceived] == [
        b"12345678"
    ]


def test_a_reset_stream_ends_its_call_and_later_data_is_ignored() -> None:
    pair = Pair()
    sid = pair.client.get_next_available_stream_id()
    pair.client.send_headers(sid, request_headers())
    pair.client.send_data(sid, b"\0\0\0")
    pair.pump()
    pair.client.reset_stream(sid)
    pair.pump()
    assert pair.of(StreamReset, sid)
    with pytest.raises(StreamClosedError):
        pair.server.send_headers(sid, OK)


def test_an_early_answer_then_reset_tells_the_client_to_stop_sending() -> None:
    pair = Pair()
    sid = pair.client.get_next_available_stream_id()
    pair.client.send_headers(sid, request_headers())  # never half-closed, as go-plugin's broker
    pair.pump()
    pair.server.send_headers(sid, [*OK, (b"grpc-status", b"12")], end_stream=True)
    pair.server.reset_stream(sid, 0)
    pair.pump()
    assert pair.of(ev.ResponseReceived, sid)
    [reset] = pair.of(ev.StreamReset, sid)
    assert reset.error_code == 0
    assert sid not in pair.server._streams


def test_streams_beyond_the_limit_are_refused_and_the_next_still_decodes() -> None:
    pair = Pair({http2.INITIAL_WINDOW_SIZE: 65535, http2.MAX_CONCURRENT_STREAMS: 2})
    opened = [pair.client.get_next_available_stream_id()]
    pair.client.send_headers(opened[0], request_headers())
    opened.append(pair.client.get_next_available_stream_id())
    pair.client.send_headers(opened[1], request_headers())
    pair.pump()
    # A third stream, written by hand (h2 itself keeps to the limit) with the client's own
    # encoder: the server must refuse it, yet keep the header table its block changed.
    third = opened[1] + 2
    wanted = request_headers("ImportResourceState", **{"x-new": b"1"})
    block = pair.client.encoder.encode(wanted)
    assert not pair.server.receive_data(http2.frame(http2.HEADERS, 0x4 | 0x1, third, block))
    assert pair.server.data_to_send() == http2.frame(http2.RST_STREAM, 0, third, b"\0\0\0\7")
    pair.client.send_data(opened[0], b"\0\0\0\0\0", end_stream=True)
    pair.pump()
    pair.answer(opened[0], b"\0\0\0\0\0")
    fourth = third + 2  # the same headers again: now references into the dynamic table
    pair.client.send_headers(fourth, wanted, end_stream=True)
    pair.pump()
    [req] = pair.of(RequestReceived, fourth)
    assert req.headers == wanted


def test_our_window_updates_give_back_what_was_consumed() -> None:
    pair = Pair({http2.INITIAL_WINDOW_SIZE: 65535, http2.MAX_CONCURRENT_STREAMS: 10})
    sid = pair.client.get_next_available_stream_id()
    pair.client.send_headers(sid, request_headers())
    total = 0
    for _ in range(12):  # 12 x 16 KiB: three times both windows
        pair.client.send_data(sid, b"d" * 16384)
        pair.pump()
        for event in pair.of(DataReceived, sid)[-1:]:
            pair.server.acknowledge_received_data(event.flow_controlled_length, sid)
            total += len(event.data)
        pair.pump()
    assert total == 12 * 16384
    assert any(type(e) is ev.WindowUpdated for e in pair.client_events)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1),  # not HTTP/2
        (http2.PREFACE + http2.frame(http2.DATA, 0, 1, b"x"), 1),  # DATA on no stream
        (http2.PREFACE + http2.frame(http2.HEADERS, 4, 2, b"\x82"), 1),  # even stream id
        (http2.PREFACE + b"\x00\x40\x01\x00\x00\x00\x00\x00\x01" + b"\0" * 16385, 6),  # size
        (
            http2.PREFACE
            + http2.frame(http2.HEADERS, 0, 1, b"\x82")
            + http2.frame(6, 0, 0, b"0" * 8),
            1,
        ),
        (http2.PREFACE + http2.frame(http2.HEADERS, 4, 1, b"\xff\xff\xff\xff"), 9),  # bad HPACK
        (http2.PREFACE + http2.frame(http2.PUSH_PROMISE, 4, 1, b"\0\0\0\2"), 1),
        (
            http2.PREFACE
            + http2.frame(http2.HEADERS, 4, 1, b"\x82")
            + http2.frame(0, 8, 1, b"\x05ab"),
            1,
        ),
        (
            http2.PREFACE
            + http2.frame(http2.HEADERS, 0, 1, b"\x82")
            + b"".join(http2.frame(http2.CONTINUATION, 0, 1, b"\0" * 16384) for _ in range(6)),
            11,
        ),
    ],
    ids=[
        "not-http2",
        "data-idle",
        "even-stream",
        "frame-size",
        "interrupted",
        "hpack",
        "push",
        "padding",
        "endless-headers",
    ],
)
def test_protocol_errors_end_the_connection_with_a_goaway(raw: bytes, code: int) -> None:
    server = ServerConnection()
    server.start({})
    server.data_to_send()
    with pytest.raises(ProtocolError) as failure:
        server.receive_data(raw)
    assert failure.value.code == code
    client = H2Connection(H2Configuration(client_side=True))
    client.initiate_connection()
    events = client.receive_data(http2.frame(http2.SETTINGS, 0, 0) + server.data_to_send())
    [ended] = [e for e in events if type(e) is ev.ConnectionTerminated]
    assert ended.error_code == code


def test_bytes_split_anywhere_give_the_same_events() -> None:
    whole = Pair()
    sid = whole.call(b"\0\0\0\0\x05hello", "ReadResource")
    expected = [(type(e).__name__, getattr(e, "stream_id", 0)) for e in whole.server_events]
    client = H2Connection(H2Configuration(client_side=True, header_encoding=None))
    client.initiate_connection()
    client.send_headers(sid, request_headers("ReadResource"))
    client.send_data(sid, b"\0\0\0\0\x05hello", end_stream=True)
    raw = client.data_to_send()
    server = ServerConnection()
    server.start({http2.INITIAL_WINDOW_SIZE: 2**24, http2.MAX_CONCURRENT_STREAMS: 100})
    events = []
    for i in range(len(raw)):  # one byte at a time
        events += server.receive_data(raw[i : i + 1])
    assert [(type(e).__name__, getattr(e, "stream_id", 0)) for e in events] == expected


def test_a_stream_the_peer_breaks_is_reported_as_reset() -> None:
    pair = Pair()
    sid = pair.call(b"\0\0\0\0\0")  # ended by the client
    events = pair.server.receive_data(http2.frame(http2.DATA, 0, sid, b"late"))
    assert [(type(e), e.stream_id) for e in events] == [(StreamReset, sid)]
    with pytest.raises(StreamClosedError):
        pair.server.send_headers(sid, OK)


def test_after_our_goaway_newer_streams_are_refused() -> None:
    pair = Pair()
    taken = pair.call(b"\0\0\0\0\0")
    pair.server.close_connection()
    pair.pump()
    [goaway] = [e for e in pair.client_events if type(e) is ev.ConnectionTerminated]
    assert goaway.last_stream_id == taken
    block = pair.client.encoder.encode(request_headers())
    newer = taken + 2
    assert not pair.server.receive_data(http2.frame(http2.HEADERS, 0x5, newer, block))
    assert http2.frame(http2.RST_STREAM, 0, newer, b"\0\0\0\7") in pair.server.data_to_send()
    # The call taken before still answers (h2's client stops reading at a GOAWAY, so the
    # frames are checked on our side).
    pair.server.send_headers(taken, OK)
    pair.server.send_data(taken, b"\0\0\0\0\0")
    pair.server.send_headers(taken, [(b"grpc-status", b"0")], end_stream=True)
    assert pair.server.data_to_send().endswith(
        http2.frame(http2.HEADERS, 0x5, taken, b"\x00\x0bgrpc-status\x010")
    )
    assert taken not in pair.server._streams


def _raw_server() -> ServerConnection:
    server = ServerConnection()
    server.start({http2.MAX_CONCURRENT_STREAMS: 100})
    server.receive_data(http2.PREFACE + http2.frame(http2.SETTINGS, 0, 0))
    server.data_to_send()
    return server


def _headers_of(server: ServerConnection, stream_id: int, block: bytes) -> dict[bytes, bytes]:
    events = server.receive_data(http2.frame(http2.HEADERS, 0x5, stream_id, block))
    [request] = [e for e in events if type(e) is RequestReceived]
    return dict(request.headers)


def test_a_repeated_indexed_block_means_what_the_table_now_says() -> None:
    # Once "x-k: one" is in the client's table, a call's block is index bytes only. When
    # "x-k: two" is added, the same index bytes name it: the server must follow the table,
    # not what the same bytes meant before.
    from hpack import Encoder

    encoder = Encoder()
    server = _raw_server()
    first = request_headers("GetMetadata", **{"x-k": b"one"})
    assert _headers_of(server, 1, encoder.encode(first))[b"x-k"] == b"one"
    repeated = encoder.encode(first)
    assert http2._indexed_only(repeated)
    for stream_id in (3, 5):
        assert _headers_of(server, stream_id, repeated)[b"x-k"] == b"one"
    assert _headers_of(
        server, 7, encoder.encode(request_headers("GetMetadata", **{"x-k": b"two"}))
    )[b"x-k"] == (b"two")
    # The newest entry now sits where "x-k: one" was.
    assert _headers_of(server, 9, repeated)[b"x-k"] == b"two"


def test_repeated_indexed_blocks_are_decoded_once() -> None:
    from hpack import Encoder

    encoder = Encoder()
    server = _raw_server()
    decoded: list[bytes] = []
    real = server._decoder.decode

    def counting(block: bytes, raw: bool = False) -> Any:
        decoded.append(block)
        return real(block, raw=raw)

    server._decoder.decode = counting  # type: ignore[method-assign]
    headers = request_headers("ReadResource")
    _headers_of(server, 1, encoder.encode(headers))
    repeated = encoder.encode(headers)
    for stream_id in range(3, 23, 2):
        assert _headers_of(server, stream_id, repeated)[b":path"].endswith(b"/ReadResource")
    assert len(decoded) == 2  # the block that filled the table, and the first repeat


@pytest.mark.parametrize(
    ("block", "indexed"),
    [
        (b"\x82\x86\xbe", True),
        (b"\xff\x80\x01", True),  # index 127 + 128: two more bytes
        (b"\x82\xff\x80", False),  # the index's last byte is missing
        (b"\x80", False),  # index 0 is no field
        (b"\x82\x44\x01a", False),  # a literal that enters the table
        (b"\x82\x04\x01a\x01b", False),  # a literal that does not
        (b"\x3f\xe1\x1f\x82", False),  # a table size update
        (b"", True),
    ],
)
def test_indexed_only_blocks_are_told_apart(block: bytes, indexed: bool) -> None:
    assert http2._indexed_only(block) is indexed
