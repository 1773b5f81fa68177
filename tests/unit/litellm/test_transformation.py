"""Request building and response parsing, without sockets: `transformation`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from langchain_cf_gateway.core import ConfigError, GatewayConfig, InvalidOptionError
from langchain_cf_gateway.core.errors import InvalidResponseError
from langchain_cf_gateway.litellm_provider.params import CHAT_PARAMS, upstream_params
from langchain_cf_gateway.litellm_provider.transformation import (
    GatewayRequest,
    Target,
    build_request,
    chat_response,
    deployment_key,
    embedding_response,
    parse_json_object,
    resolve_target,
    response_info,
)

CONFIG = {"account_id": "acct", "gateway_id": "gw"}


def _target(model: str = "openai/gpt-4o-mini", **gw: Any) -> Target:
    key = deployment_key(model, "https://gateway.test", {**CONFIG, **gw}, "chat")
    return resolve_target(key)


def _request(target: Target | None = None, **kw: Any) -> GatewayRequest:
    args: dict[str, Any] = {
        "api_key": None,
        "optional_params": {},
        "extra_headers": None,
        "operation": "chat",
        "payload": {"messages": []},
        "max_response_bytes": 1024,
    }
    return build_request(target or _target(), **(args | kw))


@pytest.mark.parametrize(
    ("optional_params", "operation", "body"),
    [
        (
            {"temperature": 0, "tools": [], "seed": 1},
            "chat",
            {"temperature": 0, "tools": [], "seed": 1},
        ),
        # LiteLLM's keys (the Router's, the SDK's) and ours: never in the body.
        ({"max_retries": 0, "stream": False, "num_retries": 2, "gateway_token": "t"}, "chat", {}),
        ({"litellm_some_new_internal": 1, "temperature": 1}, "chat", {"temperature": 1}),
        # A provider's own parameters travel in extra_body; drop_params drops the rest.
        ({"extra_body": {"top_k": 5}}, "chat", {"top_k": 5}),
        ({"top_k": 9, "drop_params": True}, "chat", {}),
        (
            {"dimensions": 256, "temperature": 0, "drop_params": True},
            "embeddings",
            {"dimensions": 256},
        ),
    ],
)
def test_the_body_takes_openai_parameters_and_extra_body_only(
    optional_params: dict[str, Any], operation: Any, body: dict[str, Any]
) -> None:
    assert upstream_params(optional_params, operation) == body


def test_the_allowlist_holds_no_litellm_keys() -> None:
    assert not CHAT_PARAMS & {"stream", "stream_options", "max_retries", "timeout", "extra_body"}


def test_a_stream_always_asks_for_its_usage_chunk() -> None:
    request = _request(stream=True, optional_params={"stream_options": {"include_usage": False}})
    assert request.content.endswith(b'"stream":true,"stream_options":{"include_usage":true}}')


def test_headers_carry_options_the_provider_key_and_extra_headers() -> None:
    request = _request(
        api_key="sk-1",
        optional_params={"gateway_options": {"cache_ttl": 120}},
        extra_headers={"x-trace": "t"},
    )
    assert request.url == "https://gateway.test/v1/acct/gw/compat/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-1"
    assert request.headers["cf-aig-cache-ttl"] == "120"
    assert request.headers["x-trace"] == "t"
    assert any("sk-1" in secret for secret in request.secrets)


@pytest.mark.parametrize("bad", [0, -1, True, "10"])
def test_max_response_bytes_must_be_a_positive_integer(bad: Any) -> None:
    with pytest.raises(InvalidOptionError, match="max_response_bytes"):
        _request(optional_params={"max_response_bytes": bad})


@pytest.mark.parametrize(
    ("gw", "message"),
    [
        ({"endpoint": "nope"}, "endpoint must be one of"),
        ({"gateway_fallbacks": 3}, "gateway_fallbacks must be a list"),
        ({"account_id": 7}, "account_id must be a string"),
    ],
)
def test_a_deployment_key_refuses_bad_values(gw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        deployment_key("openai/gpt-4o-mini", None, gw, "chat")


def test_rest_takes_neither_fallbacks_nor_a_provider_key() -> None:
    with pytest.raises(ConfigError, match="universal endpoint"):
        _target(endpoint="rest", gateway_fallbacks=["openai/gpt-4o"], gateway_token="t")
    with pytest.raises(ConfigError, match="endpoint='rest' authenticates"):
        _request(_target(endpoint="rest", gateway_token="t"), api_key="sk-1")


def test_response_info_defaults_to_the_route_and_names_the_fallback_step() -> None:
    request = _request(_target(gateway_fallbacks=["workers-ai/@cf/meta/llama-3.1-8b-instruct"]))
    info = response_info(request, {"cf-aig-step": "1", "cf-aig-log-id": "01L"})
    assert (info["step"], info["provider"], info["log_id"]) == (1, "workers-ai", "01L")
    plain = response_info(_request(), {"cf-aig-cache-status": "HIT"})
    assert (plain["model"], plain["provider"], plain["cache_status"]) == (
        "gpt-4o-mini",
        "openai",
        "HIT",
    )


def test_a_body_that_is_not_a_json_object_is_an_invalid_response_with_secrets_masked() -> None:
    request = _request(api_key="sk-secret-1")
    response = httpx.Response(200, content=b"oops sk-secret-1", headers={"cf-aig-log-id": "01B"})
    with pytest.raises(InvalidResponseError, match="not a JSON object") as info:
        parse_json_object(response, request)
    assert (info.value.status_code, info.value.log_id) == (200, "01B")
    assert "sk-secret-1" not in str(info.value) + str(info.value.body)


def test_resolve_target_reads_arguments_before_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "env-acct")
    target = resolve_target(deployment_key("openai/gpt-4o-mini", None, CONFIG, "chat"))
    assert isinstance(target.config, GatewayConfig)
    assert target.config.account_id == "acct"


@pytest.mark.parametrize(
    ("optional_params", "operation", "field"),
    [
        ({"top_k": 9}, "chat", "top_k"),
        ({"extra_body": {"top_k": 5}, "top_k": 9}, "chat", "top_k"),
        ({"dimensions": 256, "temperature": 0}, "embeddings", "temperature"),
    ],
)
def test_a_parameter_that_is_not_openais_is_refused_naming_the_fix(
    optional_params: dict[str, Any], operation: Any, field: str
) -> None:
    with pytest.raises(InvalidOptionError, match=r"extra_body=.*drop_params=True") as info:
        upstream_params(optional_params, operation)
    assert info.value.field == field


@pytest.mark.parametrize("body", [{"hello": "world"}, {"choices": []}, {"choices": None}])
def test_json_that_is_not_a_chat_completion_is_an_invalid_response(body: dict[str, Any]) -> None:
    # Not a response with content None: the protocol is broken, as for a body not JSON.
    request = _request()
    headers = httpx.Headers({"cf-aig-log-id": "01C"})
    with pytest.raises(InvalidResponseError, match="not a chat completion") as info:
        chat_response(request, headers, dict(body), status_code=200)
    assert (info.value.status_code, info.value.log_id) == (200, "01C")


@pytest.mark.parametrize(
    ("body", "inputs"),
    [({"hello": "world"}, 1), ({"data": []}, 1), ({"data": [{"index": 0, "embedding": [0.1]}]}, 2)],
)
def test_an_embeddings_response_without_one_vector_per_input_is_an_invalid_response(
    body: dict[str, Any], inputs: int, litellm_mod: Any
) -> None:
    request = _request(operation="embeddings", payload={"input": ["a"] * inputs})
    headers = httpx.Headers({"cf-aig-log-id": "01D"})
    with pytest.raises(InvalidResponseError, match="embeddings list") as info:
        embedding_response(
            request, headers, dict(body), litellm_mod.EmbeddingResponse(), expected=inputs
        )
    assert (info.value.status_code, info.value.log_id) == (200, "01D")
