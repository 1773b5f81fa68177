"""Fixtures of the socket-free LiteLLM tests: LiteLLM loaded with the provider registered,
and a mock gateway (`httpx.MockTransport`) the handler's clients talk to."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

MODEL = "cloudflare-ai-gateway/openai/gpt-4o-mini"
EMBEDDING_MODEL = "cloudflare-ai-gateway/openai/text-embedding-3-small"
HELLO = [{"role": "user", "content": "hello"}]
CALL = {"api_base": "https://gateway.test", "account_id": "acct", "gateway_id": "gw"}
"""Keywords that point a call at the mock gateway without reading the environment."""

CHAT_RESPONSE = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-mini",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}
EMBEDDING_RESPONSE = {
    "object": "list",
    "model": "text-embedding-3-small",
    "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
    "usage": {"prompt_tokens": 1, "total_tokens": 1},
}


def sse(*events: Any) -> bytes:
    """An OpenAI event stream of `events` (dicts as JSON; strings as they are)."""
    lines = [e if isinstance(e, str) else "data: " + json.dumps(e) for e in events]
    return ("\n\n".join(lines) + "\n\n").encode()


def delta(content: str, finish: str | None = None) -> dict[str, Any]:
    """One `chat.completion.chunk` carrying `content`."""
    choice = {"index": 0, "delta": {"content": content}, "finish_reason": finish}
    return {"id": "c", "object": "chat.completion.chunk", "choices": [choice]}


@dataclass
class MockGateway:
    """What the mock gateway received, and how it responds (`respond`)."""

    respond: Callable[[httpx.Request], httpx.Response]
    received: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.received.append(request)
        return self.respond(request)

    def body(self, index: int = 0) -> Any:
        """The JSON body of the `index`-th request."""
        return json.loads(self.received[index].content)

    @property
    def sync_client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))

    @property
    def async_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))


def _default(request: httpx.Request) -> httpx.Response:
    body = EMBEDDING_RESPONSE if request.url.path.endswith("/embeddings") else CHAT_RESPONSE
    return httpx.Response(200, json=body, headers={"cf-aig-log-id": "01LOG"})


@pytest.fixture
def mock_gateway() -> MockGateway:
    """A mock gateway responding with a chat completion (or embeddings) with log id `01LOG`."""
    return MockGateway(_default)


@pytest.fixture(scope="session")
def litellm_mod() -> Iterator[Any]:
    """LiteLLM with the provider registered (the price map is the local copy)."""
    import litellm

    from langchain_cf_gateway.litellm_provider import register

    register()
    yield litellm
