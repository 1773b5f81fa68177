"""A Router deployment's `gateway_options` merged with the call's, and LiteLLM's own
cache controls (`cache={...}`) sent as the gateway's cache headers, seen on the wire."""

from __future__ import annotations

import json
from typing import Any

import pytest

from langchain_cf_gateway.litellm_provider import PROVIDER
from langchain_cf_gateway.local import LocalGateway

MINI = f"{PROVIDER}/openai/gpt-4o-mini"
HELLO = [{"role": "user", "content": "hello"}]


def _router(litellm_mod: Any, cf: dict[str, Any], options: dict[str, Any]) -> Any:
    """A Router whose deployment keeps its defaults in `model_info["gateway_options"]`."""
    return litellm_mod.Router(
        model_list=[
            {
                "model_name": "chat",
                "litellm_params": {"model": MINI, **cf},
                "model_info": {"gateway_options": options},
            }
        ],
        num_retries=0,
    )


def test_router_call_options_merge_with_the_deployments(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    router = _router(litellm_mod, cf, {"metadata": {"team": "a"}, "cache_ttl": 600})
    router.completion(model="chat", messages=HELLO, gateway_options={"event_id": "e1"})
    headers = gw.received[-1].headers
    assert json.loads(headers["cf-aig-metadata"]) == {"team": "a"}
    assert headers["cf-aig-event-id"] == "e1"
    assert headers["cf-aig-cache-ttl"] == "600"


async def test_router_call_fields_win_and_metadata_merges_key_by_key(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    router = _router(litellm_mod, cf, {"metadata": {"team": "a", "tier": "x"}, "cache_ttl": 600})
    await router.acompletion(
        model="chat",
        messages=HELLO,
        gateway_options={"metadata": {"tier": "y"}, "cache_ttl": 60},
    )
    headers = gw.received[-1].headers
    assert json.loads(headers["cf-aig-metadata"]) == {"team": "a", "tier": "y"}
    assert headers["cf-aig-cache-ttl"] == "60"


def test_router_deployment_options_alone_and_a_call_without_any(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    router = _router(litellm_mod, cf, {"metadata": {"team": "a"}})
    router.completion(model="chat", messages=HELLO)
    assert json.loads(gw.received[-1].headers["cf-aig-metadata"]) == {"team": "a"}
    litellm_mod.completion(model=MINI, messages=HELLO, **cf)
    assert "cf-aig-metadata" not in gw.received[-1].headers


def test_router_embedding_merges_options_too(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    router = litellm_mod.Router(
        model_list=[
            {
                "model_name": "emb",
                "litellm_params": {"model": f"{PROVIDER}/openai/text-embedding-3-small", **cf},
                "model_info": {"gateway_options": {"metadata": {"team": "a"}}},
            }
        ],
        num_retries=0,
    )
    router.embedding(model="emb", input=["hi"], gateway_options={"event_id": "e2"})
    headers = gw.received[-1].headers
    assert json.loads(headers["cf-aig-metadata"]) == {"team": "a"}
    assert headers["cf-aig-event-id"] == "e2"


@pytest.mark.xfail(
    strict=True,
    reason="the Router sends {**deployment litellm_params, **call kwargs}: the handler "
    "never sees the deployment's litellm_params['gateway_options'] once the call sets its own",
)
def test_router_litellm_params_options_are_replaced_by_the_calls(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    router = litellm_mod.Router(
        model_list=[
            {
                "model_name": "chat",
                "litellm_params": {
                    "model": MINI,
                    **cf,
                    "gateway_options": {"metadata": {"team": "a"}},
                },
            }
        ],
        num_retries=0,
    )
    router.completion(model="chat", messages=HELLO, gateway_options={"event_id": "e1"})
    assert "cf-aig-metadata" in gw.received[-1].headers


def test_router_litellm_params_options_alone_still_reach_the_gateway(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    router = litellm_mod.Router(
        model_list=[
            {
                "model_name": "chat",
                "litellm_params": {
                    "model": MINI,
                    **cf,
                    "gateway_options": {"metadata": {"team": "a"}},
                },
            }
        ],
        num_retries=0,
    )
    router.completion(model="chat", messages=HELLO)
    assert json.loads(gw.received[-1].headers["cf-aig-metadata"]) == {"team": "a"}
