"""No gateway behind `api_base`: LiteLLM's `APIConnectionError` says where and what to do.

Before, LiteLLM's message was httpx's alone (`[Errno 111] Connection refused`). Now it
names the URL tried (never the key) and the fix (`cf-aig serve`, `base_url` /
`CLOUDFLARE_AI_GATEWAY_BASE_URL`), on every call path. The transport refuses the
connection as httpx does on a closed loopback port.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from .conftest import EMBEDDING_MODEL, HELLO, MODEL, MockGateway

SECRET = "cf-token-never-shown-0123456789"
CALL = {"api_base": "http://127.0.0.1:8799", "account_id": "acct", "gateway_id": "gw"}
PATHS = ["completion", "acompletion", "stream", "astream", "embedding", "aembedding"]


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def _call(litellm: Any, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_cf_gateway.litellm_provider import PROVIDER, CloudflareGatewayLLM

    gateway = MockGateway(_refuse)
    handler = CloudflareGatewayLLM(
        transport=httpx.MockTransport(gateway.handle),
        async_transport=httpx.MockTransport(gateway.handle),
    )
    monkeypatch.setattr(
        litellm, "custom_provider_map", [{"provider": PROVIDER, "custom_handler": handler}]
    )
    kw: dict[str, Any] = {"num_retries": 0, "api_key": SECRET, **CALL}
    if path.endswith("embedding"):
        kw |= {"model": EMBEDDING_MODEL, "input": ["alpha"]}
        if path == "embedding":
            litellm.embedding(**kw)
        else:
            asyncio.run(litellm.aembedding(**kw))
        return
    kw |= {"model": MODEL, "messages": HELLO}
    if path == "completion":
        litellm.completion(**kw)
    elif path == "stream":
        list(litellm.completion(stream=True, **kw))
    elif path == "acompletion":
        asyncio.run(litellm.acompletion(**kw))
    else:

        async def run() -> None:
            async for _ in await litellm.acompletion(stream=True, **kw):
                pass

        asyncio.run(run())


@pytest.mark.parametrize("path", PATHS)
def test_a_refused_connection_names_the_url_and_the_fix(
    litellm_mod: Any, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(Exception) as err:
        _call(litellm_mod, path, monkeypatch)

    # An async stream's LiteLLM wraps it in its MidStreamFallbackError, as before.
    error = getattr(err.value, "original_exception", None) or err.value
    assert isinstance(error, litellm_mod.APIConnectionError), repr(err.value)
    message = str(error)
    endpoint = "embeddings" if path.endswith("embedding") else "chat/completions"
    assert (
        f"cannot reach the gateway at http://127.0.0.1:8799/v1/acct/gw/compat/{endpoint}" in message
    )
    assert "Connection refused" in message
    assert "cf-aig serve --port 8799" in message
    assert "CLOUDFLARE_AI_GATEWAY_BASE_URL" in message
    assert SECRET not in message
