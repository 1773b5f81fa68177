"""No gateway behind `base_url`: `GatewayClient` says which URL it tried and what to do.

httpx's own `ConnectError` says only `[Errno 111] Connection refused`. The client raises
`GatewayConnectionError`, still an `httpx.ConnectError` (what it raised before), whose
message names the URL (never the token; credential query values masked) and the fix.
The transport refuses the connection as httpx does on a closed loopback port.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from langchain_cf_gateway.core import GatewayConfig
from langchain_cf_gateway.core.connection import GatewayConnectionError, connection_error

from . import conftest
from .conftest import MODES, TOKEN, call

READS: dict[str, tuple[str, tuple[Any, ...], str]] = {
    "list_logs": ("list_logs", (), "/accounts/acct/ai-gateway/gateways/gw/logs"),
    "get_log": ("get_log", ("log-1",), "/accounts/acct/ai-gateway/gateways/gw/logs/log-1"),
    "get_gateway": ("get_gateway", (), "/accounts/acct/ai-gateway/gateways/gw"),
    "list_gateways": ("list_gateways", (), "/accounts/acct/ai-gateway/gateways"),
}


def _refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("read", list(READS))
def test_a_refused_read_names_the_url_and_the_fix(
    mode: str, read: str, waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        conftest,
        "CONFIG",
        GatewayConfig(account_id="acct", gateway_id="gw", base_url="http://127.0.0.1:8799"),
    )
    method, args, path = READS[read]
    with pytest.raises(GatewayConnectionError) as err:
        call(mode, _refuse, method, *args, max_retries=1)

    assert isinstance(err.value, httpx.ConnectError)  # what it raised before
    message = str(err.value)
    assert f"cannot reach the management API at http://127.0.0.1:8799/client/v4{path}" in message
    assert "Connection refused" in message
    assert "cf-aig serve --port 8799" in message
    assert "CLOUDFLARE_AI_GATEWAY_BASE_URL" in message
    assert TOKEN not in message
    assert "authorization" not in err.value.request.headers
    assert isinstance(err.value.__cause__, httpx.ConnectError)
    assert waits == [0.5]  # a read is still sent again first


def test_credential_query_values_never_show() -> None:
    request = httpx.Request(
        "GET", "http://127.0.0.1:8799/v1/a/g/google?key=AIzaSyTOKEN-0123456789&x=1"
    )
    error = connection_error(httpx.ConnectError("refused", request=request))
    assert error is not None
    assert "AIzaSyTOKEN" not in str(error) and "AIzaSyTOKEN" not in str(error.request.url)
    assert "http://127.0.0.1:8799/v1/a/g/google?key=***&x=1" in str(error)


def test_cloudflare_unreachable_points_at_the_network() -> None:
    request = httpx.Request(
        "GET", "https://api.cloudflare.com/client/v4/accounts/a/ai-gateway/gateways"
    )
    error = connection_error(
        httpx.ConnectError("[Errno -2] Name or service not known", request=request)
    )
    assert error is not None
    assert "cannot reach the management API at https://api.cloudflare.com/client/v4/" in str(error)
    assert "network" in str(error) and "cf-aig serve" not in str(error)
