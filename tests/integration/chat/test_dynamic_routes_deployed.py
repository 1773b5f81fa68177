"""Dynamic routes deployed the way a user deploys them: built with `DynamicRoute`, sent
through the management API with `GatewayClient.deploy` to a live local gateway, then
called as `dynamic/<name>` through `ChatCloudflareGateway` and through LiteLLM, the model
that answered read per request (`response_metadata["gateway"]`, `gateway_info`).

https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/usage/
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from langchain_cf_gateway import ChatCloudflareGateway, DynamicRoute, GatewayClient
from langchain_cf_gateway.local import LocalGateway

MINI, HAIKU = "openai/gpt-4o-mini", "anthropic/claude-3-5-haiku"
CLIENTS = ["chat", "litellm"]

Call = Callable[..., str]
"""`call(name, metadata=None)`: the `provider/model` that answered `dynamic/<name>`."""


@pytest.fixture(scope="module")
def litellm_mod() -> Iterator[Any]:
    """LiteLLM with the provider registered, never downloading a tokenizer."""
    litellm = pytest.importorskip("litellm")
    # Import LiteLLM's MCP stack on the main thread once (see tests/integration/litellm).
    pytest.importorskip("litellm.responses.mcp.chat_completions_handler")

    from langchain_cf_gateway.litellm_provider import register

    before = litellm.disable_hf_tokenizer_download
    litellm.disable_hf_tokenizer_download = True
    register()
    yield litellm
    litellm.disable_hf_tokenizer_download = before


def deploy(gateway: LocalGateway, route: DynamicRoute) -> None:
    """`route` in service through the management API, as against Cloudflare."""
    with GatewayClient(gateway.config(), api_token=gateway.management_token) as client:
        deployed = client.deploy(route, comment="from the test")
        assert deployed.created
        assert [r.name for r in client.list_routes()] == [route.name]


def caller(kind: str, gateway: LocalGateway, request: pytest.FixtureRequest) -> Call:
    if kind == "chat":
        models: dict[str, ChatCloudflareGateway] = {}  # one per route, as an app keeps it

        def via_chat(name: str, metadata: dict[str, Any] | None = None) -> str:
            model = models.get(name) or models.setdefault(
                name,
                ChatCloudflareGateway(
                    model=f"dynamic/{name}",
                    base_url=gateway.base_url,
                    account_id=gateway.account_id,
                    gateway_id=gateway.gateway_id,
                    gateway_token=gateway.token,
                    max_retries=0,
                ),
            )
            options = {"metadata": metadata} if metadata else None
            info = model.invoke("hi", gateway_options=options).response_metadata["gateway"]
            return f"{info['provider']}/{info['model']}"

        return via_chat
    litellm = request.getfixturevalue("litellm_mod")
    from langchain_cf_gateway.litellm_provider import PROVIDER, gateway_info

    def via_litellm(name: str, metadata: dict[str, Any] | None = None) -> str:
        response = litellm.completion(
            model=f"{PROVIDER}/dynamic/{name}",
            messages=[{"role": "user", "content": "hi"}],
            num_retries=0,
            api_base=gateway.base_url,
            account_id=gateway.account_id,
            gateway_id=gateway.gateway_id,
            gateway_token=gateway.token,
            **({"gateway_options": {"metadata": metadata}} if metadata else {}),
        )
        info = gateway_info(response)
        assert info is not None
        return f"{info['provider']}/{info['model']}"

    return via_litellm


@pytest.fixture(params=CLIENTS)
def call(request: pytest.FixtureRequest, gateway: LocalGateway) -> Call:
    return caller(request.param, gateway, request)


def within_binomial(count: int, n: int, p: float, sigmas: float = 4.0) -> bool:
    return abs(count - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


def test_an_80_20_split_over_1000_calls(gateway: LocalGateway, call: Call) -> None:
    deploy(gateway, DynamicRoute.split({MINI: 80, HAIKU: 20}, name="ab"))
    began = time.perf_counter()
    counts = Counter(call("ab") for _ in range(1000))
    elapsed = time.perf_counter() - began
    assert set(counts) == {MINI, HAIKU}
    assert within_binomial(counts[MINI], 1000, 0.8), counts
    assert elapsed < 90, f"1,000 calls took {elapsed:.1f} s"
    print(f"\n[1,000 calls of a route deployed with GatewayClient.deploy: {elapsed:.2f} s]")


def test_a_conditional_on_metadata_plan(gateway: LocalGateway, call: Call) -> None:
    deploy(
        gateway,
        DynamicRoute.conditional(
            {"metadata.plan": {"$eq": "paid"}}, then=MINI, otherwise=HAIKU, name="plans"
        ),
    )
    answers = [call("plans", {"plan": plan}) for plan in ("paid", "free", "paid")]
    assert answers == [MINI, HAIKU, MINI]
    assert call("plans") == HAIKU


def test_a_rate_limit_element_falls_back(gateway: LocalGateway, call: Call) -> None:
    deploy(
        gateway,
        DynamicRoute.rate_limit(
            MINI, key="metadata.user_id", limit=2, interval=60, fallback=HAIKU, name="limited"
        ),
    )
    alice = {"user_id": "alice"}
    assert [call("limited", alice) for _ in range(3)] == [MINI, MINI, HAIKU]
    assert call("limited", {"user_id": "bob"}) == MINI
    gateway.clock.advance(60)
    assert call("limited", alice) == MINI


def test_a_model_element_timing_out_falls_back(gateway: LocalGateway, call: Call) -> None:
    deploy(
        gateway,
        DynamicRoute.fallback_chain([f"{MINI}~delay=2000", HAIKU], name="slow", timeout_ms=150),
    )
    began = time.perf_counter()
    assert call("slow") == HAIKU
    assert time.perf_counter() - began < 1.5
    rows = gateway.logs()
    assert sorted((r["provider"], r["success"]) for r in rows) == [
        ("anthropic", True),
        ("openai", False),
    ]
