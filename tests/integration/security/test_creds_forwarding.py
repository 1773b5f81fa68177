"""Issue 11, item 4: no gateway credential ever leaves the gateway.

The gateway token (``cf-aig-authorization``, and ``Authorization`` on the REST route)
and the management token are the gateway's own; a pass-through upstream must never see
them, on any route and in any header, while the provider key the client meant for the
provider still arrives. A recording upstream on loopback shows what was forwarded.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.local import LocalGateway, PassThrough

from .creds_helpers import RecordingUpstream

HELLO = [{"role": "user", "content": "Hello there"}]
http = httpx.Client(timeout=30)
GATEWAY_TOKEN = f"gw-token-{uuid.uuid4().hex}"
MANAGEMENT_TOKEN = f"mgmt-token-{uuid.uuid4().hex}"
PROVIDER_KEY = f"provider-key-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def gw(upstream: RecordingUpstream) -> Iterator[LocalGateway]:
    targets = {
        slug: PassThrough(base_url=upstream.base_url)
        for slug in ("openai", "anthropic", "workers-ai")
    }
    with LocalGateway(
        token=GATEWAY_TOKEN,
        management_token=MANAGEMENT_TOKEN,
        upstreams=targets,
        gateways={"default": {"authentication": True}},
    ) as gateway:
        yield gateway


def _gateway_auth() -> dict[str, str]:
    return {Header.AUTHORIZATION: f"Bearer {GATEWAY_TOKEN}"}


def compat(gw: LocalGateway) -> httpx.Response:
    return http.post(
        f"{gw.gateway_url}/compat/chat/completions",
        json={"model": "openai/gpt-4o-mini", "messages": HELLO},
        headers={**_gateway_auth(), "authorization": f"Bearer {PROVIDER_KEY}"},
    )


def compat_anthropic(gw: LocalGateway) -> httpx.Response:
    return http.post(
        f"{gw.gateway_url}/compat/chat/completions",
        json={"model": "anthropic/claude-3-5-haiku", "messages": HELLO},
        headers={**_gateway_auth(), "x-api-key": PROVIDER_KEY},
    )


def native(gw: LocalGateway) -> httpx.Response:
    return http.post(
        f"{gw.gateway_url}/openai/chat/completions",
        json={"model": "gpt-4o-mini", "messages": HELLO},
        headers={**_gateway_auth(), "authorization": f"Bearer {PROVIDER_KEY}"},
    )


def native_anthropic(gw: LocalGateway) -> httpx.Response:
    return http.post(
        f"{gw.gateway_url}/anthropic/v1/messages",
        json={"model": "claude-3-5-haiku", "max_tokens": 5, "messages": HELLO},
        headers={**_gateway_auth(), "x-api-key": PROVIDER_KEY},
    )


def universal(gw: LocalGateway) -> httpx.Response:
    steps = [
        {
            "provider": "openai",
            "endpoint": "chat/completions",
            "headers": {"authorization": f"Bearer {PROVIDER_KEY}"},
            "query": {"model": "gpt-4o-mini", "messages": HELLO},
        }
    ]
    return http.post(gw.gateway_url, json=steps, headers=_gateway_auth())


def universal_token_in_step(gw: LocalGateway) -> httpx.Response:
    """The gateway token copied into a step's headers under another name."""
    steps = [
        {
            "provider": "openai",
            "endpoint": "chat/completions",
            "headers": {
                "authorization": f"Bearer {PROVIDER_KEY}",
                "x-forward-me": GATEWAY_TOKEN,
                Header.AUTHORIZATION: f"Bearer {GATEWAY_TOKEN}",
            },
            "query": {"model": "gpt-4o-mini", "messages": HELLO},
        }
    ]
    return http.post(gw.gateway_url, json=steps, headers=_gateway_auth())


def rest(gw: LocalGateway) -> httpx.Response:
    return http.post(
        f"{gw.base_url}/client/v4/accounts/{gw.account_id}/ai/v1/chat/completions",
        json={"model": "openai/gpt-4o-mini", "messages": HELLO},
        headers={"authorization": f"Bearer {GATEWAY_TOKEN}", "x-api-key": PROVIDER_KEY},
    )


def rest_anthropic(gw: LocalGateway) -> httpx.Response:
    return http.post(
        f"{gw.base_url}/client/v4/accounts/{gw.account_id}/ai/v1/chat/completions",
        json={"model": "anthropic/claude-3-5-haiku", "messages": HELLO},
        headers={"authorization": f"Bearer {GATEWAY_TOKEN}", "x-api-key": PROVIDER_KEY},
    )


def management_token_as_provider_key(gw: LocalGateway) -> httpx.Response:
    return http.post(
        f"{gw.gateway_url}/openai/chat/completions",
        json={"model": "gpt-4o-mini", "messages": HELLO},
        headers={
            **_gateway_auth(),
            "authorization": f"Bearer {MANAGEMENT_TOKEN}",
            "x-api-key": PROVIDER_KEY,
        },
    )


ROUTES: dict[str, Callable[[LocalGateway], httpx.Response]] = {
    "compat": compat,
    "compat-anthropic": compat_anthropic,
    "native": native,
    "native-anthropic": native_anthropic,
    "universal": universal,
    "universal-token-in-step": universal_token_in_step,
    "rest": rest,
    "rest-anthropic": rest_anthropic,
    "management-token-as-provider-key": management_token_as_provider_key,
}


@pytest.mark.parametrize("route", list(ROUTES))
def test_no_gateway_credential_reaches_the_upstream(
    gw: LocalGateway, upstream: RecordingUpstream, route: str
) -> None:
    gw.reset()
    upstream.clear()
    response = ROUTES[route](gw)
    assert response.status_code == 200, response.text
    [received] = upstream.requests
    seen: Any = received.header_text() + received.body.decode("utf-8", "replace")
    assert GATEWAY_TOKEN not in seen, f"the gateway token reached the upstream: {seen}"
    assert MANAGEMENT_TOKEN not in seen, f"the management token reached the upstream: {seen}"
    assert not any(k.lower().startswith("cf-aig-") for k, _ in received.headers)
    # the client's provider key is still forwarded: the scan above is not vacuous
    assert PROVIDER_KEY in seen


def test_a_short_gateway_token_is_withheld_on_the_rest_route(upstream: RecordingUpstream) -> None:
    targets = {"anthropic": PassThrough(base_url=upstream.base_url)}
    with LocalGateway(token="tok", upstreams=targets) as gateway:
        upstream.clear()
        response = http.post(
            f"{gateway.base_url}/client/v4/accounts/{gateway.account_id}/ai/v1/chat/completions",
            json={"model": "anthropic/claude-3-5-haiku", "messages": HELLO},
            headers={"authorization": "Bearer tok", "x-api-key": PROVIDER_KEY},
        )
        assert response.status_code == 200, response.text
    [received] = upstream.requests
    assert "authorization" not in {k.lower() for k, _ in received.headers}
    assert ("x-api-key", PROVIDER_KEY) in [(k.lower(), v) for k, v in received.headers]
