"""Issue 11, smaller item: a Redis that accepts connections and never answers.

It costs one timeout; then the cache is bypassed for a back-off period (a circuit
breaker) with one warning, and requests go on as cache misses. Measured by the number of
connections the silent Redis saw, not by timing.
"""

from __future__ import annotations

import logging

import httpx
import pytest

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.local import LocalGateway

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
