"""Provider-native APIs beyond chat completions (issue 12, faults 4 and 6).

The endpoint forms Cloudflare's own clients send on the universal endpoint, the OpenAI
Responses API (read by the official ``openai`` SDK's typed models), Anthropic's
``count_tokens``, Gemini's routes, and each provider's own error shape; every answer with
the gateway's headers, cache and log row.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.local import LocalGateway
from tests.support.local_calls import HELLO, http, universal

MODEL = "gemini-2.0-flash"
CACHE = {Header.CACHE_TTL: "600"}
GEMINI_HELLO = {"contents": [{"role": "user", "parts": [{"text": "Hello there, world!"}]}]}
WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


def native(gw: LocalGateway, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
    method = "POST" if body is not None else "GET"
    return http.request(method, f"{gw.gateway_url}/{path}", json=body, **kwargs)


def gemini_path(verb: str, model: str = MODEL) -> str:
    return f"google-ai-studio/v1beta/models/{model}:{verb}"


def sse_data(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]


# --------------------------------------------------------------------------- endpoint forms


@pytest.mark.parametrize(
    ("provider", "endpoint", "query", "path"),
    [
        # ai-gateway-provider strips https://api.openai.com/ from the SDK's URL
        ("openai", "v1/chat/completions", {"model": "gpt-4o-mini", "messages": HELLO}, None),
        ("cerebras", "v1/chat/completions", {"model": "llama3.1-8b", "messages": HELLO}, None),
        # workers-ai-provider's REST path
        ("workers-ai", "run/@cf/meta/llama-3.1-8b-instruct", {"messages": HELLO}, None),
        ("compat", "chat/completions", {"model": "openai/gpt-4o-mini", "messages": HELLO}, None),
    ],
)
def test_universal_step_endpoint_forms_of_cloudflares_clients(
    gateway: LocalGateway, provider: str, endpoint: str, query: dict[str, Any], path: None
) -> None:
    response = universal(
        gateway, [{"provider": provider, "endpoint": endpoint, "headers": {}, "query": query}]
    )
    assert response.status_code == 200, response.text
    body = response.json()
    text = (
        body["result"]["response"]
        if provider == "workers-ai"
        else body["choices"][0]["message"]["content"]
    )
    assert text == "Mock answer: Hello there, world!"
    [row] = gateway.logs()
    assert (row["path"], row["success"], row["tokens_in"]) == (f"{provider}/{endpoint}", True, 5)
    assert row["id"] == response.headers[Header.LOG_ID]


def test_workers_ai_run_path_is_the_model_path(gateway: LocalGateway) -> None:
    response = native(gateway, "workers-ai/run/@cf/meta/llama-3.1-8b-instruct", {"prompt": "Hi"})
    assert response.status_code == 200
    assert response.json()["result"]["response"] == "Mock answer: Hi"
    [row] = gateway.logs()
    assert (row["model"], row["path"]) == (
        "@cf/meta/llama-3.1-8b-instruct",
        "workers-ai/run/@cf/meta/llama-3.1-8b-instruct",
    )


def test_universal_step_endpoint_keeps_its_query_string(gateway: LocalGateway) -> None:
    step = {
        "provider": "google-ai-studio",
        "endpoint": f"v1beta/models/{MODEL}:streamGenerateContent?alt=sse",
        "headers": {"x-goog-api-key": "key"},
        "query": GEMINI_HELLO,
    }
    response = universal(gateway, [step])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    chunks = sse_data(response.text)
    text = "".join(c["candidates"][0]["content"]["parts"][0].get("text", "") for c in chunks)
    assert text == "Mock answer: Hello there, world!"
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


# --------------------------------------------------------------------------- Responses API


def responses_client(gw: LocalGateway, **headers: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{gw.gateway_url}/openai",
        api_key="sk-test",
        max_retries=0,
        default_headers=headers,
    )


def test_responses_api_answer_is_typed_cached_and_logged(gateway: LocalGateway) -> None:
    client = responses_client(gateway, **CACHE)
    raw = client.responses.with_raw_response.create(
        model="gpt-4o-mini", input="Hello there, world!", instructions="Be brief."
    )
    answer = raw.parse()
    assert answer.output_text == "Mock answer: Hello there, world!"
    assert answer.status == "completed" and answer.model == "gpt-4o-mini"
    assert answer.usage is not None
    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (8, 8)
    assert raw.headers[Header.CACHE_STATUS] == "MISS"
    again = client.responses.with_raw_response.create(
        model="gpt-4o-mini", input="Hello there, world!", instructions="Be brief."
    )
    assert again.headers[Header.CACHE_STATUS] == "HIT"
    assert again.parse().output_text == answer.output_text
    rows = gateway.logs()
    assert [(r["path"], r["cached"], r["tokens_in"], r["tokens_out"]) for r in rows] == [
        ("openai/responses", False, 8, 8),
        ("openai/responses", True, 8, 8),
    ]
    assert rows[0]["id"] == raw.headers[Header.LOG_ID]


def test_responses_api_streams_the_documented_events(gateway: LocalGateway) -> None:
    client = responses_client(gateway, **{Header.EVENT_ID: "resp-stream"})
    with client.responses.stream(model="gpt-4o-mini", input="Stream it, please") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds
    assert final.output_text == "Mock answer: Stream it, please"
    [row] = gateway.logs()
    assert (row["request_type"], row["event_id"], row["success"]) == ("stream", "resp-stream", True)
    assert (row["tokens_in"], row["tokens_out"]) == (4, 7)  # "Stream", "it", ",", "please"


def test_responses_api_tool_call_and_length_cut(gateway: LocalGateway) -> None:
    client = responses_client(gateway)
    called = client.responses.create(
        model="gpt-4o-mini",
        input="Weather in Paris?",
        tools=[{"type": "function", "name": "weather", "parameters": WEATHER, "strict": True}],
        tool_choice="required",
    )
    [call] = [item for item in called.output if item.type == "function_call"]
    assert (call.name, json.loads(call.arguments)) == ("weather", {"city": "mock"})
    cut = client.responses.create(
        model="gpt-4o-mini", input="one two three four", max_output_tokens=2
    )
    assert cut.status == "incomplete" and cut.incomplete_details is not None
    assert cut.incomplete_details.reason == "max_output_tokens"
    assert cut.output_text == "Mock answer"


def test_responses_api_fault_is_an_openai_error(gateway: LocalGateway) -> None:
    with pytest.raises(openai.RateLimitError):
        responses_client(gateway).responses.create(model="gpt-4o-mini~status=429", input="hi")


# --------------------------------------------------------------------------- Anthropic


def test_anthropic_count_tokens_is_served_and_logged(gateway: LocalGateway) -> None:
    body = {"model": "claude-3-5-haiku-latest", "messages": HELLO, "system": "Be brief."}
    response = native(gateway, "anthropic/v1/messages/count_tokens", body)
    assert response.status_code == 200
    assert response.json() == {"input_tokens": 8}
    [row] = gateway.logs()
    assert (row["path"], row["tokens_in"], row["model"]) == (
        "anthropic/v1/messages/count_tokens",
        8,
        "claude-3-5-haiku-latest",
    )


@pytest.mark.parametrize(
    ("path", "body", "shape"),
    [
        ("anthropic/v1/complete", {"model": "claude-2", "prompt": "hi"}, "anthropic"),
        (
            "anthropic/v1/messages/count_tokens",
            {"model": "claude~status=503", "messages": HELLO},
            "anthropic",
        ),
        ("google-ai-studio/v1beta/cachedContents", {"model": MODEL}, "google"),
        (gemini_path("predict"), GEMINI_HELLO, "google"),
        (gemini_path("generateContent", f"{MODEL}~status=429"), GEMINI_HELLO, "google"),
        ("openai/images/generations", {"model": "dall-e-3", "prompt": "cat"}, "openai"),
    ],
)
def test_native_errors_are_in_each_providers_own_shape(
    gateway: LocalGateway, path: str, body: dict[str, Any], shape: str
) -> None:
    response = native(gateway, path, body)
    error = response.json()
    if shape == "anthropic":
        assert error["type"] == "error"
        assert set(error["error"]) == {"type", "message"}
    elif shape == "google":
        assert set(error["error"]) == {"code", "message", "status"}
        assert error["error"]["code"] == response.status_code
    else:
        assert set(error["error"]) == {"message", "type", "param", "code"}
    assert response.status_code in (404, 429, 503)
    assert response.headers[Header.LOG_ID] == gateway.logs()[-1]["id"]


# --------------------------------------------------------------------------- Gemini


def test_gemini_generate_content_cached_and_logged_with_tokens(gateway: LocalGateway) -> None:
    headers = {"x-goog-api-key": "key", **CACHE}
    body = {**GEMINI_HELLO, "systemInstruction": {"parts": [{"text": "Be brief."}]}}
    first = native(gateway, gemini_path("generateContent"), body, headers=headers)
    assert first.status_code == 200
    answer = first.json()
    [candidate] = answer["candidates"]
    assert candidate["content"] == {
        "parts": [{"text": "Mock answer: Hello there, world!"}],
        "role": "model",
    }
    assert candidate["finishReason"] == "STOP"
    assert answer["usageMetadata"] == {
        "promptTokenCount": 8,
        "candidatesTokenCount": 8,
        "totalTokenCount": 16,
    }
    assert first.headers[Header.CACHE_STATUS] == "MISS"
    second = native(gateway, gemini_path("generateContent"), body, headers=headers)
    assert second.headers[Header.CACHE_STATUS] == "HIT" and second.json() == answer
    rows = gateway.logs()
    assert [
        (r["provider"], r["model"], r["cached"], r["tokens_in"], r["tokens_out"]) for r in rows
    ] == [
        ("google-ai-studio", MODEL, False, 8, 8),
        ("google-ai-studio", MODEL, True, 8, 8),
    ]
    assert rows[0]["request_head"]["x-goog-api-key"] == "[REDACTED]"


def test_gemini_function_call_and_max_tokens(gateway: LocalGateway) -> None:
    tools = [{"functionDeclarations": [{"name": "weather", "parameters": WEATHER}]}]
    forced = {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["weather"]}}
    called = native(
        gateway,
        gemini_path("generateContent"),
        {**GEMINI_HELLO, "tools": tools, "toolConfig": forced},
    ).json()
    assert called["candidates"][0]["content"]["parts"] == [
        {"functionCall": {"name": "weather", "args": {"city": "mock"}}}
    ]
    cut = native(
        gateway,
        gemini_path("generateContent"),
        {**GEMINI_HELLO, "generationConfig": {"maxOutputTokens": 2}},
    ).json()
    assert cut["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert cut["candidates"][0]["content"]["parts"] == [{"text": "Mock answer"}]


def test_gemini_stream_without_alt_sse_is_a_json_array(gateway: LocalGateway) -> None:
    response = native(gateway, gemini_path("streamGenerateContent"), GEMINI_HELLO)
    assert response.status_code == 200
    chunks = response.json()
    assert isinstance(chunks, list) and len(chunks) > 2
    assert chunks[-1]["usageMetadata"]["candidatesTokenCount"] == 8
    [row] = gateway.logs()
    assert (row["request_type"], row["tokens_in"], row["tokens_out"]) == ("stream", 5, 8)


def test_gemini_embed_content_and_batch(gateway: LocalGateway) -> None:
    one = native(
        gateway,
        gemini_path("embedContent", "text-embedding-004"),
        {"content": {"parts": [{"text": "embed me"}]}, "outputDimensionality": 8},
    ).json()
    assert len(one["embedding"]["values"]) == 8
    requests = [
        {"model": "models/text-embedding-004", "content": {"parts": [{"text": text}]}}
        for text in ("embed me", "and me")
    ]
    batch = native(
        gateway, gemini_path("batchEmbedContents", "text-embedding-004"), {"requests": requests}
    ).json()
    assert len(batch["embeddings"]) == 2
    assert batch["embeddings"][0]["values"][:8] != batch["embeddings"][1]["values"][:8]
    rows = gateway.logs()
    assert [(r["model_type"], r["tokens_in"]) for r in rows] == [
        ("embeddings", 2),
        ("embeddings", 4),
    ]
    too_big = native(
        gateway,
        gemini_path("embedContent", "text-embedding-004"),
        {"content": {"parts": [{"text": "x"}]}, "outputDimensionality": 10**9},
    )
    assert too_big.status_code == 400
    assert too_big.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_gemini_models_list(gateway: LocalGateway) -> None:
    response = native(gateway, "google-ai-studio/v1beta/models")
    assert response.status_code == 200
    names = [m["name"] for m in response.json()["models"]]
    assert names == ["models/mock", "models/mock-embedding"]


def test_gemini_count_tokens_and_one_model(gateway: LocalGateway) -> None:
    counted = native(gateway, gemini_path("countTokens"), GEMINI_HELLO)
    assert counted.json() == {"totalTokens": 5}
    one = native(gateway, f"google-ai-studio/v1beta/models/{MODEL}")
    assert (one.status_code, one.json()["name"]) == (200, f"models/{MODEL}")
