"""`cloudflare/auto` end to end, offline: the chat model and LiteLLM against the local
gateway's Auto Router emulation (https://developers.cloudflare.com/ai-gateway/features/auto-router/)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from langchain_cf_gateway import ChatCloudflareGateway, GatewayError
from langchain_cf_gateway.local import LocalGateway

ROUTING_KEYS = ("routed_model", "routing_reason", "routing_decision_id")


@pytest.fixture(scope="module")
def gw() -> Any:
    with LocalGateway() as gateway:
        yield gateway


def _model(gw: LocalGateway) -> ChatCloudflareGateway:
    return ChatCloudflareGateway(
        model="cloudflare/auto",
        base_url=gw.base_url,
        account_id=gw.account_id,
        gateway_id=gw.gateway_id,
        gateway_token=gw.token,
        max_retries=0,
    )


def test_every_call_path_says_which_model_the_router_chose(gw: LocalGateway) -> None:
    model = _model(gw)
    options = {"allowed_providers": ["anthropic"]}
    invoked = model.invoke("hi", gateway_options=options).response_metadata["gateway"]
    streamed = [
        c.response_metadata["gateway"]
        for c in model.stream("hi", gateway_options=options)
        if "gateway" in c.response_metadata
    ]
    awaited = asyncio.run(model.ainvoke("hi", gateway_options=options)).response_metadata["gateway"]
    for info in (invoked, streamed[0], awaited):
        assert info["routed_model"] == "anthropic/claude-3-5-haiku"
        assert info["provider"] == "anthropic"
        assert info["routing_reason"] in ("cost_optimal_within_pool", "forced_by_candidate_pool")
        assert info["routing_decision_id"]
    assert len(streamed) == 1


def test_a_session_keeps_its_model(gw: LocalGateway) -> None:
    model = _model(gw)
    first = model.invoke("a", gateway_options={"session_id": "s-e2e"})
    second = model.invoke("b", gateway_options={"session_id": "s-e2e"})
    assert (
        first.response_metadata["gateway"]["routed_model"]
        == second.response_metadata["gateway"]["routed_model"]
    )
    assert second.response_metadata["gateway"]["routing_reason"] == "pinned_by_turn"


def test_an_allow_list_that_matches_nothing_names_the_fix(gw: LocalGateway) -> None:
    with pytest.raises(GatewayError) as err:
        _model(gw).invoke("x", gateway_options={"allowed_models": ["nosuch/*"]})
    assert err.value.status_code == 400
    assert "nosuch/*" in str(err.value)
    assert "management API" not in str(err.value)


def test_litellm_reports_the_routed_model(gw: LocalGateway) -> None:
    import litellm

    from langchain_cf_gateway.litellm_provider import gateway_info, register

    register()
    response = litellm.completion(
        model="cloudflare-ai-gateway/cloudflare/auto",
        messages=[{"role": "user", "content": "hi"}],
        api_base=gw.base_url,
        account_id=gw.account_id,
        gateway_id=gw.gateway_id,
        gateway_token=gw.token,
        gateway_options={"allowed_providers": ["openai"]},
    )
    info = gateway_info(response)
    assert info is not None
    assert info["routed_model"] == "openai/gpt-4o-mini"
    assert all(info[key] for key in ROUTING_KEYS)
