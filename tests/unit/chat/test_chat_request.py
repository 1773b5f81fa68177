"""The pure pieces of a chat request (`_chat_request`): target, headers, metadata, timeouts."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from langchain_cf_gateway._chat_request import (
    CallHeaders,
    ChatTarget,
    capped_timeout,
    forwarded_metadata,
    has_finish_reason,
    unfinished_stream,
)
from langchain_cf_gateway.core import ConfigError, GatewayConfig, GatewayOptions

CONFIG = GatewayConfig(account_id="acct", gateway_id="gw", base_url="http://gateway.test")


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [
        (60, httpx.Timeout(10)),
        (5, httpx.Timeout(5)),
        ((2, 30), httpx.Timeout(10, connect=2)),
        (httpx.Timeout(None), httpx.Timeout(10)),
        (None, httpx.Timeout(10, connect=min(openai.DEFAULT_TIMEOUT.connect or 10, 10))),
    ],
)
def test_capped_timeout_bounds_every_phase(timeout: Any, expected: httpx.Timeout) -> None:
    assert capped_timeout(timeout, 10) == expected


@pytest.mark.parametrize(
    ("run", "explicit", "forward", "expected"),
    [
        ({"user": "u1", "ls_provider": "x", "n": 3}, {}, True, {"user": "u1", "n": 3}),
        ({"user": "u1", "team": "t"}, {}, ["team"], {"team": "t"}),
        ({"user": "u1"}, {"user": "explicit"}, True, {}),
        ({"a": 1, "b": 2, "c": 3}, {"x": 1, "y": 2, "z": 3, "w": 4}, True, {"a": 1}),
        ({"obj": object(), "nan": float("nan"), "nul": "a\0b"}, {}, True, {}),
        ({"cf.internal": "v", " ": "v"}, {}, True, {}),
        ({"user": "u1"}, {}, False, {}),
    ],
)
def test_forwarded_metadata(
    run: dict[str, Any], explicit: dict[str, Any], forward: Any, expected: dict[str, Any]
) -> None:
    assert forwarded_metadata(run, explicit, forward) == expected


def test_call_headers_are_fresh_and_merge_the_call_over_the_model() -> None:
    headers = CallHeaders(GatewayOptions(cache_ttl=60), omit_authorization=True)
    plain = headers.of_call(None, None, False)
    assert plain["cf-aig-cache-ttl"] == "60"
    assert plain["Authorization"] is openai.omit
    plain["x"] = "changed"
    assert "x" not in headers.of_call(None, None, False)  # a fresh dict per call
    merged = headers.of_call({"skip_cache": True}, {"user": "u1"}, True)
    assert merged["cf-aig-skip-cache"] == "true"
    assert merged["cf-aig-metadata"] == '{"user":"u1"}'


def test_a_target_with_fallbacks_omits_authorization_and_refuses_a_per_call_model() -> None:
    target = ChatTarget.resolve(
        CONFIG, "openai/gpt-4o-mini", "compat", ["anthropic/claude-3-5-haiku"], "sk-key"
    )
    assert target.universal is not None and target.omit_authorization
    assert target.body_model(None, "openai/gpt-4o-mini") == ("openai/gpt-4o-mini", None)
    with pytest.raises(ConfigError, match="fallback chain"):
        target.body_model("openai/gpt-4o", "openai/gpt-4o-mini")


def test_a_per_call_model_on_the_compat_endpoint_is_routed_once_and_reported() -> None:
    target = ChatTarget.resolve(CONFIG, "openai/gpt-4o-mini", "compat", None, None)
    body_model, ref = target.body_model("openai/gpt-4.1-mini", "openai/gpt-4o-mini")
    assert body_model == "openai/gpt-4.1-mini" and ref is not None
    assert target.info(httpx.Headers({"cf-aig-log-id": "L"}), ref)["model"] == "gpt-4.1-mini"
    native = ChatTarget.resolve(CONFIG, "openai/gpt-4o-mini", "native", None, None)
    with pytest.raises(ConfigError, match="another URL"):
        native.body_model("workers-ai/@cf/meta/llama-3.1-8b-instruct", "openai/gpt-4o-mini")


@pytest.mark.parametrize(
    ("fallbacks", "endpoint", "match"),
    [
        (["openai/gpt-4o"], "rest", "universal"),
        ([{"gateway_options": {}}], "compat", "'model'"),
        ([{"model": "openai/gpt-4o", "api_key": "sk"}], "compat", "BYOK"),
        ([{"model": "openai/gpt-4o", "endpoint": "rest"}], "compat", "'compat' or 'native'"),
    ],
)
def test_a_malformed_fallback_names_the_fix(
    fallbacks: list[Any], endpoint: Any, match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        ChatTarget.resolve(CONFIG, "openai/gpt-4o-mini", endpoint, fallbacks, None)


def test_an_unfinished_stream_is_an_invalid_response_with_its_log_id() -> None:
    from langchain_core.messages import AIMessageChunk
    from langchain_core.outputs import ChatGenerationChunk

    done = ChatGenerationChunk(
        message=AIMessageChunk(content=""), generation_info={"finish_reason": "stop"}
    )
    assert has_finish_reason(done)
    assert not has_finish_reason(ChatGenerationChunk(message=AIMessageChunk(content="a")))
    err = unfinished_stream(None, httpx.Headers({"cf-aig-log-id": "L"}))
    assert (err.status_code, err.log_id) == (200, "L")
    assert "response may be cut short" in str(err)
