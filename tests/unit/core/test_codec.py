"""core.codec: SSE lines, JSON bodies and error answers, table-driven."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from langchain_cf_gateway.core import GatewayRateLimitError, ProviderUnavailableError
from langchain_cf_gateway.core.codec import (
    SSE_DONE,
    encode_json,
    error_from_httpx,
    parse_sse_line,
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('data: {"a": 1}', {"a": 1}),
        ('data:{"a":1}', {"a": 1}),
        ("data: [DONE]", SSE_DONE),
        ("data: [DONE]  ", SSE_DONE),
        ("", None),
        (": keep-alive", None),
        ("event: message", None),
        ("id: 7", None),
        ("retry: 1000", None),
        ("data:", None),
    ],
)
def test_parse_sse_line(line: str, expected: Any) -> None:
    result = parse_sse_line(line)
    if expected is None or expected is SSE_DONE:
        assert result is expected
    else:
        assert result == expected


def test_parse_sse_line_rejects_a_broken_event() -> None:
    with pytest.raises(ValueError):
        parse_sse_line('data: {"choices": [')


class _Message(BaseModel):
    role: str
    content: str | None = None


def test_encode_json_is_compact_stable_and_dumps_pydantic_objects() -> None:
    body = {"model": "m", "messages": [_Message(role="assistant", content="hé")]}
    encoded = encode_json(body)
    assert encoded == '{"model":"m","messages":[{"role":"assistant","content":"hé"}]}'.encode()
    assert encode_json(body) == encoded
    with pytest.raises(TypeError, match="object is not JSON serializable"):
        encode_json({"x": object()})


@pytest.mark.parametrize(
    ("status", "body", "cls", "code"),
    [
        (
            429,
            {"error": [{"code": 2003, "message": "Rate limited"}], "internalCode": 2003},
            GatewayRateLimitError,
            2003,
        ),
        (503, {"error": {"message": "upstream down"}}, ProviderUnavailableError, None),
    ],
)
def test_error_from_httpx(status: int, body: Any, cls: type, code: int | None) -> None:
    response = httpx.Response(
        status, headers={"cf-aig-log-id": "log-9"}, content=json.dumps(body).encode()
    )
    err = error_from_httpx(response)
    assert type(err) is cls
    assert (err.status_code, err.code, err.log_id) == (status, code, "log-9")
    assert "log-9" in str(err)
