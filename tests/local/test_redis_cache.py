"""The Redis cache (``--cache-url redis://``) against a real redis-server on loopback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.local import LocalGateway

from .helpers import chat_body, compat

REDIS = shutil.which("redis-server")


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    if REDIS is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(200):  # up to 10 s for the server to accept connections
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start")
        yield url
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


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
