"""Dynamic routes and the Auto Router on the local gateway's compat and REST routes.

The local gateway has no route store: every `dynamic/<route>` is a route the gateway does
not own, and gets what Cloudflare sends for one
(https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/usage/).
"""

from __future__ import annotations

import httpx
import pytest

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.local import LocalGateway
from tests.support.local_calls import chat_body, compat, gateway_error, http, universal


def rest_url(gw: LocalGateway) -> str:
    return f"{gw.base_url}/client/v4/accounts/{gw.account_id}/ai/v1/chat/completions"


def rest(gw: LocalGateway, model: str, gateway_id: str | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {gw.token}"}
    if gateway_id is not None:
        headers[Header.GATEWAY_ID] = gateway_id
    return http.post(rest_url(gw), json=chat_body(model), headers=headers)


def test_a_dynamic_route_on_compat_is_2005_naming_route_and_gateway(gateway: LocalGateway) -> None:
    gateway.create_gateway("rest-owner")
    response = compat(gateway, chat_body("dynamic/support"), gateway_id="rest-owner")
    status, code, message = gateway_error(response)
    assert (status, code) == (400, 2005)
    assert "'support'" in message and "'rest-owner'" in message
    [row] = gateway.logs("rest-owner")
    assert (row["success"], row["status_code"], row["path"]) == (
        False,
        400,
        "compat/chat/completions",
    )
    assert row["id"] == response.headers["cf-aig-log-id"]


def test_a_dynamic_route_in_a_universal_compat_step_is_2005(gateway: LocalGateway) -> None:
    step = {
        "provider": "compat",
        "endpoint": "chat/completions",
        "headers": {},
        "query": chat_body("dynamic/support"),
    }
    status, code, message = gateway_error(universal(gateway, [step]))
    assert (status, code) == (400, 2005)
    assert "'support'" in message and "'default'" in message


@pytest.mark.parametrize("gateway_id", [None, "rest-owner"], ids=["default", "named"])
def test_a_dynamic_route_on_rest_is_404_naming_route_and_gateway(
    gateway: LocalGateway, gateway_id: str | None
) -> None:
    gateway.create_gateway("rest-owner")
    response = rest(gateway, "dynamic/support", gateway_id)
    status, code, message = gateway_error(response)
    assert (status, code) == (404, 2005)
    owner = gateway_id or "default"
    assert "'support'" in message and f"'{owner}'" in message
    assert "cf-aig-gateway-id" in message
    [row] = gateway.logs(owner)
    assert (row["success"], row["status_code"], row["path"]) == (
        False,
        404,
        "ai/v1/chat/completions",
    )
    assert row["id"] == response.headers["cf-aig-log-id"]


def test_a_dynamic_route_on_rest_with_an_unknown_gateway_is_2001(gateway: LocalGateway) -> None:
    assert gateway_error(rest(gateway, "dynamic/support", "nope"))[:2] == (400, 2001)
    assert gateway.logs() == []


def test_the_auto_router_on_rest_is_400_naming_compat(gateway: LocalGateway) -> None:
    response = rest(gateway, "cloudflare/auto")
    status, code, message = gateway_error(response)
    assert (status, code) == (400, 7001)
    assert "compat" in message and "Invalid provider" not in message
    [row] = gateway.logs()
    assert (row["success"], row["status_code"]) == (False, 400)
