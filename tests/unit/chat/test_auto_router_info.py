"""The Auto Router's response headers reach `response_metadata["gateway"]` of the chat model
(https://developers.cloudflare.com/ai-gateway/features/auto-router/)."""

from __future__ import annotations

import httpx

from langchain_cf_gateway import ChatCloudflareGateway

from .scripted import Script, completion_body

ROUTED = {
    "cf-aig-routed-model": "workers-ai/@cf/meta/llama-3.1-8b-instruct",
    "cf-aig-routing-reason": "some_future_reason",
    "cf-aig-routing-decision-id": "rd-1",
}


def test_chat_metadata_carries_the_routing_keys() -> None:
    script = Script(
        lambda request: httpx.Response(
            200,
            content=completion_body(),
            headers={"content-type": "application/json", **ROUTED},
            request=request,
        )
    )
    model = ChatCloudflareGateway(
        model="openai/gpt-4o-mini",
        account_id="acct",
        base_url="http://gateway.test",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(script)),
        gateway_options={"allowed_models": ["workers-ai/@cf/meta/*"], "no_session_affinity": True},
    )
    gateway = model.invoke("hi").response_metadata["gateway"]
    sent = script.requests[0].headers
    assert sent["cf-aig-allowed-models"] == "workers-ai/@cf/meta/*"
    assert sent["cf-aig-no-session-affinity"] == "true"
    assert gateway["routed_model"] == "workers-ai/@cf/meta/llama-3.1-8b-instruct"
    assert gateway["routing_reason"] == "some_future_reason"  # unknown: kept as the string
    assert gateway["routing_decision_id"] == "rd-1"
