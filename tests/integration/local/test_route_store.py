"""`LocalGateway.deploy_route`: a deployed route is the one the gateway owns; `reset`
forgets it (the executor that runs it is tested with it)."""

from __future__ import annotations

from langchain_cf_gateway import DynamicRoute
from langchain_cf_gateway.local import LocalGateway


def test_a_deployed_route_is_owned_by_its_gateway_only_and_reset_forgets_it(
    gateway: LocalGateway,
) -> None:
    state = gateway._state
    route = DynamicRoute.fallback_chain(["openai/gpt-4o-mini"], name="support")
    gateway.create_gateway("other")
    gateway.deploy_route(route)
    assert state.routes.active("default", "support") == route
    assert state.routes.active("other", "support") is None
    gateway.reset()
    assert state.routes.active("default", "support") is None
