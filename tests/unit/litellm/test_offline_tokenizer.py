"""Streams of llama- or cohere-named models never reach for a Hugging Face tokenizer.

LiteLLM's stream wrapper counts tokens, and for a llama or cohere model name its token
counter downloads a tokenizer from huggingface.co (offline: about 48 s of retries, twice).
The gateway reports the usage, so `register()` switches that download off; what
connected where is recorded by a guard on the socket, which refuses every connection.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any, NoReturn

import httpx
import pytest

from .conftest import CALL, HELLO, MockGateway, delta, sse

MODELS = [
    "cloudflare-ai-gateway/workers-ai/@cf/meta/llama-3.1-8b-instruct",
    "cloudflare-ai-gateway/workers-ai/@cf/meta/llama-2-7b-chat-fp16",
    # LiteLLM picks Cohere's tokenizer for its own bare names only: kept as a guard
    "cloudflare-ai-gateway/cohere/command-r-plus",
]


class ConnectionAttempted(OSError):
    """The code under test tried to open a connection."""


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every address something tried to reach (each refused at once, as offline)."""
    seen: list[Any] = []

    def refuse_address(address: Any, *args: Any, **kwargs: Any) -> NoReturn:
        seen.append(address)
        raise ConnectionAttempted(f"connection to {address!r} refused by the test")

    def refuse_connect(sock: socket.socket, address: Any, *args: Any) -> NoReturn:
        refuse_address(address)

    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse_connect)
    monkeypatch.setattr(socket, "create_connection", refuse_address)
    monkeypatch.setattr(socket, "getaddrinfo", refuse_address)
    yield seen


@pytest.fixture
def streaming_gateway() -> MockGateway:
    def respond(request: httpx.Request) -> httpx.Response:
        body = sse(
            delta("Hel"),
            delta("lo", finish="stop"),
            {
                "id": "c",
                "object": "chat.completion.chunk",
                "choices": [],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
            },
            "data: [DONE]",
        )
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    return MockGateway(respond)


@pytest.mark.parametrize("model", MODELS)
def test_a_sync_stream_tries_no_connection(
    model: str, litellm_mod: Any, streaming_gateway: MockGateway, attempts: list[Any]
) -> None:
    stream = litellm_mod.completion(
        model=model, messages=HELLO, stream=True, client=streaming_gateway.sync_client, **CALL
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)

    assert text == "Hello"
    assert attempts == []


@pytest.mark.parametrize("model", MODELS)
async def test_an_async_stream_tries_no_connection(
    model: str, litellm_mod: Any, streaming_gateway: MockGateway, attempts: list[Any]
) -> None:
    stream = await litellm_mod.acompletion(
        model=model, messages=HELLO, stream=True, client=streaming_gateway.async_client, **CALL
    )
    text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream])

    assert text == "Hello"
    assert attempts == []


def test_register_switches_the_tokenizer_download_off(litellm_mod: Any) -> None:
    assert litellm_mod.disable_hf_tokenizer_download is True


def test_register_keeps_a_setting_of_the_user(
    litellm_mod: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain_cf_gateway.litellm_provider import register

    monkeypatch.setattr(litellm_mod, "disable_hf_tokenizer_download", False)
    register()
    assert litellm_mod.disable_hf_tokenizer_download is False

    monkeypatch.setattr(litellm_mod, "disable_hf_tokenizer_download", None)
    register()
    assert litellm_mod.disable_hf_tokenizer_download is True
