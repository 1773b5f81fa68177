"""The chat stream parser: one line in, LiteLLM chunks out (`ChatChunkParser`)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from langchain_cf_gateway.core.errors import GatewayError, InvalidResponseError, ProviderError
from langchain_cf_gateway.litellm_provider.stream_parser import ChatChunkParser

INFO = {"log_id": "01S", "cache_status": "MISS"}


def _line(event: dict[str, Any]) -> str:
    return "data: " + json.dumps(event)


def _choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def test_the_first_chunk_carries_the_gateway_dict_and_only_the_first() -> None:
    parser = ChatChunkParser(INFO)
    first = parser.feed(_line(_choice({"content": "Hel"})))
    second = parser.feed(_line(_choice({"content": "lo"})))
    assert [c["text"] for c in first + second] == ["Hel", "lo"]
    assert first[0]["provider_specific_fields"] == {"gateway": INFO}
    assert "provider_specific_fields" not in second[0]


@pytest.mark.parametrize("line", ["", ": keep-alive", "event: ping", "id: 3", "data: "])
def test_lines_without_an_event_give_no_chunk(line: str) -> None:
    assert ChatChunkParser(INFO).feed(line) == []


def test_several_tool_calls_in_one_event_give_one_chunk_each_the_last_finished() -> None:
    calls = [
        {"index": i, "id": f"c{i}", "function": {"name": n, "arguments": "{}"}}
        for i, n in enumerate("ab")
    ]
    chunks = ChatChunkParser(INFO).feed(_line(_choice({"tool_calls": calls}, "tool_calls")))
    assert [c["tool_use"]["function"]["name"] for c in chunks] == ["a", "b"]  # type: ignore[index]
    assert [c["is_finished"] for c in chunks] == [False, True]
    assert [c["finish_reason"] for c in chunks] == ["", "tool_calls"]


def test_the_usage_chunk_and_done() -> None:
    parser = ChatChunkParser(INFO)
    usage = {"prompt_tokens": 4, "completion_tokens": 6}
    (chunk,) = parser.feed(_line({"choices": [], "usage": usage}))
    assert chunk["usage"] == {"prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10}
    assert parser.feed("data: [DONE]") == [] and parser.done
    parser.end()  # a finished stream ends quietly


def test_a_malformed_event_is_an_invalid_response_with_secrets_masked() -> None:
    parser = ChatChunkParser(INFO, "01S", ("sk-secret",))
    with pytest.raises(InvalidResponseError, match="malformed event") as info:
        parser.feed('data: {"sk-secret": ')
    assert "sk-secret" not in str(info.value)
    assert (info.value.status_code, info.value.log_id) == (200, "01S")


def test_an_error_event_is_a_provider_error() -> None:
    with pytest.raises(ProviderError, match="upstream went away") as info:
        ChatChunkParser(INFO, "01S").feed(_line({"error": {"message": "upstream went away"}}))
    assert (info.value.status_code, info.value.log_id) == (500, "01S")


def test_a_stream_cut_before_its_end_is_an_invalid_response() -> None:
    parser = ChatChunkParser(INFO)
    parser.feed(_line(_choice({"content": "Hel"})))
    with pytest.raises(InvalidResponseError, match="ended without a finish reason"):
        parser.end()
    finished = ChatChunkParser(INFO)
    finished.feed(_line(_choice({"content": "Hi"}, "stop")))
    finished.end()


@pytest.mark.parametrize(
    "error",
    [
        {"message": "no response sk-secret", "code": 2005},
        [{"code": 2005, "message": "no response sk-secret"}],
    ],
    ids=["object-with-code", "list-with-code"],
)
@pytest.mark.parametrize("after_content", [False, True], ids=["first-event", "after-content"])
def test_an_error_event_keeps_its_gateway_code(error: Any, after_content: bool) -> None:
    parser = ChatChunkParser(INFO, "01S", ("sk-secret",))
    if after_content:
        parser.feed(_line(_choice({"content": "Hel"})))
    with pytest.raises(GatewayError, match="no response") as info:
        parser.feed(_line({"error": error}))
    # the status 2005 comes with (the table's), as the chat model's in-stream error has it
    assert (info.value.code, info.value.status_code, info.value.log_id) == (2005, 502, "01S")
    assert "sk-secret" not in str(info.value) and "sk-secret" not in json.dumps(info.value.body)
