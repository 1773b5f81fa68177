"""Issue 11, smaller item: a Redis that accepts connections and never answers.

It costs one timeout; then the cache is bypassed for a back-off period (a circuit
breaker) with one warning, and requests go on as cache misses. Measured by the number of
connections the silent Redis saw, not by timing.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.local import LocalGateway
from langchain_cf_gateway.local.cache import RedisCache
from langchain_cf_gateway.local.clock import Clock

from .creds_helpers import SilentRedis

HELLO = [{"role": "user", "content": "Hello there"}]
http = httpx.Client(timeout=30)


def test_silent_redis_costs_one_timeout_then_the_cache_is_bypassed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    with SilentRedis() as fake, LocalGateway(cache_url=fake.url) as gw:
        answers = [
            http.post(
                f"{gw.gateway_url}/compat/chat/completions",
                json={"model": "openai/gpt-4o-mini", "messages": HELLO},
                headers={Header.CACHE_TTL: "60"},
            )
            for _ in range(3)
        ]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert [a.headers[Header.CACHE_STATUS] for a in answers] == ["MISS"] * 3
        assert fake.connections == 1  # one timeout, then no more attempts during the back-off
    warned = [r.getMessage() for r in caplog.records if "Redis" in r.getMessage()]
    assert len(warned) == 1, warned
    assert "hunter2" not in caplog.text


def test_breaker_tries_redis_again_after_the_back_off(caplog: pytest.LogCaptureFixture) -> None:
    """The breaker's clock is injected: the back-off passes without waiting for it."""
    from langchain_cf_gateway.local.cache import REDIS_BACKOFF_S  # absent before the breaker

    caplog.set_level(logging.WARNING)
    now = [1000.0]
    with SilentRedis() as fake:
        cache = RedisCache(fake.url, Clock(), monotonic=lambda: now[0])

        async def calls() -> list[int]:
            seen = []
            for advance in (0.0, 1.0, REDIS_BACKOFF_S - 2, 2.0, 1.0):
                now[0] += advance
                assert await cache.get("k") is None
                seen.append(fake.connections)
            await cache.close()
            return seen

        # one timeout; skipped during the back-off; tried once when it is over; skipped again
        assert asyncio.run(calls()) == [1, 1, 1, 2, 2]
    warned = [r.getMessage() for r in caplog.records if "Redis" in r.getMessage()]
    assert len(warned) == 1, warned  # one warning per outage, not per attempt
    assert "hunter2" not in caplog.text


def test_after_the_back_off_one_probe_goes_to_redis_not_every_request() -> None:
    from langchain_cf_gateway.local.cache import REDIS_BACKOFF_S  # absent before the breaker

    now = [1000.0]
    with SilentRedis() as fake:
        cache = RedisCache(fake.url, Clock(), monotonic=lambda: now[0])

        async def calls() -> int:
            assert await cache.get("k") is None  # the first timeout opens the breaker
            now[0] += REDIS_BACKOFF_S + 1
            # many concurrent requests when the back-off is over: one probe, one connection
            results = await asyncio.gather(*(cache.get(f"k{i}") for i in range(8)))
            assert results == [None] * 8
            await cache.close()
            return fake.connections

        assert asyncio.run(calls()) == 2
