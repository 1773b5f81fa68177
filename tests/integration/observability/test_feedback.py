"""Feedback straight from a LangChain or LiteLLM result, and LiteLLM results in the tracker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from langchain_cf_gateway import (
    ChatCloudflareGateway,
    GatewayUsageTracker,
    asend_feedback,
    send_feedback,
)
from langchain_cf_gateway.local import LocalGateway
from langchain_cf_gateway.management import AsyncGatewayClient, GatewayClient
from langchain_cf_gateway.results import gateway_log_id


def _row(gw: LocalGateway, log_id: str) -> dict[str, Any]:
    return next(r for r in gw.logs() if r["id"] == log_id)


@pytest.fixture
def llm(gateway: LocalGateway) -> ChatCloudflareGateway:
    return ChatCloudflareGateway(
        model="openai/gpt-4o-mini", base_url=gateway.base_url, account_id=gateway.account_id
    )


@pytest.fixture
def litellm_where(gateway: LocalGateway) -> Iterator[dict[str, Any]]:
    from langchain_cf_gateway.litellm_provider import register

    register()
    yield {"api_base": gateway.base_url, "account_id": gateway.account_id}


def test_feedback_for_an_ai_message_and_a_streamed_one(
    gateway: LocalGateway, client: GatewayClient, llm: ChatCloudflareGateway
) -> None:
    message = llm.invoke("rate me")
    log_id = message.response_metadata["gateway"]["log_id"]
    assert send_feedback(message, feedback=1, score=80, client=client) == log_id
    assert (_row(gateway, log_id)["feedback"], _row(gateway, log_id)["score"]) == (1, 80)

    chunks = list(llm.stream("stream and rate me"))
    merged = sum(chunks[1:], chunks[0])
    streamed_id = gateway_log_id(merged)
    assert streamed_id == gateway.logs()[-1]["id"]
    client.send_feedback(merged, feedback=-1, metadata={"why": "too short"})
    row = _row(gateway, streamed_id)
    assert (row["feedback"], row["metadata"]) == (-1, {"why": "too short"})


def test_feedback_for_a_litellm_response(
    gateway: LocalGateway, client: GatewayClient, litellm_where: dict[str, Any]
) -> None:
    import litellm

    response = litellm.completion(
        model="cloudflare-ai-gateway/openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "LiteLLM, rate me"}],
        **litellm_where,
    )
    log_id = response._hidden_params["gateway"]["log_id"]
    assert client.send_feedback(response, feedback=1, score=70) == log_id
    assert (_row(gateway, log_id)["feedback"], _row(gateway, log_id)["score"]) == (1, 70)


def test_the_tracker_records_litellm_responses_as_the_logs_show_them(
    gateway: LocalGateway, litellm_where: dict[str, Any]
) -> None:
    import litellm

    tracker = GatewayUsageTracker()
    for _ in range(2):
        tracker.record(
            litellm.completion(
                model="cloudflare-ai-gateway/anthropic/claude-3-5-haiku",
                messages=[{"role": "user", "content": "count me"}],
                gateway_options={"cache_ttl": 600},
                **litellm_where,
            )
        )
    rows = gateway.logs("default")
    assert (tracker.calls_made, tracker.cache_hits, tracker.cache_misses) == (2, 1, 1)
    assert tracker.log_ids == [r["id"] for r in rows]
    assert tracker.input_tokens == sum(r["tokens_in"] for r in rows)
    assert tracker.output_tokens == sum(r["tokens_out"] for r in rows)
    assert tracker.calls[0].model == "claude-3-5-haiku" and tracker.calls[0].cost
    assert tracker.calls[1].cost == 0.0 and tracker.saved_cost == tracker.calls[0].cost


async def test_async_feedback(
    gateway: LocalGateway, aclient: AsyncGatewayClient, llm: ChatCloudflareGateway
) -> None:
    message = await llm.ainvoke("async rate me")
    log_id = await asend_feedback(message, score=33, client=aclient)
    assert _row(gateway, log_id)["score"] == 33
    log_id = await asend_feedback(
        message,
        feedback=1,
        base_url=gateway.base_url,
        account_id=gateway.account_id,
        api_token=gateway.management_token,
    )
    assert _row(gateway, log_id)["feedback"] == 1


def test_a_message_without_gateway_metadata_fails_before_any_request(
    gateway: LocalGateway, client: GatewayClient
) -> None:
    from langchain_core.messages import AIMessage

    with pytest.raises(ValueError, match="no gateway log id in this AIMessage"):
        send_feedback(AIMessage("not from the gateway"), feedback=1, client=client)
    assert not [r for r in gateway.received if r.path.startswith("/client/v4/")]
