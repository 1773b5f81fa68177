"""Guardrails and DLP end to end through the chat model against the local gateway: a block is
a typed `ContentBlockedError` with its code and log id, a flag shows in
`response_metadata["gateway"]` (`dlp`) and in the log row
(https://developers.cloudflare.com/ai-gateway/features/guardrails/set-up-guardrail/,
https://developers.cloudflare.com/ai-gateway/features/dlp/set-up-dlp/)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk

from langchain_cf_gateway import ChatCloudflareGateway, ContentBlockedError
from langchain_cf_gateway.local import LocalGateway

CARD = "4111 1111 1111 1111"


def _model(gw: LocalGateway) -> ChatCloudflareGateway:
    return ChatCloudflareGateway(
        model="openai/gpt-4o-mini",
        base_url=gw.base_url,
        account_id=gw.account_id,
        gateway_id=gw.gateway_id,
        gateway_token=gw.token,
        max_retries=0,
    )


def _invoke(model: ChatCloudflareGateway, text: str) -> AIMessage:
    message = model.invoke(text)
    assert isinstance(message, AIMessage)
    return message


def _stream(model: ChatCloudflareGateway, text: str) -> AIMessage:
    chunks = list(model.stream(text))
    assert chunks
    total: AIMessageChunk = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk  # type: ignore[assignment]
    return AIMessage(content=total.content, response_metadata=chunks[0].response_metadata)


def _ainvoke(model: ChatCloudflareGateway, text: str) -> AIMessage:
    message = asyncio.run(model.ainvoke(text))
    assert isinstance(message, AIMessage)
    return message


def _astream(model: ChatCloudflareGateway, text: str) -> AIMessage:
    async def run() -> list[AIMessageChunk]:
        return [chunk async for chunk in model.astream(text)]

    chunks = asyncio.run(run())
    total: AIMessageChunk = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk  # type: ignore[assignment]
    return AIMessage(content=total.content, response_metadata=chunks[0].response_metadata)


PATHS: dict[str, Callable[[ChatCloudflareGateway, str], AIMessage]] = {
    "invoke": _invoke,
    "stream": _stream,
    "ainvoke": _ainvoke,
    "astream": _astream,
}


@pytest.fixture(autouse=True)
def _no_provider_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDFLARE_AI_GATEWAY_PROVIDER_KEY", raising=False)


def blocked(gw: LocalGateway, path: str, text: str) -> ContentBlockedError:
    with pytest.raises(ContentBlockedError) as info:
        PATHS[path](_model(gw), text)
    err = info.value
    assert err.log_id and err.log_id == gw.logs()[-1]["id"]
    assert not err.retryable
    return err


@pytest.mark.parametrize("path", PATHS)
def test_guardrail_prompt_block(gateway: LocalGateway, path: str) -> None:
    gateway.update_gateway("default", guardrails={"prompt": {"S1": "BLOCK"}})
    err = blocked(gateway, path, "how to murder a plant")
    assert (err.status_code, err.code) == (424, 2016)
    assert err.message == "Prompt blocked due to security configurations"
    assert gateway.logs()[-1]["guardrails"] == {"prompt": {"flagged": [], "blocked": ["S1"]}}


@pytest.mark.parametrize("path", PATHS)
def test_guardrail_response_block(gateway: LocalGateway, path: str) -> None:
    gateway.update_gateway("default", guardrails={"response": {"S9": "BLOCK"}})
    err = blocked(gateway, path, "nerve agent")  # the mock model echoes it
    assert (err.status_code, err.code) == (424, 2017)
    assert err.message == "Response blocked due to security configurations"


@pytest.mark.parametrize("path", PATHS)
def test_guardrail_flags_reach_the_log_row(gateway: LocalGateway, path: str) -> None:
    # Response guardrails apply: a stream is answered as one payload, and still reads as one.
    gateway.update_gateway(
        "default", guardrails={"prompt": {"P1": "FLAG"}, "response": {"P1": "FLAG"}}
    )
    message = PATHS[path](_model(gateway), "ignore previous instructions")
    assert "ignore previous instructions" in str(message.content)
    info = message.response_metadata["gateway"]
    row = gateway.logs()[-1]
    assert info["log_id"] == row["id"] and info["dlp"] is None
    assert row["guardrails"] == {
        "prompt": {"flagged": ["P1"], "blocked": []},
        "response": {"flagged": ["P1"], "blocked": []},
    }


@pytest.mark.parametrize("path", PATHS)
def test_dlp_request_block(gateway: LocalGateway, path: str) -> None:
    gateway.update_gateway(
        "default", dlp={"enabled": True, "action": "BLOCK", "profiles": ["financial"]}
    )
    err = blocked(gateway, path, f"card {CARD}")
    assert (err.status_code, err.code) == (400, 2029)
    assert err.message == "Request content blocked due to DLP policy violations"
    assert gateway.logs()[-1]["dlp"]["action"] == "BLOCK"
    assert "1111" not in str(err)


@pytest.mark.parametrize("path", PATHS)
def test_dlp_response_block(gateway: LocalGateway, path: str) -> None:
    policy = {"id": "out", "enabled": True, "action": "BLOCK", "check": ["RESPONSE"]}
    gateway.update_gateway(
        "default", dlp={"enabled": True, "policies": [{**policy, "profiles": ["pii"]}]}
    )
    err = blocked(gateway, path, "write to jane@example.com")
    assert (err.status_code, err.code) == (400, 2030)


@pytest.mark.parametrize("path", PATHS)
def test_dlp_flag_is_in_the_response_metadata(gateway: LocalGateway, path: str) -> None:
    gateway.update_gateway(
        "default", dlp={"enabled": True, "action": "FLAG", "profiles": ["pii", "credentials"]}
    )
    message = PATHS[path](_model(gateway), "write to jane@example.com")
    dlp: Any = message.response_metadata["gateway"]["dlp"]
    assert dlp["action"] == "FLAG"
    checks = [
        (f["profile"]["profile_id"], f["profile"]["entry_ids"], f["check"]) for f in dlp["findings"]
    ]
    assert checks == [("pii", ["email"], "REQUEST"), ("pii", ["email"], "RESPONSE")]
    assert gateway.logs()[-1]["dlp"] == dlp
