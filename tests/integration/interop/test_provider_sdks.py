"""Providers' own Python SDKs (``anthropic``, ``google-genai``) through ``provider_base_url``.

Each SDK is given the URL the package hands out for its provider and talks to a real
``cf-aig serve``; what it parses (its own typed models) and the gateway's log row are
asserted, down to each provider's own error shape on a path the gateway does not serve.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import anthropic
import httpx
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from langchain_cf_gateway.core import GatewayConfig, Header, provider_base_url

from .served import PROVIDER_KEY, Served

MODEL = "claude-3-5-haiku-latest"
WEATHER_TOOL = {
    "name": "weather",
    "description": "The weather in a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def config(gw: Served) -> GatewayConfig:
    return GatewayConfig(account_id=gw.account, gateway_id="default", base_url=gw.base_url)


@pytest.fixture
def claude(gw: Served) -> Iterator[anthropic.Anthropic]:
    client = anthropic.Anthropic(
        api_key=PROVIDER_KEY,
        base_url=provider_base_url("anthropic", config(gw)),
        default_headers={Header.EVENT_ID: "anthropic-sdk"},
        max_retries=0,
    )
    try:
        yield client
    finally:
        client.close()


def only_log(gw: Served) -> dict[str, object]:
    [row] = gw.raw_logs()
    return row


# --------------------------------------------------------------------------- anthropic


def test_anthropic_messages_create(gw: Served, claude: anthropic.Anthropic) -> None:
    raw = claude.messages.with_raw_response.create(
        model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hello, Claude"}]
    )
    message = raw.parse()
    assert isinstance(message, anthropic.types.Message)
    assert message.role == "assistant" and message.stop_reason == "end_turn"
    [block] = message.content
    assert isinstance(block, anthropic.types.TextBlock) and block.text
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    row = only_log(gw)
    assert raw.headers[Header.LOG_ID] == row["id"]
    assert (row["provider"], row["event_id"], row["success"]) == (
        "anthropic",
        "anthropic-sdk",
        True,
    )


def test_anthropic_messages_stream(gw: Served, claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(
        model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Stream, please"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text and final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0
    assert only_log(gw)["success"] is True


def test_anthropic_tool_use(gw: Served, claude: anthropic.Anthropic) -> None:
    gw.admin(
        "POST",
        "/__local/scripts",
        json={"tool_calls": [{"name": "weather", "arguments": {"city": "Paris"}}]},
    )
    message = claude.messages.create(
        model=MODEL,
        max_tokens=64,
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    )
    assert message.stop_reason == "tool_use"
    [call] = [b for b in message.content if isinstance(b, anthropic.types.ToolUseBlock)]
    assert (call.name, call.input) == ("weather", {"city": "Paris"})


def test_anthropic_errors_are_typed_by_the_sdk(gw: Served, claude: anthropic.Anthropic) -> None:
    """A provider error reaches the SDK in Anthropic's shape, as its own exception class."""
    with pytest.raises(anthropic.RateLimitError) as info:
        claude.messages.create(
            model=f"{MODEL}~status=429",
            max_tokens=16,
            messages=[{"role": "user", "content": "hi"}],
        )
    assert info.value.status_code == 429
    assert isinstance(info.value.body, dict) and info.value.body.get("type") == "error"


def test_anthropic_count_tokens(gw: Served, claude: anthropic.Anthropic) -> None:
    counted = claude.messages.count_tokens(
        model=MODEL, messages=[{"role": "user", "content": "How many tokens is this?"}]
    )
    assert counted.input_tokens > 0
    row = only_log(gw)
    assert (row["path"], row["tokens_in"]) == (
        "anthropic/v1/messages/count_tokens",
        counted.input_tokens,
    )


def test_an_unserved_anthropic_path_answers_in_anthropics_error_shape(gw: Served) -> None:
    response = httpx.post(
        provider_base_url("anthropic", config(gw)) + "/v1/complete",
        json={"model": MODEL, "prompt": "hi", "max_tokens_to_sample": 8},
        headers={"x-api-key": PROVIDER_KEY},
    )
    assert response.status_code == 404
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == "not_found_error"


# --------------------------------------------------------------------------- google-genai


@pytest.fixture
def gemini(gw: Served) -> genai.Client:
    return genai.Client(
        api_key=PROVIDER_KEY,
        http_options=genai_types.HttpOptions(
            base_url=provider_base_url("google-ai-studio", config(gw)),
            headers={Header.EVENT_ID: "genai-sdk"},
        ),
    )


def test_gemini_generate_content(gw: Served, gemini: genai.Client) -> None:
    answer = gemini.models.generate_content(model="gemini-2.0-flash", contents="Hello, Gemini")
    assert answer.text
    usage = answer.usage_metadata
    assert usage is not None and usage.prompt_token_count and usage.candidates_token_count
    row = only_log(gw)
    assert (row["provider"], row["model"], row["event_id"]) == (
        "google-ai-studio",
        "gemini-2.0-flash",
        "genai-sdk",
    )
    assert (row["tokens_in"], row["tokens_out"]) == (
        usage.prompt_token_count,
        usage.candidates_token_count,
    )


def test_gemini_errors_are_typed_by_the_sdk(gw: Served, gemini: genai.Client) -> None:
    """A provider error reaches the SDK in Google's shape, as its own exception class."""
    with pytest.raises(genai_errors.ClientError) as info:
        gemini.models.generate_content(model="gemini-2.0-flash~status=429", contents="hi")
    assert (info.value.code, info.value.status) == (429, "RESOURCE_EXHAUSTED")


def test_gemini_stream_generate_content(gw: Served, gemini: genai.Client) -> None:
    chunks = list(
        gemini.models.generate_content_stream(model="gemini-2.0-flash", contents="Stream it")
    )
    assert "".join(c.text or "" for c in chunks)
    assert only_log(gw)["success"] is True


def test_gemini_embed_content(gw: Served, gemini: genai.Client) -> None:
    answer = gemini.models.embed_content(model="text-embedding-004", contents="embed me")
    assert answer.embeddings and answer.embeddings[0].values
    assert len(answer.embeddings[0].values) > 8


def test_gemini_models_list(gw: Served, gemini: genai.Client) -> None:
    names = [m.name for m in gemini.models.list()]
    assert names and all(isinstance(n, str) for n in names)
    assert json.dumps(names)


def test_gemini_count_tokens_and_get_model(gw: Served, gemini: genai.Client) -> None:
    counted = gemini.models.count_tokens(model="gemini-2.0-flash", contents="How many tokens?")
    assert counted.total_tokens == 4  # "How", "many", "tokens", "?"
    model = gemini.models.get(model="gemini-2.0-flash")
    assert model.name == "models/gemini-2.0-flash"
