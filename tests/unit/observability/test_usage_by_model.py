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
