"""`GatewayUsageTracker.record` refuses what holds no usage, instead of counting an empty
call: an exception (it was counted as a success with no tokens) or a LiteLLM stream (0/0
tokens)."""

from __future__ import annotations

import pytest

from langchain_cf_gateway import GatewayUsageTracker


class _Stream:
    """What LiteLLM's `CustomStreamWrapper` looks like to `record`."""

    completion_stream = iter(())


@pytest.mark.parametrize(
    ("result", "says"),
    [(RuntimeError("503"), "not an exception"), (_Stream(), "stream_chunk_builder")],
)
def test_record_refuses_what_holds_no_usage(result: object, says: str) -> None:
    tracker = GatewayUsageTracker()
    with pytest.raises(TypeError, match=says):
        tracker.record(result)
    assert tracker.calls_made == 0
