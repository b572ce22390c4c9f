"""CPU per API request: the provider's Connectly client next to the least an HTTP/1.1 exchange
costs in Python.

Both send the same listing to the emulator (in this process, on its own threads) over a kept-
alive connection and decode its JSON; only the calling thread's CPU is counted. The client's
figure is its direct transport (``http.client`` under ``connectly/direct.py``), building an
``httpx.Response``, plus our retry, error and model code; the bare ``http.client`` exchange is
the floor. The ratio is what "What limits it" on the performance page refers to.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from bench_report import Row, Stat, us

from terraform_provider_connectly.connectly import ConnectlyClient, WebhookSpec
from terraform_provider_connectly.emulator.server import Emulator

BUSINESS = "biz_bench_http"


def _per_call(send: Callable[[], object], calls: int) -> float:
    send()  # the connection opened, the first-call imports done
    started = time.thread_time()
    for _ in range(calls):
        send()
    return (time.thread_time() - started) / calls


def measure(emulator: Emulator, repeats: int = 3, calls: int = 1000) -> dict[str, Stat]:
    """CPU seconds per listing of one business holding two webhooks, by sender."""
    client = ConnectlyClient(emulator.api_key, emulator.url)
    for topic in ("messages", "delivery_status"):
        client.create_webhook(
            BUSINESS, WebhookSpec(topic=topic, address=f"https://example.com/{topic}")
        )
    where = urlsplit(emulator.url)
    conn = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=30)
    path = f"/v1/businesses/{BUSINESS}/webhooks"
    headers = {"X-API-Key": emulator.api_key, "Accept": "application/json"}

    def ours() -> object:
        listing = client.list_webhooks(BUSINESS)
        if len(listing) != 2:
            raise RuntimeError(f"the bench listing holds {len(listing)} webhooks, not 2")
        return listing

    def bare() -> object:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = json.loads(response.read())
        if response.status != 200 or len(body["entity"]["webhooks"]) != 2:
            raise RuntimeError(f"the bench listing answered {response.status}: {body}")
        return body

    costs: dict[str, list[float]] = {"ours": [], "bare": []}
    try:
        for _ in range(repeats):  # interleaved, so that neither always runs on a quieter host
            costs["ours"].append(_per_call(ours, calls))
            costs["bare"].append(_per_call(bare, calls))
    finally:
        conn.close()
        client.close()
    return {name: Stat(values) for name, values in costs.items()}


def rows(costs: dict[str, Stat], section: str) -> list[Row]:
    ours, bare = costs["ours"], costs["bare"]
    return [
        Row(
            section,
            "Connectly client: CPU per API request",
            us(ours.median),
            us(ours.min),
            us(ours.max),
            note="a listing of 2 webhooks from the emulator, JSON decoded; the calling thread",
        ),
        Row(
            section,
            "http.client (floor): CPU per API request",
            us(bare.median),
            us(bare.min),
            us(bare.max),
            note="the same request on a kept-alive connection, JSON decoded",
        ),
        Row(
            section,
            "API request CPU, Connectly client / http.client",
            f"{ours.median / bare.median:.2f}x",
            note="what the client's own code (retries, errors, models, the response) adds",
        ),
    ]
