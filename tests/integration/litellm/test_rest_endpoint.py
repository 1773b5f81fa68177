"""`endpoint="rest"` through LiteLLM against the local gateway's REST API.

https://developers.cloudflare.com/ai-gateway/usage/rest-api/
"""

from __future__ import annotations

from typing import Any

import pytest

from langchain_cf_gateway.litellm_provider import PROVIDER, gateway_error
from langchain_cf_gateway.local import LocalGateway

HELLO = [{"role": "user", "content": "hello"}]


def test_a_dynamic_route_on_rest_sends_the_gateway_id_and_raises_the_404(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    gw.create_gateway("team")
    with pytest.raises(Exception) as info:
        litellm_mod.completion(
            model=f"{PROVIDER}/dynamic/support",
            messages=HELLO,
            num_retries=0,
            endpoint="rest",
            **{**cf, "gateway_id": "team"},
        )
    [sent] = gw.received
    assert sent.path == f"/client/v4/accounts/{gw.account_id}/ai/v1/chat/completions"
    assert sent.headers["cf-aig-gateway-id"] == "team"
    assert sent.headers["authorization"] == f"Bearer {gw.token}"
    assert sent.json["model"] == "dynamic/support"
    typed = gateway_error(info.value)
    assert typed is not None
    [row] = gw.logs("team")
    assert (typed.status_code, typed.code, typed.log_id) == (404, 2005, row["id"])
