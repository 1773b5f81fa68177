"""Consecutive streams reuse one connection, and a stream never hangs on its way out.

The OpenAI SDK (and so LangChain) stops reading a stream at `data: [DONE]` and closes the
response before the chunked terminator (`0\\r\\n\\r\\n`) is read; httpx then drops the
connection, and the next stream opens a new one: a new TLS handshake per streamed call on
Cloudflare. The package reads the terminator when it follows `[DONE]` within a short bound,
so the connection goes back to the pool, and gives up on a server that withholds it (that
connection owes bytes: it is closed, never pooled).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from langchain_cf_gateway import ChatCloudflareGateway
from tests.support.rawserver import MisbehavingServer, sse, stream_events
from tests.support.tls import self_signed

N = 5
MODEL = "cloudflare-ai-gateway/openai/gpt-4o-mini"


def chat(raw: MisbehavingServer) -> ChatCloudflareGateway:
    return ChatCloudflareGateway(
        model="openai/gpt-4o-mini",
        account_id="acct",
        base_url=raw.base_url,
        max_retries=0,
        timeout=20,
    )


def _litellm_kwargs(raw: MisbehavingServer) -> dict[str, Any]:
    return {
        "model": MODEL,
        "messages": [{"role": "user", "content": "hi"}],
        "api_base": raw.base_url,
        "account_id": "acct",
        "num_retries": 0,
        "timeout": 20,
        "stream": True,
    }


def chat_sync(raw: MisbehavingServer, litellm: Any) -> Callable[[int], list[str]]:
    model = chat(raw)
    return lambda n: ["".join(str(c.content) for c in model.stream("hi")) for _ in range(n)]


def chat_async(raw: MisbehavingServer, litellm: Any) -> Callable[[int], list[str]]:
    model = chat(raw)

    async def one() -> str:
        return "".join([str(c.content) async for c in model.astream("hi")])

    async def run(n: int) -> list[str]:
        return [await one() for _ in range(n)]

    return lambda n: asyncio.run(run(n))


def litellm_sync(raw: MisbehavingServer, litellm: Any) -> Callable[[int], list[str]]:
    def run(n: int) -> list[str]:
        return [
            "".join(
                c.choices[0].delta.content or "" for c in litellm.completion(**_litellm_kwargs(raw))
            )
            for _ in range(n)
        ]

    return run


def litellm_async(raw: MisbehavingServer, litellm: Any) -> Callable[[int], list[str]]:
    async def one() -> str:
        response = await litellm.acompletion(**_litellm_kwargs(raw))
        return "".join([c.choices[0].delta.content or "" async for c in response])

    async def run(n: int) -> list[str]:
        return [await one() for _ in range(n)]

    return lambda n: asyncio.run(run(n))


PATHS = [chat_sync, chat_async, litellm_sync, litellm_async]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.__name__)
def test_consecutive_streams_share_one_connection(
    raw: MisbehavingServer, litellm: Any, path: Callable[..., Callable[[int], list[str]]]
) -> None:
    run = path(raw, litellm)
    raw.then(*(sse(stream_events()) for _ in range(N)))
    assert run(N) == ["Hello there"] * N
    assert len(raw.received) == N
    assert len({seen.connection for seen in raw.received}) == 1


@pytest.mark.timeout(20)
@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.__name__)
def test_a_withheld_terminator_neither_hangs_nor_pools_the_connection(
    raw: MisbehavingServer, litellm: Any, path: Callable[..., Callable[[int], list[str]]]
) -> None:
    """`[DONE]` and then nothing: the stream's text is whole, the call returns (the
    client's read timeout is 20 s: the bound is the package's own), and the connection,
    which still owes its terminator, is not reused: each stream comes on a new one."""
    run = path(raw, litellm)
    raw.then(*(sse(stream_events(), end="hold") for _ in range(3)))
    assert run(3) == ["Hello there"] * 3
    assert len({seen.connection for seen in raw.received}) == 3


@pytest.mark.timeout(20)
@pytest.mark.parametrize("path", [chat_sync, chat_async], ids=lambda p: p.__name__)
def test_over_tls_streams_share_one_connection_and_a_withheld_end_does_not_hang(
    path: Callable[..., Callable[[int], list[str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What Cloudflare costs: a TLS handshake per new connection. A model built while
    `SSL_CERT_FILE` names the certificate trusts it (the shared client follows it)."""
    with self_signed() as (cert_file, key_file), MisbehavingServer((cert_file, key_file)) as tls:
        monkeypatch.setenv("SSL_CERT_FILE", cert_file)
        run = path(tls, None)
        tls.then(*(sse(stream_events()) for _ in range(N)))
        assert run(N) == ["Hello there"] * N
        assert len({seen.connection for seen in tls.received}) == 1
        tls.reset()
        tls.then(*(sse(stream_events(), end="hold") for _ in range(3)))
        assert run(3) == ["Hello there"] * 3
        assert len({seen.connection for seen in tls.received}) == 3
