"""The emulator on its own, over real HTTP (httpx and raw sockets, never the client)."""

from __future__ import annotations

import hmac
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from terraform_provider_connectly.emulator import STRICT, Emulator, Fault, Modes
from terraform_provider_connectly.emulator.store import TopicTaken

from emulator_fixture import TEST_API_KEY, running_emulator

BIZ = "biz_emu"
ID_PATTERN = re.compile(r"wh_[0-9A-HJKMNP-TV-Z]{26}")
CONNECTLY_ERROR_KEYS = {
    "message",
    "type",
    "code",
    "userTitle",
    "userMessage",
    "cntTraceId",
    "details",
}


@pytest.fixture
def http(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.url, headers={"X-API-Key": TEST_API_KEY}, timeout=5) as c:
        yield c


def create(http: httpx.Client, body: Any, business: str = BIZ) -> httpx.Response:
    return http.post(f"/v1/businesses/{business}/create/webhooks", json=body)


def listing(http: httpx.Client, business: str = BIZ) -> dict[str, Any]:
    response = http.get(f"/v1/businesses/{business}/webhooks")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


HOOK = {"topic": "messages", "address": "https://example.com/hooks/m"}


# -- the four endpoints --------------------------------------------------------------------------


def test_create_list_update_delete(emu: Emulator, http: httpx.Client) -> None:
    response = create(
        http, {**HOOK, "type": "zapier", "configuration": {"echo": True, "channelTypes": ["sms"]}}
    )
    assert response.status_code == 200
    webhook_id = response.json()["id"]
    assert ID_PATTERN.fullmatch(webhook_id)
    assert listing(http) == {
        "entity": {
            "businessId": BIZ,
            "webhooks": [
                {
                    "id": webhook_id,
                    "topic": "messages",
                    "address": "https://example.com/hooks/m",
                    "type": "zapier",
                    "configuration": {"echo": True, "channelTypes": ["sms"], "filters": []},
                }
            ],
        }
    }

    response = http.put(
        f"/v1/businesses/{BIZ}/update/webhooks/{webhook_id}",
        json={"configuration": {"filters": [{"field": "campaign_name", "expression": "prod-*"}]}},
    )
    assert (response.status_code, response.json()) == (200, {})
    (hook,) = listing(http)["entity"]["webhooks"]
    assert hook["address"] == "https://example.com/hooks/m"
    assert hook["configuration"] == {
        "echo": True,
        "channelTypes": ["sms"],
        "filters": [{"field": "campaign_name", "expression": "prod-*"}],
    }

    response = http.put(
        f"/v1/businesses/{BIZ}/update/webhooks/{webhook_id}",
        json={"address": "http://example.com/new", "configuration": {"echo": False}},
    )
    assert response.status_code == 200
    (hook,) = listing(http)["entity"]["webhooks"]
    assert hook["address"] == "http://example.com/new"
    assert hook["configuration"]["echo"] is False
    assert hook["configuration"]["channelTypes"] == ["sms"]

    response = http.delete(f"/v1/businesses/{BIZ}/delete/webhooks/{webhook_id}")
    assert (response.status_code, response.json()) == (200, {})
    assert listing(http)["entity"]["webhooks"] == []
    assert emu.counters() == {"create": 1, "list": 4, "update": 2, "delete": 1}


def test_ids_are_unique_and_opaque(http: httpx.Client) -> None:
    ids = {create(http, HOOK, business=f"b{n}").json()["id"] for n in range(30)}
    assert len(ids) == 30 and all(ID_PATTERN.fullmatch(i) for i in ids)


def test_update_and_delete_of_unknown_or_foreign_id_are_404(
    emu: Emulator, http: httpx.Client
) -> None:
    foreign = emu.seed("other_biz", "messages", "https://example.com/o")
    for webhook_id in ("wh_nope", foreign):
        response = http.put(
            f"/v1/businesses/{BIZ}/update/webhooks/{webhook_id}",
            json={"address": "https://example.com/x"},
        )
        assert response.status_code == 404 and webhook_id in response.json()["message"]
        response = http.delete(f"/v1/businesses/{BIZ}/delete/webhooks/{webhook_id}")
        assert response.status_code == 404 and response.json()["code"] == "ERROR_CODE_NOT_FOUND"
    assert len(emu.registrations("other_biz")) == 1


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"address": "https://a.example"}, "topic is required"),
        ({"topic": "topic_unspecified", "address": "https://a.example"}, "not a usable topic"),
        ({"topic": "invoices", "address": "https://a.example"}, "not a usable topic"),
        ({"topic": 5, "address": "https://a.example"}, "topic must be a string"),
        ({"topic": "messages"}, "address is required"),
        ({"topic": "messages", "address": "example.com/x"}, "not an absolute http(s) URL"),
        ({"topic": "messages", "address": "ftp://example.com/x"}, "not an absolute http(s) URL"),
        ({"topic": "messages", "address": "https://"}, "not an absolute http(s) URL"),
        ({"topic": "messages", "address": ["https://a.example"]}, "address must be a string"),
        ({**HOOK, "type": "webhook_type_unspecified"}, "not a webhook type"),
        ({**HOOK, "type": "slack"}, "not a webhook type"),
        ({**HOOK, "configuration": []}, "configuration must be an object"),
        ({**HOOK, "configuration": {"echo": "yes"}}, "echo must be a boolean"),
        ({**HOOK, "configuration": {"channelTypes": "whatsapp"}}, "channelTypes must be a list"),
        (
            {**HOOK, "configuration": {"filters": [{"field": 1, "expression": "x"}]}},
            "filters[0].field must be a string",
        ),
        (
            {**HOOK, "configuration": {"filters": [{"field": "", "expression": "x"}]}},
            "must not be empty",
        ),
        (
            {**HOOK, "configuration": {"webengageConfiguration": {"webengageToken": 3}}},
            "webengageToken must be a string",
        ),
        ({**HOOK, "configuration": {"channel_types": ["sms"]}}, "unknown field 'channel_types'"),
        ({**HOOK, "extra": 1}, "unknown field 'extra'"),
        ([HOOK], "must be a JSON object"),
    ],
)
def test_create_rejects_bad_values_with_400(
    emu: Emulator, http: httpx.Client, body: Any, fragment: str
) -> None:
    response = create(http, body)
    assert response.status_code == 400
    error = response.json()
    assert set(error) == CONNECTLY_ERROR_KEYS and error["code"] == "ERROR_CODE_INVALID_ARGUMENT"
    assert fragment in error["message"]
    assert emu.registrations() == []


def test_nulls_read_as_absent(http: httpx.Client) -> None:
    response = create(http, {**HOOK, "type": None, "configuration": {"echo": None}})
    assert response.status_code == 200
    assert listing(http)["entity"]["webhooks"][0]["type"] == "custom"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"topic": "messages"}, "topic cannot be changed"),
        ({"type": "zapier"}, "type cannot be changed"),
        ({"address": "nope"}, "not an absolute"),
        ({"configuration": {"echo": 1}}, "echo must be a boolean"),
    ],
)
def test_update_rejects_bad_values(
    emu: Emulator, http: httpx.Client, body: Any, fragment: str
) -> None:
    webhook_id = emu.seed(BIZ, "messages", "https://example.com/a")
    response = http.put(f"/v1/businesses/{BIZ}/update/webhooks/{webhook_id}", json=body)
    assert response.status_code == 400 and fragment in response.json()["message"]
    assert emu.registrations()[0]["address"] == "https://example.com/a"


# -- modes ---------------------------------------------------------------------------------------


def test_conflict_mode_409(emu: Emulator, http: httpx.Client) -> None:
    first = create(http, HOOK).json()["id"]
    response = create(http, {**HOOK, "address": "https://other.example/"})
    assert response.status_code == 409
    assert (
        "use Update instead" in response.json()["message"] and first in response.json()["message"]
    )
    assert [r["id"] for r in emu.registrations()] == [first]
    assert create(http, {**HOOK, "topic": "report"}).status_code == 200  # other topic is free


def test_conflict_mode_replace(emu: Emulator, http: httpx.Client) -> None:
    emu.set_modes(on_conflict="replace")
    first = create(http, HOOK).json()["id"]
    second = create(http, {**HOOK, "address": "https://other.example/"}).json()["id"]
    assert first != second
    assert [(r["id"], r["address"]) for r in emu.registrations()] == [
        (second, "https://other.example/")
    ]


@pytest.mark.parametrize("mode", ["409", "replace"])
def test_concurrent_creates_for_one_topic(mode: str) -> None:
    with (
        running_emulator(on_conflict=mode) as emu,
        httpx.Client(base_url=emu.url, headers={"X-API-Key": TEST_API_KEY}) as shared,
    ):
        barrier = threading.Barrier(20)
        statuses: list[int] = []
        lock = threading.Lock()

        def attempt(n: int) -> None:
            barrier.wait()
            status = create(shared, {**HOOK, "address": f"https://e.example/{n}"}).status_code
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=attempt, args=(n,)) for n in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        registrations = emu.registrations()
    assert len(registrations) == 1
    if mode == "409":
        assert sorted(statuses) == [200] + [409] * 19
    else:
        assert statuses == [200] * 20


def test_listing_defaults_and_token_modes(emu: Emulator, http: httpx.Client) -> None:
    body = {
        **HOOK,
        "type": "webengage",
        "configuration": {
            "webengageConfiguration": {
                "webengageToken": "tok-123",
                "webengageWebhookUrl": "https://we.example/x",
            }
        },
    }
    create(http, body)

    def conf() -> dict[str, Any]:
        return listing(http)["entity"]["webhooks"][0]["configuration"]  # type: ignore[no-any-return]

    assert conf() == {
        "echo": False,
        "channelTypes": ["whatsapp"],
        "filters": [],
        "webengageConfiguration": {
            "webengageToken": "****",
            "webengageWebhookUrl": "https://we.example/x",
        },
    }
    emu.set_modes(listing_token="omit", fill_defaults=False)
    assert conf() == {"webengageConfiguration": {"webengageWebhookUrl": "https://we.example/x"}}
    emu.set_modes(listing_token="echo")
    assert conf()["webengageConfiguration"]["webengageToken"] == "tok-123"
    assert (
        emu.registrations()[0]["configuration"]["webengageConfiguration"]["webengageToken"]
        == "tok-123"
    )


def test_configuration_absent_without_defaults(emu: Emulator, http: httpx.Client) -> None:
    emu.set_modes(fill_defaults=False, listing_type="omit")
    create(http, HOOK)
    (hook,) = listing(http)["entity"]["webhooks"]
    assert set(hook) == {"id", "topic", "address"}


def test_empty_listing_with_and_without_webhooks_key(emu: Emulator, http: httpx.Client) -> None:
    assert listing(http) == {"entity": {"businessId": BIZ, "webhooks": []}}
    emu.set_modes(omit_empty_webhooks=True)
    assert listing(http) == {"entity": {"businessId": BIZ}}


def test_strict_preset() -> None:
    expected = Modes(
        on_conflict="409",
        listing_type="omit",
        listing_token="omit",
        fill_defaults=True,
        omit_empty_webhooks=True,
        create_status=201,
    )
    assert expected == STRICT
    with (
        running_emulator(strict=True) as emu,
        httpx.Client(base_url=emu.url, headers={"X-API-Key": TEST_API_KEY}) as http,
    ):
        assert emu.modes == STRICT
        assert listing(http) == {"entity": {"businessId": BIZ}}
        response = create(
            http,
            {
                **HOOK,
                "type": "webengage",
                "configuration": {"webengageConfiguration": {"webengageToken": "t0ken"}},
            },
        )
        assert response.status_code == 201
        (hook,) = listing(http)["entity"]["webhooks"]
        assert "type" not in hook
        assert hook["configuration"] == {
            "echo": False,
            "channelTypes": ["whatsapp"],
            "filters": [],
            "webengageConfiguration": {},
        }
        assert create(http, HOOK).status_code == 409
    with running_emulator(strict=True, on_conflict="replace") as emu:
        assert emu.modes.on_conflict == "replace" and emu.modes.create_status == 201


def test_bad_modes_are_rejected() -> None:
    with pytest.raises(ValueError, match="on_conflict"):
        Emulator(TEST_API_KEY, on_conflict="ignore")
    with pytest.raises(ValueError, match="create_status"):
        Emulator(TEST_API_KEY, create_status=204)


def test_grpc_error_shape(emu: Emulator, http: httpx.Client) -> None:
    emu.set_modes(error_shape="grpc")
    response = http.delete(f"/v1/businesses/{BIZ}/delete/webhooks/wh_x")
    assert response.status_code == 404
    assert response.json() == {
        "code": 5,
        "message": f"webhook 'wh_x' not found for business '{BIZ}'",
        "details": [],
    }


# -- authentication ------------------------------------------------------------------------------


def test_missing_and_wrong_key_are_401_with_documented_body(emu: Emulator) -> None:
    with httpx.Client(base_url=emu.url) as anonymous:
        for headers, fragment in (
            ({}, "missing API key"),
            ({"X-API-Key": "nope"}, "invalid API key"),
        ):
            response = anonymous.get(f"/v1/businesses/{BIZ}/webhooks", headers=headers)
            assert response.status_code == 401
            body = response.json()
            assert set(body) == CONNECTLY_ERROR_KEYS
            assert body["message"] == body["userMessage"] and fragment in body["message"]
            assert body["cntTraceId"].isdigit() and body["code"] == "ERROR_CODE_UNAUTHENTICATED"
            assert TEST_API_KEY not in response.text
        response = anonymous.post(
            f"/v1/businesses/{BIZ}/create/webhooks",
            json=HOOK,
            headers={"X-API-Key": TEST_API_KEY + "x"},
        )
        assert response.status_code == 401
    assert emu.registrations() == []


def test_key_is_compared_in_constant_time(
    emu: Emulator, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert (
        http.get(f"/v1/businesses/{BIZ}/webhooks", headers={"X-API-Key": "guess"}).status_code
        == 401
    )
    assert listing(http)["entity"]["webhooks"] == []
    assert calls == [
        (b"guess", TEST_API_KEY.encode()),
        (TEST_API_KEY.encode(), TEST_API_KEY.encode()),
    ]


# -- malformed requests --------------------------------------------------------------------------


def raw_exchange(
    emu: Emulator, data: bytes, timeout: float = 5.0
) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read until the server closes; parse one response."""
    with socket.create_connection(("127.0.0.1", emu.port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def post_raw(path: str, body: bytes, extra: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nX-API-Key: {TEST_API_KEY}\r\n{extra}\r\n"
    ).encode() + body


def test_malformed_json_is_400(emu: Emulator, http: httpx.Client) -> None:
    for content in (b'{"topic": "messages",', b"", b"\xff\xfe", b"null"):
        response = http.post(f"/v1/businesses/{BIZ}/create/webhooks", content=content)
        assert response.status_code == 400, content
        assert response.json()["message"]


def test_unknown_path_404_and_wrong_method_405(emu: Emulator, http: httpx.Client) -> None:
    response = http.get("/v1/businesses/b/webhooks/extra")
    assert response.status_code == 404 and "no such endpoint" in response.json()["message"]
    response = http.post(f"/v1/businesses/{BIZ}/webhooks", json={})
    assert response.status_code == 405 and response.headers["allow"] == "GET"
    assert "use GET" in response.json()["message"]
    response = http.patch(f"/v1/businesses/{BIZ}/update/webhooks/wh_1", json={})
    assert response.status_code == 405 and response.headers["allow"] == "PUT"
    assert emu.counters() == {"create": 0, "list": 0, "update": 0, "delete": 0}


def test_invalid_content_length_is_400_and_closes(emu: Emulator) -> None:
    status, headers, body = raw_exchange(
        emu, post_raw(f"/v1/businesses/{BIZ}/create/webhooks", b"{}", "Content-Length: twelve\r\n")
    )
    assert status == 400 and headers["connection"] == "close"
    assert "invalid Content-Length" in json.loads(body)["message"]


def test_body_shorter_than_content_length_is_400_not_a_hang() -> None:
    with running_emulator(request_timeout=0.3) as emu:
        status, _, body = raw_exchange(
            emu,
            post_raw(
                f"/v1/businesses/{BIZ}/create/webhooks", b'{"topic"', "Content-Length: 100\r\n"
            ),
        )
    assert status == 400 and "Content-Length" in json.loads(body)["message"]


def test_body_larger_than_limit_is_413() -> None:
    with running_emulator(max_body_bytes=64) as emu:
        status, _, body = raw_exchange(
            emu,
            post_raw(f"/v1/businesses/{BIZ}/create/webhooks", b"{}", "Content-Length: 100000\r\n"),
        )
        assert emu.registrations() == []
    assert status == 413 and "exceeds 64 bytes" in json.loads(body)["message"]


def test_chunked_body_is_411(emu: Emulator) -> None:
    status, _, body = raw_exchange(
        emu,
        post_raw(
            f"/v1/businesses/{BIZ}/create/webhooks",
            b"2\r\n{}\r\n0\r\n\r\n",
            "Transfer-Encoding: chunked\r\n",
        ),
    )
    assert status == 411 and json.loads(body)["message"].startswith("chunked")


def test_garbage_request_line_gets_json_error(emu: Emulator) -> None:
    status, headers, body = raw_exchange(emu, b"HELLO THERE GENERAL KENOBI\r\n\r\n")
    assert status == 400 and headers["content-type"] == "application/json"
    assert json.loads(body)["message"]


def test_keep_alive_serves_several_requests_on_one_connection(emu: Emulator) -> None:
    request = (
        f"GET /v1/businesses/{BIZ}/webhooks HTTP/1.1\r\nHost: x\r\n"
        f"X-API-Key: {TEST_API_KEY}\r\n\r\n"
    ).encode()
    closing = request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n")
    _, _, body = raw_exchange(emu, request * 2 + closing)
    assert body.count(b'"entity"') == 3
    assert emu.counters()["list"] == 3


# -- faults --------------------------------------------------------------------------------------


def test_fault_count_and_matching(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault(status=503, endpoint="list", count=2, retry_after="4"))
    emu.inject(Fault(status=502, method="POST"))
    assert create(http, HOOK).status_code == 502
    for _ in range(2):
        response = http.get(f"/v1/businesses/{BIZ}/webhooks")
        assert response.status_code == 503 and response.headers["retry-after"] == "4"
        assert set(response.json()) == CONNECTLY_ERROR_KEYS
    assert http.get(f"/v1/businesses/{BIZ}/webhooks").status_code == 200
    assert create(http, HOOK).status_code == 200
    assert emu.faults.pending() == []


def test_fault_bodies(emu: Emulator, http: httpx.Client) -> None:
    path = f"/v1/businesses/{BIZ}/webhooks"
    emu.inject(Fault(status=502, body="html", text="upstream down"))
    response = http.get(path)
    assert response.headers["content-type"] == "text/html"
    assert "<title>502 Bad Gateway</title>" in response.text and "upstream down" in response.text
    emu.inject(Fault(status=500, body="truncated"))
    response = http.get(path)
    assert response.status_code == 500 and response.text.startswith('{"message"')
    with pytest.raises(ValueError):
        json.loads(response.text)
    emu.inject(Fault(status=200, body="text", text="<<raw>>", content_type="application/json"))
    response = http.get(path)
    assert (response.status_code, response.text) == (200, "<<raw>>")


def test_empty_fault_body(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault(status=504, body="empty"))
    response = http.get(f"/v1/businesses/{BIZ}/webhooks")
    assert (response.status_code, response.content) == (504, b"")


def test_faults_apply_before_authentication(emu: Emulator) -> None:
    emu.inject(Fault(status=503))
    with httpx.Client(base_url=emu.url) as anonymous:
        assert anonymous.get(f"/v1/businesses/{BIZ}/webhooks").status_code == 503
        assert anonymous.get(f"/v1/businesses/{BIZ}/webhooks").status_code == 401


def test_drop_after_work_stores_but_never_answers(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault(status=None, drop=True, after_work=True, endpoint="create"))
    with pytest.raises(httpx.RemoteProtocolError):
        create(http, HOOK)
    assert len(emu.registrations()) == 1
    emu.inject(Fault(status=None, drop=True, endpoint="create"))
    with pytest.raises(httpx.RemoteProtocolError):
        create(http, {**HOOK, "topic": "report"})
    assert len(emu.registrations()) == 1


def test_status_after_work(emu: Emulator, http: httpx.Client) -> None:
    emu.inject(Fault(status=502, after_work=True, endpoint="create"))
    assert create(http, HOOK).status_code == 502
    assert len(emu.registrations()) == 1


def test_random_faults_are_reproducible_with_a_seed(emu: Emulator, http: httpx.Client) -> None:
    def run() -> list[int]:
        emu.set_random_faults(rate_503=0.3, rate_429=0.3, retry_after="2", seed=42)
        return [http.get(f"/v1/businesses/{BIZ}/webhooks").status_code for _ in range(30)]

    first, second = run(), run()
    assert first == second
    assert {200, 429, 503} == set(first)


def test_latency_delays_requests(emu: Emulator, http: httpx.Client) -> None:
    emu.set_latency(300)
    with pytest.raises(httpx.ReadTimeout):
        http.get(f"/v1/businesses/{BIZ}/webhooks", timeout=0.05)
    emu.set_latency(0)
    assert http.get(f"/v1/businesses/{BIZ}/webhooks").status_code == 200


def test_bad_faults_are_rejected() -> None:
    for bad in ({"endpoint": "get"}, {"body": "xml"}, {"status": 99}, {"count": 0}):
        with pytest.raises(ValueError):
            Fault(**bad)  # type: ignore[arg-type]


# -- admin endpoints -----------------------------------------------------------------------------


def test_admin_requires_the_key(emu: Emulator) -> None:
    with httpx.Client(base_url=emu.url) as anonymous:
        for method, path in (
            ("GET", "/_emulator/registrations"),
            ("POST", "/_emulator/reset"),
            ("POST", "/_emulator/faults"),
        ):
            assert anonymous.request(method, path).status_code == 401


def test_admin_endpoints(emu: Emulator, http: httpx.Client) -> None:
    response = http.post(
        "/_emulator/registrations",
        json={
            "businessId": "b1",
            "topic": "report",
            "address": "https://r.example/",
            "configuration": {"echo": True},
        },
    )
    seeded = response.json()["id"]
    assert response.status_code == 200 and ID_PATTERN.fullmatch(seeded)
    assert (
        http.post(
            "/_emulator/registrations",
            json={"businessId": "b1", "topic": "report", "address": "https://r2.example/"},
        ).status_code
        == 409
    )
    assert (
        http.post(
            "/_emulator/registrations",
            json={"businessId": "b1", "topic": "bogus", "address": "https://r.example/"},
        ).status_code
        == 400
    )
    create(http, HOOK, business="b2")
    regs = http.get("/_emulator/registrations").json()["registrations"]
    assert [(r["businessId"], r["topic"]) for r in regs] == [("b1", "report"), ("b2", "messages")]
    only = http.get("/_emulator/registrations", params={"businessId": "b1"}).json()
    assert [r["id"] for r in only["registrations"]] == [seeded]

    assert (
        http.post(
            "/_emulator/faults",
            json={"status": 429, "endpoint": "list", "retryAfter": "9", "count": 2},
        ).status_code
        == 200
    )
    assert http.get("/_emulator/faults").json()["faults"][0]["retryAfter"] == "9"
    assert http.get("/v1/businesses/b1/webhooks").status_code == 429
    assert http.post("/_emulator/faults", json={"bogus": 1}).status_code == 400
    assert http.delete("/_emulator/faults").status_code == 200
    assert http.get("/v1/businesses/b1/webhooks").status_code == 200

    assert http.get("/_emulator/counters").json() == {
        "create": 1,
        "list": 2,
        "update": 0,
        "delete": 0,
    }
    assert http.put("/_emulator/latency", json={"ms": 5}).status_code == 200
    assert emu.faults.latency_ms == 5
    assert http.put("/_emulator/latency", json={"ms": "x"}).status_code == 400
    assert http.put("/_emulator/random-faults", json={"rate503": 1.0, "seed": 1}).status_code == 200
    assert http.get("/v1/businesses/b1/webhooks").status_code == 503
    assert http.put("/_emulator/random-faults", json={"rate503": 2}).status_code == 400

    modes = http.put("/_emulator/modes", json={"on_conflict": "replace"}).json()
    assert modes["on_conflict"] == "replace" and emu.modes.on_conflict == "replace"
    assert http.put("/_emulator/modes", json={"on_conflict": "x"}).status_code == 400
    assert http.get("/_emulator/modes").json()["on_conflict"] == "replace"

    assert http.delete("/_emulator/counters").status_code == 200
    assert emu.counters()["list"] == 0
    assert http.post("/_emulator/reset").status_code == 200
    assert emu.registrations() == [] and emu.faults.pending() == []
    assert http.get("/v1/businesses/b1/webhooks").status_code == 200  # random faults gone
    assert http.get("/_emulator/nope").status_code == 404
    assert http.delete("/_emulator/reset").status_code == 405


def test_seed_validates_and_guards_topic(emu: Emulator) -> None:
    emu.seed(BIZ, "messages", "https://a.example/")
    with pytest.raises(TopicTaken):
        emu.seed(BIZ, "messages", "https://b.example/")
    emu.seed(BIZ, "messages", "https://b.example/", force=True)
    assert len(emu.registrations(BIZ)) == 2
    with pytest.raises(ValueError, match="not a usable topic"):
        emu.seed(BIZ, "nope", "https://a.example/")


# -- persistence, lifecycle, bounds ---------------------------------------------------------------


def test_state_survives_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with (
        running_emulator(state_file=state) as emu,
        httpx.Client(base_url=emu.url, headers={"X-API-Key": TEST_API_KEY}) as http,
    ):
        kept = create(http, {**HOOK, "configuration": {"echo": True}}).json()["id"]
        gone = create(http, {**HOOK, "topic": "report"}).json()["id"]
        http.delete(f"/v1/businesses/{BIZ}/delete/webhooks/{gone}")
        http.put(
            f"/v1/businesses/{BIZ}/update/webhooks/{kept}",
            json={"address": "https://example.com/moved"},
        )
    saved = json.loads(state.read_text())
    assert [r["id"] for r in saved["registrations"]] == [kept]
    assert sorted(os.listdir(tmp_path)) == ["state.json"]  # no temp files left behind
    with (
        running_emulator(state_file=state) as emu,
        httpx.Client(base_url=emu.url, headers={"X-API-Key": TEST_API_KEY}) as http,
    ):
        (hook,) = listing(http)["entity"]["webhooks"]
        assert (hook["id"], hook["address"], hook["configuration"]["echo"]) == (
            kept,
            "https://example.com/moved",
            True,
        )
        assert create(http, HOOK).status_code == 409  # the topic is still taken


def test_corrupt_state_file_is_a_clear_error(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text("{not json")
    with pytest.raises(ValueError, match="cannot read emulator state file"):
        Emulator(TEST_API_KEY, state_file=state)


def test_stop_ends_idle_connections_and_joins_threads() -> None:
    before = threading.active_count()
    emu = Emulator(TEST_API_KEY).start()
    idle = socket.create_connection(("127.0.0.1", emu.port))
    http = httpx.Client(base_url=emu.url, headers={"X-API-Key": TEST_API_KEY})
    http.get(f"/v1/businesses/{BIZ}/webhooks")  # leaves a keep-alive connection open
    emu.stop()
    emu.stop()  # idempotent
    assert threading.active_count() == before
    assert idle.recv(1) == b""
    idle.close()
    http.close()


def test_connection_cap_refuses_with_503() -> None:
    with running_emulator(max_connections=2) as emu:
        holders = [socket.create_connection(("127.0.0.1", emu.port)) for _ in range(2)]
        try:
            status, headers, body = raw_exchange(
                emu, (f"GET /v1/businesses/{BIZ}/webhooks HTTP/1.1\r\nHost: x\r\n\r\n").encode()
            )
        finally:
            for sock in holders:
                sock.close()
        assert status == 503 and headers["retry-after"] == "1"
        assert "connection limit" in json.loads(body)["message"]


def test_random_key_when_none_given() -> None:
    first, second = Emulator(), Emulator()
    assert len(first.api_key) >= 24 and first.api_key != second.api_key


# -- command line ---------------------------------------------------------------------------------


def _run_cli(args: list[str], stop_signal: int, tmp_path: Path) -> tuple[int, list[str], str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    code = (
        "import sys; from terraform_provider_connectly.emulator.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        url = lines[0].rsplit(" ", 1)[-1].strip()
        key = lines[1].split(": ", 1)[1].strip()
        with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=5) as http:
            response = create(http, HOOK)
        proc.send_signal(stop_signal)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert response.status_code in (200, 201), err
    return proc.returncode, [*lines, *out.splitlines()], key


def test_cli_prints_url_and_generated_key_and_stops_on_sigint(tmp_path: Path) -> None:
    code, lines, key = _run_cli(["--port", "0"], signal.SIGINT, tmp_path)
    assert code == 0
    assert lines[0].startswith("Connectly emulator listening on http://127.0.0.1:")
    assert len(key) >= 24
    assert lines[-1] == "Connectly emulator stopped"


def test_cli_strict_with_state_and_sigterm(tmp_path: Path) -> None:
    code, lines, key = _run_cli(
        [
            "--api-key",
            "cli-key-1234",
            "--strict",
            "--state",
            "state.json",
            "--on-conflict",
            "replace",
        ],
        signal.SIGTERM,
        tmp_path,
    )
    assert code == 0 and key == "cli-key-1234"
    assert "on_conflict=replace" in lines[2] and "create_status=201" in lines[2]
    saved = json.loads((tmp_path / "state.json").read_text())
    assert [r["topic"] for r in saved["registrations"]] == ["messages"]


def test_cli_reports_bad_state_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from terraform_provider_connectly.emulator.cli import main

    (tmp_path / "bad.json").write_text("[]")
    assert main(["--state", str(tmp_path / "bad.json")]) == 2
    assert "cannot read emulator state file" in capsys.readouterr().err
