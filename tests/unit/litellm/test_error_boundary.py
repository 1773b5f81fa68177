"""The one error boundary of the LiteLLM handler, on every call path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from langchain_cf_gateway.core import GatewayTimeoutError

from .conftest import CALL, HELLO, MODEL, MockGateway, delta, sse


class _TimesOutMidway(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A stream body that delivers one event, then times out reading the next."""

    def __init__(self, request: httpx.Request) -> None:
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        yield sse(delta("Hel"))
        raise httpx.ReadTimeout("timed out", request=self._request)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield sse(delta("Hel"))
        raise httpx.ReadTimeout("timed out", request=self._request)


def _times_out_midway(request: httpx.Request) -> httpx.Response:
    headers = {"content-type": "text/event-stream", "cf-aig-log-id": "01MID"}
    return httpx.Response(200, headers=headers, stream=_TimesOutMidway(request))


def test_a_read_timeout_in_the_middle_of_a_stream_is_a_gateway_timeout(litellm_mod: Any) -> None:
    from langchain_cf_gateway.litellm_provider import gateway_error

    gateway = MockGateway(_times_out_midway)
    stream = litellm_mod.completion(
        model=MODEL,
        messages=HELLO,
        stream=True,
        num_retries=0,
        client=gateway.sync_client,
        **CALL,
    )
    with pytest.raises(litellm_mod.Timeout) as info:
        for _ in stream:
            pass
    typed = gateway_error(info.value)
    assert isinstance(typed, GatewayTimeoutError)
    assert (typed.status_code, typed.log_id) == (408, "01MID")
