"""Dynamic routes end to end through LiteLLM: a route built with `DynamicRoute`, deployed
on the local gateway, called as `cloudflare-ai-gateway/dynamic/<name>`, the model that
answered read from `gateway_info(response)` per request.

https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/
"""

from __future__ import annotations

import math
import time
from collections import Counter
from typing import Any

import pytest

from langchain_cf_gateway import DynamicRoute
from langchain_cf_gateway.litellm_provider import PROVIDER, gateway_info
from langchain_cf_gateway.local import LocalGateway

MINI, HAIKU = "openai/gpt-4o-mini", "anthropic/claude-3-5-haiku"
HELLO = [{"role": "user", "content": "hello"}]


def answered(litellm_mod: Any, cf: dict[str, Any], name: str, **kwargs: Any) -> str:
    response = litellm_mod.completion(
        model=f"{PROVIDER}/dynamic/{name}", messages=HELLO, num_retries=0, **{**cf, **kwargs}
    )
    info = gateway_info(response)
    assert info is not None
    return f"{info['provider']}/{info['model']}"


def within_binomial(count: int, n: int, p: float, sigmas: float = 4.0) -> bool:
    return abs(count - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


def test_an_80_20_split_over_1000_calls_is_within_4_sigma(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    gw.deploy_route(DynamicRoute.split({MINI: 80, HAIKU: 20}, name="ab"))
    began = time.perf_counter()
    counts = Counter(answered(litellm_mod, cf, "ab") for _ in range(1000))
    elapsed = time.perf_counter() - began
    assert set(counts) == {MINI, HAIKU}
    assert within_binomial(counts[MINI], 1000, 0.8), counts
    assert elapsed < 90, f"1,000 calls took {elapsed:.1f} s"
    print(f"\n[1,000 dynamic-route calls through LiteLLM: {elapsed:.2f} s]")


def test_a_conditional_on_metadata_plan(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    gw.deploy_route(
        DynamicRoute.conditional(
            {"metadata.plan": {"$eq": "paid"}}, then=MINI, otherwise=HAIKU, name="plans"
        )
    )
    for plan, expected in (("paid", MINI), ("free", HAIKU)):
        options = {"metadata": {"plan": plan}}
        assert answered(litellm_mod, cf, "plans", gateway_options=options) == expected


def test_a_rate_limit_falls_back(litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]) -> None:
    gw.deploy_route(
        DynamicRoute.rate_limit(
            MINI, key="metadata.user_id", limit=2, interval=60, fallback=HAIKU, name="limited"
        )
    )
    options = {"metadata": {"user_id": "alice"}}
    results = [answered(litellm_mod, cf, "limited", gateway_options=options) for _ in range(3)]
    assert results == [MINI, MINI, HAIKU]


def test_a_model_timing_out_falls_back(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    gw.deploy_route(
        DynamicRoute.fallback_chain([f"{MINI}~delay=2000", HAIKU], name="slow", timeout_ms=150)
    )
    began = time.perf_counter()
    assert answered(litellm_mod, cf, "slow") == HAIKU
    assert time.perf_counter() - began < 1.5
    assert sorted((r["provider"], r["success"]) for r in gw.logs()) == [
        ("anthropic", True),
        ("openai", False),
    ]


@pytest.mark.parametrize("endpoint", ["compat", "rest"])
def test_the_route_of_a_named_gateway_on_compat_and_rest(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any], endpoint: str
) -> None:
    gw.create_gateway("routes")
    gw.deploy_route(DynamicRoute.fallback_chain([f"{MINI}~status=503", HAIKU], name="fb"), "routes")
    assert answered(litellm_mod, cf, "fb", gateway_id="routes", endpoint=endpoint) == HAIKU
    assert len(gw.logs("routes")) == 2
