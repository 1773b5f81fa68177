"""The JSON of the Redis shared state gives back the records it was made of."""

from __future__ import annotations

import json

from langchain_cf_gateway.core.dynamic_routes import DynamicRoute
from langchain_cf_gateway.local.clock import Clock
from langchain_cf_gateway.local.gateways import new_gateway
from langchain_cf_gateway.local.route_store import RouteStore
from langchain_cf_gateway.local.scripts import make_script
from langchain_cf_gateway.local.shared_state.codec import (
    dump_gateway,
    dump_routes,
    dump_script,
    load_gateway,
    load_routes,
    load_script,
)

CHAIN = DynamicRoute.fallback_chain(["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku"], name="r")
SPLIT = DynamicRoute.split({"openai/gpt-4o-mini": 80, "anthropic/claude-3-5-haiku": 20}, name="r")


def test_a_gateway_comes_back_whole_with_its_order() -> None:
    settings = {
        "rate_limiting_limit": 3,
        "rate_limiting_interval": 60,
        "rate_limiting_technique": "sliding",
        "guardrails": None,
        "otel": [],
    }
    record = new_gateway(Clock(), "team-a", settings)
    record.cache_generation = 4
    loaded, order = load_gateway(dump_gateway(record, 7))
    assert loaded.as_dict() == record.as_dict() and order == 7
    assert loaded.cache_generation == 4


def test_routes_come_back_with_every_version_and_deployment() -> None:
    store = RouteStore(Clock())
    stored = store.create("default", CHAIN)
    stored = store.add_version("default", stored.id, SPLIT, "80/20")
    stored = store.deploy_version("default", stored.id, stored.versions[-1].version_id, "go")
    [loaded] = load_routes(dump_routes([stored]))
    assert loaded == stored and loaded.serving() == SPLIT


def test_a_script_comes_back_with_its_fault_and_tool_calls() -> None:
    script = make_script(
        "hi",
        tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}],
        fault="status=503~delay=5~attempts=1",
        model="gpt-4o-mini",
        times=3,
    )
    raw = dump_script(script, "abc")
    assert json.loads(raw)["id"] == "abc" and json.loads(raw)["policy"] is None
    loaded = load_script(raw, used=2)
    assert loaded.as_dict() == {**script.as_dict(), "used": 2}


def test_a_policy_script_says_its_policy_at_the_top() -> None:
    raw = dump_script(make_script(fault="policy=spend", times=None), "p")
    assert json.loads(raw)["policy"] == "spend" and load_script(raw).times is None
