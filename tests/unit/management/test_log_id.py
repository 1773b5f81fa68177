"""`gateway_log_id`: the log id of a result, wherever an integration put it."""

from __future__ import annotations

from typing import Any

import pytest

from langchain_cf_gateway.core import GatewayInfo, InvalidOptionError
from langchain_cf_gateway.management import LogEntry
from langchain_cf_gateway.results import gateway_log_id


class _LiteLLMResponse:
    """The attributes of a LiteLLM `ModelResponse` that hold the gateway's metadata."""

    def __init__(self, hidden: dict[str, Any]) -> None:
        self._hidden_params = hidden
        self.id = "chatcmpl-not-a-log-id"


@pytest.mark.parametrize(
    "result",
    [
        "01LOG",
        "  01LOG  ",
        GatewayInfo(log_id="01LOG"),
        LogEntry(id="01LOG"),
        {"log_id": "01LOG"},
        {"gateway": {"log_id": "01LOG"}},
        {"response_metadata": {"gateway": {"log_id": "01LOG"}}},
        {"additional_headers": {"llm_provider-cf-aig-log-id": "01LOG"}},
        {"headers": {"cf-aig-log-id": "01LOG"}},
        _LiteLLMResponse({"gateway": {"log_id": "01LOG"}}),
        _LiteLLMResponse({"additional_headers": {"llm_provider-cf-aig-log-id": "01LOG"}}),
    ],
    ids=[
        "string",
        "padded-string",
        "GatewayInfo",
        "LogEntry",
        "gateway-dict",
        "nested-gateway",
        "response-metadata-dict",
        "litellm-header",
        "plain-header",
        "litellm-hidden-params",
        "litellm-hidden-header",
    ],
)
def test_the_log_id_is_found(result: Any) -> None:
    assert gateway_log_id(result) == "01LOG"


def test_langchain_messages_and_generations() -> None:
    from langchain_core.messages import AIMessage, AIMessageChunk
    from langchain_core.outputs import ChatGeneration

    metadata = {"gateway": {"log_id": "01LOG", "cached": False}}
    message = AIMessage("hi", response_metadata=metadata)
    assert gateway_log_id(message) == "01LOG"
    assert gateway_log_id(AIMessageChunk(content="hi", response_metadata=metadata)) == "01LOG"
    assert gateway_log_id(ChatGeneration(message=message)) == "01LOG"


@pytest.mark.parametrize(
    "result",
    [None, "", {"gateway": {"log_id": None}}, GatewayInfo(), {"content": "no gateway"}, 42],
)
def test_no_log_id_says_why_and_names_the_type(result: Any) -> None:
    with pytest.raises(InvalidOptionError, match="collect_log=False") as err:
        gateway_log_id(result)
    assert err.value.field == "log_id"
    assert f"in this {type(result).__name__}" in str(err.value)


def test_the_top_level_name_is_the_same_function() -> None:
    import langchain_cf_gateway

    assert langchain_cf_gateway.gateway_log_id is gateway_log_id


def test_a_log_entry_groups_the_old_and_new_spellings_of_its_model() -> None:
    from langchain_cf_gateway import LogEntry

    old = LogEntry(id="a", model="claude-haiku-4-5-20251001", provider="anthropic")
    new = LogEntry(id="b", model="anthropic/claude-haiku-4.5", provider="anthropic")
    assert old.model_key == new.model_key == "claude-haiku-4-5"
