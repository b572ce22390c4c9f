"""The direct transport (http.client, kept-alive connections) and the proxy path beside it, each
against a real server on loopback."""

from __future__ import annotations

import http.client
import http.server
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from terraform_provider_connectly.connectly import ConnectlyClient, RetryPolicy, TransportError
from terraform_provider_connectly.connectly.direct import DirectTransport
from terraform_provider_connectly.connectly.transport import proxy_for
from terraform_provider_connectly.emulator import Emulator

from emulator_fixture import TEST_API_KEY

HEAD = [(b"Host", b"127.0.0.1")]


def transport(port: int) -> DirectTransport:
    return DirectTransport("http", "127.0.0.1", port, ssl.create_default_context())


def exchange(direct: DirectTransport, target: str = "/") -> tuple[int, bytes]:
    answer = direct.open("GET", target, HEAD, None, connect_timeout=5, read_timeout=5)
    try:
        return answer.status, b"".join(answer.chunks())
    finally:
        answer.close()


def count_connects(direct: DirectTransport, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    made: list[int] = []
    connect = direct._connect

    def counted(timeout: float | None) -> http.client.HTTPConnection:
        made.append(1)
        return connect(timeout)

    monkeypatch.setattr(direct, "_connect", counted)
    return made


class RawServer:
    """A TCP server on loopback that answers every request on a connection with ``reply``'s
    bytes and then does what ``after`` says ("keep", "close")."""

    def __init__(self, reply: bytes, after: str = "keep") -> None:
        self.reply, self.after = reply, after
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while True:
                try:
                    got = conn.recv(65536)
                except OSError:
                    return
                if not got:
                    return
                data += got
                while b"\r\n\r\n" in data:
                    _, data = data.split(b"\r\n\r\n", 1)
                    conn.sendall(self.reply)
                    if self.after == "close":
                        return

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[..., RawServer]]:
    made: list[RawServer] = []

    def make(reply: bytes, after: str = "keep") -> RawServer:
        made.append(RawServer(reply, after))
        return made[-1]

    yield make
    for server in made:
        server.close()


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"


def test_sequential_requests_share_one_kept_alive_connection(
    raw_server: Callable[..., RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = raw_server(OK)
    direct = transport(server.port)
    made = count_connects(direct, monkeypatch)
    assert [exchange(direct) for _ in range(5)] == [(200, b"{}")] * 5
    assert len(made) == 1 and server.connections == 1
    assert direct.idle_connections() == 1


def test_a_connection_the_server_closed_while_idle_is_not_reused(
    raw_server: Callable[..., RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server closes after each answer without saying so: reusing that connection would
    # fail the next request; the idle check sees it is readable (at its end) and dials anew.
    server = raw_server(OK, after="close")
    direct = transport(server.port)
    made = count_connects(direct, monkeypatch)
    assert exchange(direct) == (200, b"{}")
    for _ in range(50):  # until the server's close has reached us
        if server.connections == 1 and direct._idle and _closed_by_peer(direct):
            break
    assert exchange(direct) == (200, b"{}")
    assert len(made) == 2


def _closed_by_peer(direct: DirectTransport) -> bool:
    import select

    sock = direct._idle[0].sock
    return bool(select.select([sock], [], [], 0.1)[0])


def test_connection_close_is_not_pooled(raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", after="close"
    )
    direct = transport(server.port)
    assert exchange(direct) == (200, b"{}")
    assert direct.idle_connections() == 0


def test_a_body_cut_short_of_its_length_is_a_protocol_error(
    raw_server: Callable[..., RawServer],
) -> None:
    server = raw_server(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"entity"', after="close")
    direct = transport(server.port)
    with pytest.raises(httpx.RemoteProtocolError, match="short of"):
        exchange(direct)
    assert direct.idle_connections() == 0


def test_chunked_answers_are_read_whole_and_the_connection_kept(
    raw_server: Callable[..., RawServer],
) -> None:
    server = raw_server(
        b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{"a\r\n4\r\n":1}\r\n0\r\n\r\n'
    )
    direct = transport(server.port)
    assert exchange(direct) == (200, b'{"a":1}')
    assert exchange(direct) == (200, b'{"a":1}')
    assert server.connections == 1


def test_an_answer_left_unread_closes_its_connection(raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(OK)
    direct = transport(server.port)
    answer = direct.open("GET", "/", HEAD, None, connect_timeout=5, read_timeout=5)
    answer.close()  # body never read: the connection cannot carry another request
    assert direct.idle_connections() == 0
    assert exchange(direct) == (200, b"{}")
    assert server.connections == 2


def test_no_answer_is_a_read_timeout(raw_server: Callable[..., RawServer]) -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # accepts (backlog), never answers
    try:
        direct = transport(listener.getsockname()[1])
        with pytest.raises(httpx.ReadTimeout):
            direct.open("GET", "/", HEAD, None, connect_timeout=2, read_timeout=0.3)
    finally:
        listener.close()


def test_a_closed_port_is_a_connect_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        exchange(transport(port))


# -- proxies --------------------------------------------------------------------------------


class ForwardingProxy(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """An HTTP forward proxy: requests arrive with absolute URIs and are sent on."""

    daemon_threads = True

    def __init__(self) -> None:
        self.seen: list[str] = []
        super().__init__(("127.0.0.1", 0), _ProxyHandler)


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    server: ForwardingProxy

    def _forward(self) -> None:
        self.server.seen.append(f"{self.command} {self.path}")
        url = httpx.URL(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        upstream = http.client.HTTPConnection(url.host, url.port, timeout=5)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
        upstream.request(self.command, url.raw_path.decode(), body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        upstream.close()

    do_GET = do_POST = do_PUT = do_DELETE = _forward

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[ForwardingProxy]:
    server = ForwardingProxy()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def test_a_proxy_in_the_environment_carries_the_requests(
    emu: Emulator, proxy: ForwardingProxy, no_proxy_env: pytest.MonkeyPatch
) -> None:
    no_proxy_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
    with ConnectlyClient(TEST_API_KEY, emu.url, retry=RetryPolicy(max_attempts=1)) as client:
        assert client.transport._direct is None
        assert client.list_webhooks("biz_1") == []
    assert proxy.seen == [f"GET {emu.url.rstrip('/')}/v1/businesses/biz_1/webhooks"]


def test_no_proxy_naming_the_host_goes_direct(
    emu: Emulator, proxy: ForwardingProxy, no_proxy_env: pytest.MonkeyPatch
) -> None:
    no_proxy_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
    no_proxy_env.setenv("NO_PROXY", "127.0.0.1")
    with ConnectlyClient(TEST_API_KEY, emu.url, retry=RetryPolicy(max_attempts=1)) as client:
        assert isinstance(client.transport._direct, DirectTransport)
        assert client.list_webhooks("biz_1") == []
    assert proxy.seen == []


def test_an_unreachable_proxy_is_a_transport_error_not_a_direct_request(
    emu: Emulator, no_proxy_env: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    no_proxy_env.setenv("http_proxy", f"127.0.0.1:{port}")  # lower case, no scheme: as curl
    client = ConnectlyClient(TEST_API_KEY, emu.url, retry=RetryPolicy(max_attempts=1))
    with client, pytest.raises(TransportError, match="could not connect"):
        client.list_webhooks("biz_1")
    assert sum(emu.counters().values()) == 0


@pytest.mark.parametrize(
    ("env", "url", "expected"),
    [
        ({}, "https://api.connectly.ai", None),
        ({"HTTPS_PROXY": "http://p:3128"}, "https://api.connectly.ai", "http://p:3128"),
        ({"HTTPS_PROXY": "http://p:3128"}, "http://api.connectly.ai", None),
        ({"ALL_PROXY": "http://p:1"}, "http://api.connectly.ai", "http://p:1"),
        ({"HTTPS_PROXY": "p:3128", "NO_PROXY": ".connectly.ai"}, "https://api.connectly.ai", None),
        (
            {"HTTPS_PROXY": "p:3128", "NO_PROXY": "other.ai"},
            "https://api.connectly.ai",
            "http://p:3128",
        ),
        ({"HTTPS_PROXY": "p:3128", "NO_PROXY": "*"}, "https://api.connectly.ai", None),
    ],
)
def test_which_proxy_applies(
    no_proxy_env: pytest.MonkeyPatch, env: dict[str, str], url: str, expected: str | None
) -> None:
    for name, value in env.items():
        no_proxy_env.setenv(name, value)
    assert proxy_for(httpx.URL(url)) == expected


def test_a_header_value_outside_ascii_is_read_not_a_crash(
    raw_server: Callable[..., RawServer],
) -> None:
    # http.client reads header values as latin-1; a proxy or balancer may send such bytes.
    server = raw_server(
        b"HTTP/1.1 200 OK\r\nX-Note: caf\xe9\r\nContent-Length: 2\r\n"
        b"Content-Type: application/json\r\n\r\n{}"
    )
    client = ConnectlyClient(
        TEST_API_KEY, f"http://127.0.0.1:{server.port}", retry=RetryPolicy(max_attempts=1)
    )
    with client:
        client.delete_webhook("biz_1", "wh_1")  # a 200: done, whatever the headers say
