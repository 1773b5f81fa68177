"""core.codec.error_from_transport: the one table of failures below HTTP, row by row."""

from __future__ import annotations

import json

import httpx
import pytest

from langchain_cf_gateway.core import GatewayTimeoutError, InvalidResponseError
from langchain_cf_gateway.core.codec import error_from_transport

_REQUEST = httpx.Request("POST", "https://gateway.ai.cloudflare.com/v1/a/g/compat/chat/completions")


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectTimeout("connect", request=_REQUEST),
        httpx.ReadTimeout("read", request=_REQUEST),
        httpx.WriteTimeout("write", request=_REQUEST),
        httpx.PoolTimeout("pool", request=_REQUEST),
    ],
)
@pytest.mark.parametrize("status_code", [None, 200])
def test_every_timeout_is_a_gateway_timeout_before_or_during_the_body(
    exc: httpx.TimeoutException, status_code: int | None
) -> None:
    headers = httpx.Headers({"cf-aig-log-id": "01LOG"}) if status_code else None
    err = error_from_transport(exc, status_code=status_code, headers=headers)
    assert type(err) is GatewayTimeoutError
    assert err.status_code == 408
    assert err.retryable
    assert err.log_id == ("01LOG" if status_code else None)


def test_a_body_that_is_not_json_is_an_invalid_response_with_the_secret_masked() -> None:
    exc = json.JSONDecodeError("Expecting value", "oops sk-secret-123", 0)
    err = error_from_transport(
        exc,
        status_code=200,
        headers=httpx.Headers({"cf-aig-log-id": "01A"}),
        secrets=("sk-secret-123",),
    )
    assert type(err) is InvalidResponseError
    assert (err.status_code, err.log_id) == (200, "01A")
    assert "not valid JSON" in str(err)
    assert "sk-secret-123" not in exc.doc


def test_a_decode_error_quoting_the_body_is_masked_where_it_is_chained() -> None:
    # A parser that quotes the body in its message (as the chat model's own check does):
    # the error is chained from it, so its message and args must not show the key.
    body = "<html>Incorrect API key provided: sk-proj-SECRET0123456789abcdef"
    exc = json.JSONDecodeError(f"Expecting a JSON object, got {body!r}", body, 0)
    err = error_from_transport(exc, status_code=200, secrets=("sk-proj-SECRET0123456789abcdef",))
    assert type(err) is InvalidResponseError
    for text in (str(err), str(exc), repr(exc.args), exc.msg, exc.doc):
        assert "sk-proj-SECRET0123456789abcdef" not in text


@pytest.mark.parametrize(
    "exc",
    [
        httpx.RemoteProtocolError("peer closed connection", request=_REQUEST),
        httpx.ReadError("reset", request=_REQUEST),
    ],
)
def test_a_body_cut_off_after_the_response_began_is_an_invalid_response(
    exc: httpx.TransportError,
) -> None:
    err = error_from_transport(exc, status_code=200)
    assert type(err) is InvalidResponseError
    assert "cut off" in str(err)
    assert err.retryable


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused", request=_REQUEST),
        httpx.RemoteProtocolError("bad status line", request=_REQUEST),
        ValueError("not a transport error"),
    ],
)
def test_a_failure_before_any_response_is_left_to_the_framework(exc: Exception) -> None:
    assert error_from_transport(exc, status_code=None) is None
