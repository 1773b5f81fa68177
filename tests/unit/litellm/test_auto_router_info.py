"""The Auto Router's options reach the gateway and its response headers reach
LiteLLM's `_hidden_params["gateway"]` (https://developers.cloudflare.com/ai-gateway/features/auto-router/)."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import CALL, CHAT_RESPONSE, HELLO, MockGateway

ROUTED = {
    "cf-aig-log-id": "01LOG",
    "cf-aig-routed-model": "anthropic/claude-3-5-haiku",
    "cf-aig-routing-reason": "pinned_by_turn",
    "cf-aig-routing-decision-id": "rd-9",
}


def test_litellm_hidden_params_carry_the_routing_keys(litellm_mod: Any) -> None:
    from langchain_cf_gateway.litellm_provider import handler

    gateway = MockGateway(lambda request: httpx.Response(200, json=CHAT_RESPONSE, headers=ROUTED))
    response = handler.completion(
        model="openai/gpt-4o-mini",
        messages=HELLO,
        api_base=CALL["api_base"],
        custom_prompt_dict={},
        model_response=litellm_mod.ModelResponse(),
        print_verbose=print,
        encoding=None,
        api_key=None,
        logging_obj=None,
        optional_params={"account_id": "acct", "gateway_id": "gw"}
        | {"gateway_options": {"allowed_providers": ["anthropic"], "session_id": "s1"}},
        client=gateway.sync_client,
    )
    sent = gateway.received[0].headers
    assert (sent["cf-aig-allowed-providers"], sent["cf-aig-session-id"]) == ("anthropic", "s1")
    info = response._hidden_params["gateway"]
    assert (info["routed_model"], info["routing_reason"], info["routing_decision_id"]) == (
        "anthropic/claude-3-5-haiku",
        "pinned_by_turn",
        "rd-9",
    )
