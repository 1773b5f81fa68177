"""Log rows: the fields of Cloudflare's log object, metadata, collect-log, payloads, no loss."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.local import LocalGateway
from tests.support.local_calls import chat_body, compat, management

LOG_FIELDS = {
    "id", "created_at", "provider", "model", "path", "success", "status_code", "cached",
    "tokens_in", "tokens_out", "cost", "duration", "metadata", "event_id", "step", "feedback",
    "score", "request_id", "model_type", "request_type", "custom_cost",
    "request_content_type", "response_content_type", "request_size", "response_size",
    "request_head", "response_head", "request_head_complete", "response_head_complete",
}  # fmt: skip


def test_a_row_has_every_field_of_the_log_object(gateway: LocalGateway) -> None:
    response = compat(gateway)
    [row] = gateway.logs()
    assert set(row) >= LOG_FIELDS
    assert row["created_at"].endswith("Z") and "T" in row["created_at"]
    assert row["request_content_type"] == "application/json"
    assert row["response_content_type"] == "application/json"
    assert row["response_size"] == len(response.content)
    assert row["feedback"] is None and row["score"] is None
    assert isinstance(row["duration"], int) and row["duration"] >= 0


def test_metadata_keeps_five_entries_and_drops_objects(gateway: LocalGateway) -> None:
    six = {f"k{i}": i for i in range(6)}
    compat(gateway, headers={Header.METADATA: json.dumps(six)})
    compat(gateway, headers={Header.METADATA: '{"a": "x", "b": null}'})
    compat(gateway, headers={Header.METADATA: '{"a": {"nested": 1}}'})
    compat(gateway, headers={Header.METADATA: "not json"})
    compat(gateway, headers={Header.METADATA: '{"s": "x", "n": 1.5, "b": true}'})
    assert [r["metadata"] for r in gateway.logs()] == [
        {f"k{i}": i for i in range(5)},
        None,
        None,
        None,
        {"s": "x", "n": 1.5, "b": True},
    ]


def test_collect_log_false_drops_the_row_but_keeps_the_headers(gateway: LocalGateway) -> None:
    response = compat(gateway, headers={Header.COLLECT_LOG: "false"})
    assert response.status_code == 200 and response.headers[Header.LOG_ID]
    assert gateway.logs() == []


def test_collect_log_true_overrides_a_gateway_without_logs(gateway: LocalGateway) -> None:
    gateway.create_gateway("quiet", collect_logs=False)
    compat(gateway, gateway_id="quiet")
    compat(gateway, headers={Header.COLLECT_LOG: "true"}, gateway_id="quiet")
    assert len(gateway.logs("quiet")) == 1


def test_payloads_are_kept_unless_collect_log_payload_is_false(gateway: LocalGateway) -> None:
    kept = compat(gateway, headers={"authorization": "Bearer sk-keep"})
    bare = compat(gateway, headers={Header.COLLECT_LOG_PAYLOAD: "false"})
    kept_id, bare_id = kept.headers[Header.LOG_ID], bare.headers[Header.LOG_ID]
    request = management(gateway, "GET", f"gateways/default/logs/{kept_id}/request")
    assert request.json() == chat_body()
    answer = management(gateway, "GET", f"gateways/default/logs/{kept_id}/response")
    assert answer.json() == kept.json()
    assert (
        management(gateway, "GET", f"gateways/default/logs/{bare_id}").json()["result"]["payload"]
        is False
    )
    missing = management(gateway, "GET", f"gateways/default/logs/{bare_id}/request")
    assert (missing.status_code, missing.json()["errors"][0]["code"]) == (404, 7002)
    assert all(r["tokens_out"] == 8 for r in gateway.logs())  # metadata-only rows keep counts


def test_stream_payload_is_the_sse_text(gateway: LocalGateway) -> None:
    url = f"{gateway.gateway_url}/compat/chat/completions"
    response = httpx.post(url, json=chat_body(stream=True), timeout=10)
    log_id = response.headers[Header.LOG_ID]
    stored = management(gateway, "GET", f"gateways/default/logs/{log_id}/response")
    assert stored.headers["content-type"].startswith("text/event-stream")
    assert stored.text == response.text


def test_credentials_are_redacted_in_stored_heads(gateway: LocalGateway) -> None:
    gateway.create_gateway("secure", authentication=True)
    headers = {
        Header.AUTHORIZATION: f"Bearer {gateway.token}",
        "authorization": "Bearer sk-provider",
        "x-api-key": "sk-ant-secret",
        "x-goog-api-key": "goog-secret",
        "x-custom": "kept",
    }
    compat(gateway, headers=headers, gateway_id="secure")
    [row] = gateway.logs("secure")
    head = row["request_head"]
    assert head[Header.AUTHORIZATION] == head["authorization"] == "[REDACTED]"
    assert head["x-api-key"] == head["x-goog-api-key"] == "[REDACTED]"
    assert head["x-custom"] == "kept"
    everything = json.dumps(gateway.logs("secure"))
    for secret in (gateway.token, "sk-provider", "sk-ant-secret", "goog-secret"):
        assert secret not in everything


def test_custom_cost_prices_the_tokens(gateway: LocalGateway) -> None:
    compat(gateway, headers={Header.CUSTOM_COST: '{"per_token_in":0.5,"per_token_out":2}'})
    compat(gateway, headers={Header.CUSTOM_COST: '{"total_cost":0.25}'})
    rows = gateway.logs()
    assert [(r["cost"], r["custom_cost"]) for r in rows] == [(5 * 0.5 + 8 * 2, True), (0.25, True)]


def test_logs_of_one_gateway(gateway: LocalGateway) -> None:
    gateway.create_gateway("other")
    compat(gateway)
    compat(gateway, gateway_id="other")
    assert [r["gateway_id"] for r in gateway.logs()] == ["default", "other"]
    assert [r["gateway_id"] for r in gateway.logs("other")] == ["other"]


def test_no_log_lost_under_500_concurrent_requests(gateway: LocalGateway) -> None:
    # 500 requests from 100 threads over 100 connections (httpx's async pool queues
    # badly past a few hundred waiting requests, which would time the client, not us).
    url = f"{gateway.gateway_url}/compat/chat/completions"
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    with httpx.Client(limits=limits, timeout=60) as client, ThreadPoolExecutor(100) as pool:
        responses = list(
            pool.map(
                lambda i: client.post(url, json=chat_body(), headers={Header.EVENT_ID: f"e{i}"}),
                range(500),
            )
        )
    assert [r.status_code for r in responses] == [200] * 500
    rows = gateway.logs()
    assert len(rows) == 500
    assert {r["id"] for r in rows} == {r.headers[Header.LOG_ID] for r in responses}
    assert {r["event_id"] for r in rows} == {f"e{i}" for i in range(500)}


def test_a_client_leaving_mid_stream_still_gets_a_row(gateway: LocalGateway) -> None:
    url = f"{gateway.gateway_url}/compat/chat/completions"
    body = chat_body("openai/gpt-4o-mini~chunk-delay=200", stream=True)
    with httpx.Client(timeout=10) as client, client.stream("POST", url, json=body) as response:
        log_id = response.headers[Header.LOG_ID]
        next(response.iter_lines())  # the first chunk, then hang up
    for _ in range(100):  # the server notices the hang-up at its next write
        rows = gateway.logs()
        if rows:
            break
        threading.Event().wait(0.05)
    [row] = rows
    assert (row["id"], row["success"], row["request_type"]) == (log_id, False, "stream")


def test_log_management_caps_the_rows_of_a_gateway() -> None:
    # The API's minimum cap is 10,000 rows; the store's rule is the same at any size.
    from langchain_cf_gateway.local.logstore import LogStore

    store = LogStore()
    try:
        for i in range(5):
            store.add({"id": f"a{i}", "gateway_id": "a"}, retention=(3, "DELETE_OLDEST"))
            store.add({"id": f"s{i}", "gateway_id": "s"}, retention=(3, "STOP_INSERTING"))
            store.add({"id": f"f{i}", "gateway_id": "free"})
        ids = {g: [r["id"] for r in store.run(LogStore.select(g))[0]] for g in ("a", "s", "free")}
    finally:
        store.close()
    assert ids == {
        "a": ["a2", "a3", "a4"],
        "s": ["s0", "s1", "s2"],
        "free": [f"f{i}" for i in range(5)],
    }


def test_log_management_through_the_gateway(gateway: LocalGateway) -> None:
    gateway.create_gateway(
        "capped", log_management=10_000, log_management_strategy="STOP_INSERTING"
    )
    compat(gateway, gateway_id="capped")
    [row] = gateway.logs("capped")
    assert row["success"] is True
