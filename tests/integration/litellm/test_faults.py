"""What the handler does with responses the local gateway does not script: a raw server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from langchain_cf_gateway.core import InvalidResponseError
from langchain_cf_gateway.litellm_provider import PROVIDER, gateway_error
from tests.support.rawserver import Act as Canned
from tests.support.rawserver import MisbehavingServer as RawServer

MINI = f"{PROVIDER}/openai/gpt-4o-mini"
HELLO = [{"role": "user", "content": "hello"}]


def _kw(raw: RawServer) -> dict[str, Any]:
    return {"api_base": raw.base_url, "account_id": "acct", "gateway_id": "gw"}


def _event(data: dict[str, Any]) -> str:
    return "data: " + json.dumps(data)


def _delta(content: str) -> str:
    return _event({"id": "c", "choices": [{"index": 0, "delta": {"content": content}}]})


def test_a_body_that_is_not_json_is_a_502(litellm_mod: Any, raw_gateway: RawServer) -> None:
    raw_gateway.queue.append(Canned(200, {"cf-aig-log-id": "L2"}, b"<html>oops</html>"))
    with pytest.raises(litellm_mod.BadGatewayError) as info:
        litellm_mod.completion(model=MINI, messages=HELLO, num_retries=0, **_kw(raw_gateway))
    assert "not a JSON object" in str(info.value)
    typed = gateway_error(info.value)
    assert isinstance(typed, InvalidResponseError)
    assert (typed.status_code, typed.log_id) == (200, "L2")


def test_a_malformed_stream_event_raises(litellm_mod: Any, raw_gateway: RawServer) -> None:
    raw_gateway.queue.append(Canned(200, {}, lines=[_delta("Hel"), 'data: {"choices": [']))
    stream = litellm_mod.completion(model=MINI, messages=HELLO, stream=True, **_kw(raw_gateway))
    with pytest.raises(Exception, match="malformed event in the stream"):
        for _ in stream:
            pass


def test_an_error_event_in_the_stream_raises(litellm_mod: Any, raw_gateway: RawServer) -> None:
    lines = [_delta("Hel"), _event({"error": {"message": "upstream went away"}})]
    raw_gateway.queue.append(Canned(200, {}, lines=lines))
    stream = litellm_mod.completion(model=MINI, messages=HELLO, stream=True, **_kw(raw_gateway))
    with pytest.raises(Exception, match="upstream went away"):
        for _ in stream:
            pass


def test_a_stream_of_keepalives_and_several_tool_calls_in_one_event(
    litellm_mod: Any, raw_gateway: RawServer
) -> None:
    calls = [
        {"index": i, "id": f"call_{i}", "type": "function", "function": {"name": n, "arguments": a}}
        for i, (n, a) in enumerate([("a", '{"x":1}'), ("b", '{"y":2}')])
    ]
    lines = [
        ": keep-alive",
        _event(
            {
                "id": "c",
                "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": calls}}],
            }
        ),
        _event({"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
        _event(
            {
                "id": "c",
                "choices": [],
                "usage": {"prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10},
            }
        ),
        "data: [DONE]",
    ]
    raw_gateway.queue.append(Canned(200, {"cf-aig-log-id": "L3"}, lines=lines))
    chunks = list(
        litellm_mod.completion(model=MINI, messages=HELLO, stream=True, **_kw(raw_gateway))
    )
    built = litellm_mod.stream_chunk_builder(chunks)
    got = [(c.function.name, c.function.arguments) for c in built.choices[0].message.tool_calls]
    assert got == [("a", '{"x":1}'), ("b", '{"y":2}')]
    assert built.choices[0].finish_reason == "tool_calls"
    assert built.usage.total_tokens == 10
    assert chunks[0].gateway["log_id"] == "L3"


def test_rest_endpoint_refuses_a_provider_key_before_sending(
    litellm_mod: Any, raw_gateway: RawServer
) -> None:
    with pytest.raises(
        Exception, match="endpoint='rest' authenticates with the Cloudflare API token"
    ):
        litellm_mod.completion(
            model=MINI,
            messages=HELLO,
            endpoint="rest",
            api_key="sk-x",
            gateway_token="cf-token",
            **_kw(raw_gateway),
        )
    assert raw_gateway.received == []


def test_a_stream_cut_before_any_finish_reason_raises(
    litellm_mod: Any, raw_gateway: RawServer
) -> None:
    raw_gateway.queue.append(
        Canned(200, {"cf-aig-log-id": "L4"}, lines=[_delta("Hel"), _delta("lo")])
    )
    stream = litellm_mod.completion(model=MINI, messages=HELLO, stream=True, **_kw(raw_gateway))
    with pytest.raises(Exception, match="ended without a finish reason") as info:
        for _ in stream:
            pass
    typed = gateway_error(info.value)
    assert isinstance(typed, InvalidResponseError)
    assert (typed.status_code, typed.log_id) == (200, "L4")
