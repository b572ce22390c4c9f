"""The server side of HTTP/2 (RFC 9113), as much of it as a gRPC server needs.

Why not the ``h2`` library's state machine, which served here first: it took about three
quarters of a unary call's server CPU (a frame object per frame, a state machine per stream
and per connection, an event object per step, frames formatted for a log nobody reads). Here
frames are parsed with ``struct`` out of one buffer, the streams are a dict of small records,
and our header blocks are HPACK literals that never touch a dynamic table, so each distinct
block is encoded once and reused. Only decoding the client's header blocks, which needs its
dynamic table and Huffman code, is left to the ``hpack`` library.

Sans-I/O, like ``h2``: :meth:`ServerConnection.receive_data` takes bytes and returns events,
the send methods queue frames, :meth:`ServerConnection.data_to_send` hands them out. One
thread owns a connection. A peer that breaks the protocol gets a GOAWAY (queued) and a
:class:`ProtocolError`; a frame for a stream already closed is answered as RFC 9113 says, or
ignored where it allows.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import NoReturn

from hpack import Decoder, HPACKError

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY = range(8)
WINDOW_UPDATE, CONTINUATION = 8, 9
END_STREAM = ACK = 0x1
END_HEADERS, PADDED, PRIORITY_FLAG = 0x4, 0x8, 0x20

HEADER_TABLE_SIZE, ENABLE_PUSH, MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE = 1, 2, 3, 4
MAX_FRAME_SIZE = 5

NO_ERROR, PROTOCOL_ERROR, FLOW_CONTROL_ERROR, STREAM_CLOSED = 0, 1, 3, 5
FRAME_SIZE_ERROR, REFUSED_STREAM, COMPRESSION_ERROR, ENHANCE_YOUR_CALM = 6, 7, 9, 11
MAX_HEADER_LIST_SIZE = 6

DEFAULT_WINDOW = 65535
MAX_WINDOW = 2**31 - 1
OUR_MAX_FRAME = 16384  # the protocol's default; we never raise it
MAX_HEADER_LIST = 64 * 1024
MAX_KNOWN_BLOCKS = 64  # decoded header blocks remembered (ServerConnection._decode)

_HEAD = struct.Struct(">BHBBI")  # length as a byte and a short, type, flags, stream id
_SETTING = struct.Struct(">HI")
_U32 = struct.Struct(">I")


class H2Error(Exception):
    """Something the connection cannot do (the base of this module's errors)."""


class ProtocolError(H2Error):
    """The peer broke the protocol; a GOAWAY with ``code`` is queued."""

    def __init__(self, message: str, code: int = PROTOCOL_ERROR) -> None:
        super().__init__(message)
        self.code = code


class StreamClosedError(H2Error):
    """Sending on a stream that is closed, reset, or was never opened."""


class RequestReceived:
    __slots__ = ("headers", "stream_id")

    def __init__(self, stream_id: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.stream_id, self.headers = stream_id, headers


class DataReceived:
    __slots__ = ("data", "flow_controlled_length", "stream_id")

    def __init__(self, stream_id: int, data: bytes, flow_controlled_length: int) -> None:
        self.stream_id, self.data = stream_id, data
        self.flow_controlled_length = flow_controlled_length


class StreamEnded:
    __slots__ = ("stream_id",)

    def __init__(self, stream_id: int) -> None:
        self.stream_id = stream_id


class StreamReset:
    __slots__ = ("error_code", "stream_id")

    def __init__(self, stream_id: int, error_code: int) -> None:
        self.stream_id, self.error_code = stream_id, error_code


class WindowUpdated:
    """The peer let us send more (on ``stream_id``, or 0 for the whole connection), or
    changed its settings so that our windows changed."""

    __slots__ = ("stream_id",)

    def __init__(self, stream_id: int) -> None:
        self.stream_id = stream_id


class ConnectionTerminated:
    __slots__ = ("error_code", "last_stream_id")

    def __init__(self, error_code: int, last_stream_id: int) -> None:
        self.error_code, self.last_stream_id = error_code, last_stream_id


Event = (
    RequestReceived
    | DataReceived
    | StreamEnded
    | StreamReset
    | WindowUpdated
    | ConnectionTerminated
)


class _Stream:
    __slots__ = ("local_closed", "received", "remote_closed", "send_window")

    def __init__(self, send_window: int) -> None:
        self.send_window = send_window
        self.remote_closed = False  # the peer sent END_STREAM
        self.local_closed = False  # we sent END_STREAM
        self.received = 0  # request bytes consumed and not yet given back in a WINDOW_UPDATE


def frame(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    size = len(payload)
    return _HEAD.pack(size >> 16, size & 0xFFFF, kind, flags, stream_id) + payload


def goaway_frame(last_stream_id: int, code: int = NO_ERROR) -> bytes:
    return frame(GOAWAY, 0, 0, _U32.pack(last_stream_id) + _U32.pack(code))


class ServerConnection:
    """One HTTP/2 connection, server side."""

    def __init__(self) -> None:
        self._in = bytearray()
        self._out = bytearray()
        self._preface = False
        self._decoder = Decoder(max_header_list_size=MAX_HEADER_LIST)
        self._decoded: dict[bytes, tuple[tuple[bytes, bytes], ...]] = {}  # see _decode
        self._streams: dict[int, _Stream] = {}
        self._continuing: tuple[int, int, bytearray] | None = None  # stream, flags, block
        self._blocks: dict[tuple[tuple[bytes, bytes], ...], bytes] = {}
        self._first_block = True
        self.highest_inbound_stream_id = 0
        self._max_streams = 100
        self._peer_window = DEFAULT_WINDOW  # the peer's SETTINGS_INITIAL_WINDOW_SIZE
        self._send_window = DEFAULT_WINDOW  # the connection's, towards the peer
        self.max_outbound_frame_size = OUR_MAX_FRAME
        self._stream_window = DEFAULT_WINDOW  # what we let the peer send per stream
        self._connection_window = DEFAULT_WINDOW  # ... and on the whole connection
        self._received = 0  # connection bytes consumed, not yet given back
        self._last_stream: int | None = None  # the last stream taken, once we sent GOAWAY

    # -- set-up and teardown -----------------------------------------------------------------

    def start(self, settings: Mapping[int, int], connection_window: int = 0) -> None:
        """Our SETTINGS (the first frame a server sends) and, if asked, a larger window for
        the whole connection than the protocol's 64 KiB."""
        payload = b"".join(_SETTING.pack(k, v) for k, v in settings.items())
        self._out += frame(SETTINGS, 0, 0, payload)
        self._max_streams = settings.get(MAX_CONCURRENT_STREAMS, self._max_streams)
        self._stream_window = settings.get(INITIAL_WINDOW_SIZE, self._stream_window)
        if connection_window:
            self._connection_window += connection_window
            self._out += frame(WINDOW_UPDATE, 0, 0, _U32.pack(connection_window))

    def close_connection(self, code: int = NO_ERROR) -> None:
        """A GOAWAY naming the streams taken so far; any newer one is refused (the peer takes
        it as never processed, and may send it elsewhere)."""
        if self._last_stream is None:
            self._last_stream = self.highest_inbound_stream_id
        self._out += goaway_frame(self._last_stream, code)

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    # -- what the peer sends -----------------------------------------------------------------

    def receive_data(self, data: bytes) -> list[Event]:
        buf = self._in
        buf += data
        pos = 0
        if not self._preface:
            if len(buf) < len(PREFACE):
                if not PREFACE.startswith(bytes(buf)):
                    self._fail("not an HTTP/2 connection preface")
                return []
            if buf[: len(PREFACE)] != PREFACE:
                self._fail("not an HTTP/2 connection preface")
            self._preface = True
            pos = len(PREFACE)
        events: list[Event] = []
        end = len(buf)
        try:
            while end - pos >= 9:
                high, low, kind, flags, stream_id = _HEAD.unpack_from(buf, pos)
                size = (high << 16) | low
                if size > OUR_MAX_FRAME:
                    self._fail(f"a frame of {size} bytes", FRAME_SIZE_ERROR)
                if end - pos - 9 < size:
                    break
                payload = bytes(buf[pos + 9 : pos + 9 + size])
                pos += 9 + size
                self._frame(kind, flags, stream_id & 0x7FFFFFFF, payload, events)
        finally:
            del buf[:pos]
        return events

    def _frame(self, kind: int, flags: int, stream_id: int, payload: bytes, events: list) -> None:
        if self._continuing is not None and kind != CONTINUATION:
            self._fail("a header block was interrupted")
        if kind == DATA:
            self._data(flags, stream_id, payload, events)
        elif kind == HEADERS:
            self._headers(flags, stream_id, payload, events)
        elif kind == CONTINUATION:
            continuing = self._continuing
            if continuing is None or continuing[0] != stream_id:
                self._fail("CONTINUATION without a header block")
            continuing[2].extend(payload)
            if len(continuing[2]) > MAX_HEADER_LIST + OUR_MAX_FRAME:  # decoded, it could not fit
                self._fail("a header block larger than we take", ENHANCE_YOUR_CALM)
            if flags & END_HEADERS:
                self._continuing = None
                self._header_block(stream_id, continuing[1], bytes(continuing[2]), events)
        elif kind == WINDOW_UPDATE:
            self._window_update(stream_id, payload, events)
        elif kind == SETTINGS:
            self._settings(flags, stream_id, payload, events)
        elif kind == PING:
            if stream_id:
                self._fail("PING on a stream")
            if len(payload) != 8:
                self._fail("a malformed PING", FRAME_SIZE_ERROR)
            if not flags & ACK:
                self._out += frame(PING, ACK, 0, payload)
        elif kind == RST_STREAM:
            if not stream_id:
                self._fail("RST_STREAM on the connection")
            if len(payload) != 4:
                self._fail("a malformed RST_STREAM", FRAME_SIZE_ERROR)
            if stream_id > self.highest_inbound_stream_id:
                self._fail("RST_STREAM on a stream never opened")
            if self._streams.pop(stream_id, None) is not None:
                events.append(StreamReset(stream_id, _U32.unpack(payload)[0]))
        elif kind == GOAWAY:
            if len(payload) < 8:
                self._fail("a malformed GOAWAY", FRAME_SIZE_ERROR)
            last, code = (
                _U32.unpack_from(payload, 0)[0] & 0x7FFFFFFF,
                _U32.unpack_from(payload, 4)[0],
            )
            events.append(ConnectionTerminated(code, last))
        elif kind == PUSH_PROMISE:
            self._fail("a client may not push")
        elif kind == PRIORITY and len(payload) != 5:
            self._fail("a malformed PRIORITY", FRAME_SIZE_ERROR)
        # Frames of other types are ignored, as the protocol asks.

    def _data(self, flags: int, stream_id: int, payload: bytes, events: list) -> None:
        size = len(payload)
        data = payload
        if flags & PADDED:
            if not payload or payload[0] >= len(payload):
                self._fail("more padding than frame")
            data = payload[1 : len(payload) - payload[0]]
        stream = self._streams.get(stream_id)
        if stream is None or stream.remote_closed:
            if not stream_id or stream_id > self.highest_inbound_stream_id:
                self._fail("DATA on a stream never opened")
            # A stream we have closed or reset: its bytes still count against the
            # connection's window, so that is given back; the stream is told it is closed.
            self.acknowledge_received_data(size, 0)
            if stream is not None:
                self._reset_for_peer(stream_id, STREAM_CLOSED, events)
            return
        events.append(DataReceived(stream_id, data, size))
        if flags & END_STREAM:
            self._remote_end(stream_id, stream, events)

    def _headers(self, flags: int, stream_id: int, payload: bytes, events: list) -> None:
        if not stream_id or not stream_id & 1:
            self._fail("HEADERS on an even stream")
        start, stop = 0, len(payload)
        if flags & PADDED:
            if not payload:
                self._fail("a malformed HEADERS", FRAME_SIZE_ERROR)
            start, stop = 1, stop - payload[0]
        if flags & PRIORITY_FLAG:
            start += 5
        if stop < start:
            self._fail("more padding than frame")
        block = payload[start:stop]
        if flags & END_HEADERS:
            self._header_block(stream_id, flags, block, events)
        else:
            self._continuing = (stream_id, flags, bytearray(block))

    def _header_block(self, stream_id: int, flags: int, block: bytes, events: list) -> None:
        headers = self._decode(block)
        stream = self._streams.get(stream_id)
        if stream is not None:  # trailers: a gRPC client sends none, but they end the request
            if stream.remote_closed or not flags & END_STREAM:
                self._fail("headers after the request's end")
            self._remote_end(stream_id, stream, events)
            return
        if stream_id <= self.highest_inbound_stream_id:
            # A stream that was closed (or refused): nothing more may come on it.
            self._send_reset(stream_id, STREAM_CLOSED)
            return
        self.highest_inbound_stream_id = stream_id
        if self._last_stream is not None or len(self._streams) >= self._max_streams:
            self._send_reset(stream_id, REFUSED_STREAM)
            return
        stream = _Stream(self._peer_window)
        self._streams[stream_id] = stream
        events.append(RequestReceived(stream_id, list(headers)))
        if flags & END_STREAM:
            self._remote_end(stream_id, stream, events)

    def _decode(self, block: bytes) -> tuple[tuple[bytes, bytes], ...]:
        """The headers of ``block``, decoded even for a stream we refuse: the peer's dynamic
        table changes with it.

        A client repeats itself: once its table holds a call's headers, grpc-go sends each
        later call's block as the same few index bytes. Such a block (indexed fields only)
        leaves the table as it was, so its meaning stays the same until a block of any
        other kind comes; those are remembered here, and forgotten at the next other block.
        The ``hpack`` decoder then sees only blocks that are new, and stays in step: the
        ones it does not see would not have changed it."""
        known = self._decoded.get(block)
        if known is not None:
            return known
        try:
            headers = tuple(self._decoder.decode(block, raw=True))
        except HPACKError as exc:
            self._fail(f"undecodable headers: {exc}", COMPRESSION_ERROR)
        if _indexed_only(block):
            if len(self._decoded) >= MAX_KNOWN_BLOCKS:
                self._decoded.clear()
            self._decoded[block] = headers
        else:
            self._decoded.clear()
        return headers

    def _remote_end(self, stream_id: int, stream: _Stream, events: list) -> None:
        stream.remote_closed = True
        stream.received = 0  # nothing more comes: its window need not be given back
        events.append(StreamEnded(stream_id))
        if stream.local_closed:
            del self._streams[stream_id]

    def _window_update(self, stream_id: int, payload: bytes, events: list) -> None:
        if len(payload) != 4:
            self._fail("a malformed WINDOW_UPDATE", FRAME_SIZE_ERROR)
        increment = _U32.unpack(payload)[0] & 0x7FFFFFFF
        if not stream_id:
            if not increment:
                self._fail("a WINDOW_UPDATE of 0")
            self._send_window += increment
            if self._send_window > MAX_WINDOW:
                self._fail("the connection's window overflowed", FLOW_CONTROL_ERROR)
            events.append(WindowUpdated(0))
            return
        stream = self._streams.get(stream_id)
        if stream is None:
            if stream_id > self.highest_inbound_stream_id:
                self._fail("WINDOW_UPDATE on a stream never opened")
            return  # a stream already closed: nothing to update
        if not increment:
            self._reset_for_peer(stream_id, PROTOCOL_ERROR, events)
            return
        stream.send_window += increment
        if stream.send_window > MAX_WINDOW:
            self._reset_for_peer(stream_id, FLOW_CONTROL_ERROR, events)
            return
        events.append(WindowUpdated(stream_id))

    def _settings(self, flags: int, stream_id: int, payload: bytes, events: list) -> None:
        if stream_id:
            self._fail("SETTINGS on a stream")
        if flags & ACK:
            if payload:
                self._fail("a SETTINGS acknowledgement with settings", FRAME_SIZE_ERROR)
            return
        if len(payload) % 6:
            self._fail("a malformed SETTINGS", FRAME_SIZE_ERROR)
        changed = False
        for offset in range(0, len(payload), 6):
            key, value = _SETTING.unpack_from(payload, offset)
            if key == INITIAL_WINDOW_SIZE:
                if value > MAX_WINDOW:
                    self._fail("an initial window above 2^31-1", FLOW_CONTROL_ERROR)
                delta, self._peer_window = value - self._peer_window, value
                for stream in self._streams.values():
                    stream.send_window += delta
                    if stream.send_window > MAX_WINDOW:
                        self._fail("a stream's window overflowed", FLOW_CONTROL_ERROR)
                changed = changed or delta > 0
            elif key == MAX_FRAME_SIZE:
                if not OUR_MAX_FRAME <= value <= 2**24 - 1:
                    self._fail("a maximum frame size out of range")
                self.max_outbound_frame_size = value
            elif key == ENABLE_PUSH and value > 1:
                self._fail("ENABLE_PUSH must be 0 or 1")
            # HEADER_TABLE_SIZE needs nothing: our blocks never use the dynamic table.
        self._out += frame(SETTINGS, ACK, 0)
        if changed:
            events.append(WindowUpdated(0))

    # -- what we send ------------------------------------------------------------------------

    def acknowledge_received_data(self, size: int, stream_id: int) -> None:
        """Gives the peer back window for ``size`` request bytes we consumed: in batches of
        a quarter of the window, as a WINDOW_UPDATE per stream and for the connection."""
        if not size:
            return
        self._received += size
        if self._received >= self._connection_window // 4:
            self._out += frame(WINDOW_UPDATE, 0, 0, _U32.pack(self._received))
            self._received = 0
        stream = self._streams.get(stream_id) if stream_id else None
        if stream is not None and not stream.remote_closed:
            stream.received += size
            if stream.received >= self._stream_window // 4:
                self._out += frame(WINDOW_UPDATE, 0, stream_id, _U32.pack(stream.received))
                stream.received = 0

    def local_flow_control_window(self, stream_id: int) -> int:
        """How many bytes of DATA we may send on the stream now."""
        stream = self._open(stream_id)
        return min(stream.send_window, self._send_window)

    def send_headers(
        self, stream_id: int, headers: list[tuple[bytes, bytes]], end_stream: bool = False
    ) -> None:
        stream = self._open(stream_id)
        block = self._encode(headers)
        flags = END_STREAM if end_stream else 0
        limit = self.max_outbound_frame_size
        if len(block) <= limit:
            self._out += frame(HEADERS, flags | END_HEADERS, stream_id, block)
        else:
            self._out += frame(HEADERS, flags, stream_id, block[:limit])
            for at in range(limit, len(block), limit):
                last = at + limit >= len(block)
                part = block[at : at + limit]
                self._out += frame(CONTINUATION, END_HEADERS if last else 0, stream_id, part)
        if end_stream:
            self._local_end(stream_id, stream)

    def send_data(self, stream_id: int, data: bytes, end_stream: bool = False) -> None:
        stream = self._open(stream_id)
        size = len(data)
        if size > min(stream.send_window, self._send_window, self.max_outbound_frame_size):
            raise H2Error("DATA larger than the peer's window or frame size")
        stream.send_window -= size
        self._send_window -= size
        self._out += frame(DATA, END_STREAM if end_stream else 0, stream_id, data)
        if end_stream:
            self._local_end(stream_id, stream)

    def reset_stream(self, stream_id: int, code: int = NO_ERROR) -> None:
        """Ends the stream both ways (also one whose answer is complete but whose request
        is not: gRPC's way of telling the peer to stop sending)."""
        if stream_id not in self._streams:
            raise StreamClosedError(f"stream {stream_id} is closed")
        self._send_reset(stream_id, code)

    def _reset_for_peer(self, stream_id: int, code: int, events: list) -> None:
        """A stream the peer broke: reset, and reported like a reset the peer sent."""
        if stream_id in self._streams:
            events.append(StreamReset(stream_id, code))
        self._send_reset(stream_id, code)

    def _send_reset(self, stream_id: int, code: int) -> None:
        self._streams.pop(stream_id, None)
        self._out += frame(RST_STREAM, 0, stream_id, _U32.pack(code))

    def _local_end(self, stream_id: int, stream: _Stream) -> None:
        stream.local_closed = True
        if stream.remote_closed:
            del self._streams[stream_id]

    def _open(self, stream_id: int) -> _Stream:
        stream = self._streams.get(stream_id)
        if stream is None or stream.local_closed:
            raise StreamClosedError(f"stream {stream_id} is closed")
        return stream

    def _encode(self, headers: list[tuple[bytes, bytes]]) -> bytes:
        """The HPACK block for ``headers``: literals that are never indexed, so it means the
        same whatever the peer's decoder holds. The first block on the connection also sets
        our dynamic table's size to 0, which then stays within any size the peer allows."""
        key = tuple(headers)
        block = self._blocks.get(key)
        if block is None:
            block = b"".join(_field(name, value) for name, value in headers)
            if len(self._blocks) < 64:
                self._blocks[key] = block
        if self._first_block:
            self._first_block = False
            return b"\x20" + block
        return block

    def _fail(self, message: str, code: int = PROTOCOL_ERROR) -> NoReturn:
        self._out += goaway_frame(self.highest_inbound_stream_id, code)
        raise ProtocolError(message, code)


# Static table entries our answers use (RFC 7541, appendix A).
_STATUS_200 = 8
_CONTENT_TYPE = 31


def _indexed_only(block: bytes) -> bool:
    """Whether ``block`` is only indexed header fields (RFC 7541, 6.1): each a byte with
    the high bit set, whose 7-bit index may go on in bytes that have it set too, except the
    last."""
    i, n = 0, len(block)
    while i < n:
        first = block[i]
        if first < 0x80 or first == 0x80:  # a literal or a size update; index 0 is invalid
            return False
        i += 1
        if first == 0xFF:  # the index goes on
            while i < n and block[i] & 0x80:
                i += 1
            i += 1
    return i == n


def _field(name: bytes, value: bytes) -> bytes:
    if name == b":status" and value == b"200":
        return bytes([0x80 | _STATUS_200])
    if name == b"content-type":  # literal without indexing, name from the static table
        return _integer(_CONTENT_TYPE, 4, 0x00) + _string(value)
    return b"\x00" + _string(name) + _string(value)  # literal without indexing, new name


def _string(text: bytes) -> bytes:
    return _integer(len(text), 7, 0x00) + text


def _integer(value: int, prefix: int, flags: int) -> bytes:
    """HPACK's integer with a ``prefix``-bit prefix (RFC 7541, section 5.1)."""
    top = (1 << prefix) - 1
    if value < top:
        return bytes([flags | value])
    out = bytearray([flags | top])
    value -= top
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
