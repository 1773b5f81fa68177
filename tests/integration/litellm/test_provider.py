"""The LiteLLM handler against the local gateway: what goes on the wire, what comes back."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from litellm.exceptions import MidStreamFallbackError
from litellm.router_utils.cooldown_handlers import async_get_cooldown_deployments

from langchain_cf_gateway.core import (
    GATEWAY_INFO_KEYS,
    GatewayRateLimitError,
    InvalidModelIdError,
    InvalidOptionError,
)
from langchain_cf_gateway.core.errors import GatewayAuthenticationError
from langchain_cf_gateway.litellm_provider import (
    PROVIDER,
    CloudflareGatewayLLM,
    gateway_error,
    gateway_info,
    handler,
    register,
)
from langchain_cf_gateway.local import LocalGateway
from tests.support.rawserver import Act as Canned
from tests.support.rawserver import MisbehavingServer as RawServer

MINI = f"{PROVIDER}/openai/gpt-4o-mini"
LLAMA = f"{PROVIDER}/workers-ai/@cf/meta/llama-3.1-8b-instruct"
HELLO = [{"role": "user", "content": "hello"}]
CHAT_BODY = json.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }
).encode()
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def _compat_path(gw: LocalGateway, what: str = "chat/completions") -> str:
    return f"/v1/{gw.account_id}/{gw.gateway_id}/compat/{what}"


# --------------------------------------------------------------------------- registration


def test_register_adds_the_provider_once_however_often_called(litellm_mod: Any) -> None:
    threads = [threading.Thread(target=register) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    register()
    entries = [e for e in litellm_mod.custom_provider_map if e["provider"] == PROVIDER]
    assert len(entries) == 1
    assert entries[0]["custom_handler"] is handler
    assert PROVIDER in litellm_mod.provider_list


def test_handler_repr_and_errors_never_show_secrets(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    gw.create_gateway("locked", authentication=True)
    with pytest.raises(litellm_mod.AuthenticationError) as info:
        litellm_mod.completion(
            model=MINI,
            messages=HELLO,
            api_key="sk-provider-secret",
            **{**cf, "gateway_id": "locked", "gateway_token": "wrong-token-secret"},
        )
    text = str(info.value)
    assert "sk-provider-secret" not in text and "wrong-token-secret" not in text
    assert "secret" not in repr(handler)
    assert repr(CloudflareGatewayLLM()) == "CloudflareGatewayLLM(provider='cloudflare-ai-gateway')"


# --------------------------------------------------------------------------- completion


def test_completion_wire_and_gateway_dict_miss_then_hit(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    calls = [
        litellm_mod.completion(
            model=MINI,
            messages=HELLO,
            api_key="sk-test",
            temperature=0,
            max_retries=3,
            gateway_options={"cache_ttl": 120, "metadata": {"team": "search"}},
            extra_headers={"x-trace": "t-1"},
            **cf,
        )
        for _ in range(2)
    ]
    request = gw.received[0]
    assert request.method == "POST"
    assert request.path == _compat_path(gw)
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.headers["cf-aig-authorization"] == f"Bearer {gw.token}"
    assert request.headers["cf-aig-cache-ttl"] == "120"
    assert request.headers["cf-aig-metadata"] == '{"team":"search"}'
    assert request.headers["x-trace"] == "t-1"
    # LiteLLM's own keys (max_retries) and ours (gateway_*) never reach the body.
    assert request.json == {"model": "openai/gpt-4o-mini", "messages": HELLO, "temperature": 0}

    first, second = calls
    assert first.choices[0].message.content == second.choices[0].message.content
    assert first.choices[0].message.content
    info = first._hidden_params["gateway"]
    assert tuple(info) == GATEWAY_INFO_KEYS
    assert info["cache_status"] == "MISS"
    assert info["model"] == "gpt-4o-mini" and info["provider"] == "openai"
    assert second._hidden_params["gateway"]["cache_status"] == "HIT"
    assert gateway_info(second) == second._hidden_params["gateway"]
    headers = second._hidden_params["additional_headers"]
    assert headers["llm_provider-cf-aig-cache-status"] == "HIT"
    assert headers["llm_provider-cf-aig-log-id"] == second._hidden_params["gateway"]["log_id"]
    assert [row["cached"] for row in gw.logs()] == [False, True]
    assert gw.logs()[0]["id"] == info["log_id"]
    assert first.usage.prompt_tokens > 0
    # A HIT costs the provider nothing; a MISS is priced from LiteLLM's price map.
    assert second._hidden_params["response_cost"] == 0.0
    assert first._hidden_params["response_cost"] > 0


def test_no_authorization_header_without_a_provider_key(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    litellm_mod.completion(model=MINI, messages=HELLO, **cf)
    assert "authorization" not in gw.received[0].headers
    assert gw.received[0].headers["cf-aig-authorization"] == f"Bearer {gw.token}"


def test_config_from_the_environment(
    litellm_mod: Any, gw: LocalGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "env-account")
    monkeypatch.setenv("CLOUDFLARE_GATEWAY_ID", gw.gateway_id)
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_TOKEN", gw.token)
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_BASE_URL", gw.base_url)
    # The handler resolves a deployment once (arguments > environment > config file) and
    # keeps it: refresh() makes it read the environment this test has just set.
    handler.refresh()
    response = litellm_mod.completion(model=MINI, messages=HELLO)
    assert gw.received[0].path == f"/v1/env-account/{gw.gateway_id}/compat/chat/completions"
    assert gw.received[0].headers["cf-aig-authorization"] == f"Bearer {gw.token}"
    assert response._hidden_params["gateway"]["cache_status"] in ("MISS", None)


@pytest.mark.parametrize(
    ("model", "body_model"),
    [
        (LLAMA, "workers-ai/@cf/meta/llama-3.1-8b-instruct"),
        (f"{PROVIDER}/@cf/meta/llama-3.1-8b-instruct", "workers-ai/@cf/meta/llama-3.1-8b-instruct"),
        (f"{PROVIDER}/google/gemini-2.5-flash", "google-ai-studio/gemini-2.5-flash"),
    ],
)
def test_model_ids_follow_the_core_grammar(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any], model: str, body_model: str
) -> None:
    litellm_mod.completion(model=model, messages=HELLO, **cf)
    assert gw.received[0].path == _compat_path(gw)
    assert gw.received[0].json["model"] == body_model


def test_dynamic_route_reports_what_the_gateway_chose(
    litellm_mod: Any, raw_gateway: RawServer
) -> None:
    # The local gateway has no dynamic routes; a raw server responds as Cloudflare does.
    raw_gateway.queue.append(
        Canned(
            200,
            {"cf-aig-model": "gpt-4o", "cf-aig-provider": "openai", "cf-aig-log-id": "L1"},
            CHAT_BODY,
        )
    )
    response = litellm_mod.completion(
        model=f"{PROVIDER}/dynamic/support",
        messages=HELLO,
        api_base=raw_gateway.base_url,
        account_id="acct",
        gateway_id="gw",
    )
    assert raw_gateway.received[0].path == "/v1/acct/gw/compat/chat/completions"
    assert raw_gateway.received[0].json["model"] == "dynamic/support"
    info = response._hidden_params["gateway"]
    assert (info["model"], info["provider"], info["log_id"]) == ("gpt-4o", "openai", "L1")


def test_native_endpoint(litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]) -> None:
    response = litellm_mod.completion(
        model=MINI, messages=HELLO, endpoint="native", api_key="sk-n", **cf
    )
    request = gw.received[0]
    assert request.path == f"/v1/{gw.account_id}/{gw.gateway_id}/openai/chat/completions"
    assert request.json["model"] == "gpt-4o-mini"
    assert request.headers["authorization"] == "Bearer sk-n"
    assert response._hidden_params["gateway"]["provider"] == "openai"


def test_bad_input_fails_before_anything_is_sent(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    # Both the core's ValueError (naming the fix) and litellm.BadRequestError: LiteLLM
    # passes its own classes through, and the Router neither retries nor cools down on it.
    with pytest.raises(InvalidModelIdError, match="unknown provider 'nosuch'") as info:
        litellm_mod.completion(model=f"{PROVIDER}/nosuch/model", messages=HELLO, **cf)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, litellm_mod.BadRequestError)
    assert info.value.status_code == 400
    with pytest.raises(InvalidOptionError, match="cache_ttl: must be from 60") as option:
        litellm_mod.completion(model=MINI, messages=HELLO, gateway_options={"cache_ttl": 5}, **cf)
    assert option.value.field == "cache_ttl"
    assert gw.received == []


async def test_bad_input_on_an_async_stream_raises_from_the_call(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    with pytest.raises(InvalidOptionError, match="max_attempts"):
        await litellm_mod.acompletion(
            model=MINI, messages=HELLO, stream=True, gateway_options={"max_attempts": 9}, **cf
        )
    with pytest.raises(InvalidModelIdError):
        await litellm_mod.aembedding(model=f"{PROVIDER}/nosuch/e", input=["a"], **cf)
    assert gw.received == []


async def test_acompletion_miss_then_hit(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    calls = [
        await litellm_mod.acompletion(
            model=MINI, messages=HELLO, api_key="sk-a", gateway_options={"cache_ttl": 60}, **cf
        )
        for _ in range(2)
    ]
    second = calls[1]
    assert [gateway_info(c)["cache_status"] for c in calls] == ["MISS", "HIT"]  # type: ignore[index]
    assert second._hidden_params["additional_headers"]["llm_provider-cf-aig-cache-status"] == "HIT"
    assert gw.received[0].path == _compat_path(gw)
    assert gw.received[0].headers["authorization"] == "Bearer sk-a"


def test_tool_calls(litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]) -> None:
    gw.script(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}])
    response = litellm_mod.completion(
        model=MINI, messages=HELLO, tools=[WEATHER_TOOL], tool_choice="auto", **cf
    )
    call = response.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert call.function.arguments == '{"city": "Paris"}' or call.function.arguments == (
        '{"city":"Paris"}'
    )
    assert response.choices[0].finish_reason == "tool_calls"
    assert gw.received[0].json["tools"] == [WEATHER_TOOL]
    assert gw.received[0].json["tool_choice"] == "auto"


# --------------------------------------------------------------------------- streaming


def test_streaming_text_usage_and_gateway_dict(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    gw.script("Paris is the capital of France.")
    stream = litellm_mod.completion(
        model=MINI, messages=HELLO, stream=True, stream_options={"include_usage": True}, **cf
    )
    chunks = list(stream)
    request = gw.received[0]
    assert request.json == {
        "model": "openai/gpt-4o-mini",
        "messages": HELLO,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Paris is the capital of France."
    first = gateway_info(chunks[0])
    assert first is not None and first["log_id"] == gw.logs()[0]["id"]
    assert chunks[0].gateway == first  # type: ignore[attr-defined]
    # The wrapper has it too once the first chunk has been read.
    assert stream._hidden_params["gateway"] == first
    assert (
        stream._hidden_params["additional_headers"]["llm_provider-cf-aig-log-id"] == first["log_id"]
    )
    assert [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ] == ["stop"]
    usage = [c.usage for c in chunks if getattr(c, "usage", None)]
    assert usage and usage[-1].completion_tokens > 0


def test_streaming_without_stream_options_still_asks_for_usage(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    chunks = list(litellm_mod.completion(model=LLAMA, messages=HELLO, stream=True, **cf))
    assert gw.received[0].json["stream_options"] == {"include_usage": True}
    built = litellm_mod.stream_chunk_builder(chunks)
    assert built.usage.completion_tokens > 0
    assert gateway_info(chunks[0])["provider"] == "workers-ai"  # type: ignore[index]


def test_streaming_tool_calls(litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]) -> None:
    gw.script(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}])
    chunks = list(
        litellm_mod.completion(model=MINI, messages=HELLO, tools=[WEATHER_TOOL], stream=True, **cf)
    )
    built = litellm_mod.stream_chunk_builder(chunks)
    call = built.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert call.function.arguments.replace(" ", "") == '{"city":"Paris"}'
    assert built.choices[0].finish_reason == "tool_calls"


async def test_astreaming(litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]) -> None:
    gw.script("One two three.")
    stream = await litellm_mod.acompletion(model=MINI, messages=HELLO, stream=True, **cf)
    chunks = [c async for c in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "One two three."
    assert gateway_info(chunks[0])["log_id"] == gw.logs()[0]["id"]  # type: ignore[index]
    assert gateway_info(stream) == gateway_info(chunks[0])
    assert gw.received[0].json["stream"] is True


async def test_astreaming_error_raises_with_the_gateway_status(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    # Async streams send the request on the first iteration (LiteLLM gives a handler no
    # await point before it returns the stream), where LiteLLM reports errors as a
    # MidStreamFallbackError before the first chunk, with the gateway's status.
    gw.script(fault="status=429", times=None)
    stream = await litellm_mod.acompletion(model=MINI, messages=HELLO, stream=True, **cf)
    with pytest.raises(MidStreamFallbackError) as info:
        async for _ in stream:
            pass
    assert info.value.status_code == 429
    assert info.value.is_pre_first_chunk
    assert isinstance(info.value.original_exception, litellm_mod.RateLimitError)
    assert isinstance(gateway_error(info.value), GatewayRateLimitError)


def test_streaming_error_raises_from_the_call(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    gw.script(fault="status=503", times=None)
    with pytest.raises(litellm_mod.ServiceUnavailableError):
        litellm_mod.completion(model=MINI, messages=HELLO, stream=True, **cf)


# --------------------------------------------------------------------------- embeddings


def test_embedding(litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]) -> None:
    response = litellm_mod.embedding(
        model=f"{PROVIDER}/openai/text-embedding-3-small",
        input=["alpha", "beta"],
        api_key="sk-e",
        **cf,
    )
    request = gw.received[0]
    assert request.path == _compat_path(gw, "embeddings")
    assert request.json == {"model": "openai/text-embedding-3-small", "input": ["alpha", "beta"]}
    assert request.headers["authorization"] == "Bearer sk-e"
    assert len(response.data) == 2 and len(response.data[0]["embedding"]) > 0
    assert response._hidden_params["gateway"]["log_id"] == gw.logs()[0]["id"]
    assert response._hidden_params["gateway"]["provider"] == "openai"


async def test_aembedding(litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]) -> None:
    response = await litellm_mod.aembedding(
        model=f"{PROVIDER}/workers-ai/@cf/baai/bge-base-en-v1.5", input=["alpha"], **cf
    )
    assert gw.received[0].json["model"] == "workers-ai/@cf/baai/bge-base-en-v1.5"
    assert len(response.data) == 1
    assert gateway_info(response)["model"] == "@cf/baai/bge-base-en-v1.5"  # type: ignore[index]


# --------------------------------------------------------------------------- errors, fallbacks


def test_gateway_error_keeps_status_code_and_log_id(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    gw.create_gateway("locked", authentication=True)
    with pytest.raises(litellm_mod.AuthenticationError) as info:
        litellm_mod.completion(
            model=MINI, messages=HELLO, **{**cf, "gateway_id": "locked", "gateway_token": None}
        )
    assert info.value.status_code == 401
    typed = gateway_error(info.value)
    assert isinstance(typed, GatewayAuthenticationError)
    assert typed.code == 2009
    assert "2009" in str(info.value)
    if typed.log_id:
        assert typed.log_id in str(info.value)


def test_gateway_fallbacks_use_the_universal_endpoint(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    gw.script(fault="status=503", model="gpt-4o-mini", times=None)
    response = litellm_mod.completion(
        model=MINI,
        messages=HELLO,
        api_key="sk-f",
        gateway_fallbacks=["workers-ai/@cf/meta/llama-3.1-8b-instruct"],
        gateway_options={"max_attempts": 1},
        **cf,
    )
    request = gw.received[0]
    assert request.path == f"/v1/{gw.account_id}/{gw.gateway_id}"
    steps = request.json
    assert [s["query"]["model"] for s in steps] == [
        "openai/gpt-4o-mini",
        "workers-ai/@cf/meta/llama-3.1-8b-instruct",
    ]
    assert all(s["headers"]["authorization"] == "Bearer sk-f" for s in steps)
    assert all(s["config"] == {"maxAttempts": 1} for s in steps)
    info = response._hidden_params["gateway"]
    assert info["step"] == 1
    assert info["provider"] == "workers-ai"
    assert info["model"] == "@cf/meta/llama-3.1-8b-instruct"
    assert response.choices[0].message.content


# --------------------------------------------------------------------------- Router


def test_router_falls_back_to_the_group_that_responds(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    gw.script(fault="status=503", model="gpt-4o-mini", times=None)
    router = litellm_mod.Router(
        model_list=[
            {"model_name": "primary", "litellm_params": {"model": MINI, **cf}},
            {"model_name": "backup", "litellm_params": {"model": LLAMA, **cf}},
        ],
        fallbacks=[{"primary": ["backup"]}],
        num_retries=0,
    )
    response = router.completion(model="primary", messages=HELLO)
    assert [r.json["model"] for r in gw.received] == [
        "openai/gpt-4o-mini",
        "workers-ai/@cf/meta/llama-3.1-8b-instruct",
    ]
    # The Router's own keys (max_retries=0, stream=False) stay out of the upstream body.
    assert set(gw.received[1].json) == {"model", "messages"}
    assert response._hidden_params["gateway"]["provider"] == "workers-ai"
    assert response.choices[0].message.content


async def test_router_cools_down_a_deployment_the_gateway_rate_limits(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    gw.create_gateway("tight", rate_limiting_limit=1, rate_limiting_interval=60)
    router = litellm_mod.Router(
        model_list=[
            {
                "model_name": "chat",
                "litellm_params": {"model": MINI, **cf, "gateway_id": "tight", "order": 1},
                "model_info": {"id": "tight-deployment"},
            },
            {
                "model_name": "chat",
                "litellm_params": {"model": MINI, **cf, "order": 2},
                "model_info": {"id": "open-deployment"},
            },
        ],
        num_retries=1,
        retry_after=0,
        cooldown_time=60,
    )
    first = await router.acompletion(model="chat", messages=HELLO)
    assert first._hidden_params["model_id"] == "tight-deployment"
    # The gateway allows one request per minute: the next one is its own 429 (code 2003),
    # the deployment cools down and the retry goes to the other one.
    second = await router.acompletion(model="chat", messages=[{"role": "user", "content": "again"}])
    assert second._hidden_params["model_id"] == "open-deployment"
    assert [r.path.split("/")[3] for r in gw.received] == ["tight", "tight", gw.gateway_id]
    cooling = await async_get_cooldown_deployments(router, parent_otel_span=None)
    assert cooling == ["tight-deployment"]
    assert set(gw.received[2].json) == {"model", "messages"}


def test_rate_limit_maps_to_litellm_rate_limit_error(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    gw.create_gateway("one", rate_limiting_limit=1, rate_limiting_interval=60)
    kwargs = {**cf, "gateway_id": "one"}
    litellm_mod.completion(model=MINI, messages=HELLO, **kwargs)
    with pytest.raises(litellm_mod.RateLimitError) as info:
        litellm_mod.completion(model=MINI, messages=HELLO, num_retries=0, **kwargs)
    assert info.value.status_code == 429
    typed = gateway_error(info.value)
    assert isinstance(typed, GatewayRateLimitError) and typed.code == 2003


async def test_router_streams_carry_the_gateway_dict(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    router = litellm_mod.Router(
        model_list=[{"model_name": "chat", "litellm_params": {"model": MINI, **cf}}]
    )
    sync_stream = router.completion(model="chat", messages=HELLO, stream=True)
    sync_chunks = list(sync_stream)
    async_stream = await router.acompletion(model="chat", messages=HELLO, stream=True)
    async_chunks = [c async for c in async_stream]
    log_ids = [row["id"] for row in gw.logs()]
    # The Router wraps LiteLLM's stream wrapper in its own; both get the dict.
    assert [gateway_info(sync_stream)["log_id"], gateway_info(async_stream)["log_id"]] == log_ids  # type: ignore[index]
    assert gateway_info(sync_chunks[0]) == gateway_info(sync_stream)
    assert gateway_info(async_chunks[0]) == gateway_info(async_stream)


def test_the_gateway_token_is_blanked_where_litellm_logs_the_call(
    litellm_mod: Any, gw: LocalGateway
) -> None:
    # LiteLLM hands its success/failure callbacks the logging object's model_call_details,
    # which hold the call's keywords and optional_params: the same dicts the handler gets.
    params: dict[str, Any] = {
        "account_id": gw.account_id,
        "gateway_id": gw.gateway_id,
        "gateway_token": gw.token,
        "temperature": 0,
    }

    class Logging:
        model_call_details: dict[str, Any] = {"gateway_token": gw.token, "optional_params": params}

    response = handler.completion(
        model="openai/gpt-4o-mini",
        messages=HELLO,
        api_base=gw.base_url,
        custom_prompt_dict={},
        model_response=litellm_mod.ModelResponse(),
        print_verbose=print,
        encoding=None,
        api_key=None,
        logging_obj=Logging(),
        optional_params=params,
    )
    assert gw.received[0].headers["cf-aig-authorization"] == f"Bearer {gw.token}"
    assert gw.received[0].json == {
        "model": "openai/gpt-4o-mini",
        "messages": HELLO,
        "temperature": 0,
    }
    assert gw.token not in repr(Logging.model_call_details)
    assert params["gateway_token"] == "[redacted]"
    assert gw.token not in repr(response._hidden_params)


async def test_concurrent_calls_share_the_pool_and_keep_their_responses(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    prompts = [f"question {i}" for i in range(12)]

    async def ask(prompt: str) -> Any:
        return await litellm_mod.acompletion(
            model=MINI, messages=[{"role": "user", "content": prompt}], **cf
        )

    responses = await asyncio.gather(*(ask(p) for p in prompts))
    with ThreadPoolExecutor(4) as pool:
        sync_responses = list(
            pool.map(
                lambda p: litellm_mod.completion(
                    model=MINI, messages=[{"role": "user", "content": p}], **cf
                ),
                prompts,
            )
        )
    for prompt, response in zip(prompts * 2, responses + sync_responses, strict=True):
        assert prompt in response.choices[0].message.content
    log_ids = {gateway_info(a)["log_id"] for a in responses + sync_responses}  # type: ignore[index]
    assert log_ids == {row["id"] for row in gw.logs()} and len(log_ids) == 24


def test_a_provider_parameter_outside_openais_is_refused_naming_extra_body(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    # Nothing the user set is dropped without a word: a parameter that is not OpenAI's
    # is refused before anything is sent, naming the two ways out (LiteLLM's own rule
    # for parameters a provider does not support, https://docs.litellm.ai/docs/completion/drop_params).
    with pytest.raises(
        InvalidOptionError, match=r"top_k: .*extra_body=\{'top_k': \.\.\.\}"
    ) as info:
        litellm_mod.completion(model=MINI, messages=HELLO, top_k=40, **cf)
    assert isinstance(info.value, litellm_mod.BadRequestError)
    assert "drop_params=True" in str(info.value)
    assert gw.received == []

    litellm_mod.completion(model=MINI, messages=HELLO, extra_body={"top_k": 40}, **cf)
    assert json.loads(gw.received[-1].body)["top_k"] == 40

    litellm_mod.completion(model=MINI, messages=HELLO, top_k=40, drop_params=True, **cf)
    assert "top_k" not in json.loads(gw.received[-1].body)
