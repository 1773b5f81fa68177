"""The universal endpoint (spec section 1a): steps, per-step headers and config, fallback."""

from __future__ import annotations

from typing import Any

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.local import LocalGateway
from tests.support.local_calls import HELLO, gateway_error, universal


def step(provider: str, endpoint: str, model: str, **extra: Any) -> dict[str, Any]:
    query = {"model": model, "messages": HELLO}
    return {"provider": provider, "endpoint": endpoint, "query": query, **extra}


def test_first_step_answers(gateway: LocalGateway) -> None:
    response = universal(gateway, [step("openai", "chat/completions", "gpt-4o-mini")])
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "Mock answer: Hello there, world!"
    assert response.headers[Header.STEP] == "0"
    [row] = gateway.logs()
    assert (row["step"], row["provider"], row["path"]) == (0, "openai", "openai/chat/completions")
    assert row["request_id"] == response.headers[Header.REQUEST_ID]
    assert row["id"] == response.headers[Header.LOG_ID]


def test_fallback_after_a_faulted_first_step(gateway: LocalGateway) -> None:
    response = universal(
        gateway,
        [
            step("compat", "chat/completions", "openai/gpt-4o-mini~status=503"),
            step("workers-ai", "v1/chat/completions", "@cf/meta/llama-3.1-8b-instruct"),
        ],
        headers={Header.EVENT_ID: "evt-1"},
    )
    assert response.status_code == 200
    assert response.headers[Header.STEP] == "1"
    assert response.json()["model"] == "@cf/meta/llama-3.1-8b-instruct"
    rows = gateway.logs()
    assert [(r["step"], r["success"], r["status_code"], r["provider"]) for r in rows] == [
        (0, False, 503, "openai"),
        (1, True, 200, "workers-ai"),
    ]
    assert rows[0]["path"] == "compat/chat/completions"
    assert {r["request_id"] for r in rows} == {response.headers[Header.REQUEST_ID]}
    assert {r["event_id"] for r in rows} == {"evt-1"} == {response.headers[Header.EVENT_ID]}
    assert rows[1]["id"] == response.headers[Header.LOG_ID] != rows[0]["id"]


def test_fallback_on_timeout_from_step_config(gateway: LocalGateway) -> None:
    response = universal(
        gateway,
        [
            step(
                "openai",
                "chat/completions",
                "gpt-4o-mini~delay=3000",
                config={"requestTimeout": 50},
            ),
            step("compat", "chat/completions", "groq/llama-3.1-8b-instant"),
        ],
    )
    assert response.status_code == 200 and response.headers[Header.STEP] == "1"
    first = gateway.logs()[0]
    assert (first["status_code"], first["success"], first["step"]) == (502, False, 0)


def test_every_step_failing_returns_the_last_error(gateway: LocalGateway) -> None:
    response = universal(
        gateway,
        [
            step("openai", "chat/completions", "gpt-4o-mini~status=500"),
            step("compat", "chat/completions", "openai/gpt-4o~status=429"),
        ],
    )
    assert response.status_code == 429
    assert response.headers[Header.STEP] == "1"
    assert [r["status_code"] for r in gateway.logs()] == [500, 429]


def test_step_headers_win_over_request_headers(gateway: LocalGateway) -> None:
    steps = [
        step(
            "openai",
            "chat/completions",
            "gpt-4o-mini",
            headers={Header.CACHE_TTL: "60", Header.METADATA: '{"from":"step"}'},
        )
    ]
    request = {Header.METADATA: '{"from":"request"}', Header.CACHE_TTL: "3600"}
    first = universal(gateway, steps, headers=request)
    second = universal(gateway, steps, headers=request)
    assert (first.headers[Header.CACHE_STATUS], second.headers[Header.CACHE_STATUS]) == (
        "MISS",
        "HIT",
    )
    assert gateway.logs()[0]["metadata"] == {"from": "step"}
    gateway.clock.advance(61)  # the step's 60 s, not the request's hour
    assert universal(gateway, steps, headers=request).headers[Header.CACHE_STATUS] == "MISS"


def test_step_retries_before_falling_back(gateway: LocalGateway) -> None:
    gateway.script(fault="status=503", model="gpt-4o-mini", times=2)
    response = universal(
        gateway,
        [
            step("openai", "chat/completions", "gpt-4o-mini", config={"maxAttempts": 3}),
            step("openai", "chat/completions", "gpt-4o"),
        ],
    )
    assert response.headers[Header.STEP] == "0"
    [row] = gateway.logs()
    assert (row["attempts"], row["success"]) == (3, True)


def test_anthropic_step_answers_in_anthropic_schema(gateway: LocalGateway) -> None:
    response = universal(
        gateway,
        [
            {
                "provider": "anthropic",
                "endpoint": "v1/messages",
                "headers": {"x-api-key": "sk-ant", "anthropic-version": "2023-06-01"},
                "query": {"model": "claude-3-5-haiku", "max_tokens": 50, "messages": HELLO},
            }
        ],
    )
    assert response.json()["content"][0]["text"] == "Mock answer: Hello there, world!"
    assert gateway.logs()[0]["request_head"]["x-api-key"] == "[REDACTED]"


def test_a_body_that_is_not_a_list_of_steps_is_7001(gateway: LocalGateway) -> None:
    assert gateway_error(universal(gateway, ["nope"]))[:2] == (400, 7001)  # type: ignore[list-item]
    assert gateway_error(universal(gateway, []))[:2] == (400, 7001)
