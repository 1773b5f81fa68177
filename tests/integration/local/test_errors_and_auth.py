"""Every error the local gateway can make, body and status; authentication on every route."""

from __future__ import annotations

import json
import socket

import pytest

from langchain_cf_gateway.core import ErrorCode, Header
from langchain_cf_gateway.core.protocol import API_ERROR_STATUS, ERROR_STATUS, ApiErrorCode
from langchain_cf_gateway.local import LocalGateway, PassThrough
from tests.support.local_calls import (
    api_error,
    auth,
    chat_body,
    compat,
    gateway_error,
    http,
    management,
    universal,
)


def expect(code: ErrorCode) -> tuple[int, int]:
    return ERROR_STATUS[code], int(code)


def test_unknown_gateway_is_2001(gateway: LocalGateway) -> None:
    response = compat(gateway, gateway_id="nope")
    status, code, message = gateway_error(response)
    assert (status, code) == expect(ErrorCode.GATEWAY_NOT_FOUND) == (400, 2001)
    assert "configure AI Gateway" in message
    assert gateway.logs() == []  # nothing to log it in


@pytest.mark.parametrize(
    "model",
    ["nope/gpt-4o", "openrouter/some-model", "gpt-4o-mini"],
    ids=["unknown", "no-compat", "bare"],
)
def test_unknown_provider_on_compat_is_2008(gateway: LocalGateway, model: str) -> None:
    status, code, message = gateway_error(compat(gateway, chat_body(model)))
    assert (status, code, message) == (400, 2008, "Invalid provider")


def test_unknown_provider_on_native_path_is_2008(gateway: LocalGateway) -> None:
    url = f"{gateway.gateway_url}/not-a-provider/chat/completions"
    response = http.post(url, json=chat_body("x"))
    assert gateway_error(response)[:2] == expect(ErrorCode.INVALID_PROVIDER)
    [row] = gateway.logs()
    assert (row["success"], row["status_code"], row["path"]) == (
        False,
        400,
        "not-a-provider/chat/completions",
    )


def test_unknown_provider_in_the_only_universal_step_is_2008(gateway: LocalGateway) -> None:
    response = universal(
        gateway, [{"provider": "nope", "endpoint": "chat/completions", "query": {}}]
    )
    assert gateway_error(response)[:2] == (400, 2008)
    assert response.headers[Header.STEP] == "0"


@pytest.mark.parametrize(
    ("headers", "body", "needle"),
    [
        ({Header.CACHE_TTL: "59"}, None, Header.CACHE_TTL),
        ({Header.CACHE_TTL: "soon"}, None, Header.CACHE_TTL),
        ({Header.MAX_ATTEMPTS: "6"}, None, Header.MAX_ATTEMPTS),
        ({Header.RETRY_DELAY: "5001"}, None, Header.RETRY_DELAY),
        ({Header.BACKOFF: "random"}, None, Header.BACKOFF),
        ({Header.REQUEST_TIMEOUT: "0"}, None, Header.REQUEST_TIMEOUT),
        ({Header.CUSTOM_COST: "[1]"}, None, Header.CUSTOM_COST),
        ({}, chat_body("openai/gpt-4o-mini~explode"), "fault"),
        ({}, {"messages": []}, "model"),
    ],
)
def test_bad_input_is_7001_naming_what_to_fix(
    gateway: LocalGateway, headers: dict[str, str], body: dict[str, object] | None, needle: str
) -> None:
    status, code, message = gateway_error(compat(gateway, body, headers))
    assert (status, code) == expect(ErrorCode.INVALID_REQUEST) == (400, 7001)
    assert needle in message


def test_body_that_is_not_json_is_7001(gateway: LocalGateway) -> None:
    response = http.post(f"{gateway.gateway_url}/compat/chat/completions", content=b"{nope")
    assert gateway_error(response)[:2] == (400, 7001)


def test_timeout_on_every_attempt_is_2005(gateway: LocalGateway) -> None:
    response = compat(
        gateway, chat_body("openai/gpt-4o-mini~delay=2000"), {Header.REQUEST_TIMEOUT: "50"}
    )
    status, code, message = gateway_error(response)
    assert (status, code) == expect(ErrorCode.PROVIDER_FAILED) == (502, 2005)
    assert "timed out after 50 ms" in message
    [row] = gateway.logs()
    assert (row["success"], row["status_code"]) == (False, 502)


def test_unreachable_upstream_is_2005() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    upstreams = {"openai": PassThrough(base_url=f"http://127.0.0.1:{dead}/v1")}
    with LocalGateway(upstreams=upstreams) as gw:
        status, code, message = gateway_error(compat(gw))
    assert (status, code) == (502, 2005)
    assert "unreachable" in message


def test_rate_limit_is_2003(gateway: LocalGateway) -> None:
    gateway.create_gateway("tiny", rate_limiting_limit=1, rate_limiting_interval=3600)
    gateway.clock.advance(3600 - gateway.clock() % 3600 + 0.001)  # start of a fixed window
    assert compat(gateway, gateway_id="tiny").status_code == 200
    status, code, message = gateway_error(compat(gateway, gateway_id="tiny"))
    assert (status, code, message) == (429, 2003, "Rate limited")


def test_provider_errors_pass_through_in_the_providers_shape(gateway: LocalGateway) -> None:
    response = compat(gateway, chat_body("openai/gpt-4o-mini~status=418"))
    assert response.status_code == 418
    assert response.json()["error"]["message"] == "mock fault: HTTP 418"
    assert "internalCode" not in response.json()


# ------------------------------------------------------------------ authentication


@pytest.fixture
def secure(gateway: LocalGateway) -> LocalGateway:
    gateway.create_gateway("secure", authentication=True)
    return gateway


def _routes(gw: LocalGateway) -> list[tuple[str, str, dict[str, object] | list[object]]]:
    base = f"{gw.base_url}/v1/{gw.account_id}/secure"
    step = {"provider": "compat", "endpoint": "chat/completions", "query": chat_body()}
    return [
        ("compat", f"{base}/compat/chat/completions", chat_body()),
        ("compat-embeddings", f"{base}/compat/embeddings", {"model": "openai/e", "input": "x"}),
        ("native", f"{base}/openai/chat/completions", chat_body("gpt-4o-mini")),
        ("anthropic", f"{base}/anthropic/v1/messages", chat_body("claude", max_tokens=10)),
        ("universal", base, [step]),
    ]


@pytest.mark.parametrize(
    "token", [None, "Bearer wrong", "wrong"], ids=["missing", "wrong", "no-scheme"]
)
def test_authenticated_gateway_refuses_every_route_without_the_token(
    secure: LocalGateway, token: str | None
) -> None:
    headers = {} if token is None else {Header.AUTHORIZATION: token}
    for name, url, body in _routes(secure):
        response = http.post(url, json=body, headers=headers)
        assert gateway_error(response)[:2] == (401, 2009), name
    assert secure.logs() == []  # unauthenticated requests are not logged


def test_authenticated_gateway_serves_every_route_with_the_token(secure: LocalGateway) -> None:
    for name, url, body in _routes(secure):
        response = http.post(url, json=body, headers=auth(secure))
        assert response.status_code == 200, name
    rows = secure.logs("secure")
    assert len(rows) == 5 and all(r["authentication"] for r in rows)
    assert all(r["request_head"][Header.AUTHORIZATION] == "[REDACTED]" for r in rows)
    assert secure.token not in str(rows)


def test_provider_authorization_header_is_not_a_gateway_token(secure: LocalGateway) -> None:
    response = compat(
        secure, headers={"authorization": f"Bearer {secure.token}"}, gateway_id="secure"
    )
    assert gateway_error(response)[:2] == (401, 2009)


def test_rest_api_needs_the_token_in_authorization(gateway: LocalGateway) -> None:
    url = f"{gateway.base_url}/client/v4/accounts/{gateway.account_id}/ai/v1/chat/completions"
    refused = http.post(url, json=chat_body())
    assert gateway_error(refused)[:2] == (401, 2009)
    unknown = http.post(
        url,
        json=chat_body(),
        headers={"authorization": f"Bearer {gateway.token}", Header.GATEWAY_ID: "nope"},
    )
    assert gateway_error(unknown)[:2] == (400, 2001)
    bad_model = http.post(
        url, json=chat_body("nope/x"), headers={"authorization": f"Bearer {gateway.token}"}
    )
    assert gateway_error(bad_model)[:2] == (400, 2008)


MANAGEMENT_ROUTES = [
    ("GET", "gateways"),
    ("POST", "gateways"),
    ("GET", "gateways/default"),
    ("PUT", "gateways/default"),
    ("DELETE", "gateways/default"),
    ("GET", "gateways/default/logs"),
    ("DELETE", "gateways/default/logs"),
    ("GET", "gateways/default/logs/x"),
    ("PATCH", "gateways/default/logs/x"),
    ("GET", "gateways/default/logs/x/request"),
    ("GET", "gateways/default/logs/x/response"),
]


@pytest.mark.parametrize("token", [None, "wrong", "gateway-token"])
def test_management_api_needs_the_management_token(
    gateway: LocalGateway, token: str | None
) -> None:
    if token == "gateway-token":
        token = gateway.token  # the gateway token is not a management token
    for method, path in MANAGEMENT_ROUTES:
        response = management(gateway, method, path, token=token, json={})
        assert api_error(response) == (401, 10000), (method, path)
    for method, path in [
        ("GET", "scripts"),
        ("POST", "reset"),
        ("POST", "clock"),
        ("GET", "received"),
    ]:
        response = http.request(
            method,
            f"{gateway.base_url}/__local/{path}",
            json={},
            headers={} if token is None else {"authorization": f"Bearer {token}"},
        )
        assert api_error(response) == (401, 10000), path
    # The refused DELETE left the gateway in place.
    assert management(gateway, "GET", "gateways/default").json()["result"]["id"] == "default"


def test_management_errors_have_their_codes(gateway: LocalGateway) -> None:
    assert api_error(management(gateway, "GET", "gateways/nope")) == (
        API_ERROR_STATUS[ApiErrorCode.NOT_FOUND],
        7002,
    )
    assert api_error(management(gateway, "GET", "gateways/default/logs/nope")) == (404, 7002)
    assert api_error(management(gateway, "POST", "gateways", json={"id": "default"})) == (409, 7004)
    assert api_error(management(gateway, "POST", "gateways", json={"id": "bad id!"})) == (400, 7001)
    assert api_error(
        management(gateway, "POST", "gateways", json={"id": "g1", "cache_ttl": -1})
    ) == (400, 7001)
    assert api_error(
        management(
            gateway,
            "GET",
            "gateways/default/logs",
            params={"filters": '[{"key":"bogus","operator":"eq","value":[1]}]'},
        )
    ) == (400, 7001)
    assert api_error(
        management(gateway, "GET", "gateways/default/logs", params={"order_by": "cost"})
    ) == (400, 7001)


def test_a_body_over_25_mb_is_413_before_it_is_read(gateway: LocalGateway) -> None:
    import socket as sockets

    with sockets.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(
            f"POST /v1/{gateway.account_id}/default/compat/chat/completions HTTP/1.1\r\n"
            f"host: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {26 * 1024 * 1024}"
            "\r\n\r\n".encode()
        )  # not a byte of the body follows: the answer must not wait for it
        answer = b""
        while b"}" not in answer:
            answer += sock.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    parsed = json.loads(body)
    assert (parsed["httpCode"], parsed["internalCode"], parsed["name"]) == (
        413,
        7001,
        "AiGatewayError",
    )
    assert "25 MB" in parsed["message"]
