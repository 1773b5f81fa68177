"""Management clients bound to an `httpx.MockTransport`: the sans-I/O base, without sockets."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
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
    """The waits between retries of this thread, recorded instead of slept.

    `time.sleep` and `asyncio.sleep` are patched module-wide; threads other libraries
    left running (LiteLLM's logging worker, say) keep sleeping for real, unrecorded.
    """
    slept: list[float] = []
    test_thread = threading.get_ident()
    real_sleep = time.sleep
    real_async_sleep = asyncio.sleep

    def recorded_wait(delay: float) -> None:
        if threading.get_ident() == test_thread:
            slept.append(delay)
        else:
            real_sleep(delay)

    async def recorded_async_wait(delay: float, *args: Any) -> Any:
        if threading.get_ident() == test_thread:
            slept.append(delay)
            return args[0] if args else None
        return await real_async_sleep(delay, *args)

    sync_module = sys.modules[GatewayClient._run.__module__]
    async_module = sys.modules[AsyncGatewayClient._run.__module__]
    monkeypatch.setattr(sync_module.time, "sleep", recorded_wait)
    monkeypatch.setattr(async_module.asyncio, "sleep", recorded_async_wait)
    yield slept


def envelope(result: Any, **result_info: Any) -> httpx.Response:
    """A v4 envelope with `result`, as Cloudflare's API sends it."""
    body = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info:
        body["result_info"] = result_info
    return httpx.Response(200, json=body)
