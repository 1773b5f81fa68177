"""`endpoint="rest"` end to end: ChatCloudflareGateway against the local gateway's REST API.

https://developers.cloudflare.com/ai-gateway/usage/rest-api/ ; dynamic routes on it:
https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/usage/
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk, BaseMessage
from pydantic import BaseModel

from langchain_cf_gateway import ChatCloudflareGateway
from langchain_cf_gateway.core import GatewayError, GatewayInputError
from langchain_cf_gateway.local import LocalGateway

MODEL = "openai/gpt-4o-mini"


def rest_chat(gw: LocalGateway, **kwargs: Any) -> ChatCloudflareGateway:
    params: dict[str, Any] = {
        "model": MODEL,
        "endpoint": "rest",
        "account_id": gw.account_id,
        "base_url": gw.base_url,
        "gateway_token": gw.token,
        "max_retries": 0,
    }
    params.update(kwargs)
    return ChatCloudflareGateway(**params)


def rest_path(gw: LocalGateway) -> str:
    return f"/client/v4/accounts/{gw.account_id}/ai/v1/chat/completions"


def test_a_dynamic_route_on_rest_sends_the_gateway_id_and_raises_the_404(
    gateway: LocalGateway,
) -> None:
    gateway.create_gateway("rest-owner")
    model = rest_chat(gateway, model="dynamic/support", gateway_id="rest-owner")
    with pytest.raises(GatewayError) as err:
        model.invoke("hi")
    [sent] = gateway.received
    assert sent.path == rest_path(gateway)
    assert sent.headers["cf-aig-gateway-id"] == "rest-owner"
    assert sent.headers["authorization"] == f"Bearer {gateway.token}"
    assert "cf-aig-authorization" not in sent.headers
    assert sent.json["model"] == "dynamic/support"
    [row] = gateway.logs("rest-owner")
    assert (err.value.status_code, err.value.code, err.value.log_id) == (404, 2005, row["id"])
    assert "'support'" in str(err.value) and "'rest-owner'" in str(err.value)


def test_the_auto_router_on_rest_is_refused_before_sending(gateway: LocalGateway) -> None:
    with pytest.raises(GatewayInputError, match="endpoint='compat'"):
        rest_chat(gateway, model="cloudflare/auto").invoke("hi")
    assert gateway.received == []


class Joke(BaseModel):
    setup: str
    punchline: str


JOKE_ARGS = {"setup": "Why?", "punchline": "Because."}


def merge(chunks: list[Any]) -> Any:
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    return full


def assert_sent_on_rest(gw: LocalGateway, info: dict[str, Any]) -> None:
    """Every request went to the REST API with its headers; `info` is its log row's."""
    assert gw.received
    for sent in gw.received:
        assert sent.path == rest_path(gw)
        assert sent.headers["authorization"] == f"Bearer {gw.token}"
        assert sent.headers["cf-aig-gateway-id"] == gw.gateway_id
        assert "cf-aig-authorization" not in sent.headers
        assert sent.json["model"] == MODEL
    rows = [row for row in gw.logs() if row["id"] == info["log_id"]]
    assert len(rows) == 1
    assert rows[0]["path"] == "ai/v1/chat/completions"
    assert (info["provider"], info["model"]) == ("openai", "gpt-4o-mini")
    assert info["request_id"] == rows[0]["request_id"]


def _invoke(model: ChatCloudflareGateway) -> BaseMessage:
    return model.invoke("one")


def _ainvoke(model: ChatCloudflareGateway) -> BaseMessage:
    return asyncio.run(model.ainvoke("one"))


def _stream(model: ChatCloudflareGateway) -> BaseMessage:
    chunks = list(model.stream("one two"))
    assert len([c for c in chunks if "gateway" in c.response_metadata]) == 1
    return merge(chunks)  # type: ignore[no-any-return]


def _astream(model: ChatCloudflareGateway) -> BaseMessage:
    async def run() -> list[AIMessageChunk]:
        return [chunk async for chunk in model.astream("one two")]

    chunks = asyncio.run(run())
    assert len([c for c in chunks if "gateway" in c.response_metadata]) == 1
    return merge(chunks)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "call", [_invoke, _ainvoke, _stream, _astream], ids=lambda f: f.__name__.strip("_")
)
def test_every_call_path_on_rest(
    gateway: LocalGateway, call: Callable[[ChatCloudflareGateway], BaseMessage]
) -> None:
    message = call(rest_chat(gateway))
    assert "Mock answer" in str(message.content)
    assert_sent_on_rest(gateway, message.response_metadata["gateway"])


@pytest.mark.parametrize("method", ["function_calling", "json_mode", "json_schema"])
@pytest.mark.parametrize("mode", ["invoke", "stream"])
def test_structured_output_on_rest(gateway: LocalGateway, method: str, mode: str) -> None:
    if method == "function_calling":
        gateway.script(tool_calls=[{"name": "Joke", "arguments": JOKE_ARGS}])
    else:
        gateway.script(json.dumps(JOKE_ARGS))
    structured = rest_chat(gateway).with_structured_output(
        Joke,
        method=method,  # type: ignore[arg-type]
        include_raw=True,
    )
    parts = [structured.invoke("joke")] if mode == "invoke" else list(structured.stream("joke"))
    raws = [p["raw"] for p in parts if p.get("raw") is not None]
    raw = raws[0] if len(raws) == 1 else merge(raws)
    assert [p["parsed"] for p in parts if p.get("parsed") is not None][-1] == Joke(**JOKE_ARGS)
    assert_sent_on_rest(gateway, raw.response_metadata["gateway"])
