"""The Redis cache (``--cache-url redis://``) against a real redis-server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.local import LocalGateway
from tests.support.local_calls import chat_body, compat


@pytest.fixture(scope="module")
def redis_gateway(redis_url: str) -> Iterator[LocalGateway]:
    with LocalGateway(cache_url=redis_url) as gw:
        yield gw


def test_miss_then_hit_through_redis(redis_gateway: LocalGateway, redis_url: str) -> None:
    redis_gateway.reset()
    headers = {Header.CACHE_TTL: "60"}
    first, second = compat(redis_gateway, headers=headers), compat(redis_gateway, headers=headers)
    assert (first.headers[Header.CACHE_STATUS], second.headers[Header.CACHE_STATUS]) == (
        "MISS",
        "HIT",
    )
    assert second.content == first.content
    client = redis.Redis.from_url(redis_url)
    [key] = client.keys("cf-aig:cache:*")
    assert 0 < client.ttl(key) <= 60  # Redis expires entries itself too
    client.close()
    assert [r["cached"] for r in redis_gateway.logs()] == [False, True]


def test_ttl_follows_the_injected_clock_with_redis(redis_gateway: LocalGateway) -> None:
    redis_gateway.reset()
    headers = {Header.CACHE_TTL: "60"}
    assert compat(redis_gateway, headers=headers).headers[Header.CACHE_STATUS] == "MISS"
    redis_gateway.clock.advance(61)
    assert compat(redis_gateway, headers=headers).headers[Header.CACHE_STATUS] == "MISS"


def test_reset_clears_redis_and_provider_keys_stay_apart(
    redis_gateway: LocalGateway, redis_url: str
) -> None:
    redis_gateway.reset()
    for key in ("sk-a", "sk-b"):
        headers = {Header.CACHE_TTL: "60", "authorization": f"Bearer {key}"}
        assert compat(redis_gateway, chat_body(), headers).headers[Header.CACHE_STATUS] == "MISS"
    client = redis.Redis.from_url(redis_url)
    assert len(client.keys("cf-aig:cache:*")) == 2
    redis_gateway.reset()
    assert client.keys("cf-aig:cache:*") == []
    client.close()
