"""Dynamic routes end to end, offline: a route built with `DynamicRoute`, deployed on the
local gateway, called through `ChatCloudflareGateway(model="dynamic/<name>")`, the model
that answered read from `response_metadata["gateway"]` per request.

https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from typing import Any

import pytest

from langchain_cf_gateway import ChatCloudflareGateway, DynamicRoute
from langchain_cf_gateway.local import LocalGateway

MINI, HAIKU = "openai/gpt-4o-mini", "anthropic/claude-3-5-haiku"


def chat(gw: LocalGateway, name: str, **kwargs: Any) -> ChatCloudflareGateway:
    params: dict[str, Any] = {
        "model": f"dynamic/{name}",
        "base_url": gw.base_url,
        "account_id": gw.account_id,
        "gateway_id": gw.gateway_id,
        "gateway_token": gw.token,
        "max_retries": 0,
    }
    params.update(kwargs)
    return ChatCloudflareGateway(**params)


def answered(info: dict[str, Any]) -> str:
    return f"{info['provider']}/{info['model']}"


def within_binomial(count: int, n: int, p: float, sigmas: float = 4.0) -> bool:
    return abs(count - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


def test_an_80_20_split_over_1000_calls_is_within_4_sigma(gateway: LocalGateway) -> None:
    gateway.deploy_route(DynamicRoute.split({MINI: 80, HAIKU: 20}, name="ab"))
    model = chat(gateway, "ab")
    began = time.perf_counter()
    counts = Counter(answered(model.invoke("hi").response_metadata["gateway"]) for _ in range(1000))
    elapsed = time.perf_counter() - began
    assert set(counts) == {MINI, HAIKU}
    assert within_binomial(counts[MINI], 1000, 0.8), counts
    assert elapsed < 60, f"1,000 calls took {elapsed:.1f} s"
    print(f"\n[1,000 dynamic-route calls through ChatCloudflareGateway: {elapsed:.2f} s]")


def test_a_conditional_on_metadata_plan(gateway: LocalGateway) -> None:
    gateway.deploy_route(
        DynamicRoute.conditional(
            {"metadata.plan": {"$eq": "paid"}}, then=MINI, otherwise=HAIKU, name="plans"
        )
    )
    model = chat(gateway, "plans")
    for plan, expected in (("paid", MINI), ("free", HAIKU), ("paid", MINI)):
        message = model.invoke("hi", gateway_options={"metadata": {"plan": plan}})
        assert answered(message.response_metadata["gateway"]) == expected
    assert answered(model.invoke("hi").response_metadata["gateway"]) == HAIKU


def test_a_rate_limit_falls_back_per_user(gateway: LocalGateway) -> None:
    gateway.deploy_route(
        DynamicRoute.rate_limit(
            MINI, key="metadata.user_id", limit=2, interval=60, fallback=HAIKU, name="limited"
        )
    )
    model = chat(gateway, "limited")

    def who(user: str) -> str:
        message = model.invoke("hi", gateway_options={"metadata": {"user_id": user}})
        return answered(message.response_metadata["gateway"])

    assert [who("alice") for _ in range(3)] == [MINI, MINI, HAIKU]
    assert who("bob") == MINI
    gateway.clock.advance(60)
    assert who("alice") == MINI


def test_a_model_timing_out_falls_back(gateway: LocalGateway) -> None:
    gateway.deploy_route(
        DynamicRoute.fallback_chain([f"{MINI}~delay=2000", HAIKU], name="slow", timeout_ms=150)
    )
    model = chat(gateway, "slow")
    began = time.perf_counter()
    message = model.invoke("hi")
    assert time.perf_counter() - began < 1.5
    info = message.response_metadata["gateway"]
    assert answered(info) == HAIKU
    rows = {row["id"]: row for row in gateway.logs()}
    assert rows[info["log_id"]]["provider"] == "anthropic"
    assert sorted((r["provider"], r["success"]) for r in rows.values()) == [
        ("anthropic", True),
        ("openai", False),
    ]


def test_stream_and_async_say_which_model_answered(gateway: LocalGateway) -> None:
    gateway.deploy_route(DynamicRoute.fallback_chain([f"{MINI}~status=503", HAIKU], name="s"))
    model = chat(gateway, "s")
    streamed = [
        c.response_metadata["gateway"]
        for c in model.stream("hi")
        if "gateway" in c.response_metadata
    ]
    assert [answered(info) for info in streamed] == [HAIKU]
    awaited = asyncio.run(model.ainvoke("hi"))
    assert answered(awaited.response_metadata["gateway"]) == HAIKU


@pytest.mark.parametrize("endpoint", ["compat", "rest"])
def test_the_route_of_a_named_gateway_on_compat_and_rest(
    gateway: LocalGateway, endpoint: str
) -> None:
    gateway.create_gateway("routes")
    gateway.deploy_route(
        DynamicRoute.conditional({"metadata.plan": "paid"}, then=MINI, otherwise=HAIKU, name="p"),
        "routes",
    )
    model = chat(gateway, "p", gateway_id="routes", endpoint=endpoint)
    paid = model.invoke("hi", gateway_options={"metadata": {"plan": "paid"}})
    free = model.invoke("hi", gateway_options={"metadata": {"plan": "free"}})
    assert answered(paid.response_metadata["gateway"]) == MINI
    assert answered(free.response_metadata["gateway"]) == HAIKU
    path = "ai/v1/chat/completions" if endpoint == "rest" else "compat/chat/completions"
    assert {row["path"] for row in gateway.logs("routes")} == {path}
