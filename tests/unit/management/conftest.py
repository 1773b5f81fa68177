"""Management clients bound to an `httpx.MockTransport`: the sans-I/O base, without sockets."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from langchain_cf_gateway.core import GatewayConfig
from langchain_cf_gateway.management import AsyncGatewayClient, GatewayClient

MODES = ["sync", "async"]
TOKEN = "mgmt-token-0123456789"
CONFIG = GatewayConfig(account_id="acct", gateway_id="gw", base_url="http://gateway.test")

Handler = Callable[[httpx.Request], httpx.Response]


def call(
    mode: str, handler: Handler, method: str, *args: Any, max_retries: int = 0, **kwargs: Any
) -> Any:
    """`method(*args, **kwargs)` on a sync or async client whose transport is `handler`."""
    kw: dict[str, Any] = {"api_token": TOKEN, "max_retries": max_retries}
    transport = httpx.MockTransport(handler)
    if mode == "sync":
        with GatewayClient(CONFIG, http_client=httpx.Client(transport=transport), **kw) as client:
            return getattr(client, method)(*args, **kwargs)

    async def run() -> Any:
        http = httpx.AsyncClient(transport=transport)
        async with AsyncGatewayClient(CONFIG, http_client=http, **kw) as client:
            try:
                return await getattr(client, method)(*args, **kwargs)
            finally:
                await http.aclose()

    return asyncio.run(run())


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The waits between retries, recorded instead of slept."""
    slept: list[float] = []

    async def no_async_wait(delay: float) -> None:
        slept.append(delay)

    sync_module = sys.modules[GatewayClient._run.__module__]
    async_module = sys.modules[AsyncGatewayClient._run.__module__]
    monkeypatch.setattr(sync_module.time, "sleep", slept.append)
    monkeypatch.setattr(async_module.asyncio, "sleep", no_async_wait)
    yield slept


def envelope(result: Any, **result_info: Any) -> httpx.Response:
    """A v4 envelope with `result`, as Cloudflare's API sends it."""
    body = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info:
        body["result_info"] = result_info
    return httpx.Response(200, json=body)
