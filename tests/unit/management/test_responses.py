"""Responses read by the sans-I/O base: the v4 envelope, stored bodies and error responses.

Each response comes from an `httpx.MockTransport`, so what is checked is what a user of
either client gets back: the parsed value, or the exception class with its status, code,
log id and a text that never shows the token.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from langchain_cf_gateway.core import (
    GatewayAuthenticationError,
    GatewayError,
    GatewayNotFoundError,
    GatewayRateLimitError,
    InvalidResponseError,
    ProviderUnavailableError,
    ResponseTooLargeError,
)
from langchain_cf_gateway.management import (
    Gateway,
    LogEntry,
    LogNotFoundError,
    LogPage,
    ManagementAuthenticationError,
)

from .conftest import MODES, TOKEN, call, envelope

LOG = {
    "id": "log-1",
    "created_at": "2026-01-02T03:04:05Z",
    "provider": "openai",
    "model": "gpt-4o-mini",
    "tokens_in": 12,
    "tokens_out": 3,
    "metadata": '{"team": "search"}',
    "feedback": 1,
    "a_field_from_2027": "kept",
}


class _Pieces(httpx.SyncByteStream, httpx.AsyncByteStream):
    def __init__(self, body: bytes) -> None:
        self._body = body

    def __iter__(self) -> Iterator[bytes]:
        yield from (self._body[i : i + 64] for i in range(0, len(self._body), 64))

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self:
            yield piece


def _error(status: int, code: int, message: str, **headers: str) -> httpx.Response:
    body = {"success": False, "errors": [{"code": code, "message": message}], "result": None}
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize("mode", MODES)
def test_a_page_of_logs_from_the_envelope(mode: str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return envelope([LOG], page=1, per_page=1, total_count=2, count=1)

    page = call(mode, handler, "list_logs", per_page=1, cached=False)
    assert isinstance(page, LogPage) and page.has_more
    (entry,) = page
    assert (entry.id, entry.log_id, entry.total_tokens) == ("log-1", "log-1", 15)
    assert entry.metadata == {"team": "search"}  # a JSON string in the schema, parsed
    assert entry.model_extra == {"a_field_from_2027": "kept"}
    (request,) = seen
    assert request.url.path == "/client/v4/accounts/acct/ai-gateway/gateways/gw/logs"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.url.params.get_list("filters.key") == ["cached"]


@pytest.mark.parametrize("mode", MODES)
def test_a_stored_body_comes_back_whole_even_when_it_looks_like_an_envelope(mode: str) -> None:
    stored = {"success": True, "result": {"response": "from Workers AI"}, "errors": []}
    page = call(mode, lambda request: httpx.Response(200, json=stored), "get_log_response", "l1")
    assert page == stored
    text = call(mode, lambda request: httpx.Response(200, text="plain"), "get_log_request", "l1")
    assert text == "plain"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("result", "deleted"),
    [({"deleted": 3}, 3), ({"deleted": True}, None), (None, None), ({}, None)],
)
def test_a_delete_says_how_many_when_the_api_does(
    mode: str, result: Any, deleted: int | None
) -> None:
    assert call(mode, lambda request: envelope(result), "delete_logs", cached=True) == deleted


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"<html>proxy error</html>",
        b'{"success":true,"result":[{"id":5}]}',
        b"",
        b'{"hello":"world"}',
        b"[]",
    ],
    ids=["not-json", "html", "wrong-shape", "empty", "other-json", "json-list"],
)
def test_a_2xx_that_is_not_the_envelope_is_an_invalid_response(mode: str, body: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"cf-aig-log-id": "log-x"})

    with pytest.raises(InvalidResponseError) as err:
        call(mode, handler, "list_logs")
    assert (err.value.status_code, err.value.log_id) == (200, "log-x")
    assert "v4 envelope of /client/v4/accounts/acct/ai-gateway/gateways/gw/logs" in str(err.value)
    assert not isinstance(err.value, ValueError)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_is_a_management_authentication_error(mode: str, status: int) -> None:
    echo = f"Invalid token Bearer {TOKEN}"
    with pytest.raises(ManagementAuthenticationError) as err:
        call(mode, lambda request: _error(status, 10000, echo), "list_logs")
    assert isinstance(err.value, GatewayAuthenticationError)
    assert (err.value.status_code, err.value.code) == (status, 10000)
    assert "CLOUDFLARE_API_TOKEN" in str(err.value)
    assert TOKEN not in str(err.value) and TOKEN not in json.dumps(err.value.body)


@pytest.mark.parametrize("mode", MODES)
def test_a_404_is_the_not_found_error_of_what_was_asked(mode: str) -> None:
    def missing(request: httpx.Request) -> httpx.Response:
        return _error(404, 7001, "not found")

    with pytest.raises(LogNotFoundError) as err:
        call(mode, missing, "get_log", "log-1")
    assert err.value.status_code == 404 and "collect_log=False" in str(err.value)
    with pytest.raises(LogNotFoundError):
        call(mode, missing, "update_log", "log-1", feedback=1)
    with pytest.raises(GatewayNotFoundError) as gateway_err:
        call(mode, missing, "get_gateway", "gone")
    assert type(gateway_err.value) is GatewayNotFoundError


@pytest.mark.parametrize("mode", MODES)
def test_other_error_responses_keep_the_cores_classes(mode: str) -> None:
    limited = _error(429, 10000, "Rate limited", **{"retry-after": "120", "cf-aig-log-id": "l9"})
    with pytest.raises(GatewayRateLimitError) as err:
        call(mode, lambda request: limited, "list_logs")
    assert (err.value.retry_after, err.value.log_id) == (120.0, "l9")
    with pytest.raises(ProviderUnavailableError):
        call(mode, lambda request: httpx.Response(502, text="bad gateway"), "list_gateways")


@pytest.mark.parametrize("mode", MODES)
def test_a_body_past_the_cap_is_refused(mode: str) -> None:
    import asyncio

    from langchain_cf_gateway.management import AsyncGatewayClient, GatewayClient

    from .conftest import CONFIG

    def handler(request: httpx.Request) -> httpx.Response:
        # A body that arrives as a stream: what a body read off a socket looks like.
        return httpx.Response(200, stream=_Pieces(envelope(["x" * 1000]).content))

    transport = httpx.MockTransport(handler)
    kw: dict[str, Any] = {"api_token": TOKEN, "max_response_bytes": 100}
    if mode == "sync":
        with (
            GatewayClient(CONFIG, http_client=httpx.Client(transport=transport), **kw) as c,
            pytest.raises(ResponseTooLargeError) as err,
        ):
            c.list_gateways()
    else:

        async def run() -> None:
            async with AsyncGatewayClient(
                CONFIG, http_client=httpx.AsyncClient(transport=transport), **kw
            ) as c:
                await c.list_gateways()

        with pytest.raises(ResponseTooLargeError) as err:
            asyncio.run(run())
    assert err.value.max_bytes == 100 and not err.value.retryable


@pytest.mark.parametrize("mode", MODES)
def test_an_update_sends_back_every_setting_but_the_read_only_ones(mode: str) -> None:
    current = {
        "id": "gw",
        "account_id": "acct",
        "created_at": "2026-01-02T03:04:05Z",
        "cache_ttl": 600,
        "guardrails": {"prompt": {"P1": "BLOCK"}},
        "a_setting_from_2027": [1, 2],
    }
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.method == "GET":
            return envelope(current)
        return envelope({**current, **json.loads(request.content)})

    updated = call(mode, handler, "update_gateway", "gw", rate_limiting_limit=10)
    assert isinstance(updated, Gateway) and updated.rate_limiting_limit == 10
    assert [r.method for r in sent] == ["GET", "PUT"]
    body = json.loads(sent[1].content)
    assert body["guardrails"] == {"prompt": {"P1": "BLOCK"}}
    assert body["a_setting_from_2027"] == [1, 2] and body["cache_ttl"] == 600
    assert not {"id", "account_id", "created_at"} & set(body)


def test_a_log_entry_keeps_a_metadata_string_that_is_not_an_object() -> None:
    assert LogEntry(id="a", metadata="plain").metadata == "plain"
    assert LogEntry(id="a", metadata="[1]").metadata == "[1]"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
ENVELOPES = st.fixed_dictionaries(
    {"success": st.sampled_from([True, False, None, "yes"]), "result": JSON},
    optional={"result_info": JSON, "errors": JSON},
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(status=st.sampled_from([200, 201, 204, 400, 401, 404, 429, 500]), body=ENVELOPES | JSON)
def test_any_json_body_is_a_result_or_a_gateway_error(status: int, body: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=json.dumps(body).encode())

    for method in ("list_logs", "list_gateways", "get_log"):
        args = ("log-1",) if method == "get_log" else ()
        try:
            call("sync", handler, method, *args)
        except GatewayError as err:
            assert err.status_code == status
            assert TOKEN not in str(err)


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=64))
def test_any_bytes_are_a_result_or_a_gateway_error(body: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    try:
        call("sync", handler, "list_logs")
    except InvalidResponseError as err:
        assert err.status_code == 200
