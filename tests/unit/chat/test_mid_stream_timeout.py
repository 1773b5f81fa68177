"""A read timeout in the middle of a chat stream is a timeout, as it is before the response.

The chat model used to raise `InvalidResponseError` ("cut off") for it, while the LiteLLM
handler raised a timeout: both now map through `core.codec.error_from_transport`.
"""

from __future__ import annotations

import asyncio

import httpx
import openai
import pytest

from langchain_cf_gateway import ChatCloudflareGateway
from langchain_cf_gateway.core import GatewayError, GatewayTimeoutError

from .scripted import LOG_ID, Script, respond, sse_events, transports


def _stalling_stream() -> Script:
    return Script(
        respond(
            200,
            sse_events(["Hel", "lo"]),
            content_type="text/event-stream",
            fail=lambda request: httpx.ReadTimeout("timed out", request=request),
        )
    )


def _model(script: Script) -> ChatCloudflareGateway:
    sync_client, async_client = transports(script)
    return ChatCloudflareGateway(
        model="openai/gpt-4o-mini",
        account_id="acct",
        base_url="http://gateway.test",
        max_retries=0,
        http_client=sync_client,
        http_async_client=async_client,
    )


def test_a_read_timeout_mid_stream_is_a_gateway_timeout() -> None:
    script = _stalling_stream()
    received: list[str] = []
    with pytest.raises(GatewayError) as err:
        for chunk in _model(script).stream("hi"):
            received.append(str(chunk.content))
    assert "Hel" in received  # the timeout came after the first chunks
    assert isinstance(err.value, GatewayTimeoutError)
    assert isinstance(err.value, openai.APITimeoutError)
    assert err.value.status_code == 408
    assert err.value.log_id == LOG_ID
    assert len(script.requests) == 1  # chunks were delivered: never retried


def test_a_read_timeout_mid_astream_is_a_gateway_timeout() -> None:
    script = _stalling_stream()
    received: list[str] = []

    async def run() -> None:
        async for chunk in _model(script).astream("hi"):
            received.append(str(chunk.content))

    with pytest.raises(GatewayError) as err:
        asyncio.run(run())
    assert "Hel" in received
    assert isinstance(err.value, GatewayTimeoutError)
    assert isinstance(err.value, openai.APITimeoutError)
    assert err.value.status_code == 408
    assert err.value.log_id == LOG_ID
