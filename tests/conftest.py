"""Shared test set-up.

Every test runs with a clean environment: no Cloudflare variables from the developer's
shell, a temporary HOME (so no ~/.config/cf-aig/config.json is read), and LiteLLM's
bundled price map. Real credentials, when present at start-up, are kept aside for the
tests marked ``live`` (see the ``live_config`` fixture) and for nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from langchain_cf_gateway.core import GatewayConfig
from tests.support.live import GATEWAY_ENV, LIVE_SKIP_REASON, live_credentials
from tests.support.redis_server import RedisMissing, start_redis

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture(autouse=True)
def _clean_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    for name in GATEWAY_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    yield


@pytest.fixture
def live_config() -> GatewayConfig:
    config = live_credentials()
    if config is None:
        pytest.skip(LIVE_SKIP_REASON)
    return config


# --------------------------------------------------------------------------- local gateway
# Started on first use only: tests that need no server never import starlette or uvicorn.

from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:
    from langchain_cf_gateway.local import LocalGateway


@pytest.fixture(scope="session")
def local_gateway() -> Iterator[LocalGateway]:
    """One local gateway for the whole session, on a free loopback port."""
    from langchain_cf_gateway.local import LocalGateway

    with LocalGateway() as gw:
        yield gw


@pytest.fixture
def gateway(local_gateway: LocalGateway) -> LocalGateway:
    """The session's local gateway, reset: no requests, scripts, cache entries or log rows."""
    local_gateway.reset()
    return local_gateway


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A redis-server of its own on a free loopback port, for one test module."""
    try:
        with start_redis() as url:
            yield url
    except RedisMissing as exc:
        pytest.skip(f"{exc}; .ci/run installs it")


@pytest.fixture
def shared_url(redis_url: str) -> str:
    """The module's redis-server, emptied (`FLUSHDB`) for this test."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    return redis_url
