"""Fixtures of the observability tests: management clients bound to the local gateway,
and a plain way to put rows into its log (one compat request each)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import httpx
import pytest

from langchain_cf_gateway.core import GatewayOptions, Header
from langchain_cf_gateway.local import LocalGateway
from langchain_cf_gateway.management import AsyncGatewayClient, GatewayClient


@pytest.fixture
def client(gateway: LocalGateway) -> Iterator[GatewayClient]:
    with GatewayClient(gateway.config(), api_token=gateway.management_token) as c:
        yield c


@pytest.fixture
async def aclient(gateway: LocalGateway) -> AsyncIterator[AsyncGatewayClient]:
    async with AsyncGatewayClient(gateway.config(), api_token=gateway.management_token) as c:
        yield c


def chat(
    gw: LocalGateway,
    text: str = "Hello",
    *,
    model: str = "openai/gpt-4o-mini",
    options: Mapping[str, Any] | None = None,
    gateway_id: str | None = None,
) -> httpx.Response:
    """One compat chat request, as any OpenAI client would send it; the log gets a row."""
    headers = GatewayOptions(**dict(options or {})).to_headers()
    headers[Header.AUTHORIZATION] = f"Bearer {gw.token}"
    url = f"{gw.base_url}/v1/{gw.account_id}/{gateway_id or gw.gateway_id}/compat/chat/completions"
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    response = httpx.post(url, json=body, headers=headers, timeout=10)
    return response
