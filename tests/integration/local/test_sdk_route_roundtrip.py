"""A route read back through Cloudflare's own Python SDK (`cloudflare`), which types
`timeout`, `retries` and `window` as floats, is a `DynamicRoute` again, equal to the one
deployed (`cloudflare/types/ai_gateway/dynamic_routing_get_response.py`)."""

from __future__ import annotations

import pytest

from langchain_cf_gateway import DynamicRoute
from langchain_cf_gateway.local import LocalGateway


def test_a_route_read_through_the_cloudflare_sdk_reads_back(gateway: LocalGateway) -> None:
    cloudflare = pytest.importorskip("cloudflare")
    route = DynamicRoute.rate_limit(
        "openai/gpt-4o-mini",
        key="metadata.user_id",
        limit=2,
        interval=60,
        fallback="anthropic/claude-3-5-haiku",
        name="sdk",
    )
    gateway.deploy_route(route)
    sdk = cloudflare.Cloudflare(
        api_token=gateway.management_token,
        base_url=f"{gateway.base_url}/client/v4",
        max_retries=0,
    )
    ids = {"account_id": gateway.account_id, "gateway_id": gateway.gateway_id}
    [listed] = sdk.ai_gateway.dynamic_routing.list(**ids).data.routes
    got = sdk.ai_gateway.dynamic_routing.get(listed.id, **ids)
    elements = got.model_dump(mode="json", by_alias=True)["elements"]
    model = next(e for e in elements if e["type"] == "model")
    assert isinstance(model["properties"]["timeout"], float)  # what the SDK hands a user
    read = DynamicRoute.from_api({"name": got.name, "elements": elements})
    assert read.to_api() == route.to_api()
