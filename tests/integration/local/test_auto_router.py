"""The local gateway's Auto Router: `cloudflare/auto` on compat chat completions
(https://developers.cloudflare.com/ai-gateway/features/auto-router/)."""

from __future__ import annotations

import pytest

from langchain_cf_gateway.core import GatewayInfo
from langchain_cf_gateway.local import LocalGateway
from tests.support.local_calls import chat_body, compat, gateway_error

AUTO = chat_body("cloudflare/auto")


def routed(gateway: LocalGateway, **headers: str) -> GatewayInfo:
    response = compat(gateway, AUTO, headers)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"]
    return GatewayInfo.from_headers(response.headers)


def test_the_cheapest_model_of_the_pool(gateway: LocalGateway) -> None:
    info = routed(gateway)
    assert info.routed_model == "workers-ai/@cf/meta/llama-3.1-8b-instruct"
    assert (info.provider, info.model) == ("workers-ai", "@cf/meta/llama-3.1-8b-instruct")
    assert info.routing_reason == "cost_optimal_within_pool"
    assert info.routing_decision_id
    assert routed(gateway).routing_decision_id != info.routing_decision_id
    [row, _] = gateway.logs()
    assert row["provider"] == "workers-ai"


@pytest.mark.parametrize(
    ("headers", "model", "reason"),
    [
        (
            {"cf-aig-allowed-providers": "anthropic"},
            "anthropic/claude-3-5-haiku",
            "cost_optimal_within_pool",
        ),
        ({"cf-aig-allowed-models": "openai/*"}, "openai/gpt-4o-mini", "cost_optimal_within_pool"),
        ({"cf-aig-allowed-models": "openai/gpt-4o"}, "openai/gpt-4o", "forced_by_candidate_pool"),
        (
            {
                "cf-aig-allowed-models": "openai/*,anthropic/*",
                "cf-aig-allowed-providers": "anthropic",
            },
            "anthropic/claude-3-5-haiku",
            "cost_optimal_within_pool",
        ),
    ],
)
def test_allow_lists_narrow_the_pool(
    gateway: LocalGateway, headers: dict[str, str], model: str, reason: str
) -> None:
    info = routed(gateway, **headers)
    assert (info.routed_model, info.routing_reason) == (model, reason)


@pytest.mark.parametrize(
    "headers",
    [
        {"cf-aig-allowed-models": "google/*"},
        {"cf-aig-allowed-models": "openai/gpt-*"},  # '*' does not match part of a segment
        {"cf-aig-allowed-models": "*"},  # '*' does not cross '/'
        {"cf-aig-allowed-models": "openai/*", "cf-aig-allowed-providers": "anthropic"},
    ],
)
def test_an_allow_list_that_matches_nothing_is_400(
    gateway: LocalGateway, headers: dict[str, str]
) -> None:
    status, code, _ = gateway_error(compat(gateway, AUTO, headers))
    assert (status, code) == (400, 7001)


def test_a_session_keeps_its_model(gateway: LocalGateway) -> None:
    first = routed(gateway, **{"cf-aig-session-id": "s1", "cf-aig-allowed-models": "anthropic/*"})
    # The pool grows, the session keeps its model; another session gets the cheapest.
    again = routed(gateway, **{"cf-aig-session-id": "s1"})
    other = routed(gateway, **{"cf-aig-session-id": "s2"})
    free = routed(gateway, **{"cf-aig-session-id": "s1", "cf-aig-no-session-affinity": "true"})
    assert first.routed_model == again.routed_model == "anthropic/claude-3-5-haiku"
    assert again.routing_reason == "pinned_by_turn"
    assert other.routed_model == free.routed_model == "workers-ai/@cf/meta/llama-3.1-8b-instruct"


def test_a_plain_model_has_no_routing_headers(gateway: LocalGateway) -> None:
    info = GatewayInfo.from_headers(compat(gateway).headers)
    assert (info.routed_model, info.routing_reason, info.routing_decision_id) == (None, None, None)


CHEAPEST = "workers-ai/@cf/meta/llama-3.1-8b-instruct"
PINNED = {"cf-aig-session-id": "s8", "cf-aig-allowed-models": "anthropic/*"}


def test_a_turn_id_pins_its_turn_only(gateway: LocalGateway) -> None:
    """`cf-aig-turn-id` overrides turn detection: a new turn id chooses afresh."""
    first = routed(gateway, **PINNED, **{"cf-aig-turn-id": "t1"})
    same = routed(gateway, **{"cf-aig-session-id": "s8", "cf-aig-turn-id": "t1"})
    new = routed(gateway, **{"cf-aig-session-id": "s8", "cf-aig-turn-id": "t2"})
    assert first.routed_model == same.routed_model == "anthropic/claude-3-5-haiku"
    assert same.routing_reason == "pinned_by_turn"
    assert (new.routed_model, new.routing_reason) == (CHEAPEST, "cost_optimal_within_pool")


def test_without_a_turn_id_a_new_user_message_starts_a_turn(gateway: LocalGateway) -> None:
    """A turn is a user message and its tool follow-ups
    (https://developers.cloudflare.com/ai-gateway/features/auto-router/)."""
    user = {"role": "user", "content": "What is the weather in Paris?"}
    call = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    }
    result = {"role": "tool", "tool_call_id": "c1", "content": "sunny"}
    later = {"role": "user", "content": "And in Rome?"}

    def turn(messages: list[dict[str, object]], **headers: str) -> GatewayInfo:
        body = {"model": "cloudflare/auto", "messages": messages}
        response = compat(gateway, body, {"cf-aig-session-id": "s9", **headers})
        assert response.status_code == 200, response.text
        return GatewayInfo.from_headers(response.headers)

    first = turn([user], **{"cf-aig-allowed-models": "anthropic/*"})
    follow_up = turn([user, call, result])
    next_turn = turn([user, call, result, {"role": "assistant", "content": "Sunny."}, later])
    assert first.routed_model == follow_up.routed_model == "anthropic/claude-3-5-haiku"
    assert follow_up.routing_reason == "pinned_by_turn"
    assert (next_turn.routed_model, next_turn.routing_reason) == (
        CHEAPEST,
        "cost_optimal_within_pool",
    )
