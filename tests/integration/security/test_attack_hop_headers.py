"""Headers meant for the gateway itself never reach the provider (attack finding F9).

A header the client names in its ``Connection`` header is hop-by-hop: it is for the
gateway, and a proxy must drop it before forwarding (RFC 9110 section 7.6.1,
https://www.rfc-editor.org/rfc/rfc9110#section-7.6.1). ``Proxy-Authorization`` is the
credential for the proxy the client talks to (section 11.7.1), and ``Cookie`` holds the
cookies of the gateway's own origin (a browser sends every ``localhost`` cookie, of any
port, to a gateway on ``localhost``): neither is the provider's. A recording upstream on
loopback shows what was forwarded, on the compat, native, universal and REST routes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from langchain_cf_gateway.local import LocalGateway, PassThrough

from .creds_helpers import RecordingUpstream

HELLO = [{"role": "user", "content": "Hello there"}]
http = httpx.Client(timeout=30)
TAG = uuid.uuid4().hex
PROVIDER_KEY = f"provider-key-{TAG}"
KEPT = f"kept-{TAG}"
"""An ordinary end-to-end header value, which must still arrive (the scan is not vacuous)."""
DROPPED = {
    "x-custom": f"custom-{TAG}",
    "x-other": f"other-{TAG}",
    "proxy-authorization": f"Basic proxy-{TAG}",
    "cookie": f"session=cookie-{TAG}",
}
CLIENT_HEADERS = {
    # the names in Connection in mixed case and with spaces, as RFC 9110 allows
    "connection": "keep-alive, X-Custom ,x-other",
    **DROPPED,
    "x-kept": KEPT,
}


@pytest.fixture(scope="module")
def gw(upstream: RecordingUpstream) -> Iterator[LocalGateway]:
    targets = {s: PassThrough(base_url=upstream.base_url) for s in ("openai", "anthropic")}
    with LocalGateway(upstreams=targets) as gateway:
        yield gateway


def compat(gw: LocalGateway) -> httpx.Response:
    return http.post(
        f"{gw.gateway_url}/compat/chat/completions",
        json={"model": "openai/gpt-4o-mini", "messages": HELLO},
        headers={**CLIENT_HEADERS, "authorization": f"Bearer {PROVIDER_KEY}"},
    )


def native(gw: LocalGateway) -> httpx.Response:
    return http.post(
        f"{gw.gateway_url}/anthropic/v1/messages",
        json={"model": "claude-3-5-haiku", "max_tokens": 5, "messages": HELLO},
        headers={**CLIENT_HEADERS, "x-api-key": PROVIDER_KEY},
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
    return http.post(gw.gateway_url, json=steps, headers=CLIENT_HEADERS)


def universal_step_headers(gw: LocalGateway) -> httpx.Response:
    """The gateway-only headers written into the step's own headers object."""
    steps = [
        {
            "provider": "openai",
            "endpoint": "chat/completions",
            "headers": {"authorization": f"Bearer {PROVIDER_KEY}", **CLIENT_HEADERS},
            "query": {"model": "gpt-4o-mini", "messages": HELLO},
        }
    ]
    return http.post(gw.gateway_url, json=steps)


def rest(gw: LocalGateway) -> httpx.Response:
    return http.post(
        f"{gw.base_url}/client/v4/accounts/{gw.account_id}/ai/v1/chat/completions",
        json={"model": "anthropic/claude-3-5-haiku", "messages": HELLO},
        headers={
            **CLIENT_HEADERS,
            "authorization": f"Bearer {gw.token}",  # the REST route's own credential
            "x-api-key": PROVIDER_KEY,
        },
    )


ROUTES: dict[str, Callable[[LocalGateway], httpx.Response]] = {
    "compat": compat,
    "native": native,
    "universal": universal,
    "universal-step-headers": universal_step_headers,
    "rest": rest,
}


@pytest.mark.parametrize("route", list(ROUTES))
def test_connection_named_proxy_and_cookie_headers_stay_at_the_gateway(
    gw: LocalGateway, upstream: RecordingUpstream, route: str
) -> None:
    upstream.clear()
    response = ROUTES[route](gw)
    assert response.status_code == 200, response.text
    [received] = upstream.requests
    names = {k.lower() for k, _ in received.headers}
    head = received.header_text()
    for name, value in DROPPED.items():
        assert name not in names, f"{name} reached the upstream on {route}"
        assert value not in head, f"the value of {name} reached the upstream on {route}"
    # what the client meant for the provider still arrives
    assert ("x-kept", KEPT) in [(k.lower(), v) for k, v in received.headers]
    assert PROVIDER_KEY in head
