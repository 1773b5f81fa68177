"""The official openai SDK against the local gateway: compat and provider-native routes."""

from __future__ import annotations

import math
import re
import uuid

import httpx
import openai
import pytest

from langchain_cf_gateway.local import EMBEDDING_DIMENSIONS, LocalGateway, embedding_vector

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
HELLO = [{"role": "user", "content": "Hello there, world!"}]


def compat_client(gw: LocalGateway, **kwargs: object) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{gw.gateway_url}/compat", api_key="sk-test", max_retries=0, **kwargs
    )


def native_client(gw: LocalGateway, path: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gw.gateway_url}/{path}", api_key="sk-test", max_retries=0)


def test_compat_chat_answers_in_openai_schema_with_gateway_headers(gateway: LocalGateway) -> None:
    raw = compat_client(gateway).chat.completions.with_raw_response.create(
        model="openai/gpt-4o-mini", messages=HELLO
    )
    completion = raw.parse()

    assert completion.choices[0].message.content == "Mock answer: Hello there, world!"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "gpt-4o-mini"
    # Tokens: words and punctuation ("Hello", "there", ",", "world", "!").
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (5, 8)
    log_id = raw.headers["cf-aig-log-id"]
    assert UUID7.match(log_id)
    assert raw.headers["cf-aig-request-id"] == log_id
    assert raw.headers["cf-aig-event-id"] == log_id
    assert "cf-aig-cache-status" not in raw.headers  # caching was not asked for

    [row] = gateway.logs()
    assert row["id"] == log_id
    assert row["path"] == "compat/chat/completions"
    assert (row["provider"], row["model"]) == ("openai", "gpt-4o-mini")
    assert (row["success"], row["status_code"], row["cached"]) == (True, 200, False)
    assert (row["tokens_in"], row["tokens_out"]) == (5, 8)
    assert row["request_head"]["authorization"] == "[REDACTED]"
    assert "sk-test" not in str(row)


def test_same_request_gets_the_same_answer(gateway: LocalGateway) -> None:
    client = compat_client(gateway)
    first = client.chat.completions.create(model="groq/llama-3.1-8b-instant", messages=HELLO)
    second = client.chat.completions.create(model="groq/llama-3.1-8b-instant", messages=HELLO)
    assert first.id == second.id
    assert first.choices[0].message.content == second.choices[0].message.content


def test_compat_stream_ends_with_usage_chunk_and_done(gateway: LocalGateway) -> None:
    chunks = list(
        compat_client(gateway).chat.completions.create(
            model="openai/gpt-4o-mini", messages=HELLO, stream=True
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Mock answer: Hello there, world!"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 8

    with httpx.stream(
        "POST",
        f"{gateway.gateway_url}/compat/chat/completions",
        json={"model": "openai/gpt-4o-mini", "messages": HELLO, "stream": True},
    ) as response:
        wire = response.read().decode()
    assert response.headers["content-type"].startswith("text/event-stream")
    assert wire.rstrip().endswith("data: [DONE]")
    rows = gateway.logs()
    assert [r["request_type"] for r in rows] == ["stream", "stream"]
    assert rows[-1]["tokens_out"] == 8 and rows[-1]["id"] == response.headers["cf-aig-log-id"]


def test_native_routes_of_openai_style_providers(gateway: LocalGateway) -> None:
    for path, model in [
        ("openai", "gpt-4o-mini"),
        ("workers-ai/v1", "@cf/meta/llama-3.1-8b-instruct"),
        ("mistral/v1", "mistral-small-latest"),
        ("grok/v1", "grok-3"),
    ]:
        answer = native_client(gateway, path).chat.completions.create(model=model, messages=HELLO)
        assert answer.choices[0].message.content == "Mock answer: Hello there, world!"
        assert answer.model == model
    assert [r["path"] for r in gateway.logs()] == [
        "openai/chat/completions",
        "workers-ai/v1/chat/completions",
        "mistral/v1/chat/completions",
        "grok/v1/chat/completions",
    ]
    assert [r["provider"] for r in gateway.logs()] == ["openai", "workers-ai", "mistral", "grok"]


def test_native_stream_through_the_sdk(gateway: LocalGateway) -> None:
    stream = native_client(gateway, "openai").chat.completions.create(
        model="gpt-4o-mini", messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Mock answer: Hello there, world!"
    assert gateway.logs()[-1]["path"] == "openai/chat/completions"


def test_embeddings_are_deterministic_unit_vectors(gateway: LocalGateway) -> None:
    # The SDK asks for base64 by default and decodes it: both encodings are exercised.
    compat = compat_client(gateway).embeddings.create(
        model="openai/text-embedding-3-small", input=["alpha", "beta"]
    )
    native = native_client(gateway, "openai").embeddings.create(
        model="text-embedding-3-small", input="alpha", encoding_format="float"
    )
    vector = compat.data[0].embedding
    assert len(vector) == EMBEDDING_DIMENSIONS
    assert math.isclose(sum(v * v for v in vector), 1.0, rel_tol=1e-5)
    assert vector == pytest.approx(native.data[0].embedding, rel=1e-6)
    assert vector == pytest.approx(embedding_vector("alpha"), rel=1e-6)
    assert compat.data[1].embedding != pytest.approx(vector)
    assert compat.usage.prompt_tokens == 2
    sized = native_client(gateway, "mistral/v1").embeddings.create(
        model="mistral-embed", input="alpha", dimensions=8
    )
    assert len(sized.data[0].embedding) == 8
    assert [r["model_type"] for r in gateway.logs()] == ["embeddings"] * 3


def test_scripted_text_and_tool_calls(gateway: LocalGateway) -> None:
    client = compat_client(gateway)
    gateway.script("Paris.")
    gateway.script(
        tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}], model="gpt-4o"
    )
    assert (
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
        .choices[0]
        .message.content
        == "Paris."
    )
    # The tool-call script waits for its model; another model gets the mock's own answer.
    assert (
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
        .choices[0]
        .message.content.startswith("Mock answer")
    )
    stream = client.chat.completions.create(model="openai/gpt-4o", messages=HELLO, stream=True)
    calls: dict[int, dict[str, str]] = {}
    finish = None
    for chunk in stream:
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for delta in choice.delta.tool_calls or ():
                entry = calls.setdefault(delta.index, {"name": "", "arguments": ""})
                if delta.function and delta.function.name:
                    entry["name"] = delta.function.name
                if delta.function and delta.function.arguments:
                    entry["arguments"] += delta.function.arguments
    assert calls == {0: {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
    assert finish == "tool_calls"


def test_forced_tool_choice_gets_arguments_from_the_schema(gateway: LocalGateway) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "Answer",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                "required": ["city", "days"],
            },
        },
    }
    answer = compat_client(gateway).chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=HELLO,
        tools=[tool],  # type: ignore[list-item]
        tool_choice={"type": "function", "function": {"name": "Answer"}},
    )
    [call] = answer.choices[0].message.tool_calls or []
    assert call.function.name == "Answer"  # type: ignore[union-attr]
    assert call.function.arguments == '{"city":"mock","days":1}'  # type: ignore[union-attr]


def test_max_tokens_cuts_the_answer(gateway: LocalGateway) -> None:
    answer = compat_client(gateway).chat.completions.create(
        model="openai/gpt-4o-mini", messages=HELLO, max_tokens=3
    )
    assert answer.choices[0].message.content == "Mock answer:"
    assert answer.choices[0].finish_reason == "length"
    assert answer.usage is not None and answer.usage.completion_tokens == 3


def test_cache_miss_then_hit_with_log_rows(gateway: LocalGateway) -> None:
    client = compat_client(gateway, default_headers={"cf-aig-cache-ttl": "120"})
    first = client.chat.completions.with_raw_response.create(
        model="openai/gpt-4o-mini", messages=HELLO
    )
    second = client.chat.completions.with_raw_response.create(
        model="openai/gpt-4o-mini", messages=HELLO
    )
    assert first.headers["cf-aig-cache-status"] == "MISS"
    assert second.headers["cf-aig-cache-status"] == "HIT"
    assert second.parse().choices[0].message.content == first.parse().choices[0].message.content
    assert [r["cached"] for r in gateway.logs()] == [False, True]


def test_event_id_and_metadata_reach_the_log(gateway: LocalGateway) -> None:
    event = str(uuid.uuid4())
    raw = compat_client(
        gateway,
        default_headers={"cf-aig-event-id": event, "cf-aig-metadata": '{"user":"u1","n":2}'},
    ).chat.completions.with_raw_response.create(model="openai/gpt-4o-mini", messages=HELLO)
    assert raw.headers["cf-aig-event-id"] == event
    [row] = gateway.logs()
    assert row["event_id"] == event
    assert row["metadata"] == {"user": "u1", "n": 2}


def test_fault_in_model_name_reaches_the_sdk_and_the_log(gateway: LocalGateway) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        compat_client(gateway).chat.completions.create(
            model="openai/gpt-4o-mini~status=503", messages=HELLO
        )
    assert caught.value.status_code == 503
    [row] = gateway.logs()
    assert (row["success"], row["status_code"], row["model"]) == (False, 503, "gpt-4o-mini")


def test_compat_models_lists_a_mock_model_per_compat_provider(gateway: LocalGateway) -> None:
    ids = [m.id for m in compat_client(gateway).models.list()]
    assert "openai/mock" in ids and "workers-ai/mock" in ids and "anthropic/mock" in ids
