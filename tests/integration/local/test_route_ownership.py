"""Routes live and die with their gateway: deleting a gateway through the management API
deletes its dynamic routes (a gateway created again with the same id starts with none),
and the route store stamps ids and times with the gateway's clock from the start.

https://developers.cloudflare.com/api/resources/ai_gateway/methods/delete/
"""

from __future__ import annotations

import asyncio

from langchain_cf_gateway import DynamicRoute
from langchain_cf_gateway.local import LocalGateway
from langchain_cf_gateway.local.cache import open_cache
from langchain_cf_gateway.local.clock import Clock
from langchain_cf_gateway.local.gateways import GatewayRegistry
from langchain_cf_gateway.local.logstore import LogStore
from langchain_cf_gateway.local.scripts import ScriptBook
from langchain_cf_gateway.local.state import GatewayState
from langchain_cf_gateway.local.upstream import Upstreams
from tests.support.local_calls import chat_body, compat, gateway_error, management

MINI = "openai/gpt-4o-mini"


def route_names(gw: LocalGateway, gateway_id: str) -> list[str]:
    response = management(gw, "GET", f"gateways/{gateway_id}/routes")
    assert response.status_code == 200, response.text
    return [r["name"] for r in response.json()["data"]["routes"]]


def test_deleting_a_gateway_deletes_its_routes(gateway: LocalGateway) -> None:
    gateway.create_gateway("doomed")
    gateway.create_gateway("kept")
    route = DynamicRoute.fallback_chain([MINI], name="r")
    gateway.deploy_route(route, "doomed")
    gateway.deploy_route(route, "kept")
    assert route_names(gateway, "doomed") == ["r"]

    assert management(gateway, "DELETE", "gateways/doomed").status_code == 200
    created = management(gateway, "POST", "gateways", json={"id": "doomed"})
    assert created.status_code == 200, created.text

    assert route_names(gateway, "doomed") == []
    refused = compat(gateway, chat_body("dynamic/r"), gateway_id="doomed")
    assert gateway_error(refused)[:2] == (400, 2005)
    assert route_names(gateway, "kept") == ["r"]  # another gateway's routes stay
    assert compat(gateway, chat_body("dynamic/r"), gateway_id="kept").status_code == 200


def test_the_route_store_runs_on_the_gateway_clock_from_the_start() -> None:
    clock = Clock(lambda: 1_800_000_000.0)  # still: a real clock read twice can cross a ms
    scripts = ScriptBook()
    logs = LogStore(":memory:")
    try:
        state = GatewayState(
            clock=clock,
            registry=GatewayRegistry(clock, {}),
            scripts=scripts,
            cache=open_cache(None, clock),
            logs=logs,
            upstreams=Upstreams(clock, scripts, {}),
            token=None,
            management_token=None,
        )
        assert state.routes.clock is clock  # no application built: no one patches it
        clock.advance(3600)
        state.routes.deploy("default", DynamicRoute.fallback_chain([MINI], name="r"))
        [stored] = state.routes.routes_of("default")
        assert stored.created_at == clock.iso()
        asyncio.run(state.close())
    finally:
        logs.close()


def test_the_app_docstring_says_what_serves_dynamic_routes() -> None:
    from langchain_cf_gateway.local import app

    doc = app.__doc__ or ""
    assert "owns no dynamic routes" not in doc
    assert "`dynamic_exec`" in doc and "`routes_api`" in doc


def test_a_new_route_its_first_version_and_deployment_share_one_time() -> None:
    from itertools import count

    from langchain_cf_gateway.local.route_store import RouteStore

    ticks = count()
    store = RouteStore(Clock(lambda: 1_700_000_000 + next(ticks) * 0.01))  # 10 ms per read
    stored = store.create("default", DynamicRoute.fallback_chain([MINI], name="r"))
    [version], [deployment] = stored.versions, stored.deployments
    assert stored.created_at == stored.modified_at == version.created_at == deployment.created_at
