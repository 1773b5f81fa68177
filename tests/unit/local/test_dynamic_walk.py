"""The walk of a route's elements with a fake clock and fake model calls.

https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/json-configuration/
"""

from __future__ import annotations

import asyncio
import gc

from langchain_cf_gateway import DynamicRoute
from langchain_cf_gateway.core.dynamic_routes import ModelElement
from langchain_cf_gateway.local.dynamic_exec import ModelStep, RouteRequest, RouteWalker, Walk

MINI, HAIKU = "openai/gpt-4o-mini", "anthropic/claude-3-5-haiku"


class FakeModels:
    """Model calls that fail for the models named in `failing`; each response costs `cost`."""

    def __init__(self, failing: frozenset[str] = frozenset(), cost: float = 0.0) -> None:
        self.failing, self.cost = failing, cost
        self.called: list[str] = []

    async def __call__(self, element: ModelElement) -> ModelStep:
        name = f"{element.provider}/{element.model}"
        self.called.append(name)
        ok = name not in self.failing
        return ModelStep(name, ok, self.cost if ok else 0.0)


def walk(
    walker: RouteWalker,
    route: DynamicRoute,
    models: FakeModels,
    metadata: dict[str, object] | None = None,
    now: float = 0.0,
) -> Walk:
    request = RouteRequest(metadata or {}, {"messages": []}, {})
    return asyncio.run(walker.walk(route, "gw", request, models, lambda: now))


def test_a_fallback_chain_calls_each_model_until_one_responds() -> None:
    route = DynamicRoute.fallback_chain([MINI, HAIKU, "groq/llama"], name="r")
    models = FakeModels(frozenset({MINI}))
    result = walk(RouteWalker(), route, models)
    assert models.called == [MINI, HAIKU]
    assert [s.ok for s in result.steps] == [False, True]
    assert result.visited[0] == "start" and result.visited[-1] == "end"
    assert result.over_limit is None


def test_every_model_failing_ends_with_the_last_error() -> None:
    route = DynamicRoute.fallback_chain([MINI, HAIKU], name="r")
    result = walk(RouteWalker(), route, FakeModels(frozenset({MINI, HAIKU})))
    assert [s.attempt for s in result.steps] == [MINI, HAIKU]
    assert not result.steps[-1].ok


def test_a_conditional_picks_its_branch() -> None:
    route = DynamicRoute.conditional(
        {"metadata.plan": "paid"}, then=MINI, otherwise=HAIKU, name="r"
    )
    walker = RouteWalker()
    assert walk(walker, route, FakeModels(), {"plan": "paid"}).steps[0].attempt == MINI
    assert walk(walker, route, FakeModels(), {"plan": "free"}).steps[0].attempt == HAIKU


def test_a_limiter_over_its_limit_takes_its_fallback_and_says_so_without_one() -> None:
    with_fallback = DynamicRoute.rate_limit(
        MINI, key="metadata.user", limit=1, interval=60, fallback=HAIKU, name="r"
    )
    walker = RouteWalker()
    assert walk(walker, with_fallback, FakeModels(), {"user": "a"}).steps[0].attempt == MINI
    over = walk(walker, with_fallback, FakeModels(), {"user": "a"})
    assert over.steps[0].attempt == HAIKU and over.over_limit is None
    bare = DynamicRoute.rate_limit(MINI, key="metadata.user", limit=1, interval=60, name="b")
    walk(walker, bare, FakeModels(), {"user": "a"})
    ended = walk(walker, bare, FakeModels(), {"user": "a"})
    assert ended.steps == [] and ended.over_limit is not None
    assert ended.over_limit.id == "limit"


def test_a_cost_limiter_counts_only_responses_that_succeeded() -> None:
    route = DynamicRoute.rate_limit(
        MINI,
        key="metadata.team",
        limit=1.0,
        interval=60,
        limit_type="cost",
        fallback=HAIKU,
        name="r",
    )
    walker = RouteWalker()
    failing = FakeModels(frozenset({MINI}), cost=0.6)
    for _ in range(3):  # failed responses cost nothing
        assert walk(walker, route, failing, {"team": "t"}).steps[0].attempt == MINI
    paying = FakeModels(cost=0.6)
    assert [walk(walker, route, paying, {"team": "t"}).steps[0].attempt for _ in range(3)] == [
        MINI,
        MINI,
        HAIKU,
    ]
    assert walk(walker, route, paying, {"team": "t"}, now=60.0).steps[0].attempt == MINI


def test_a_route_no_longer_deployed_drops_its_counters() -> None:
    walker = RouteWalker()
    route = DynamicRoute.rate_limit(MINI, key="metadata.user", limit=1, interval=60, name="r")
    walk(walker, route, FakeModels())
    assert walker.counters._windows
    del route
    gc.collect()
    assert not walker.counters._windows
