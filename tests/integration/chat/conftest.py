"""Fixtures of the chat model and embeddings tests.

``gateway`` (from tests/conftest.py) is the local gateway, reset before each test.
``gateway_env`` points the environment at it, the way a user's shell would point at
Cloudflare, so models built with nothing but ``model=`` reach it: that is how the
``langchain-tests`` standard suites build their models. With live credentials
(``CLOUDFLARE_ACCOUNT_ID`` and a token at start-up) ``live_env`` points at the real
gateway instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from langchain_cf_gateway.core import GatewayConfig
from tests.support.live import live_credentials

LIVE: GatewayConfig | None = live_credentials()
"""The real gateway, when the developer's or CI's credentials are set."""

MOCK_REASON = (
    "judges a real model's response; the local gateway's mock model responds deterministically "
    "(runs for real when CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_AI_GATEWAY_TOKEN are set)"
)

mock_only_xfail = pytest.mark.xfail(LIVE is None, reason=MOCK_REASON, strict=False)
"""Mark a test that needs a real model: expected to fail on the mock, run for real live."""


def point_env_at(monkeypatch: pytest.MonkeyPatch, config: GatewayConfig) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", config.account_id)
    monkeypatch.setenv("CLOUDFLARE_GATEWAY_ID", config.gateway_id)
    if config.token is not None:
        monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_TOKEN", config.token.get_secret_value())
    if config.base_url is not None:
        monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_BASE_URL", config.base_url)


@pytest.fixture
def gateway_env(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The environment of a user of the local gateway (or of the live one, if set)."""
    if LIVE is not None:
        point_env_at(monkeypatch, LIVE)
        yield None
        return
    gw = request.getfixturevalue("gateway")
    point_env_at(monkeypatch, gw.config())
    yield gw
