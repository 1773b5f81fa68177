"""Fresh attack, finding F11: a trailing slash gets no redirect before authentication.

Starlette redirects ``/__local/received/`` to ``/__local/received`` (307) for anyone;
the gateway answers a path it has no route for with its 404 error body instead, and
the routes that exist with and without a slash (the universal endpoint) keep working.
"""

from __future__ import annotations

import pytest

from langchain_cf_gateway.local import LocalGateway

from .edge_helpers import gateway_error, raw_request


@pytest.mark.parametrize(
    ("method", "path"),
    [
        (b"GET", "/__local/received/"),
        (b"GET", "/__local/scripts/"),
        (b"POST", "/__local/reset/"),
        (b"GET", "/client/v4/accounts/{a}/ai-gateway/gateways/"),
        (b"GET", "/client/v4/accounts/{a}/ai-gateway/gateways/default/logs/"),
        (b"POST", "/client/v4/accounts/{a}/ai/v1/chat/completions/"),
    ],
)
@pytest.mark.parametrize("token", [False, True], ids=["no-token", "token"])
def test_a_trailing_slash_gets_the_gateway_404_not_a_redirect(
    gw: LocalGateway, method: bytes, path: str, token: bool
) -> None:
    headers = [(b"authorization", f"Bearer {gw.management_token}".encode())] if token else []
    target = path.replace("{a}", gw.account_id).encode()
    response = raw_request(gw.port, target, method=method, headers=headers)
    assert "location" not in response.headers, response
    assert gateway_error(response)[:2] == (404, 7001)


def test_routes_without_the_slash_and_the_universal_endpoint_with_it_still_work(
    gw: LocalGateway,
) -> None:
    auth = [(b"authorization", f"Bearer {gw.management_token}".encode())]
    assert raw_request(gw.port, b"/__local/received", method=b"GET", headers=auth).status == 200
    listed = raw_request(
        gw.port,
        f"/client/v4/accounts/{gw.account_id}/ai-gateway/gateways".encode(),
        method=b"GET",
        headers=auth,
    )
    assert listed.status == 200
    step = (
        b'[{"provider":"openai","endpoint":"chat/completions","headers":{},'
        b'"query":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}}]'
    )
    for target in (f"/v1/{gw.account_id}/default", f"/v1/{gw.account_id}/default/"):
        response = raw_request(
            gw.port, target.encode(), headers=[(b"content-type", b"application/json")], body=step
        )
        assert response.status == 200, (target, response)
