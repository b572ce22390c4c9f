"""Unit tests of the client's parsing: models, error bodies, Retry-After, redaction."""

from __future__ import annotations

import copy
import email.utils
import json
import os
import warnings

import certifi
import httpx
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from terraform_provider_connectly.connectly import (
    Conflict,
    ConnectlyClient,
    ConnectlyError,
    Filter,
    InvalidRequest,
    InvalidResponse,
    NotFound,
    OperationTimeout,
    RateLimited,
    RetryPolicy,
    ServerError,
    Unauthorized,
    WebengageConfiguration,
    Webhook,
    WebhookConfiguration,
    WebhookSpec,
)
from terraform_provider_connectly.connectly.errors import (
    error_for_response,
    parse_error_body,
    redact,
)
from terraform_provider_connectly.connectly.models import ShapeError, parse_listing
from terraform_provider_connectly.connectly.retry import parse_retry_after

KEY = "sk_live_0123456789abcdef"
TOKEN = "we-token-fedcba9876"


def test_spec_to_api_uses_camel_case_and_leaves_out_unset_fields() -> None:
    spec = WebhookSpec(
        "messages",
        "https://example.com/h",
        configuration=WebhookConfiguration(
            channel_types=["sms"],
            filters=[Filter("campaign_name", "prod-*")],
            webengage_configuration=WebengageConfiguration(TOKEN, "https://we.example/x"),
        ),
    )
    assert spec.to_api() == {
        "topic": "messages",
        "address": "https://example.com/h",
        "configuration": {
            "channelTypes": ["sms"],
            "filters": [{"field": "campaign_name", "expression": "prod-*"}],
            "webengageConfiguration": {
                "webengageToken": TOKEN,
                "webengageWebhookUrl": "https://we.example/x",
            },
        },
    }
    assert WebhookConfiguration(echo=False, filters=[]).to_api() == {"echo": False, "filters": []}


def test_listing_parses_full_and_sparse_webhooks() -> None:
    body = {
        "entity": {
            "businessId": "b",
            "webhooks": [
                {
                    "id": "wh_1",
                    "topic": "messages",
                    "address": "https://a.example",
                    "type": "zapier",
                    "configuration": {
                        "echo": True,
                        "channelTypes": ["whatsapp", "sms"],
                        "filters": [{"field": "campaign_name"}],
                        "webengageConfiguration": {"webengageToken": "****"},
                    },
                },
                {"id": "wh_2"},
            ],
        }
    }
    first, second = parse_listing(body)
    assert first == Webhook(
        "wh_1",
        "messages",
        "https://a.example",
        "zapier",
        WebhookConfiguration(
            True,
            ["whatsapp", "sms"],
            [Filter("campaign_name", "")],
            WebengageConfiguration("****", None),
        ),
    )
    assert second == Webhook("wh_2", None, None, None, None)
    assert second.type is None


@pytest.mark.parametrize(
    "body",
    [{"entity": {"businessId": "b"}}, {"entity": {"webhooks": []}}, {"entity": {"webhooks": None}}],
)
def test_listing_without_webhooks_is_empty(body: object) -> None:
    assert parse_listing(body) == []


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({}, "entity"),
        ([], "response"),
        ({"entity": []}, "entity"),
        ({"entity": {"webhooks": {}}}, "entity.webhooks"),
        ({"entity": {"webhooks": [{"topic": "messages"}]}}, "no id"),
        ({"entity": {"webhooks": [{"id": 5}]}}, "entity.webhooks[0].id"),
        ({"entity": {"webhooks": [{"id": "w", "configuration": {"echo": "yes"}}]}}, "echo"),
        (
            {"entity": {"webhooks": [{"id": "w", "configuration": {"channelTypes": [1]}}]}},
            "channelTypes[0]",
        ),
        (
            {"entity": {"webhooks": [{"id": "w", "configuration": {"filters": ["x"]}}]}},
            "filters[0]",
        ),
    ],
)
def test_listing_of_wrong_shape_names_the_field(body: object, where: str) -> None:
    with pytest.raises(ShapeError, match=where.replace("[", r"\[").replace("]", r"\]")):
        parse_listing(body)


def test_webengage_token_is_not_in_repr() -> None:
    conf = WebhookConfiguration(webengage_configuration=WebengageConfiguration(TOKEN, None))
    assert TOKEN not in repr(conf)
    assert TOKEN not in repr(WebhookSpec("messages", "https://a.example", configuration=conf))


def test_models_deep_copy_equal() -> None:
    hook = parse_listing(
        {
            "entity": {
                "webhooks": [
                    {"id": "w", "configuration": {"filters": [{"field": "f", "expression": "e"}]}}
                ]
            }
        }
    )[0]
    assert copy.deepcopy(hook) == hook


# -- error bodies ------------------------------------------------------------------------------


def test_connectly_error_shape() -> None:
    body = json.dumps(
        {
            "message": "invalid API key",
            "type": "ERROR_TYPE_UNAUTHENTICATED",
            "code": "ERROR_CODE_UNAUTHENTICATED",
            "userTitle": "t",
            "userMessage": "u",
            "cntTraceId": "11824978358485860716",
            "details": {"a": 1},
        }
    )
    parsed = parse_error_body(body, "application/json")
    assert (parsed.message, parsed.code, parsed.trace_id, parsed.error_type, parsed.details) == (
        "invalid API key",
        "ERROR_CODE_UNAUTHENTICATED",
        "11824978358485860716",
        "ERROR_TYPE_UNAUTHENTICATED",
        {"a": 1},
    )


def test_grpc_gateway_error_shape() -> None:
    parsed = parse_error_body('{"code": 5, "message": "webhook not found", "details": []}')
    assert (parsed.message, parsed.code, parsed.trace_id) == (
        "webhook not found",
        "NOT_FOUND",
        None,
    )


@pytest.mark.parametrize(
    ("text", "content_type", "expected"),
    [
        ("", "", "(empty response body)"),
        ("   \n", "application/json", "(empty response body)"),
        ('{"message": "cut', "application/json", 'unreadable JSON error body: {"message": "cut'),
        (
            "<html><head><title>502 Bad Gateway</title><style>p{}</style></head><body>"
            "<h1>Bad&nbsp;Gateway</h1></body></html>",
            "text/html",
            "502 Bad Gateway Bad Gateway",
        ),  # &nbsp; becomes a plain space
        ("upstream connect error", "text/plain", "upstream connect error"),
        ("[1, 2]", "application/json", "[1, 2]"),
        (
            '{"message": 42, "code": true, "cntTraceId": false}',
            "application/json",
            '{"message": 42, "code": true, "cntTraceId": false}',
        ),
        ('{"userMessage": "try later"}', "application/json", "try later"),
    ],
)
def test_unusual_error_bodies_read_as_one_line(text: str, content_type: str, expected: str) -> None:
    parsed = parse_error_body(text, content_type)
    assert parsed.message == expected
    assert parsed.code is None and parsed.trace_id is None


def test_long_bodies_are_cut_to_about_200_chars() -> None:
    parsed = parse_error_body("<p>" + "x" * 5000 + "</p>", "text/html")
    assert len(parsed.message) <= 201 and parsed.message.endswith("…")


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, InvalidRequest),
        (422, InvalidRequest),
        (401, Unauthorized),
        (403, Unauthorized),
        (404, NotFound),
        (409, Conflict),
        (429, RateLimited),
        (500, ServerError),
        (503, ServerError),
        (418, ConnectlyError),
    ],
)
def test_status_maps_to_error_class(status: int, cls: type[ConnectlyError]) -> None:
    err = error_for_response(status, "", operation="list", method="GET", path="/p", secrets=[])
    assert type(err) is cls
    assert err.status == status


def test_error_text_is_actionable() -> None:
    err = error_for_response(
        401,
        '{"message": "invalid API key", "cntTraceId": "123"}',
        operation="list",
        method="GET",
        path="/v1/businesses/biz_1/webhooks",
        secrets=[],
    )
    assert str(err) == (
        "Connectly API: 401 Unauthorized on GET /v1/businesses/biz_1/webhooks: "
        "invalid API key (trace id 123)"
    )


def test_secrets_never_reach_error_text_or_details() -> None:
    body = json.dumps(
        {
            "message": f"bad key {KEY} and token {TOKEN}",
            "cntTraceId": KEY,
            "details": {"echo": TOKEN},
        }
    )
    err = error_for_response(
        400, body, operation="create", method="POST", path="/p", secrets=[KEY, TOKEN]
    )
    for text in (str(err), repr(err), json.dumps(err.details), str(err.trace_id)):
        assert KEY not in text and TOKEN not in text
    assert "bad key *** and token ***" in str(err)


def test_redact_ignores_trivially_short_secrets_and_prefers_longest() -> None:
    assert redact("abcdef", ["ab"]) == "abcdef"
    assert redact("key=abcdef", ["abc", "abcdef"]) == "key=***"


def test_operation_timeout_is_a_timeout_error_and_survives_copy() -> None:
    err = OperationTimeout(
        "create webhook did not finish", elapsed=3.0, operation="create", method="POST", path="/p"
    )
    assert isinstance(err, TimeoutError) and isinstance(err, ConnectlyError)
    clone = copy.copy(err)
    assert isinstance(clone, OperationTimeout)
    assert (type(clone), clone.elapsed, str(clone)) == (OperationTimeout, 3.0, str(err))
    conflict = Conflict("taken", existing=Webhook("wh_1"), status=409)
    assert copy.copy(conflict).existing == Webhook("wh_1")


# -- Retry-After and backoff ------------------------------------------------------------------

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        ("0", 0.0),
        (email.utils.formatdate(NOW + 12, usegmt=True), 12.0),
        (email.utils.formatdate(NOW - 30, usegmt=True), 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("-3", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_backoff_is_exponential_capped_and_fully_jittered() -> None:
    fixed = RetryPolicy(base_delay=1.0, max_delay=5.0, jitter=False)
    assert [fixed.backoff(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    low = RetryPolicy(base_delay=1.0, max_delay=5.0, random=lambda: 0.0)
    high = RetryPolicy(base_delay=1.0, max_delay=5.0, random=lambda: 0.5)
    assert [low.backoff(n) for n in range(1, 4)] == [0.0, 0.0, 0.0]
    assert [high.backoff(n) for n in range(1, 5)] == [0.5, 1.0, 2.0, 2.5]


# -- success bodies that are not what the API documents (MockTransport) ----------------------


def _client(handler: httpx.MockTransport) -> ConnectlyClient:
    return ConnectlyClient(
        KEY, "https://connectly.test", transport=handler, retry=RetryPolicy(max_attempts=1)
    )


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty body"),
        (b"<html>ok</html>", "not JSON"),
        (b'{"id": ', "not JSON"),
        (b'{"entity": {}}', "no webhook id"),
        (b'{"id": 7}', "expected a string"),
        (b"[]", "expected an object"),
    ],
)
def test_create_success_without_id_is_invalid_response(content: bytes, fragment: str) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"entity": {"webhooks": []}})
        return httpx.Response(200, content=content)

    with _client(httpx.MockTransport(handle)) as client, pytest.raises(InvalidResponse) as info:
        client.create_webhook("b", WebhookSpec("messages", "https://a.example"))
    assert fragment in str(info.value)
    assert info.value.status == 200 and info.value.operation == "create"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty body"),
        (b"not json", "not JSON"),
        (b'{"webhooks": []}', "no 'entity'"),
        (b'{"entity": {"webhooks": [{"id": "w", "topic": 3}]}}', "topic: expected a string"),
    ],
)
def test_list_success_of_wrong_shape_is_invalid_response(content: bytes, fragment: str) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=content))
    with _client(transport) as client, pytest.raises(InvalidResponse) as info:
        client.list_webhooks("b")
    assert fragment in str(info.value)
    assert info.value.method == "GET"


def test_requests_carry_key_user_agent_and_quoted_ids() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    client = ConnectlyClient(
        KEY,
        "https://connectly.test/",
        user_agent="tf-connectly/9.9",
        transport=httpx.MockTransport(handle),
    )
    with client:
        client.delete_webhook("biz 1/x", "wh_1")
        client.update_webhook(
            "b", "wh_2", address=None, configuration=WebhookConfiguration(echo=False)
        )
    assert seen[0].headers["X-API-Key"] == KEY
    assert seen[0].headers["User-Agent"] == "tf-connectly/9.9"
    assert seen[0].url.raw_path == b"/v1/businesses/biz%201%2Fx/delete/webhooks/wh_1"
    assert seen[1].method == "PUT"
    assert json.loads(seen[1].content) == {"configuration": {"echo": False}}


def test_requests_keep_the_base_path_and_say_what_they_send() -> None:
    """The transport builds requests itself (not through Client.build_request): they must
    still be what the client would have sent."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"entity": {"webhooks": []}})

    client = ConnectlyClient(
        KEY, "https://connectly.test/proxy/", timeout=7.0, transport=httpx.MockTransport(handle)
    )
    with client:
        client.list_webhooks("b")
        client.update_webhook("b", "wh_2", address="https://h.test/é", configuration=None)
    listing, update = seen
    assert str(listing.url) == "https://connectly.test/proxy/v1/businesses/b/webhooks"
    assert listing.content == b"" and "content-type" not in listing.headers
    assert listing.headers["Accept"] == "application/json"
    assert listing.headers["Host"] == "connectly.test"
    assert update.url.raw_path == b"/proxy/v1/businesses/b/update/webhooks/wh_2"
    assert update.headers["Content-Type"] == "application/json"
    assert update.headers["Content-Length"] == str(len(update.content))
    assert json.loads(update.content) == {"address": "https://h.test/é"}
    read_timeout = listing.extensions["timeout"]["read"]
    assert 0 < read_timeout <= 7.0


@pytest.mark.parametrize(
    "url", ["api.connectly.ai", "ftp://api.connectly.ai", "http://", "", "http://[::1"]
)
def test_base_url_must_be_absolute_http(url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        ConnectlyClient(KEY, url)


def test_ca_bundle_path_is_accepted_without_deprecation_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ConnectlyClient(KEY, verify=certifi.where()).close()
        ConnectlyClient(KEY, verify=os.path.dirname(certifi.where())).close()
        ConnectlyClient(KEY, verify=False).close()


SECRET_CHARS = st.characters(codec="ascii", exclude_characters="*", categories=("L", "N", "P"))


@settings(max_examples=150, deadline=None)
@given(
    prefix=st.text(max_size=300),
    suffix=st.text(max_size=300),
    secret=st.text(SECRET_CHARS, min_size=8, max_size=40),
    status=st.sampled_from([400, 401, 404, 409, 429, 500, 502]),
    wrap=st.sampled_from(
        [
            "{s}",
            '{{"message": "{s}"}}',
            "<p>{s}</p>",
            '{{"message": "{s}',
            '{{"code": 3, "message": "{s}", "details": ["{s}"]}}',
        ]
    ),
)
def test_no_body_can_leak_a_secret_into_error_text(
    prefix: str, suffix: str, secret: str, status: int, wrap: str
) -> None:
    # A "secret" that the error text holds anyway (e.g. "INVALID_" in the gRPC code name
    # INVALID_ARGUMENT) proves nothing either way.
    neutral = error_for_response(
        status,
        wrap.format(s="-"),
        content_type="",
        operation="list",
        method="GET",
        path="/p",
        secrets=[],
    )
    assume(secret not in str(neutral))
    text = wrap.format(s=prefix + secret + suffix)
    err = error_for_response(
        status, text, content_type="", operation="list", method="GET", path="/p", secrets=[secret]
    )
    assert secret not in str(err)
    assert secret not in json.dumps(err.details)


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(max_size=2000), content_type=st.sampled_from(["", "text/html", "application/json"])
)
def test_any_error_body_reads_as_a_short_line(text: str, content_type: str) -> None:
    parsed = parse_error_body(text, content_type)
    assert isinstance(parsed.message, str) and parsed.message
    assert len(parsed.message) <= 230 and "\n" not in parsed.message


json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(
    webhooks=st.lists(
        st.dictionaries(
            st.sampled_from(["id", "topic", "address", "type", "configuration"]),
            json_values
            | st.fixed_dictionaries(
                {},
                optional={
                    "echo": json_values,
                    "channelTypes": json_values,
                    "filters": json_values,
                    "webengageConfiguration": json_values,
                },
            ),
        ),
        max_size=3,
    )
)
def test_listing_parse_either_succeeds_or_raises_shape_error(webhooks: list[object]) -> None:
    try:
        parsed = parse_listing({"entity": {"webhooks": webhooks}})
    except ShapeError as exc:
        assert str(exc)
    else:
        assert all(isinstance(w, Webhook) and w.id for w in parsed)


@given(
    spec=st.builds(
        WebhookSpec,
        topic=st.sampled_from(["messages", "delivery_status", "report"]),
        address=st.text(min_size=1, max_size=30),
        type=st.none() | st.sampled_from(["custom", "zapier"]),
        configuration=st.none()
        | st.builds(
            WebhookConfiguration,
            echo=st.none() | st.booleans(),
            channel_types=st.none() | st.lists(st.sampled_from(["whatsapp", "sms"]), max_size=2),
            filters=st.none()
            | st.lists(st.builds(Filter, st.text(max_size=5), st.text(max_size=5)), max_size=2),
            webengage_configuration=st.none()
            | st.builds(
                WebengageConfiguration,
                st.none() | st.text(max_size=5),
                st.none() | st.text(max_size=5),
            ),
        ),
    )
)
def test_what_the_client_sends_reads_back_the_same(spec: WebhookSpec) -> None:
    body = spec.to_api()
    hook = Webhook.from_api({"id": "wh_1", **json.loads(json.dumps(body))})
    assert (hook.topic, hook.address, hook.type) == (spec.topic, spec.address, spec.type)
    assert hook.configuration == spec.configuration
