"""The mock model bounds its own work: past a documented bound it answers 400.

Embeddings ``dimensions`` and the number of inputs, and the JSON schemas it builds tool
arguments and structured answers from (their depth, their size and the size of what
they expand to through ``$ref``), are bounded. Past a bound the answer is HTTP 400 in
the provider's own error shape, naming the field and the bound, and one request never
holds the event loop: a normal request sent alongside still answers.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest

from langchain_cf_gateway.local import LocalGateway
from langchain_cf_gateway.local.mock import MockModel

pytestmark = pytest.mark.timeout(120)

http = httpx.Client(timeout=60)

HELLO = [{"role": "user", "content": "hi"}]


def _openai_400(response: httpx.Response, *words: str) -> str:
    assert response.status_code == 400, response.text[:300]
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    message = error["message"]
    assert isinstance(message, str)
    for word in words:
        assert word in message, message
    return message


def _deep_schema(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"a": schema}}
    return schema


def _wide_schema(width: int) -> dict[str, Any]:
    return {"type": "object", "properties": {f"p{i}": {"type": "integer"} for i in range(width)}}


def _fanout_schema(fan: int) -> dict[str, Any]:
    """Small to send, huge to expand: every property refers back to the root.

    With 30 properties the mock's example would hold 30**4 (810,000) values.
    """
    return {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {f"k{i}": {"$ref": "#/$defs/node"} for i in range(fan)},
            }
        },
        "$ref": "#/$defs/node",
    }


def _forced_tool(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": "openai/gpt-4o-mini",
        "messages": HELLO,
        "tools": [{"type": "function", "function": {"name": "f", "parameters": schema}}],
        "tool_choice": "required",
    }


def _compat(gw: LocalGateway, path: str, body: Any) -> httpx.Response:
    return http.post(f"{gw.gateway_url}/compat/{path}", json=body)


def test_embedding_dimensions_past_the_bound_get_400(gateway: LocalGateway) -> None:
    body = {"model": "openai/text-embedding-3-small", "input": "x", "dimensions": 10**8}
    _openai_400(_compat(gateway, "embeddings", body), "dimensions", "8192")


def test_too_many_embedding_inputs_get_400(gateway: LocalGateway) -> None:
    body = {"model": "openai/text-embedding-3-small", "input": ["x"] * 100_000}
    _openai_400(_compat(gateway, "embeddings", body), "input", "2048")


def test_embeddings_at_the_bound_still_answer(gateway: LocalGateway) -> None:
    body = {"model": "openai/text-embedding-3-small", "input": ["x", "y"], "dimensions": 8192}
    data = _compat(gateway, "embeddings", body).json()["data"]
    assert [len(d["embedding"]) for d in data] == [8192, 8192]


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        # 81 JSON levels: past the mock's 64, within the gateway's 100 for a whole body
        # (a deeper body is refused at the edge: tests/integration/security/test_edge_resources.py)
        (_deep_schema(40), ("deeper", "64")),
        (_wide_schema(100_000), ("10000",)),
        (_fanout_schema(30), ("10000",)),
    ],
    ids=["deep", "wide", "ref-fan-out"],
)
def test_tool_schemas_past_the_bound_get_400(
    gateway: LocalGateway, schema: dict[str, Any], words: tuple[str, ...]
) -> None:
    message = _openai_400(_compat(gateway, "chat/completions", _forced_tool(schema)), *words)
    assert "tools[0].function.parameters" in message


def test_structured_output_schema_past_the_bound_gets_400(gateway: LocalGateway) -> None:
    body = {
        "model": "openai/gpt-4o-mini",
        "messages": HELLO,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "x", "schema": _fanout_schema(30)},
        },
    }
    message = _openai_400(_compat(gateway, "chat/completions", body), "10000")
    assert "response_format.json_schema.schema" in message


def test_anthropic_tool_schema_past_the_bound_gets_anthropics_400(gateway: LocalGateway) -> None:
    body = {
        "model": "claude-3-5-haiku",
        "max_tokens": 10,
        "messages": HELLO,
        "tools": [{"name": "f", "input_schema": _fanout_schema(30)}],
        "tool_choice": {"type": "tool", "name": "f"},
    }
    headers = {"x-api-key": "sk-ant", "anthropic-version": "2023-06-01"}
    response = http.post(f"{gateway.gateway_url}/anthropic/v1/messages", json=body, headers=headers)
    assert response.status_code == 400, response.text[:300]
    error = response.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert "10000" in error["error"]["message"]


def test_a_normal_request_answers_while_a_bounded_one_is_refused(gateway: LocalGateway) -> None:
    results: dict[str, int] = {}

    def heavy() -> None:
        body = {"model": "openai/text-embedding-3-small", "input": "x", "dimensions": 10**8}
        results["heavy"] = _compat(gateway, "embeddings", body).status_code

    thread = threading.Thread(target=heavy)
    thread.start()
    normal = _compat(
        gateway, "chat/completions", {"model": "openai/gpt-4o-mini", "messages": HELLO}
    )
    thread.join(60)
    assert normal.status_code == 200
    assert normal.json()["choices"][0]["message"]["content"] == "Mock answer: hi"
    assert results == {"heavy": 400}


def test_mock_model_refuses_a_10000_deep_schema_without_recursing() -> None:
    """Built in Python, not parsed from JSON: the mock's own walk must not recurse."""
    model = MockModel()
    with pytest.raises(ValueError, match="deeper than 64") as info:
        model.complete(_forced_tool(_deep_schema(10_000)), "gpt-4o-mini")
    assert getattr(info.value, "field", None) == "tools[0].function.parameters"


def test_ordinary_schemas_still_get_example_arguments(gateway: LocalGateway) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
    }
    message = _compat(gateway, "chat/completions", _forced_tool(schema)).json()["choices"][0]
    [call] = message["message"]["tool_calls"]
    assert json.loads(call["function"]["arguments"]) == {"city": "mock", "days": 1}
