"""LiteLLM's `cache={...}` as gateway options, and a deployment's options merged with a
call's: pure functions of `litellm_provider.params`."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from langchain_cf_gateway.core import GatewayOptions, InvalidOptionError
from langchain_cf_gateway.litellm_provider.params import (
    cache_options,
    litellm_cache_controls,
    merged_options,
)


@pytest.mark.parametrize(
    ("cache", "fields"),
    [
        (None, None),
        ({}, None),
        ({"no-cache": True}, {"skip_cache": True}),
        ({"no-store": True}, {"skip_cache": True}),
        ({"no-cache": False}, None),
        ({"ttl": 600.0}, {"cache_ttl": 600}),
        ({"s-maxage": 10, "namespace": "n"}, None),
    ],
)
def test_cache_options(cache: Any, fields: Any) -> None:
    options = cache_options(cache)
    expected = None if fields is None else GatewayOptions(**fields)
    assert options == expected


@pytest.mark.parametrize("ttl", [10, 60.5, "600"])
def test_a_ttl_the_gateway_cannot_take_names_cache_ttl(ttl: Any) -> None:
    with pytest.raises(InvalidOptionError, match="cache_ttl"):
        cache_options({"ttl": ttl})


def test_litellm_cache_controls_reads_the_callers_keywords_or_none() -> None:
    logging_obj = SimpleNamespace(
        llm_caching_handler=SimpleNamespace(request_kwargs={"cache": {"no-cache": True}})
    )
    assert litellm_cache_controls(logging_obj) == {"no-cache": True}
    assert litellm_cache_controls(None) is None
    assert litellm_cache_controls(SimpleNamespace(llm_caching_handler=None)) is None
    odd = SimpleNamespace(llm_caching_handler=SimpleNamespace(request_kwargs={"cache": "x"}))
    assert litellm_cache_controls(odd) is None


def test_merge_order_cache_then_deployment_then_call() -> None:
    options = merged_options(
        {"gateway_options": {"metadata": {"b": 2}, "cache_ttl": 120}},
        {"model_info": {"gateway_options": {"metadata": {"a": 1}, "skip_cache": False}}},
        {"no-cache": True, "ttl": 600},
    )
    assert options == GatewayOptions(metadata={"a": 1, "b": 2}, cache_ttl=120, skip_cache=False)
    assert merged_options({}, None, None) is None
    assert merged_options({}, {"model_info": None}, {"ttl": 60}) == GatewayOptions(cache_ttl=60)
