"""One contract for every shared state (`memory://` and `redis://`), as two workers see it.

Each test gets two handles on one state: for `memory://` the same object twice (one
process), for `redis://` two `RedisSharedState`s on one redis-server (two workers).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis

from langchain_cf_gateway.core.dynamic_routes import DynamicRoute
from langchain_cf_gateway.local.clock import Clock
from langchain_cf_gateway.local.gateways import GatewayExists
from langchain_cf_gateway.local.route_store import RouteLookupError, RouteNameTaken
from langchain_cf_gateway.local.scripts import make_script
from langchain_cf_gateway.local.shared_state import SharedState, open_shared_state

MINI = "openai/gpt-4o-mini"
CHAIN = DynamicRoute.fallback_chain([MINI, "anthropic/claude-3-5-haiku-latest"], name="support")
SPLIT = DynamicRoute.fallback_chain([MINI], name="support")
T0 = 1_700_000_000.0

Pair = tuple[SharedState, SharedState, Clock]


@pytest.fixture(params=["memory", "redis"])
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    clock = Clock(lambda: T0)
    gateways = {"default": {}, "limited": {"rate_limiting_limit": 5, "rate_limiting_interval": 60}}
    if request.param == "memory":
        state = open_shared_state(None, clock, gateways)
        await state.start(())
        yield state, state, clock
        return
    url: str = request.getfixturevalue("redis_url")
    flush = redis.Redis.from_url(url)
    flush.flushdb()
    flush.close()
    one = open_shared_state(url, clock, gateways)
    two = open_shared_state(url, clock, gateways)
    await one.start(())
    await two.start(())
    yield one, two, clock
    await one.close()
    await two.close()


async def _admitted(states: list[SharedState], gateway_id: str, n: int, now: float) -> int:
    gateways = [await s.gateway(gateway_id) for s in states]

    async def one(i: int) -> bool:
        state, gateway = states[i % len(states)], gateways[i % len(states)]
        assert gateway is not None
        return await state.admit(gateway, now)

    return sum(await asyncio.gather(*(one(i) for i in range(n))))


@pytest.mark.parametrize("technique", ["fixed", "sliding"])
async def test_a_limit_of_l_admits_exactly_l_across_both(pair: Pair, technique: str) -> None:
    one, two, _ = pair
    await one.replace_gateway(
        "limited",
        {
            "rate_limiting_limit": 7,
            "rate_limiting_interval": 60,
            "rate_limiting_technique": technique,
        },
    )
    assert await _admitted([one, two], "limited", 40, T0 + 1) == 7
    assert await _admitted([one, two], "limited", 5, T0 + 30) == 0  # same window, still full


async def test_fixed_windows_are_aligned_to_the_interval(pair: Pair) -> None:
    one, two, _ = pair
    start = 1_700_000_040.0  # a multiple of 60
    assert await _admitted([one, two], "limited", 8, start + 59) == 5
    assert await _admitted([one, two], "limited", 8, start + 60) == 5  # a new window


async def test_sliding_windows_count_the_last_interval(pair: Pair) -> None:
    one, two, _ = pair
    settings = {"rate_limiting_limit": 2, "rate_limiting_interval": 10}
    await one.replace_gateway("limited", {**settings, "rate_limiting_technique": "sliding"})
    assert await _admitted([one], "limited", 1, T0) == 1
    assert await _admitted([two], "limited", 1, T0 + 6) == 1
    assert await _admitted([one, two], "limited", 3, T0 + 9) == 0
    assert await _admitted([one, two], "limited", 3, T0 + 10) == 1  # the first one left
    assert await _admitted([one, two], "limited", 3, T0 + 16) == 1  # the second one left


async def test_no_limit_admits_everything(pair: Pair) -> None:
    one, two, _ = pair
    assert await _admitted([one, two], "default", 50, T0) == 50


async def test_a_gateway_made_by_one_is_seen_by_the_other(pair: Pair) -> None:
    one, two, _ = pair
    created = await one.create_gateway("team-a", {"cache_ttl": 60})
    seen = await two.gateway("team-a")
    assert seen is not None and seen.as_dict() == created.as_dict()
    with pytest.raises(GatewayExists, match="a gateway 'team-a' already exists"):
        await two.create_gateway("team-a", {})
    updated = await two.replace_gateway("team-a", {"collect_logs": False})
    assert updated is not None and updated.cache_ttl == 0  # a PUT replaces the whole gateway
    seen = await one.gateway("team-a")
    assert seen is not None and (seen.collect_logs, seen.cache_ttl) == (False, 0)
    assert [g.id for g in await one.gateways()] == ["default", "limited", "team-a"]
    deleted = await two.delete_gateway("team-a")
    assert deleted is not None and deleted.id == "team-a"
    assert await one.gateway("team-a") is None
    assert await one.delete_gateway("team-a") is None
    assert await one.replace_gateway("team-a", {}) is None


async def test_an_update_with_invalidation_moves_the_cache_generation(pair: Pair) -> None:
    one, two, _ = pair
    before = await one.gateway("default")
    assert before is not None
    generation = before.cache_generation
    await one.replace_gateway("default", {"cache_invalidate_on_update": True})
    after = await two.gateway("default")
    assert after is not None and after.cache_generation == generation + 1


async def test_bad_settings_are_refused_alike(pair: Pair) -> None:
    one, _, _ = pair
    with pytest.raises(ValueError, match="rate_limiting_limit"):
        await one.create_gateway("bad", {"rate_limiting_limit": -1})
    with pytest.raises(ValueError, match="gateway id"):
        await one.create_gateway("Not An Id", {})


async def test_routes_deployed_by_one_are_served_by_the_other(pair: Pair) -> None:
    one, two, _ = pair
    stored = await one.routes.create("default", CHAIN)
    assert await two.routes.active("default", "support") == CHAIN
    with pytest.raises(RouteNameTaken):
        await two.routes.create("default", CHAIN)
    with_split = await two.routes.add_version("default", stored.id, SPLIT, "smaller")
    assert await one.routes.active("default", "support") == CHAIN  # saved, not deployed
    version = with_split.versions[-1].version_id
    await one.routes.deploy_version("default", stored.id, version, "go")
    assert await two.routes.active("default", "support") == SPLIT
    got = await two.routes.get("default", stored.id)
    assert [v.comment for v in got.versions] == [None, "smaller"]
    assert [d.comment for d in got.deployments] == [None, "go"]
    renamed = await two.routes.rename("default", stored.id, "help")
    assert renamed.name == "help" and await one.routes.active("default", "support") is None
    assert [r.name for r in await one.routes.routes_of("default")] == ["help"]
    await one.routes.delete("default", stored.id)
    with pytest.raises(RouteLookupError):
        await two.routes.get("default", stored.id)
    await one.routes.deploy("other", CHAIN)
    await two.routes.delete_gateway("other")
    assert await one.routes.routes_of("other") == []


async def test_a_script_of_times_3_serves_exactly_3_attempts_across_both(pair: Pair) -> None:
    one, two, _ = pair
    await one.scripts.add(make_script("hi", fault="status=503", model="gpt-4o-mini", times=3))
    await one.scripts.add(make_script("other model", model="gpt-4o"))

    async def take(i: int) -> Any:
        return await (one, two)[i % 2].scripts.take("openai", "gpt-4o-mini")

    taken = [s for s in await asyncio.gather(*(take(i) for i in range(20))) if s is not None]
    assert len(taken) == 3
    assert {(s.text, s.fault.status if s.fault else None) for s in taken} == {("hi", 503)}
    assert [s.text for s in await two.scripts.pending()] == ["other model"]
    assert (await one.scripts.take("openai", "gpt-4o")) is not None
    assert await two.scripts.pending() == []


async def test_a_policy_script_is_taken_only_as_a_policy(pair: Pair) -> None:
    one, two, _ = pair
    await one.scripts.add(make_script(fault="policy=deny", provider="openai", times=None))
    assert await two.scripts.take("anthropic", "claude", policy=True) is None
    taken = await two.scripts.take("openai", "gpt-4o-mini", policy=True)
    assert taken is not None and taken.fault is not None and taken.fault.policy == "deny"
    await one.scripts.clear()
    await two.scripts.add(make_script("plain"))
    assert await one.scripts.take("openai", "m", policy=True) is None  # the first match is none
    assert [s.used for s in await one.scripts.pending()] == [0]


async def test_reset_restores_default_and_forgets_the_rest(pair: Pair) -> None:
    one, two, _ = pair
    await one.replace_gateway("default", {"cache_ttl": 99})
    await one.routes.deploy("default", CHAIN)
    await one.scripts.add(make_script("x"))
    assert await _admitted([one], "limited", 9, T0) == 5
    await two.reset()
    default = await one.gateway("default")
    assert default is not None and default.cache_ttl == 0
    assert await one.gateway("limited") is not None  # other gateways are kept
    assert await one.routes.active("default", "support") is None
    assert await one.scripts.pending() == []
    assert await _admitted([one, two], "limited", 9, T0) == 5  # counters start afresh


async def test_start_deploys_each_route_once(pair: Pair) -> None:
    one, two, _ = pair
    await one.start((("default", CHAIN),))
    await two.start((("default", CHAIN),))
    [stored] = await one.routes.routes_of("default")
    assert len(stored.versions) == 1 and await two.routes.active("default", "support") == CHAIN


def test_an_unknown_scheme_names_the_flag() -> None:
    with pytest.raises(ValueError, match="--state-url must be memory:// or redis://"):
        open_shared_state("postgresql://x/y", Clock())


def test_an_unreachable_redis_names_the_url_and_the_flag() -> None:
    from langchain_cf_gateway.core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"redis://127\.0\.0\.1:1/0 \(--state-url\)"):
        open_shared_state("redis://127.0.0.1:1/0", Clock())
