"""Every httpx failure without a response is mapped on purpose: a new exception class in
httpx fails this test until someone decides what it means (as httpx checks its own map of
httpcore's exceptions)."""

from __future__ import annotations

import httpx
import pytest

from terraform_provider_connectly.connectly.transport import TRANSPORT_FAILURES, describe_failure

# class -> (what the user reads, whether the request may have been sent, permanent)
EXPECTED: dict[type[httpx.HTTPError], tuple[str, bool, bool]] = {
    httpx.HTTPError: ("network failure", True, False),
    httpx.RequestError: ("network failure", True, False),
    httpx.TransportError: ("network failure", True, False),
    httpx.TimeoutException: ("timed out", True, False),
    httpx.ConnectTimeout: ("connection timed out", False, False),
    httpx.ReadTimeout: ("no response in time", True, False),
    httpx.WriteTimeout: ("timed out", True, False),
    httpx.PoolTimeout: ("timed out", False, False),
    httpx.NetworkError: ("network failure", True, False),
    httpx.ConnectError: ("could not connect", False, False),
    httpx.ReadError: ("network failure", True, False),
    httpx.WriteError: ("network failure", True, False),
    httpx.CloseError: ("network failure", True, False),
    httpx.ProtocolError: ("network failure", True, False),
    httpx.LocalProtocolError: ("the request could not be sent", False, True),
    httpx.RemoteProtocolError: ("connection dropped", True, False),
    httpx.ProxyError: ("the proxy refused the connection", False, True),
    httpx.UnsupportedProtocol: ("network failure", False, False),
    httpx.DecodingError: ("network failure", True, False),
    httpx.TooManyRedirects: ("network failure", True, False),
    httpx.HTTPStatusError: ("network failure", True, False),
}


def _httpx_failures() -> set[type[httpx.HTTPError]]:
    return {
        value
        for value in vars(httpx).values()
        if isinstance(value, type) and issubclass(value, httpx.HTTPError)
    }


def test_every_httpx_failure_class_has_a_decided_meaning() -> None:
    assert _httpx_failures() == set(EXPECTED)


@pytest.mark.parametrize("cls", sorted(EXPECTED, key=str))
def test_each_failure_maps_as_decided(cls: type[httpx.HTTPError]) -> None:
    request = httpx.Request("GET", "https://api.example.com/")
    if issubclass(cls, httpx.HTTPStatusError):
        exc: httpx.HTTPError = cls("x", request=request, response=httpx.Response(500))
    else:
        exc = cls("boom")
    assert describe_failure(exc) == EXPECTED[cls]


def test_an_untrusted_certificate_is_permanent_and_names_ca_bundle() -> None:
    what, sent, permanent = describe_failure(
        httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    )
    assert "ca_bundle" in what and not sent and permanent


def test_the_table_lists_subclasses_before_their_bases() -> None:
    classes = [cls for cls, _, _ in TRANSPORT_FAILURES]
    for i, cls in enumerate(classes):
        assert not any(issubclass(cls, earlier) for earlier in classes[:i]), cls
