"""Failures below HTTP map through `core.codec.error_from_transport`, sync and async alike.

| What failed | The client raises |
|---|---|
| a timeout (connect, read, write, pool), before the response or in its body | `GatewayTimeoutError` (408, retryable), chained from httpx's |
| the body cut off once the response began | `InvalidResponseError` with the status and log id |
| no response at all (connection refused, DNS) | httpx's own `ConnectError`, the token never in it |

Reads are sent again first (`max_retries`); writes never are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from langchain_cf_gateway.core import GatewayTimeoutError, InvalidResponseError

from .conftest import MODES, TOKEN, call, envelope

TIMEOUTS = [httpx.ConnectTimeout, httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout]


def _failing(exc_type: type[httpx.TransportError], seen: list[httpx.Request]) -> object:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise exc_type(f"{exc_type.__name__} from the transport", request=request)

    return handler


class _CutStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that stops half-way, as when the server closes the connection mid-body."""

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"success":true,"result":[{"id":"a"},'
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"success":true,"result":[{"id":"a"},'
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("exc_type", TIMEOUTS, ids=[t.__name__ for t in TIMEOUTS])
def test_a_timeout_is_a_gateway_timeout_after_the_retries(
    mode: str, exc_type: type[httpx.TimeoutException], waits: list[float]
) -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(GatewayTimeoutError) as err:
        call(mode, _failing(exc_type, seen), "list_logs", max_retries=2)  # type: ignore[arg-type]
    assert (err.value.status_code, err.value.retryable) == (408, True)
    assert isinstance(err.value.__cause__, exc_type)
    assert exc_type.__name__ in str(err.value) and TOKEN not in str(err.value)
    assert len(seen) == 3 and waits == [0.5, 1.0]


@pytest.mark.parametrize("mode", MODES)
def test_a_write_that_timed_out_is_never_sent_again(mode: str, waits: list[float]) -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(GatewayTimeoutError):
        call(
            mode,
            _failing(httpx.ReadTimeout, seen),  # type: ignore[arg-type]
            "update_log",
            "log-1",
            feedback=1,
            max_retries=2,
        )
    assert [r.method for r in seen] == ["PATCH"] and waits == []


@pytest.mark.parametrize("mode", MODES)
def test_a_body_cut_off_is_an_invalid_response_with_status_and_log_id(
    mode: str, waits: list[float]
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"cf-aig-log-id": "log-cut"}, stream=_CutStream())

    with pytest.raises(InvalidResponseError) as err:
        call(mode, handler, "list_logs", max_retries=1)
    assert (err.value.status_code, err.value.log_id) == (200, "log-cut")
    assert "cut off" in str(err.value) and TOKEN not in str(err.value)
    assert isinstance(err.value.__cause__, httpx.RemoteProtocolError)
    assert len(seen) == 2 and waits == [0.5]  # a read: sent again once


@pytest.mark.parametrize("mode", MODES)
def test_no_response_at_all_leaves_httpx_connect_error(mode: str, waits: list[float]) -> None:
    seen: list[httpx.Request] = []
    with pytest.raises(httpx.ConnectError) as err:
        call(mode, _failing(httpx.ConnectError, seen), "list_logs", max_retries=1)  # type: ignore[arg-type]
    assert TOKEN not in str(err.value)
    assert len(seen) == 2 and waits == [0.5]


@pytest.mark.parametrize("mode", MODES)
def test_a_retry_after_a_timeout_returns_the_second_response(mode: str, waits: list[float]) -> None:
    responses = iter([None, envelope([{"id": "log-1"}], page=1, per_page=20, total_count=1)])

    def handler(request: httpx.Request) -> httpx.Response:
        response = next(responses)
        if response is None:
            raise httpx.ReadTimeout("slow", request=request)
        return response

    page = call(mode, handler, "list_logs", max_retries=1)
    assert [e.id for e in page] == ["log-1"] and waits == [0.5]
