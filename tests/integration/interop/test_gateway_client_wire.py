"""What ``GatewayClient`` puts on the wire, read by a recording server that plays Cloudflare.

The server responds with a gateway carrying settings this package has never seen: an update
must send every one of them back (Cloudflare's PUT replaces the whole gateway), and a stored
body must come back exactly as stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from langchain_cf_gateway.core import GatewayConfig
from langchain_cf_gateway.management import AsyncGatewayClient, GatewayClient
from tests.support.rawserver import Act, MisbehavingServer

CURRENT = {
    "id": "prod",
    "account_id": "acct",
    "account_tag": "acct",
    "internal_id": "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
    "created_at": "2026-01-02T03:04:05Z",
    "modified_at": "2026-01-02T03:04:05Z",
    "is_default": False,
    "cache_invalidate_on_update": True,
    "cache_ttl": 600,
    "collect_logs": True,
    "rate_limiting_interval": 60,
    "rate_limiting_limit": 100,
    "rate_limiting_technique": "sliding",
    "authentication": True,
    "guardrails": {"prompt": {"P1": "BLOCK"}, "response": {"S9": "FLAG"}},
    "spend_limits": {
        "enabled": True,
        "rules": [{"limit": 25.0, "limitType": "cost", "window": 3600}],
    },
    "log_classification": True,
    "dlp": {"enabled": True, "policies": []},
    "workers_ai_billing_mode": "unified",
    "a_setting_from_2027": {"nested": [1, 2, {"deep": None}]},
    "another_new_flag": False,
    "retry_delay": None,
}
READ_ONLY = (
    "id",
    "account_id",
    "account_tag",
    "internal_id",
    "created_at",
    "modified_at",
    "is_default",
)


def envelope(result: Any) -> Act:
    body = {"success": True, "errors": [], "messages": [], "result": result}
    return Act(200, {"content-type": "application/json"}, json.dumps(body).encode())


@pytest.fixture
def cloudflare() -> Iterator[MisbehavingServer]:
    with MisbehavingServer() as server:
        yield server


def client_for(server: MisbehavingServer) -> GatewayClient:
    config = GatewayConfig(account_id="acct", gateway_id="prod", base_url=server.base_url)
    return GatewayClient(config, api_token="mgmt-token", max_retries=0)


def test_update_gateway_sends_back_every_field_it_does_not_know(
    cloudflare: MisbehavingServer,
) -> None:
    """Issue 12 fault 2: the PUT body is the gateway as returned, minus read-only, plus changes."""
    cloudflare.then(envelope(CURRENT), envelope({**CURRENT, "cache_ttl": 60}))
    with client_for(cloudflare) as client:
        updated = client.update_gateway("prod", cache_ttl=60, retry_max_attempts=3)
    get, put = cloudflare.received
    assert (get.method, put.method) == ("GET", "PUT")
    assert urlsplit(put.path).path == "/client/v4/accounts/acct/ai-gateway/gateways/prod"
    expected = {k: v for k, v in CURRENT.items() if k not in READ_ONLY}
    assert put.json == {**expected, "cache_ttl": 60, "retry_max_attempts": 3}
    # The response keeps the fields it does not model, for the next round trip.
    assert updated.cache_ttl == 60
    assert updated.model_extra is not None
    assert updated.model_extra["a_setting_from_2027"] == {"nested": [1, 2, {"deep": None}]}


async def test_async_update_gateway_sends_back_every_field_it_does_not_know(
    cloudflare: MisbehavingServer,
) -> None:
    cloudflare.then(envelope(CURRENT), envelope(CURRENT))
    config = GatewayConfig(account_id="acct", base_url=cloudflare.base_url)
    async with AsyncGatewayClient(config, api_token="mgmt-token", max_retries=0) as client:
        await client.update_gateway("prod", guardrails=None)
    put = cloudflare.received[1]
    expected = {k: v for k, v in CURRENT.items() if k not in READ_ONLY}
    assert put.json == {**expected, "guardrails": None}


def test_update_gateway_fills_only_the_required_fields_it_lacks(
    cloudflare: MisbehavingServer,
) -> None:
    sparse = {"id": "prod", "created_at": "2026-01-02T03:04:05Z", "zdr": True}
    cloudflare.then(envelope(sparse), envelope(sparse))
    with client_for(cloudflare) as client:
        client.update_gateway("prod", log_classification=False)
    assert cloudflare.received[1].json == {
        "cache_invalidate_on_update": False,
        "cache_ttl": 0,
        "collect_logs": True,
        "rate_limiting_interval": 0,
        "rate_limiting_limit": 0,
        "rate_limiting_technique": "fixed",
        "zdr": True,
        "log_classification": False,
    }


@pytest.mark.parametrize(
    "stored",
    [
        {"result": {"response": "Hi"}, "success": True, "errors": [], "messages": []},
        {"result": [], "success": False, "errors": [{"code": 1, "message": "x"}]},
        [1, 2, 3],
        "data: {}\n\ndata: [DONE]\n\n",
    ],
)
@pytest.mark.parametrize("part", ["request", "response"])
def test_stored_bodies_come_back_exactly_as_stored(
    cloudflare: MisbehavingServer, stored: Any, part: str
) -> None:
    """Issue 12 fault 3: a body that looks like the v4 envelope is not unwrapped."""
    body = stored.encode() if isinstance(stored, str) else json.dumps(stored).encode()
    media = "text/event-stream" if isinstance(stored, str) else "application/json"
    cloudflare.then(Act(200, {"content-type": media}, body))
    with client_for(cloudflare) as client:
        method = client.get_log_request if part == "request" else client.get_log_response
        assert method("log-1") == stored
    path = urlsplit(cloudflare.received[0].path).path
    assert path == f"/client/v4/accounts/acct/ai-gateway/gateways/prod/logs/log-1/{part}"


def test_list_logs_sends_filters_as_the_sdk_does(cloudflare: MisbehavingServer) -> None:
    """Issue 12 fault 1, our client's side: cloudflare-python's query encoding."""
    cloudflare.then(envelope([]))
    with client_for(cloudflare) as client:
        client.list_logs(
            event_id="ev-2", user_agent="curl/8", start_date="2026-01-01T00:00:00Z", per_page=50
        )
    query = parse_qsl(urlsplit(cloudflare.received[0].path).query)
    assert query == [
        ("filters.key", "event_id"),
        ("filters.key", "user_agent"),
        ("filters.key", "created_at"),
        ("filters.operator", "eq"),
        ("filters.operator", "eq"),
        ("filters.operator", "gt"),
        ("filters.value", "ev-2"),
        ("filters.value", "curl/8"),
        ("filters.value", "2026-01-01T00:00:00Z"),
        ("page", "1"),
        ("per_page", "50"),
    ]
