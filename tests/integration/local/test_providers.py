"""Anthropic's schema, the REST API shape, pass-through upstreams, rate limits."""

from __future__ import annotations

import json
from collections.abc import Iterator

import openai
import pytest

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.local import LocalGateway, PassThrough
from tests.support.local_calls import HELLO, auth, chat_body, compat, gateway_error, http

ANTHROPIC_HEADERS = {"x-api-key": "sk-ant", "anthropic-version": "2023-06-01"}


def test_anthropic_messages_in_anthropics_schema(gateway: LocalGateway) -> None:
    url = f"{gateway.gateway_url}/anthropic/v1/messages"
    body = {
        "model": "claude-3-5-haiku",
        "max_tokens": 100,
        "system": "Be brief.",
        "messages": HELLO,
    }
    message = http.post(url, json=body, headers=ANTHROPIC_HEADERS).json()
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["content"] == [{"type": "text", "text": "Mock answer: Hello there, world!"}]
    assert message["stop_reason"] == "end_turn"
    assert message["usage"] == {"input_tokens": 8, "output_tokens": 8}  # system counts
    [row] = gateway.logs()
    assert (row["provider"], row["path"], row["tokens_in"]) == (
        "anthropic",
        "anthropic/v1/messages",
        8,
    )


def test_anthropic_stream_event_sequence(gateway: LocalGateway) -> None:
    url = f"{gateway.gateway_url}/anthropic/v1/messages"
    body = {"model": "claude-3-5-haiku", "max_tokens": 100, "messages": HELLO, "stream": True}
    text = http.post(url, json=body, headers=ANTHROPIC_HEADERS).text
    events = [line[7:] for line in text.splitlines() if line.startswith("event: ")]
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert events[-2] == "message_delta" and "content_block_delta" in events
    deltas = [
        json.loads(line[6:])["delta"]["text"]
        for line in text.splitlines()
        if line.startswith("data: ") and '"text_delta"' in line
    ]
    assert "".join(deltas) == "Mock answer: Hello there, world!"


def test_anthropic_scripted_tool_use_and_fault(gateway: LocalGateway) -> None:
    url = f"{gateway.gateway_url}/anthropic/v1/messages"
    body = {"model": "claude-3-5-haiku", "max_tokens": 100, "messages": HELLO}
    gateway.script(tool_calls=[{"name": "lookup", "arguments": {"q": "x"}}], provider="anthropic")
    message = http.post(url, json=body, headers=ANTHROPIC_HEADERS).json()
    [block] = message["content"]
    assert (block["type"], block["name"], block["input"]) == ("tool_use", "lookup", {"q": "x"})
    assert message["stop_reason"] == "tool_use"
    faulted = http.post(url, json={**body, "model": "claude~status=529"}, headers=ANTHROPIC_HEADERS)
    assert faulted.status_code == 529
    assert faulted.json() == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "mock fault: HTTP 529"},
    }


def test_anthropic_models_on_compat_answer_in_openai_schema(gateway: LocalGateway) -> None:
    answer = compat(gateway, chat_body("anthropic/claude-3-5-haiku")).json()
    assert answer["object"] == "chat.completion"
    assert gateway.logs()[0]["provider"] == "anthropic"


def test_rest_api_shape_with_gateway_id_header(gateway: LocalGateway) -> None:
    gateway.create_gateway("rest-gw")
    client = openai.OpenAI(
        base_url=f"{gateway.base_url}/client/v4/accounts/{gateway.account_id}/ai/v1",
        api_key=gateway.token,
        max_retries=0,
        default_headers={Header.GATEWAY_ID: "rest-gw"},
    )
    for model in ("openai/gpt-4o-mini", "xai/grok-3", "@cf/meta/llama-3.1-8b-instruct"):
        answer = client.chat.completions.create(model=model, messages=HELLO)  # type: ignore[arg-type]
        assert answer.choices[0].message.content == "Mock answer: Hello there, world!"
    rows = gateway.logs("rest-gw")
    assert [(r["provider"], r["path"]) for r in rows] == [
        ("openai", "ai/v1/chat/completions"),
        ("grok", "ai/v1/chat/completions"),
        ("workers-ai", "ai/v1/chat/completions"),
    ]
    assert all(r["request_head"]["authorization"] == "[REDACTED]" for r in rows)


# ------------------------------------------------------------------ pass-through upstreams


@pytest.fixture(scope="module")
def upstream() -> Iterator[LocalGateway]:
    """Another local gateway, standing in for any OpenAI-compatible server."""
    with LocalGateway() as server:
        yield server


@pytest.fixture(scope="module")
def front(upstream: LocalGateway) -> Iterator[LocalGateway]:
    targets = {
        "openai": PassThrough(base_url=f"{upstream.gateway_url}/openai", api_key="sk-upstream"),
        "mistral": PassThrough(base_url=f"{upstream.gateway_url}/mistral"),
    }
    with LocalGateway(upstreams=targets) as gw:
        yield gw


@pytest.fixture
def pair(upstream: LocalGateway, front: LocalGateway) -> tuple[LocalGateway, LocalGateway]:
    upstream.reset()
    front.reset()
    return upstream, front


def test_pass_through_native_route_with_the_configured_key(
    pair: tuple[LocalGateway, LocalGateway],
) -> None:
    upstream, front = pair
    url = f"{front.gateway_url}/openai/chat/completions"
    response = http.post(
        url, json=chat_body("gpt-4o-mini"), headers={"authorization": "Bearer sk-client"}
    )
    assert response.json()["choices"][0]["message"]["content"] == "Mock answer: Hello there, world!"
    [sent] = upstream.received
    assert sent.path == f"/v1/{upstream.account_id}/default/openai/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-upstream"
    assert sent.json == chat_body("gpt-4o-mini")
    [row] = front.logs()
    assert (row["tokens_in"], row["tokens_out"], row["provider"]) == (5, 8, "openai")


def test_pass_through_compat_strips_the_prefix_and_keeps_the_client_key(
    pair: tuple[LocalGateway, LocalGateway],
) -> None:
    upstream, front = pair
    headers = {"authorization": "Bearer sk-client", Header.CACHE_TTL: "60"}
    compat(front, chat_body("mistral/mistral-small"), headers)
    [sent] = upstream.received
    assert sent.path.endswith("/mistral/v1/chat/completions")
    assert sent.json["model"] == "mistral-small"
    assert sent.headers["authorization"] == "Bearer sk-client"
    assert not any(k.startswith("cf-aig-") for k in sent.headers)  # gateway headers stay here
    assert (
        compat(front, chat_body("mistral/mistral-small"), headers).headers[Header.CACHE_STATUS]
        == "HIT"
    )
    assert len(upstream.received) == 1


def test_pass_through_stream_and_its_usage(pair: tuple[LocalGateway, LocalGateway]) -> None:
    upstream, front = pair
    client = openai.OpenAI(base_url=f"{front.gateway_url}/openai", api_key="k", max_retries=0)
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=HELLO, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == (
        "Mock answer: Hello there, world!"
    )
    [row] = front.logs()
    assert (row["tokens_in"], row["tokens_out"], row["request_type"]) == (5, 8, "stream")
    assert upstream.received[0].json["stream"] is True


def test_pass_through_errors_pass_through(pair: tuple[LocalGateway, LocalGateway]) -> None:
    upstream, front = pair
    upstream.script(fault="status=503", times=None)
    response = compat(front, chat_body("openai/gpt-4o-mini"), {Header.MAX_ATTEMPTS: "2"})
    assert response.status_code == 503
    assert response.json()["error"]["message"] == "mock fault: HTTP 503"
    assert len(upstream.received) == 2  # retried against the real upstream
    # A fault asked of the front gateway is made there; the upstream is not called.
    assert compat(front, chat_body("openai/gpt-4o-mini~status=418")).status_code == 418
    assert len(upstream.received) == 2


# ------------------------------------------------------------------ rate limits


def _window_start(gw: LocalGateway, interval: int) -> None:
    gw.clock.advance(interval - gw.clock() % interval + 0.001)


def test_fixed_window_rate_limit(gateway: LocalGateway) -> None:
    gateway.create_gateway("fixed", rate_limiting_limit=2, rate_limiting_interval=60)
    _window_start(gateway, 60)
    codes = [compat(gateway, gateway_id="fixed").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    gateway.clock.advance(59)  # the same calendar window
    assert compat(gateway, gateway_id="fixed").status_code == 429
    gateway.clock.advance(1)  # the next window
    assert compat(gateway, gateway_id="fixed").status_code == 200
    rows = gateway.logs("fixed")
    assert [r["status_code"] for r in rows] == [200, 200, 429, 429, 200]


def test_sliding_window_rate_limit(gateway: LocalGateway) -> None:
    gateway.create_gateway(
        "sliding",
        rate_limiting_limit=2,
        rate_limiting_interval=60,
        rate_limiting_technique="sliding",
    )
    assert compat(gateway, gateway_id="sliding").status_code == 200
    gateway.clock.advance(30)
    assert compat(gateway, gateway_id="sliding").status_code == 200
    assert gateway_error(compat(gateway, gateway_id="sliding"))[:2] == (429, 2003)
    gateway.clock.advance(31)  # the first request left the window, the second has not
    assert compat(gateway, gateway_id="sliding").status_code == 200
    assert compat(gateway, gateway_id="sliding").status_code == 429


def test_rate_limit_is_not_a_reason_to_fall_back(gateway: LocalGateway) -> None:
    gateway.create_gateway(
        "one", rate_limiting_limit=1, rate_limiting_interval=3600, authentication=True
    )
    _window_start(gateway, 3600)
    step = {"provider": "compat", "endpoint": "chat/completions", "query": chat_body()}
    url = f"{gateway.base_url}/v1/{gateway.account_id}/one"
    assert http.post(url, json=[step, step], headers=auth(gateway)).status_code == 200
    limited = http.post(url, json=[step, step], headers=auth(gateway))
    assert gateway_error(limited)[:2] == (429, 2003)
    assert limited.headers[Header.STEP] == "0"


def test_workers_ai_native_run_in_its_own_schema(gateway: LocalGateway) -> None:
    url = f"{gateway.gateway_url}/workers-ai/@cf/meta/llama-3.1-8b-instruct"
    answer = http.post(url, json={"prompt": "Hello there, world!"}).json()
    assert answer["success"] is True
    assert answer["result"]["response"] == "Mock answer: Hello there, world!"
    streamed = http.post(url, json={"messages": HELLO, "stream": True}).text
    assert '"response":"Mock "' in streamed and streamed.rstrip().endswith("data: [DONE]")
    rows = gateway.logs()
    assert [(r["model"], r["tokens_out"]) for r in rows] == [
        ("@cf/meta/llama-3.1-8b-instruct", 8),
        ("@cf/meta/llama-3.1-8b-instruct", 8),
    ]
    # The universal endpoint's documented example: a Workers AI step, then OpenAI.
    steps = [
        {
            "provider": "workers-ai",
            "endpoint": "@cf/meta/llama-3.1-8b-instruct~status=500",
            "query": {"messages": HELLO},
        },
        {"provider": "openai", "endpoint": "chat/completions", "query": chat_body("gpt-4o-mini")},
    ]
    fallback = http.post(gateway.gateway_url, json=steps)
    assert fallback.headers[Header.STEP] == "1" and fallback.json()["object"] == "chat.completion"
