"""LiteLLM's own cache controls (`cache={...}`) reach the gateway as its cache headers,
unless the call's `gateway_options` set those fields: https://docs.litellm.ai/docs/proxy/caching
("Dynamic cache controls")."""

from __future__ import annotations

from typing import Any

import pytest

from langchain_cf_gateway.litellm_provider import PROVIDER
from langchain_cf_gateway.local import LocalGateway

MINI = f"{PROVIDER}/openai/gpt-4o-mini"
EMBED = f"{PROVIDER}/openai/text-embedding-3-small"
HELLO = [{"role": "user", "content": "hello"}]


@pytest.mark.parametrize(
    ("cache", "expected"),
    [
        ({"no-cache": True}, {"cf-aig-skip-cache": "true"}),
        # LiteLLM's no-store keeps a response out of its cache; the gateway has no
        # "do not store" header, so the request skips the gateway cache altogether.
        ({"no-store": True}, {"cf-aig-skip-cache": "true"}),
        ({"ttl": 600}, {"cf-aig-cache-ttl": "600"}),
        ({"s-maxage": 600}, {}),
        ({"no-cache": False, "ttl": 3600}, {"cf-aig-cache-ttl": "3600"}),
    ],
)
def test_litellm_cache_controls_become_gateway_headers(
    litellm_mod: Any,
    gw: LocalGateway,
    cf: dict[str, Any],
    cache: dict[str, Any],
    expected: dict[str, str],
) -> None:
    litellm_mod.completion(model=MINI, messages=HELLO, cache=cache, **cf)
    headers = gw.received[-1].headers
    sent = {k: v for k, v in headers.items() if k in ("cf-aig-skip-cache", "cf-aig-cache-ttl")}
    assert sent == expected


def test_explicit_gateway_options_win_over_litellm_cache_controls(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    litellm_mod.completion(
        model=MINI,
        messages=HELLO,
        cache={"no-cache": True, "ttl": 600},
        gateway_options={"skip_cache": False, "cache_ttl": 120},
        **cf,
    )
    headers = gw.received[-1].headers
    assert "cf-aig-skip-cache" not in headers
    assert headers["cf-aig-cache-ttl"] == "120"


async def test_async_stream_and_embeddings_send_the_cache_controls(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    await litellm_mod.acompletion(model=MINI, messages=HELLO, cache={"no-cache": True}, **cf)
    assert gw.received[-1].headers["cf-aig-skip-cache"] == "true"
    stream = await litellm_mod.acompletion(
        model=MINI, messages=HELLO, stream=True, cache={"ttl": 900}, **cf
    )
    _ = [c async for c in stream]
    assert gw.received[-1].headers["cf-aig-cache-ttl"] == "900"
    litellm_mod.embedding(model=EMBED, input=["hi"], cache={"no-cache": True}, **cf)
    assert gw.received[-1].headers["cf-aig-skip-cache"] == "true"


def test_router_calls_send_the_cache_controls(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    router = litellm_mod.Router(
        model_list=[{"model_name": "chat", "litellm_params": {"model": MINI, **cf}}],
        num_retries=0,
    )
    router.completion(model="chat", messages=HELLO, cache={"no-cache": True})
    assert gw.received[-1].headers["cf-aig-skip-cache"] == "true"
    gw.reset()
    litellm_mod.completion(model=MINI, messages=HELLO, **cf)
    assert "cf-aig-skip-cache" not in gw.received[-1].headers
