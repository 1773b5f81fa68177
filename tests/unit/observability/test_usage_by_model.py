"""GatewayUsageTracker.by_model groups the old and new spellings of one model."""

from __future__ import annotations

from langchain_core.messages import AIMessage

from langchain_cf_gateway import GatewayUsageTracker


def _message(model: str, tokens: int) -> AIMessage:
    return AIMessage(
        content="hi",
        response_metadata={
            "model_name": model,
            "gateway": {"model": model, "cache_status": "MISS"},
        },
        usage_metadata={"input_tokens": tokens, "output_tokens": 1, "total_tokens": tokens + 1},
    )


def test_by_model_groups_the_spellings_of_one_model() -> None:
    tracker = GatewayUsageTracker()
    tracker.record(_message("claude-haiku-4-5-20251001", 10))
    tracker.record(_message("anthropic/claude-haiku-4.5", 20))
    tracker.record(_message("gpt-4o-mini", 5))
    totals = tracker.by_model()
    assert len(totals) == 2
    haiku = next(usage for name, usage in totals.items() if "haiku" in name)
    assert (haiku.calls, haiku.input_tokens) == (2, 30)


def test_a_call_keeps_what_the_auto_router_chose() -> None:
    # The same keys as response_metadata["gateway"]: routed_model, routing_reason, its id.
    tracker = GatewayUsageTracker()
    message = AIMessage(
        content="hi",
        response_metadata={
            "model_name": "claude-3-5-haiku",
            "gateway": {
                "model": "claude-3-5-haiku",
                "provider": "anthropic",
                "routed_model": "anthropic/claude-3-5-haiku",
                "routing_reason": "pinned_by_turn",
                "routing_decision_id": "rd-1",
            },
        },
    )
    call = tracker.record(message)
    assert (call.routed_model, call.routing_reason, call.routing_decision_id) == (
        "anthropic/claude-3-5-haiku",
        "pinned_by_turn",
        "rd-1",
    )
    plain = tracker.record(_message("gpt-4o-mini", 1))
    assert (plain.routed_model, plain.routing_reason, plain.routing_decision_id) == (None,) * 3
