"""Issue 11, item 3: a cache entry is never served to a request with another credential.

Every credential a request carries (a provider auth header of any name, a credential
query parameter such as Gemini's ``?key=``, the BYOK alias) is part of the cache key, as
a keyed digest; a custom ``cf-aig-cache-key`` entry is scoped to the credential and the
endpoint too. Checked through ``ChatCloudflareGateway`` as a user calls it, through raw
HTTP, and with the Redis store.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from langchain_cf_gateway import ChatCloudflareGateway
from langchain_cf_gateway.core import Header
from langchain_cf_gateway.local import LocalGateway, PassThrough

from .creds_helpers import RecordingUpstream

HELLO = [{"role": "user", "content": "Hello there"}]
http = httpx.Client(timeout=30)


@pytest.fixture(scope="module")
def gw(upstream: RecordingUpstream) -> Iterator[LocalGateway]:
    targets = {"google-ai-studio": PassThrough(base_url=upstream.base_url)}
    with LocalGateway(upstreams=targets) as gateway:
        yield gateway


def _keys() -> tuple[str, str, str]:
    tag = uuid.uuid4().hex[:10]
    return f"key-A-{tag}", f"key-B-{tag}", "invalid"


def _statuses(responses: list[httpx.Response]) -> list[str | None]:
    for r in responses:
        assert r.status_code == 200, r.text
    return [r.headers.get(Header.CACHE_STATUS) for r in responses]


@pytest.mark.parametrize(
    "model", ["anthropic/claude-3-5-haiku", "google-ai-studio/gemini-2.0-flash"]
)
def test_chat_model_never_shares_an_entry_between_provider_keys(
    gw: LocalGateway, model: str
) -> None:
    gw.reset()
    statuses = []
    a, b, invalid = _keys()
    for key in (a, b, invalid, a):
        chat = ChatCloudflareGateway(
            model=model,
            base_url=gw.base_url,
            account_id=gw.account_id,
            api_key=key,
            max_retries=0,
            gateway_options={"cache_ttl": 300},
        )
        statuses.append(chat.invoke("hi").response_metadata["gateway"]["cache_status"])
    assert statuses == ["MISS", "MISS", "MISS", "HIT"]


# Each way a request can carry a credential to the provider: the header name and a value.
# (proxy-authorization and cookie are the gateway's, never forwarded: test_attack_hop_headers)
CARRIERS = [
    "authorization",
    "x-api-key",
    "x-goog-api-key",
    "api-key",
    "x-auth-token",
    "openai-api-key",
    Header.BYOK_ALIAS,
]


@pytest.mark.parametrize("name", CARRIERS)
def test_compat_cache_key_covers_every_credential_header(gw: LocalGateway, name: str) -> None:
    gw.reset()
    url = f"{gw.gateway_url}/compat/chat/completions"
    body = {"model": "anthropic/claude-3-5-haiku", "messages": HELLO}
    a, b, invalid = _keys()
    sent = [
        http.post(url, json=body, headers={Header.CACHE_TTL: "300", name: value})
        for value in (a, b, invalid, a)
    ]
    assert _statuses(sent) == ["MISS", "MISS", "MISS", "HIT"]


def test_gemini_query_key_is_part_of_the_cache_key(
    gw: LocalGateway, upstream: RecordingUpstream
) -> None:
    gw.reset()
    upstream.clear()
    url = f"{gw.gateway_url}/google-ai-studio/v1/models/gemini-2.0-flash:generateContent"
    body = {"contents": [{"parts": [{"text": "hi"}]}]}
    a, b, invalid = _keys()
    sent = [
        http.post(url, params={"key": k}, json=body, headers={Header.CACHE_TTL: "300"})
        for k in (a, b, invalid, a)
    ]
    assert _statuses(sent) == ["MISS", "MISS", "MISS", "HIT"]
    assert len(upstream.requests) == 3  # the HIT did not reach the upstream


def test_custom_cache_key_is_scoped_to_the_credential(gw: LocalGateway) -> None:
    gw.reset()
    url = f"{gw.gateway_url}/compat/chat/completions"
    body = {"model": "openai/gpt-4o-mini", "messages": HELLO}
    a, b, invalid = _keys()
    custom = {Header.CACHE_KEY: f"shared-{uuid.uuid4().hex[:6]}"}
    sent = [
        http.post(url, json=body, headers={**custom, "authorization": f"Bearer {k}"})
        for k in (a, b, invalid, a)
    ]
    assert _statuses(sent) == ["MISS", "MISS", "MISS", "HIT"]


def test_custom_cache_key_is_scoped_to_the_endpoint(gw: LocalGateway) -> None:
    gw.reset()
    custom = {Header.CACHE_KEY: f"shared-{uuid.uuid4().hex[:6]}", "authorization": "Bearer k-1"}
    chat = http.post(
        f"{gw.gateway_url}/compat/chat/completions",
        json={"model": "openai/gpt-4o-mini", "messages": HELLO},
        headers=custom,
    )
    embeddings = http.post(
        f"{gw.gateway_url}/compat/embeddings",
        json={"model": "openai/text-embedding-3-small", "input": "hi"},
        headers=custom,
    )
    assert _statuses([chat, embeddings]) == ["MISS", "MISS"]
    assert embeddings.json()["object"] == "list"  # an embeddings body, not the chat answer
    again = http.post(
        f"{gw.gateway_url}/compat/embeddings",
        json={"model": "openai/text-embedding-3-small", "input": "other text"},
        headers=custom,
    )
    assert _statuses([again]) == ["HIT"]  # the custom key still replaces the body


def test_universal_step_credentials_are_part_of_the_cache_key(gw: LocalGateway) -> None:
    gw.reset()
    a, b, invalid = _keys()

    def step(key: str) -> list[dict[str, Any]]:
        return [
            {
                "provider": "anthropic",
                "endpoint": "v1/messages",
                "headers": {"x-api-key": key, Header.CACHE_TTL: "300"},
                "query": {"model": "claude-3-5-haiku", "max_tokens": 5, "messages": HELLO},
            }
        ]

    sent = [http.post(gw.gateway_url, json=step(k)) for k in (a, b, invalid, a)]
    assert _statuses(sent) == ["MISS", "MISS", "MISS", "HIT"]


def test_redis_cache_keys_cover_credentials_and_never_hold_them(redis_url: str) -> None:
    a, b, invalid = _keys()
    with LocalGateway(cache_url=redis_url) as gateway:
        url = f"{gateway.gateway_url}/compat/chat/completions"
        body = {"model": "google-ai-studio/gemini-2.0-flash", "messages": HELLO}
        sent = [
            http.post(
                url, json=body, headers={Header.CACHE_TTL: "300", "authorization": f"Bearer {k}"}
            )
            for k in (a, b, invalid, a)
        ]
        assert _statuses(sent) == ["MISS", "MISS", "MISS", "HIT"]
    client = redis.Redis.from_url(redis_url)
    try:
        keys = client.keys("*")
        assert len(keys) == 3
        stored = b"".join(k + (client.get(k) or b"") for k in keys)
        assert a.encode() not in stored and b.encode() not in stored
        client.flushall()
    finally:
        client.close()


def test_custom_cache_key_is_scoped_to_a_key_in_the_body(gw: LocalGateway) -> None:
    gw.reset()
    custom = {Header.CACHE_KEY: f"shared-{uuid.uuid4().hex[:6]}"}
    a, b, _ = _keys()
    sent = [
        http.post(
            f"{gw.gateway_url}/compat/chat/completions",
            json={"model": "openai/gpt-4o-mini", "messages": HELLO, "api_key": k},
            headers=custom,
        )
        for k in (a, b, a)
    ]
    assert _statuses(sent) == ["MISS", "MISS", "HIT"]
