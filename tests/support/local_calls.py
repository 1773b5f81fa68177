"""Requests to a local gateway as a user sends them (plain httpx), and checks of the shape
of its error bodies: for the local gateway's tests and the security tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.local import LocalGateway

HELLO = [{"role": "user", "content": "Hello there, world!"}]

http = httpx.Client(timeout=10)
"""One client for every test: building a client per request costs ~100 ms (TLS setup)."""


def chat_body(model: str = "openai/gpt-4o-mini", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": HELLO, **extra}


def compat(
    gw: LocalGateway,
    body: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    gateway_id: str = "default",
) -> httpx.Response:
    url = f"{gw.base_url}/v1/{gw.account_id}/{gateway_id}/compat/chat/completions"
    return http.post(url, json=dict(body or chat_body()), headers=dict(headers or {}))


def universal(
    gw: LocalGateway,
    steps: list[dict[str, Any]],
    headers: Mapping[str, str] | None = None,
    gateway_id: str = "default",
) -> httpx.Response:
    url = f"{gw.base_url}/v1/{gw.account_id}/{gateway_id}"
    return http.post(url, json=steps, headers=dict(headers or {}))


def management(
    gw: LocalGateway,
    method: str,
    path: str,
    *,
    token: str | None = "",
    **kwargs: Any,
) -> httpx.Response:
    """A management API call; token "" means the gateway's management token, None none."""
    headers = dict(kwargs.pop("headers", {}) or {})
    if token is not None:
        headers["authorization"] = f"Bearer {token or gw.management_token}"
    url = f"{gw.base_url}/client/v4/accounts/{gw.account_id}/ai-gateway/{path}"
    return http.request(method, url, headers=headers, **kwargs)


def auth(gw: LocalGateway) -> dict[str, str]:
    return {Header.AUTHORIZATION: f"Bearer {gw.token}"}


def gateway_error(response: httpx.Response) -> tuple[int, int, str]:
    """(HTTP status, internal code, message) of a gateway-made error, checking its shape."""
    body = response.json()
    assert body["success"] is False and body["name"] == "AiGatewayError"
    assert body["result"] == [] and body["messages"] == []
    assert body["httpCode"] == response.status_code
    assert body["error"] == [{"code": body["internalCode"], "message": body["message"]}]
    return response.status_code, body["internalCode"], body["message"]


def api_error(response: httpx.Response) -> tuple[int, int]:
    """(HTTP status, code) of a management API error, checking the v4 envelope."""
    body = response.json()
    assert body["success"] is False and body["result"] == {} and body["messages"] == []
    [error] = body["errors"]
    assert isinstance(error["message"], str) and error["message"]
    return response.status_code, error["code"]
