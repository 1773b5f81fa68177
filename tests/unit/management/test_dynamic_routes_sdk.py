"""Our dynamic-routing requests equal those Cloudflare's own `cloudflare` SDK sends.

Both clients send through an `httpx.MockTransport` that records the request; for each
call the method, the path, the query and the JSON body must be the same. The SDK is
generated from Cloudflare's API schema (`cloudflare/resources/ai_gateway/dynamic_routing.py`),
so a difference is a request Cloudflare would read otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from langchain_cf_gateway.core.dynamic_routes import DynamicRoute
from langchain_cf_gateway.management import GatewayClient

from .conftest import CONFIG, TOKEN

cloudflare = pytest.importorskip("cloudflare")

ROUTE = DynamicRoute.split({"openai/gpt-4o-mini": 80, "anthropic/claude-3-5-haiku": 20}, name="ab")
ELEMENTS = ROUTE.to_api()["elements"]
RECORD = {"id": "r1", "name": "ab", "elements": ELEMENTS, "version_id": "v1"}
# One body every call can read: the envelope's result, the lists' data, the rename's route.
BODY = {
    "success": True,
    "errors": [],
    "messages": [],
    "result": RECORD,
    "route": RECORD,
    "data": {"routes": [], "versions": [], "deployments": []},
}

Wire = tuple[str, str, list[tuple[str, str]], Any]


def _wire(request: httpx.Request) -> Wire:
    body = json.loads(request.content) if request.content else None
    return (request.method, request.url.path, sorted(request.url.params.multi_items()), body)


def _recorder(sent: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=BODY)

    return httpx.MockTransport(handler)


CASES: list[tuple[str, Callable[[GatewayClient], Any], Callable[[Any], Any]]] = [
    (
        "list",
        lambda c: c.list_routes(page=2, per_page=10),
        lambda d: d.list("gw", account_id="acct", page=2, per_page=10),
    ),
    ("get", lambda c: c.get_route("r1"), lambda d: d.get("r1", account_id="acct", gateway_id="gw")),
    (
        "create",
        lambda c: c.create_route(ROUTE),
        lambda d: d.create("gw", account_id="acct", name="ab", elements=ELEMENTS),
    ),
    (
        "update",
        lambda c: c.update_route("r1", name="ab2"),
        lambda d: d.update("r1", account_id="acct", gateway_id="gw", name="ab2"),
    ),
    (
        "delete",
        lambda c: c.delete_route("r1"),
        lambda d: d.delete("r1", account_id="acct", gateway_id="gw"),
    ),
    (
        "create_version",
        lambda c: c.create_route_version("r1", ROUTE),
        lambda d: d.create_version("r1", account_id="acct", gateway_id="gw", elements=ELEMENTS),
    ),
    (
        "list_versions",
        lambda c: c.list_route_versions("r1"),
        lambda d: d.list_versions("r1", account_id="acct", gateway_id="gw"),
    ),
    (
        "get_version",
        lambda c: c.get_route_version("r1", "v1"),
        lambda d: d.get_version("v1", account_id="acct", gateway_id="gw", id="r1"),
    ),
    (
        "create_deployment",
        lambda c: c.create_route_deployment("r1", "v1"),
        lambda d: d.create_deployment("r1", account_id="acct", gateway_id="gw", version_id="v1"),
    ),
    (
        "list_deployments",
        lambda c: c.list_route_deployments("r1"),
        lambda d: d.list_deployments("r1", account_id="acct", gateway_id="gw"),
    ),
]


@pytest.mark.parametrize(("name", "ours", "sdk"), CASES, ids=[c[0] for c in CASES])
def test_our_request_is_the_sdks(
    name: str, ours: Callable[[GatewayClient], Any], sdk: Callable[[Any], Any]
) -> None:
    mine: list[httpx.Request] = []
    theirs: list[httpx.Request] = []
    with GatewayClient(
        CONFIG, api_token=TOKEN, http_client=httpx.Client(transport=_recorder(mine))
    ) as client:
        ours(client)
    official = cloudflare.Cloudflare(
        api_token=TOKEN,
        base_url=f"{CONFIG.base_url}/client/v4",
        http_client=httpx.Client(transport=_recorder(theirs)),
        max_retries=0,
    )
    sdk(official.ai_gateway.dynamic_routing)
    assert [_wire(r) for r in mine] == [_wire(r) for r in theirs]
    assert mine[0].headers["authorization"] == theirs[0].headers["authorization"]
