"""The real LiteLLM proxy with `litellm_config/config.yaml`, pointed at the local gateway.

The proxy is a subprocess on a free loopback port (see `litellm_proxy_process`), with
a local gateway of its own; the conftest starts it at collection and stops it at the end
of the session. The official `openai` SDK is the client.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litellm_proxy_process import PROVIDER_KEY, WORKERS_AI_KEY, ProxyProcess


@pytest.fixture
def client(litellm_proxy: ProxyProcess) -> Iterator[Any]:
    from openai import OpenAI

    litellm_proxy.gateway.reset()
    with OpenAI(base_url=litellm_proxy.url, api_key=litellm_proxy.master_key, max_retries=0) as sdk:
        yield sdk


def test_proxy_responds_to_the_openai_sdk_with_the_gateway_cache_status(
    litellm_proxy: ProxyProcess, client: Any
) -> None:
    gw = litellm_proxy.gateway
    raws = [
        client.chat.completions.with_raw_response.create(
            model="cf-gpt-4o-mini", messages=[{"role": "user", "content": "hello proxy"}]
        )
        for _ in range(2)
    ]
    assert [r.headers["llm_provider-cf-aig-cache-status"] for r in raws] == ["MISS", "HIT"]
    assert [r.headers["llm_provider-cf-aig-log-id"] for r in raws] == [
        row["id"] for row in gw.logs()
    ]
    first, second = (r.parse() for r in raws)
    assert first.choices[0].message.content
    assert first.choices[0].message.content == second.choices[0].message.content

    request = gw.received[0]
    assert request.path == f"/v1/{gw.account_id}/{gw.gateway_id}/compat/chat/completions"
    assert request.headers["authorization"] == f"Bearer {PROVIDER_KEY}"
    assert request.headers["cf-aig-authorization"] == f"Bearer {gw.token}"
    assert request.headers["cf-aig-cache-ttl"] == "3600"
    assert request.headers["cf-aig-metadata"] == '{"app":"litellm-proxy"}'
    assert request.json == {
        "model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "hello proxy"}],
    }


def test_proxy_streams_a_workers_ai_model(litellm_proxy: ProxyProcess, client: Any) -> None:
    gw = litellm_proxy.gateway
    gw.script("Streamed through the proxy.")
    with client.chat.completions.with_streaming_response.create(
        model="cf-llama", messages=[{"role": "user", "content": "hi"}], stream=True
    ) as raw:
        text = "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)
        headers = raw.headers
    assert text == "Streamed through the proxy."
    # The stream's HTTP headers too: the stream wrapper shares the handler's stream's
    # headers, filled when the response begins, which the proxy reads before it responds.
    assert headers["llm_provider-cf-aig-log-id"] == gw.logs()[0]["id"]
    request = gw.received[0]
    assert request.json["model"] == "workers-ai/@cf/meta/llama-3.1-8b-instruct"
    assert request.headers["authorization"] == f"Bearer {WORKERS_AI_KEY}"


def test_proxy_embeddings(litellm_proxy: ProxyProcess, client: Any) -> None:
    gw = litellm_proxy.gateway
    raw = client.embeddings.with_raw_response.create(model="cf-embed", input=["alpha", "beta"])
    assert len(raw.parse().data) == 2
    assert raw.headers["llm_provider-cf-aig-log-id"] == gw.logs()[0]["id"]
    assert gw.received[0].path.endswith("/compat/embeddings")
    assert gw.received[0].json == {
        "model": "openai/text-embedding-3-small",
        "input": ["alpha", "beta"],
    }


def test_proxy_cf_support_is_answered_by_the_shipped_support_route(
    litellm_proxy: ProxyProcess, client: Any
) -> None:
    """`cf-support` (`dynamic/support`) against the local gateway with
    `litellm_config/routes/support.json` deployed: the first model answers, and when it
    fails (both attempts: `retries` is 1) the next in the chain does."""
    gw = litellm_proxy.gateway
    hello = [{"role": "user", "content": "I need help"}]

    def answered() -> str:
        raw = client.chat.completions.with_raw_response.create(model="cf-support", messages=hello)
        assert raw.parse().choices[0].message.content
        headers = raw.headers
        return f"{headers['llm_provider-cf-aig-provider']}/{headers['llm_provider-cf-aig-model']}"

    assert answered() == "openai/gpt-4o-mini"
    gw.script(fault="status=503", model="gpt-4o-mini", times=2)
    assert answered() == "anthropic/claude-3-5-haiku"
    gw.script(fault="status=503", provider="openai", times=2)
    gw.script(fault="status=503", provider="anthropic", times=2)
    assert answered() == "workers-ai/@cf/meta/llama-3.1-8b-instruct"
    assert gw.received[0].json["model"] == "dynamic/support"
