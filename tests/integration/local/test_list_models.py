"""Model discovery end to end: `list_models()` and `cf-aig models` against a local gateway."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json

from langchain_cf_gateway import AsyncGatewayClient, GatewayClient
from langchain_cf_gateway.cli import main
from langchain_cf_gateway.local import LocalGateway


def test_list_models_reads_the_local_catalogue() -> None:
    with LocalGateway() as gw, GatewayClient(gw.config(), api_token=gw.management_token) as client:
        ids = client.list_models()
        assert "openai/mock" in ids and "anthropic/mock" in ids
        assert ids == sorted(ids)
        assert client.list_models(provider="anthropic") == ["anthropic/mock"]

        async def run() -> list[str]:
            async with AsyncGatewayClient(gw.config(), api_token=gw.management_token) as aclient:
                return await aclient.list_models(provider="openai")

        assert asyncio.run(run()) == ["openai/mock"]


def test_cf_aig_models_prints_one_id_per_line_or_json() -> None:
    with LocalGateway() as gw:
        flags = ["--base-url", gw.base_url, "--gateway-id", gw.gateway_id, "--token", gw.token]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["models", "--provider", "openai", *flags]) == 0
        assert out.getvalue().splitlines() == ["openai/mock"]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["models", "--json", *flags]) == 0
        assert "workers-ai/mock" in json.loads(out.getvalue())
