"""Which of LiteLLM's parameters reach the gateway: an allowlist of OpenAI's, never its own."""

from __future__ import annotations

from typing import Any

import pytest

from langchain_cf_gateway.core import InvalidOptionError

from .conftest import CALL, HELLO, MockGateway


def _complete(mock_gateway: MockGateway, litellm_mod: Any, optional_params: dict[str, Any]) -> Any:
    from langchain_cf_gateway.litellm_provider import handler

    return handler.completion(
        model="openai/gpt-4o-mini",
        messages=HELLO,
        api_base=CALL["api_base"],
        custom_prompt_dict={},
        model_response=litellm_mod.ModelResponse(),
        print_verbose=print,
        encoding=None,
        api_key=None,
        logging_obj=None,
        optional_params={k: v for k, v in CALL.items() if k != "api_base"} | optional_params,
        client=mock_gateway.sync_client,
    )


def test_an_unknown_litellm_internal_key_never_reaches_the_body(
    mock_gateway: MockGateway, litellm_mod: Any
) -> None:
    # A key a future LiteLLM may put into optional_params: not an OpenAI parameter, so it
    # stays out of the body (a denylist of today's LiteLLM keys would let it through):
    # a `litellm_*` key or one of LiteLLM's published own parameters is dropped...
    _complete(
        mock_gateway,
        litellm_mod,
        {"litellm_some_new_internal": 1, "mock_response": "x", "temperature": 0},
    )
    assert mock_gateway.body() == {
        "model": "openai/gpt-4o-mini",
        "messages": HELLO,
        "temperature": 0,
    }
    # ...and any other key is refused before anything is sent, never sent as a field.
    sent = len(mock_gateway.received)
    with pytest.raises(InvalidOptionError, match=r"mock_testing_fallbacks: .*extra_body"):
        _complete(mock_gateway, litellm_mod, {"mock_testing_fallbacks": True})
    assert len(mock_gateway.received) == sent
