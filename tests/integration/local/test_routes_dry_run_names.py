"""The local routes API refuses a route name `dynamic/<name>` cannot call (create and rename).

The name rule is `DynamicRoute`'s (`parse_model_id`'s after `dynamic/`, at most 64
characters), which the API applies through `DynamicRoute.from_api`.
https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/
"""

from __future__ import annotations

import pytest

from langchain_cf_gateway import DynamicRoute
from langchain_cf_gateway.local import LocalGateway
from tests.support.local_calls import management

CHAIN = DynamicRoute.fallback_chain(["openai/gpt-4o-mini"], name="support")
BAD_NAMES = ["a b", "süppört", " lead", "a\nb", "a\x00b", "a" * 100_000]


def _body(name: str) -> dict[str, object]:
    return {**CHAIN.to_api(), "name": name}


@pytest.mark.parametrize("name", BAD_NAMES, ids=lambda n: repr(n[:12]))
def test_create_refuses_a_name_dynamic_cannot_call(gateway: LocalGateway, name: str) -> None:
    response = management(gateway, "POST", "gateways/default/routes", json=_body(name))
    assert response.status_code == 400, response.text
    assert "name" in response.json()["errors"][0]["message"]
    listed = management(gateway, "GET", "gateways/default/routes").json()
    assert all(r["name"] != name for r in listed["data"]["routes"])


def test_rename_refuses_a_name_dynamic_cannot_call(gateway: LocalGateway) -> None:
    created = management(gateway, "POST", "gateways/default/routes", json=CHAIN.to_api())
    route_id = created.json()["result"]["id"]
    response = management(
        gateway, "PATCH", f"gateways/default/routes/{route_id}", json={"name": "a b"}
    )
    assert response.status_code == 400, response.text
    got = management(gateway, "GET", f"gateways/default/routes/{route_id}")
    assert got.json()["result"]["name"] == "support"
