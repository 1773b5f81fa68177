"""Client side: a stream has an overall deadline when the caller sets one.

A per-read timeout never fires against a server that sends one byte every 0.5 s. With
``stream_timeout`` (the chat model) or LiteLLM's ``timeout`` (documented by LiteLLM as
the call's maximum execution time) the stream ends at the deadline with a typed timeout
error, and the client hangs up: the server sees its drip cut by the client, long before
the drip would have given up by itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from langchain_cf_gateway import ChatCloudflareGateway

from .client_helpers import (
    DRIP_MAX_S,
    HostileServer,
    gateway_kwargs,
    hostile_server,
    litellm_kwargs,
    litellm_registered,
)

DEADLINE_S = 2.0

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def drip_server() -> Iterator[HostileServer]:
    yield from hostile_server(lambda h: h.drip())


def _names(exc: BaseException) -> list[str]:
    return [c.__name__ for c in type(exc).__mro__]


def _assert_cut_by_the_client(server: HostileServer) -> None:
    # The client closed the connection at its deadline; the server notices on its next
    # write. Without a deadline the drip runs to DRIP_MAX_S and ends by itself (count 0).
    end = time.monotonic() + DRIP_MAX_S + 5
    while server.drips_cut_by_client == 0 and time.monotonic() < end:
        time.sleep(0.1)
    assert server.drips_cut_by_client == 1


def _model(server: HostileServer) -> ChatCloudflareGateway:
    return ChatCloudflareGateway(
        model="openai/gpt-4o-mini",
        stream_timeout=DEADLINE_S,
        max_retries=0,
        **gateway_kwargs(server),
    )


def _assert_timeout_error(exc: BaseException) -> None:
    names = _names(exc)
    assert "GatewayTimeoutError" in names, names
    assert "stream_timeout" in str(exc)


def test_sync_stream_ends_at_stream_timeout(drip_server: HostileServer) -> None:
    model = _model(drip_server)
    with pytest.raises(Exception) as info:
        list(model.stream("hi"))
    _assert_timeout_error(info.value)
    import openai

    assert isinstance(info.value, openai.APITimeoutError)  # existing except clauses
    _assert_cut_by_the_client(drip_server)


def test_async_stream_ends_at_stream_timeout(drip_server: HostileServer) -> None:
    model = _model(drip_server)

    async def go() -> list[Any]:
        return [c async for c in model.astream("hi")]

    with pytest.raises(Exception) as info:
        asyncio.run(go())
    _assert_timeout_error(info.value)
    _assert_cut_by_the_client(drip_server)


@pytest.mark.parametrize("sync", [True, False], ids=["stream", "astream"])
def test_litellm_stream_ends_at_timeout(sync: bool, drip_server: HostileServer) -> None:
    litellm = litellm_registered()
    from langchain_cf_gateway.litellm_provider import gateway_error

    kwargs = litellm_kwargs(drip_server, num_retries=0, timeout=DEADLINE_S)
    call = {
        "model": "cloudflare-ai-gateway/openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        **kwargs,
    }

    def run() -> list[Any]:
        if sync:
            return list(litellm.completion(**call))

        async def go() -> list[Any]:
            return [c async for c in await litellm.acompletion(**call)]

        return asyncio.run(go())

    with pytest.raises(Exception) as info:
        run()
    assert isinstance(info.value, litellm.Timeout), _names(info.value)
    typed = gateway_error(info.value)
    assert typed is not None and "GatewayTimeoutError" in _names(typed), info.value
    assert "timeout" in str(typed)
    _assert_cut_by_the_client(drip_server)
