"""No gateway behind `base_url`: the chat model and the embeddings say where and what to do.

The SDK's own message is `Connection error.`; ours names the URL tried (scheme, host, port,
path; never the key) and the fix (`cf-aig serve`, `base_url` /
`CLOUDFLARE_AI_GATEWAY_BASE_URL`), and is still `openai.APIConnectionError`. The transport
refuses the connection as httpx does on a closed loopback port (`[Errno 111]`).
"""

from __future__ import annotations

import asyncio

import httpx
import openai
import pytest

from langchain_cf_gateway import ChatCloudflareGateway, CloudflareGatewayEmbeddings
from langchain_cf_gateway import embeddings as embeddings_module
from langchain_cf_gateway._openai_sdk import http_clients

SECRET = "cf-token-never-shown-0123456789"
BASE_URL = "http://127.0.0.1:8799"
CHAT_PATHS = ["invoke", "ainvoke", "stream", "astream", "batch"]
EMBEDDINGS_PATHS = ["embed_documents", "embed_query", "aembed_documents", "aembed_query"]


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def _clients() -> tuple[httpx.Client, httpx.AsyncClient]:
    mock = httpx.MockTransport(_refuse)
    return httpx.Client(transport=mock), httpx.AsyncClient(transport=mock)


def _call(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sync_client, async_client = _clients()
    if path in EMBEDDINGS_PATHS:
        monkeypatch.setattr(
            embeddings_module,
            "http_clients",
            lambda **_: http_clients(sync_client=sync_client, async_client=async_client),
        )
        embeddings = CloudflareGatewayEmbeddings(
            model="openai/text-embedding-3-small",
            account_id="acct",
            base_url=BASE_URL,
            api_key=SECRET,
            max_retries=0,
        )
        arg: list[str] | str = ["hi"] if "documents" in path else "hi"
        if path.startswith("a"):
            asyncio.run(getattr(embeddings, path)(arg))
        else:
            getattr(embeddings, path)(arg)
        return
    model = ChatCloudflareGateway(
        model="openai/gpt-4o-mini",
        account_id="acct",
        base_url=BASE_URL,
        api_key=SECRET,
        max_retries=0,
        http_client=sync_client,
        http_async_client=async_client,
    )
    if path == "invoke":
        model.invoke("hi")
    elif path == "batch":
        model.batch(["hi"])
    elif path == "stream":
        list(model.stream("hi"))
    elif path == "ainvoke":
        asyncio.run(model.ainvoke("hi"))
    else:

        async def run() -> None:
            async for _ in model.astream("hi"):
                pass

        asyncio.run(run())


@pytest.mark.parametrize("path", CHAT_PATHS + EMBEDDINGS_PATHS)
def test_a_refused_connection_names_the_url_and_the_fix(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(openai.APIConnectionError) as err:
        _call(path, monkeypatch)

    message = str(err.value)
    endpoint = "embeddings" if path in EMBEDDINGS_PATHS else "chat/completions"
    assert f"{BASE_URL}/v1/acct/" in message
    assert message.split(" (")[0].endswith(f"/compat/{endpoint}")
    assert "Connection refused" in message
    assert "cf-aig serve --port 8799" in message
    assert "base_url" in message and "CLOUDFLARE_AI_GATEWAY_BASE_URL" in message
    assert SECRET not in message
    assert SECRET not in str(err.value.request.headers)
    assert not isinstance(err.value, openai.APITimeoutError)
