"""Faults seen by the logs client (GatewayClient, AsyncGatewayClient), from a raw server.

Reads are sent again (`max_retries`) after a connection failure, a timeout, a 429 or a
5xx, honouring `Retry-After`; writes never are. What is finally raised is the core's
typed error with the status, the code of the v4 envelope, the log id and `retry_after`;
failures below HTTP map through `core.codec.error_from_transport` (a timeout is a
`GatewayTimeoutError`, a body cut off an `InvalidResponseError`, no response at all
httpx's `ConnectError`).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from langchain_cf_gateway.core import (
    ErrorCode,
    GatewayAuthenticationError,
    GatewayConfig,
    GatewayError,
    GatewayRateLimitError,
    GatewayTimeoutError,
    InvalidResponseError,
    ProviderUnavailableError,
)
from langchain_cf_gateway.management import AsyncGatewayClient, GatewayClient
from tests.support.rawserver import Act, MisbehavingServer, free_port, gateway_error, provider_error

MODES = ["sync", "async"]


def list_logs(
    base_url: str,
    mode: str,
    timeout: float = 5,
    max_retries: int = 0,
    method: str = "list_logs",
    *args: Any,
    **kwargs: Any,
) -> Any:
    config = GatewayConfig(account_id="acct", base_url=base_url)
    kw: dict[str, Any] = {"api_token": "mgmt-token", "timeout": timeout, "max_retries": max_retries}
    if mode == "sync":
        with GatewayClient(config, **kw) as client:
            return getattr(client, method)(*args, **kwargs)

    async def run() -> Any:
        async with AsyncGatewayClient(config, **kw) as client:
            return await getattr(client, method)(*args, **kwargs)

    return asyncio.run(run())


ENVELOPE_OK = Act(
    200,
    {"content-type": "application/json"},
    b'{"success":true,"errors":[],"messages":[],"result":[],"result_info":{}}',
)


def envelope_error(status: int, code: int, message: str, **headers: str) -> Act:
    body = {
        "success": False,
        "errors": [{"code": code, "message": message}],
        "messages": [],
        "result": None,
    }
    return Act(status, {"content-type": "application/json", **headers}, json.dumps(body).encode())


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx(raw: MisbehavingServer, mode: str, status: int) -> None:
    raw.then(provider_error(status, "api down", log_id="log-5"))
    with pytest.raises(ProviderUnavailableError) as err:
        list_logs(raw.base_url, mode)
    assert (err.value.status_code, err.value.log_id) == (status, "log-5")
    assert err.value.retryable and len(raw.received) == 1
    assert "mgmt-token" not in str(err.value)


@pytest.mark.parametrize("mode", MODES)
def test_429_with_and_without_retry_after(raw: MisbehavingServer, mode: str) -> None:
    raw.then(envelope_error(429, 10000, "Rate limited", **{"retry-after": "3"}))
    with pytest.raises(GatewayRateLimitError) as err:
        list_logs(raw.base_url, mode)
    assert (err.value.status_code, err.value.code, err.value.retry_after) == (429, 10000, 3.0)
    raw.then(envelope_error(429, 10000, "Rate limited"))
    with pytest.raises(GatewayRateLimitError) as err:
        list_logs(raw.base_url, mode)
    assert err.value.retry_after is None


@pytest.mark.parametrize("mode", MODES)
def test_connection_refused(mode: str) -> None:
    with pytest.raises(httpx.ConnectError):
        list_logs(f"http://127.0.0.1:{free_port()}", mode)


@pytest.mark.parametrize("mode", MODES)
def test_read_timeout(raw: MisbehavingServer, mode: str) -> None:
    raw.then(Act(hang_s=3), Act(hang_s=3))
    with pytest.raises(GatewayTimeoutError) as err:
        list_logs(raw.base_url, mode, timeout=0.3, max_retries=1)
    assert len(raw.received) == 2  # a read is sent again once, then the timeout is raised
    assert (err.value.status_code, err.value.retryable) == (408, True)
    assert isinstance(err.value.__cause__, httpx.ReadTimeout)
    assert "mgmt-token" not in str(err.value)


@pytest.mark.parametrize("mode", MODES)
def test_reads_retried_after_5xx(raw: MisbehavingServer, mode: str) -> None:
    raw.then(provider_error(503, "api down"), ENVELOPE_OK)
    assert list(list_logs(raw.base_url, mode, max_retries=1)) == []
    assert [r.method for r in raw.received] == ["GET", "GET"]


@pytest.mark.parametrize("mode", MODES)
def test_retry_after_is_honoured(raw: MisbehavingServer, mode: str) -> None:
    raw.then(envelope_error(429, 10000, "Rate limited", **{"retry-after": "1"}), ENVELOPE_OK)
    assert list(list_logs(raw.base_url, mode, max_retries=1)) == []
    first, second = raw.received
    assert second.at - first.at >= 0.9


@pytest.mark.parametrize("mode", MODES)
def test_a_long_retry_after_is_raised_not_waited(raw: MisbehavingServer, mode: str) -> None:
    raw.then(envelope_error(429, 10000, "Rate limited", **{"retry-after": "120"}))
    with pytest.raises(GatewayRateLimitError) as err:
        list_logs(raw.base_url, mode, max_retries=2)
    assert err.value.retry_after == 120.0 and len(raw.received) == 1


@pytest.mark.parametrize("mode", MODES)
def test_writes_are_never_sent_twice(raw: MisbehavingServer, mode: str) -> None:
    raw.then(provider_error(503, "api down"), provider_error(503, "api down"))
    with pytest.raises(ProviderUnavailableError):
        list_logs(raw.base_url, mode, 5, 2, "update_log", "log-1", feedback=1)
    assert [r.method for r in raw.received] == ["PATCH"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"<html>proxy error</html>",
        b'{"success":true,"result":[{"id":5}]}',
        b'{"success":true,"result":"nope","result_info":{}}',
    ],
    ids=["invalid-json", "html", "wrong-field-type", "wrong-result-type"],
)
def test_a_2xx_that_is_not_the_envelope(raw: MisbehavingServer, mode: str, body: bytes) -> None:
    raw.then(Act(200, {"content-type": "application/json", "cf-aig-log-id": "log-x"}, body))
    with pytest.raises(InvalidResponseError) as err:
        list_logs(raw.base_url, mode)
    assert (err.value.status_code, err.value.log_id) == (200, "log-x")
    assert not isinstance(err.value, ValueError)  # never mistaken for bad input


@pytest.mark.parametrize("mode", MODES)
def test_body_cut_short(raw: MisbehavingServer, mode: str) -> None:
    raw.then(Act(200, {}, b'{"success":true,"result":[{"id":"a"},', end="cut"))
    with pytest.raises(InvalidResponseError) as err:
        list_logs(raw.base_url, mode)
    assert err.value.status_code == 200 and "cut off" in str(err.value)
    assert isinstance(err.value.__cause__, httpx.RemoteProtocolError)


@pytest.mark.parametrize("mode", MODES)
def test_oversized_error_body(raw: MisbehavingServer, mode: str) -> None:
    raw.then(Act(502, {"content-type": "text/html"}, b"<p>" * 2_000_000))
    with pytest.raises(GatewayError) as err:
        list_logs(raw.base_url, mode)
    assert err.value.status_code == 502 and len(str(err.value)) < 1_000


@pytest.mark.parametrize("mode", MODES)
def test_gateway_error_bodies(raw: MisbehavingServer, mode: str) -> None:
    raw.then(gateway_error(ErrorCode.UNAUTHORIZED, log_id="log-401"))
    with pytest.raises(GatewayAuthenticationError) as err:
        list_logs(raw.base_url, mode)
    assert (err.value.status_code, err.value.code, err.value.log_id) == (401, 2009, "log-401")
    assert "mgmt-token" not in str(err.value) and "mgmt-token" not in repr(err.value.body)


@pytest.mark.parametrize(
    ("code", "mode"),
    [(c, MODES[i % 2]) for i, c in enumerate(ErrorCode)],
    ids=[f"{c.name}-{MODES[i % 2]}" for i, c in enumerate(ErrorCode)],
)
def test_gateway_error_body_of_each_code(
    raw: MisbehavingServer, mode: str, code: ErrorCode
) -> None:
    from langchain_cf_gateway.core import error_from_response
    from langchain_cf_gateway.core.protocol import ERROR_STATUS, gateway_error_body

    raw.then(gateway_error(code, log_id=f"log-{int(code)}"))
    expected = error_from_response(ERROR_STATUS[code], {}, gateway_error_body(code))
    with pytest.raises(GatewayError) as err:
        list_logs(raw.base_url, mode, max_retries=0)
    # 401 and 404 are the management API's own subclasses of the core's classes.
    assert isinstance(err.value, type(expected)) or err.value.status_code in (401, 404)
    assert (err.value.status_code, err.value.code, err.value.log_id) == (
        ERROR_STATUS[code],
        int(code),
        f"log-{int(code)}",
    )
    assert len(raw.received) == 1
