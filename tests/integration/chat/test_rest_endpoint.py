"""`endpoint="rest"` end to end: ChatCloudflareGateway against the local gateway's REST API.

https://developers.cloudflare.com/ai-gateway/usage/rest-api/ ; dynamic routes on it:
https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/usage/
"""

from __future__ import annotations

from typing import Any

import pytest

from langchain_cf_gateway import ChatCloudflareGateway
from langchain_cf_gateway.core import GatewayError, GatewayInputError
from langchain_cf_gateway.local import LocalGateway

MODEL = "openai/gpt-4o-mini"


def rest_chat(gw: LocalGateway, **kwargs: Any) -> ChatCloudflareGateway:
    params: dict[str, Any] = {
        "model": MODEL,
        "endpoint": "rest",
        "account_id": gw.account_id,
        "base_url": gw.base_url,
        "gateway_token": gw.token,
        "max_retries": 0,
    }
    params.update(kwargs)
    return ChatCloudflareGateway(**params)


def rest_path(gw: LocalGateway) -> str:
    return f"/client/v4/accounts/{gw.account_id}/ai/v1/chat/completions"


def test_a_dynamic_route_on_rest_sends_the_gateway_id_and_raises_the_404(
    gateway: LocalGateway,
) -> None:
    gateway.create_gateway("team")
    model = rest_chat(gateway, model="dynamic/support", gateway_id="team")
    with pytest.raises(GatewayError) as err:
        model.invoke("hi")
    [sent] = gateway.received
    assert sent.path == rest_path(gateway)
    assert sent.headers["cf-aig-gateway-id"] == "team"
    assert sent.headers["authorization"] == f"Bearer {gateway.token}"
    assert "cf-aig-authorization" not in sent.headers
    assert sent.json["model"] == "dynamic/support"
    [row] = gateway.logs("team")
    assert (err.value.status_code, err.value.code, err.value.log_id) == (404, 2005, row["id"])
    assert "'support'" in str(err.value) and "'team'" in str(err.value)


def test_the_auto_router_on_rest_is_refused_before_sending(gateway: LocalGateway) -> None:
    with pytest.raises(GatewayInputError, match="endpoint='compat'"):
        rest_chat(gateway, model="cloudflare/auto").invoke("hi")
    assert gateway.received == []
