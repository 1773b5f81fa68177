"""ChatCloudflareGateway against the local gateway: what goes on the wire, what comes back.

Each test reads what a user can see: the request the gateway received (URL, headers,
body), ``response_metadata["gateway"]``, and the gateway's log rows.
"""

from __future__ import annotations

import asyncio
import json
import pickle
from collections.abc import Callable
from typing import Any

import openai
import pytest
from langchain_core.exceptions import ModelRateLimitError
from langchain_core.load import dumps
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from pydantic import BaseModel

from langchain_cf_gateway import ChatCloudflareGateway
from langchain_cf_gateway.core import (
    GATEWAY_INFO_KEYS,
    ConfigError,
    GatewayAuthenticationError,
    GatewayInputError,
    GatewayRateLimitError,
    InvalidOptionError,
    InvalidResponseError,
    ProviderError,
    ProviderUnavailableError,
)
from langchain_cf_gateway.local import LocalGateway

MODEL = "openai/gpt-4o-mini"


def chat(gw: LocalGateway, **kwargs: Any) -> ChatCloudflareGateway:
    params: dict[str, Any] = {
        "model": MODEL,
        "account_id": gw.account_id,
        "base_url": gw.base_url,
        "gateway_token": gw.token,
        "max_retries": 0,
    }
    params.update(kwargs)
    return ChatCloudflareGateway(**params)


def expected_info(row: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """The gateway block a call served by ``row`` must carry."""
    info = {
        "cache_status": None,
        "log_id": row["id"],
        "request_id": row["request_id"],
        "event_id": row["event_id"],
        "step": None,
        "model": "gpt-4o-mini",
        "provider": "openai",
        # Auto Router keys: None unless cloudflare/auto chose the model.
        "routed_model": None,
        "routing_reason": None,
        "routing_decision_id": None,
        "dlp": None,  # cf-aig-dlp: set only when a DLP policy matched
    }
    info.update(overrides)
    return info


def row_of(gw: LocalGateway, log_id: str) -> dict[str, Any]:
    rows = [row for row in gw.logs() if row["id"] == log_id]
    assert len(rows) == 1, f"no single log row {log_id}"
    return rows[0]


def merge(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    return full


class Joke(BaseModel):
    setup: str
    punchline: str


JOKE_ARGS = {
    "setup": "Why did the cat sit on the computer?",
    "punchline": "To keep an eye on the mouse.",
}


# --------------------------------------------------------------------------- invoke


def test_invoke_sends_the_compat_request_and_returns_miss_then_hit(gateway: LocalGateway) -> None:
    model = chat(gateway, gateway_options={"cache_ttl": 60})

    first = model.invoke("hello there")
    second = model.invoke("hello there")

    sent = gateway.received[0]
    assert sent.method == "POST"
    assert sent.path == f"/v1/{gateway.account_id}/default/compat/chat/completions"
    assert sent.headers["cf-aig-authorization"] == f"Bearer {gateway.token}"
    assert sent.headers["cf-aig-cache-ttl"] == "60"
    assert "authorization" not in sent.headers
    assert sent.json["model"] == MODEL
    assert first.content == "Mock answer: hello there"
    assert list(first.response_metadata["gateway"]) == list(GATEWAY_INFO_KEYS)
    rows = gateway.logs()
    assert first.response_metadata["gateway"] == expected_info(rows[0], cache_status="MISS")
    assert second.response_metadata["gateway"] == expected_info(rows[1], cache_status="HIT")
    assert rows[1]["cached"] is True


def _invoke(model: ChatCloudflareGateway) -> list[BaseMessage]:
    return [model.invoke("one")]


def _ainvoke(model: ChatCloudflareGateway) -> list[BaseMessage]:
    return [asyncio.run(model.ainvoke("one"))]


def _batch(model: ChatCloudflareGateway) -> list[BaseMessage]:
    return model.batch(["one", "two", "three"])


def _abatch(model: ChatCloudflareGateway) -> list[BaseMessage]:
    return asyncio.run(model.abatch(["one", "two", "three"]))


def _stream(model: ChatCloudflareGateway) -> list[BaseMessage]:
    chunks = list(model.stream("one two three"))
    carriers = [c for c in chunks if "gateway" in c.response_metadata]
    assert len(carriers) == 1, "the gateway block rides on exactly one chunk"
    return [merge(chunks)]


def _astream(model: ChatCloudflareGateway) -> list[BaseMessage]:
    async def run() -> list[AIMessageChunk]:
        return [chunk async for chunk in model.astream("one two three")]

    chunks = asyncio.run(run())
    assert len([c for c in chunks if "gateway" in c.response_metadata]) == 1
    return [merge(chunks)]


def _streaming_invoke(model: ChatCloudflareGateway) -> list[BaseMessage]:
    return [model.model_copy(update={"streaming": True}).invoke("one two")]


@pytest.mark.parametrize(
    "call",
    [_invoke, _ainvoke, _batch, _abatch, _stream, _astream, _streaming_invoke],
    ids=lambda f: f.__name__.strip("_"),
)
def test_every_call_path_returns_the_gateway_block_of_its_own_log_row(
    gateway: LocalGateway, call: Callable[[ChatCloudflareGateway], list[BaseMessage]]
) -> None:
    messages = call(chat(gateway))

    assert len(messages) == len(gateway.logs()) == len(gateway.received)
    for sent in gateway.received:
        assert sent.path == f"/v1/{gateway.account_id}/default/compat/chat/completions"
        assert sent.headers["cf-aig-authorization"] == f"Bearer {gateway.token}"
        assert "authorization" not in sent.headers
        assert sent.json["model"] == MODEL
    for message in messages:
        info = message.response_metadata["gateway"]
        # Exact equality: a block merged twice would read "MISSMISS" or a doubled log id.
        assert info == expected_info(row_of(gateway, info["log_id"]))
    assert len({m.response_metadata["gateway"]["log_id"] for m in messages}) == len(messages)


def test_raw_headers_stay_available_next_to_the_parsed_block(gateway: LocalGateway) -> None:
    ai_msg = chat(gateway, include_response_headers=True).invoke("a")

    headers = ai_msg.response_metadata["headers"]
    assert headers["cf-aig-log-id"] == ai_msg.response_metadata["gateway"]["log_id"]


def test_a_stream_carries_usage_and_no_authorization(
    gateway: LocalGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    full = merge(list(chat(gateway).stream("count these words")))

    assert full.usage_metadata is not None
    assert full.usage_metadata["output_tokens"] == 6  # "Mock answer: count these words"
    sent = gateway.received[0]
    assert sent.json["stream"] is True
    assert sent.json["stream_options"] == {"include_usage": True}
    assert "authorization" not in sent.headers


# --------------------------------------------------------------------------- per-call options


def test_per_call_options_merge_over_the_model_options_and_do_not_stick(
    gateway: LocalGateway,
) -> None:
    model = chat(gateway, gateway_options={"cache_ttl": 120, "metadata": {"app": "docs"}})

    model.invoke("a", gateway_options={"skip_cache": True, "metadata": {"user": "u-1"}})
    model.invoke("b")

    with_options, plain = gateway.received
    assert with_options.headers["cf-aig-cache-ttl"] == "120"
    assert with_options.headers["cf-aig-skip-cache"] == "true"
    assert json.loads(with_options.headers["cf-aig-metadata"]) == {"app": "docs", "user": "u-1"}
    assert plain.headers["cf-aig-cache-ttl"] == "120"
    assert "cf-aig-skip-cache" not in plain.headers
    assert json.loads(plain.headers["cf-aig-metadata"]) == {"app": "docs"}


def test_options_reach_the_wire_through_bind_bind_tools_and_structured_output(
    gateway: LocalGateway,
) -> None:
    model = chat(gateway)
    gateway.script(tool_calls=[{"name": "Joke", "arguments": JOKE_ARGS}])

    model.bind(gateway_options={"event_id": "via-bind"}).invoke("a")
    model.bind_tools([Joke], gateway_options={"event_id": "via-tools"}).invoke("b")
    model.with_structured_output(Joke, gateway_options={"event_id": "via-structured"}).invoke("c")

    assert [r.headers["cf-aig-event-id"] for r in gateway.received] == [
        "via-bind",
        "via-tools",
        "via-structured",
    ]
    assert [row["event_id"] for row in gateway.logs()] == [
        "via-bind",
        "via-tools",
        "via-structured",
    ]


def test_bad_per_call_options_raise_before_anything_is_sent(gateway: LocalGateway) -> None:
    with pytest.raises(InvalidOptionError, match="cache_ttl"):
        chat(gateway).invoke("a", gateway_options={"cache_ttl": 5})
    assert gateway.received == []


def test_forward_run_metadata_copies_scalars_and_explicit_options_win(
    gateway: LocalGateway,
) -> None:
    run_metadata = {"user_id": "u-7", "plan": "pro", "turn": 3, "nested": {"a": 1}}
    forward_all = chat(gateway, forward_run_metadata=True)
    forward_some = chat(gateway, forward_run_metadata=["plan", "missing"])

    forward_all.invoke("a", config={"metadata": run_metadata})
    forward_all.invoke(
        "b",
        config={"metadata": run_metadata},
        gateway_options={"metadata": {"user_id": "explicit"}},
    )
    forward_some.invoke("c", config={"metadata": run_metadata})
    chat(gateway).invoke("d", config={"metadata": run_metadata})

    sent = [json.loads(r.headers.get("cf-aig-metadata", "null")) for r in gateway.received]
    # ls_provider, ls_model_name... (LangChain's own keys) and the dict value stay out.
    assert sent[0] == {"user_id": "u-7", "plan": "pro", "turn": 3}
    assert sent[1] == {"user_id": "explicit", "plan": "pro", "turn": 3}
    assert sent[2] == {"plan": "pro"}
    assert sent[3] is None
    assert gateway.logs()[0]["metadata"] == {"user_id": "u-7", "plan": "pro", "turn": 3}


def test_forwarded_metadata_stays_within_the_five_entry_budget(gateway: LocalGateway) -> None:
    explicit = {"a": 1, "b": 2, "c": 3, "d": 4}
    chat(gateway, forward_run_metadata=True, gateway_options={"metadata": explicit}).invoke(
        "a", config={"metadata": {"x": "first", "y": "second"}}
    )

    assert json.loads(gateway.received[0].headers["cf-aig-metadata"]) == {**explicit, "x": "first"}


async def test_200_concurrent_calls_each_log_their_own_metadata_and_event_id(
    gateway: LocalGateway,
) -> None:
    model = chat(gateway, gateway_options={"metadata": {"suite": "concurrency"}})

    async def one(i: int) -> AIMessage:
        options = {"event_id": f"event-{i}", "metadata": {"call": i}}
        return await model.ainvoke(f"call {i}", gateway_options=options)  # type: ignore[return-value]

    ai_msgs = await asyncio.gather(*(one(i) for i in range(200)))

    rows = {row["id"]: row for row in gateway.logs()}
    assert len(rows) == 200
    for i, ai_msg in enumerate(ai_msgs):
        info = ai_msg.response_metadata["gateway"]
        assert info["event_id"] == f"event-{i}"
        assert ai_msg.content == f"Mock answer: call {i}"
        row = rows[info["log_id"]]
        assert row["event_id"] == f"event-{i}"
        assert row["metadata"] == {"suite": "concurrency", "call": i}


# --------------------------------------------------------------------------- tools, structure


def test_tool_calls_come_back_on_invoke_and_stream(gateway: LocalGateway) -> None:
    gateway.script(tool_calls=[{"name": "Joke", "arguments": JOKE_ARGS}], times=2)
    with_tools = chat(gateway).bind_tools([Joke])

    ai_msg = with_tools.invoke("tell me a joke")
    streamed = merge(list(with_tools.stream("tell me a joke")))

    for message in (ai_msg, streamed):
        assert [(c["name"], c["args"]) for c in message.tool_calls] == [("Joke", JOKE_ARGS)]
        info = message.response_metadata["gateway"]
        assert info == expected_info(row_of(gateway, info["log_id"]))
    assert gateway.received[0].json["tools"][0]["function"]["name"] == "Joke"


@pytest.mark.parametrize("method", ["function_calling", "json_mode", "json_schema"])
@pytest.mark.parametrize("mode", ["invoke", "stream", "astream"])
def test_structured_output_keeps_the_gateway_block_with_every_method(
    gateway: LocalGateway, method: str, mode: str
) -> None:
    # json_schema streams through the SDK's beta stream, the path where ChatOpenAI drops
    # every response header (langchain issue 37421).
    if method == "function_calling":
        gateway.script(tool_calls=[{"name": "Joke", "arguments": JOKE_ARGS}])
    else:
        gateway.script(json.dumps(JOKE_ARGS))
    structured = chat(gateway).with_structured_output(Joke, method=method, include_raw=True)  # type: ignore[arg-type]

    if mode == "invoke":
        parts = [structured.invoke("tell me a joke")]
    elif mode == "stream":
        parts = list(structured.stream("tell me a joke"))
    else:

        async def run() -> list[Any]:
            return [part async for part in structured.astream("tell me a joke")]

        parts = asyncio.run(run())

    raws = [p["raw"] for p in parts if p.get("raw") is not None]
    raw = raws[0] if len(raws) == 1 else merge(raws)
    parsed = [p["parsed"] for p in parts if p.get("parsed") is not None]
    assert parsed[-1] == Joke(**JOKE_ARGS)
    info = raw.response_metadata["gateway"]
    assert info == expected_info(row_of(gateway, info["log_id"]))


# --------------------------------------------------------------------------- credentials


def test_no_provider_key_means_no_authorization_header_on_any_path(
    gateway: LocalGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-from-the-environment")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj-from-the-environment")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/not-the-gateway")
    model = chat(gateway)

    model.invoke("a")
    list(model.stream("b"))
    asyncio.run(model.ainvoke("c"))
    list(model.with_structured_output(Joke, method="json_schema").stream("d"))

    assert len(gateway.received) == 4
    for sent in gateway.received:
        assert "authorization" not in sent.headers
        assert "openai-organization" not in sent.headers
        assert "openai-project" not in sent.headers
        assert "sk-from-the-environment" not in json.dumps(sent.headers)


def test_a_provider_key_is_sent_as_authorization_and_kept_secret(gateway: LocalGateway) -> None:
    model = chat(gateway, api_key="sk-provider-secret")

    model.invoke("a")

    assert gateway.received[0].headers["authorization"] == "Bearer sk-provider-secret"
    assert gateway.received[0].headers["cf-aig-authorization"] == f"Bearer {gateway.token}"
    exposed = [
        repr(model),
        str(model),
        dumps(model),
        json.dumps(model._get_ls_params()),
        repr(model._get_invocation_params()),
    ]
    for text in exposed:
        assert "sk-provider-secret" not in text
        assert gateway.token not in text


# --------------------------------------------------------------------------- endpoints


def test_native_endpoint_uses_the_provider_path_and_bare_model(gateway: LocalGateway) -> None:
    ai_msg = chat(gateway, endpoint="native").invoke("a")

    sent = gateway.received[0]
    assert sent.path == f"/v1/{gateway.account_id}/default/openai/chat/completions"
    assert sent.json["model"] == "gpt-4o-mini"
    info = ai_msg.response_metadata["gateway"]
    assert info == expected_info(row_of(gateway, info["log_id"]))


def test_rest_endpoint_sends_the_token_as_authorization(gateway: LocalGateway) -> None:
    ai_msg = chat(gateway, endpoint="rest").invoke("a")

    sent = gateway.received[0]
    assert sent.path == f"/client/v4/accounts/{gateway.account_id}/ai/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {gateway.token}"
    assert sent.headers["cf-aig-gateway-id"] == "default"
    assert "cf-aig-authorization" not in sent.headers
    assert sent.json["model"] == MODEL
    assert ai_msg.response_metadata["gateway"]["log_id"] == gateway.logs()[0]["id"]


def test_per_call_model_override_changes_the_body_model(gateway: LocalGateway) -> None:
    ai_msg = chat(gateway).invoke("a", model="openai/gpt-4.1-mini")

    assert gateway.received[0].json["model"] == "openai/gpt-4.1-mini"
    assert ai_msg.response_metadata["gateway"]["model"] == "gpt-4.1-mini"
    native = chat(gateway, endpoint="native")
    with pytest.raises(ConfigError, match="another URL"):
        native.invoke("a", model="groq/llama-3.1-8b-instant")
    with pytest.raises(GatewayInputError, match="endpoint='compat'"):
        native.invoke("a", model="anthropic/claude-3-5-haiku")
    assert len(gateway.received) == 1


def test_config_comes_from_arguments_then_environment_then_file(
    gateway: LocalGateway, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    config_file = tmp_path / "config.json"
    config_file.write_text(
        json.dumps({"accountId": "acct-file", "gatewayId": "gw-file", "baseUrl": gateway.base_url})
    )
    monkeypatch.setenv("CF_AIG_CONFIG", str(config_file))
    gateway.create_gateway("gw-file")
    gateway.create_gateway("gw-env")

    ChatCloudflareGateway(model=MODEL).invoke("a")
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acct-env")
    monkeypatch.setenv("CLOUDFLARE_GATEWAY_ID", "gw-env")
    ChatCloudflareGateway(model=MODEL).invoke("b")
    ChatCloudflareGateway(model=MODEL, account_id="acct-arg", gateway_id="default").invoke("c")

    assert [r.path for r in gateway.received] == [
        "/v1/acct-file/gw-file/compat/chat/completions",
        "/v1/acct-env/gw-env/compat/chat/completions",
        "/v1/acct-arg/default/compat/chat/completions",
    ]


# --------------------------------------------------------------------------- fallbacks


def test_fallbacks_go_to_the_universal_endpoint_and_name_the_step_that_served_it(
    gateway: LocalGateway,
) -> None:
    model = chat(
        gateway,
        model="openai/gpt-4o-mini~status=503",
        fallbacks=[
            {"model": "anthropic/claude-3-5-haiku", "gateway_options": {"max_attempts": 2}},
            "openai/gpt-4o-mini",
        ],
        api_key="sk-provider-secret",
    )

    ai_msg = model.invoke("hello")
    streamed = merge(list(model.stream("hello")))

    sent = gateway.received[0]
    assert sent.path == f"/v1/{gateway.account_id}/default"
    assert "authorization" not in sent.headers
    assert sent.headers["cf-aig-authorization"] == f"Bearer {gateway.token}"
    steps = sent.json
    assert [s["query"]["model"] for s in steps] == [
        "openai/gpt-4o-mini~status=503",
        "anthropic/claude-3-5-haiku",
        "openai/gpt-4o-mini",
    ]
    assert [s["provider"] for s in steps] == ["compat", "compat", "compat"]
    assert [s["endpoint"] for s in steps] == ["chat/completions"] * 3
    assert steps[1]["config"] == {"maxAttempts": 2}
    assert all(s["headers"]["authorization"] == "Bearer sk-provider-secret" for s in steps)
    for message in (ai_msg, streamed):
        info = message.response_metadata["gateway"]
        row = row_of(gateway, info["log_id"])
        assert row["step"] == 1
        assert info["step"] == 1
        assert info["model"] == "claude-3-5-haiku"
        assert info["provider"] == "anthropic"
        assert info["event_id"] == row["event_id"]
    assert ai_msg.content == "Mock answer: hello"


# --------------------------------------------------------------------------- errors


def test_a_rate_limit_is_the_gateway_error_and_the_sdk_error(gateway: LocalGateway) -> None:
    model = chat(gateway, model="openai/gpt-4o-mini~status=429")

    with pytest.raises(GatewayRateLimitError) as caught:
        model.invoke("a")

    error = caught.value
    assert isinstance(error, openai.RateLimitError)
    assert isinstance(error, ModelRateLimitError)
    assert error.status_code == 429
    assert error.retryable
    assert error.log_id == gateway.logs()[0]["id"]
    assert f"[log id {error.log_id}]" in str(error)
    assert error.response.status_code == 429
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, GatewayRateLimitError)
    assert isinstance(copy, openai.RateLimitError)
    assert (str(copy), copy.log_id, copy.status_code) == (str(error), error.log_id, 429)


def test_existing_sdk_except_clauses_keep_catching_on_streams(gateway: LocalGateway) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        list(chat(gateway, model="openai/gpt-4o-mini~status=503").stream("a"))
    assert isinstance(caught.value, ProviderUnavailableError)
    assert caught.value.log_id == gateway.logs()[0]["id"]

    async def astream_bad_request() -> None:
        async for _ in chat(gateway, model="openai/gpt-4o-mini~status=400").astream("a"):
            pass

    with pytest.raises(openai.BadRequestError) as bad:
        asyncio.run(astream_bad_request())
    assert isinstance(bad.value, ProviderError)
    assert bad.value.status_code == 400


def test_gateway_authentication_errors_carry_the_gateway_code(gateway: LocalGateway) -> None:
    gateway.create_gateway("secure", authentication=True)
    model = chat(gateway, gateway_id="secure", gateway_token="wrong-token-value")

    with pytest.raises(GatewayAuthenticationError) as caught:
        asyncio.run(model.ainvoke("a"))

    error = caught.value
    assert isinstance(error, openai.AuthenticationError)
    assert error.code == 2009
    assert "CLOUDFLARE_AI_GATEWAY_TOKEN" in str(error)
    assert "wrong-token-value" not in str(error)
    assert chat(gateway, gateway_id="secure").invoke("b").content == "Mock answer: b"


def test_one_model_serves_successive_event_loops(gateway: LocalGateway) -> None:
    # Each asyncio.run has its own loop; a pooled connection of a closed loop must not be
    # reused (a ChatOpenAI shared this way fails every other call: "Connection error").
    model = chat(gateway)

    ai_msgs = [asyncio.run(model.ainvoke(f"loop {i}")) for i in range(3)]

    assert [a.content for a in ai_msgs] == [f"Mock answer: loop {i}" for i in range(3)]


@pytest.mark.parametrize("fault", ["malformed", "chunk-delay=1~disconnect=3"])
def test_a_broken_response_raises_with_its_log_id_instead_of_a_short_one(
    gateway: LocalGateway, fault: str
) -> None:
    model = chat(gateway, model=f"openai/gpt-4o-mini~{fault}")

    async def astream() -> None:
        async for _ in model.astream("one two three four five six seven"):
            pass

    calls: list[Callable[[], Any]] = [
        lambda: list(model.stream("one two three four five six seven")),
        lambda: asyncio.run(astream()),
    ]
    if fault == "malformed":
        calls.append(lambda: model.invoke("one two"))
    for call in calls:
        with pytest.raises(InvalidResponseError) as caught:
            call()
        assert caught.value.status_code == 200
        assert caught.value.log_id == gateway.logs()[-1]["id"]
