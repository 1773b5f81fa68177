"""The one error boundary of the LiteLLM handler, on every call path."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from langchain_cf_gateway.core import (
    GatewayError,
    GatewayRateLimitError,
    GatewayTimeoutError,
    InvalidResponseError,
)

from .conftest import CALL, EMBEDDING_MODEL, HELLO, MODEL, MockGateway, delta, sse


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


# --------------------------------------------------------------------------- every path

PATHS = ["completion", "acompletion", "stream", "astream", "embedding", "aembedding"]


def _call(litellm: Any, path: str) -> Any:
    kw: dict[str, Any] = {"num_retries": 0, **CALL}
    if path.endswith("embedding"):
        kw |= {"model": EMBEDDING_MODEL, "input": ["alpha"]}
        if path == "embedding":
            return litellm.embedding(**kw)
        return asyncio.run(litellm.aembedding(**kw))
    kw |= {"model": MODEL, "messages": HELLO}
    if path == "completion":
        return litellm.completion(**kw)
    if path == "stream":
        return list(litellm.completion(stream=True, **kw))
    if path == "acompletion":
        return asyncio.run(litellm.acompletion(**kw))

    async def astream() -> list[Any]:
        return [c async for c in await litellm.acompletion(stream=True, **kw)]

    return asyncio.run(astream())


class _Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A 200 body that breaks after its first bytes with `fault`."""

    def __init__(self, first: bytes, fault: Exception) -> None:
        self._first, self._fault = first, fault

    def __iter__(self) -> Iterator[bytes]:
        yield self._first
        raise self._fault

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._first
        raise self._fault


def _broken_body(fault: type[httpx.TransportError]) -> Any:
    def respond(request: httpx.Request) -> httpx.Response:
        stream = json.loads(request.content).get("stream")
        first = sse(delta("Hel")) if stream else b'{"id": "chatcmpl-1", "choi'
        headers = {"cf-aig-log-id": "01CUT"}
        return httpx.Response(
            200, headers=headers, stream=_Body(first, fault("x", request=request))
        )

    return respond


def _raises(fault: type[httpx.TransportError]) -> Any:
    def respond(request: httpx.Request) -> httpx.Response:
        raise fault("no response", request=request)

    return respond


def _status(status: int) -> Any:
    def respond(request: httpx.Request) -> httpx.Response:
        body = {"error": [{"code": 2003, "message": "Rate limited"}]} if status == 429 else {}
        return httpx.Response(status, json=body, headers={"cf-aig-log-id": "01ERR"})

    return respond


def _not_json(request: httpx.Request) -> httpx.Response:
    if json.loads(request.content).get("stream"):
        return httpx.Response(
            200, content=sse("data: {not json"), headers={"cf-aig-log-id": "01NJ"}
        )
    return httpx.Response(200, content=b"<html>oops</html>", headers={"cf-aig-log-id": "01NJ"})


# What each failure becomes, the same on every path: (respond, LiteLLM's class name, core's).
FAULTS: dict[str, tuple[Any, str, type[GatewayError] | None]] = {
    "read timeout before the response": (
        _raises(httpx.ReadTimeout),
        "Timeout",
        GatewayTimeoutError,
    ),
    "connect timeout": (_raises(httpx.ConnectTimeout), "Timeout", GatewayTimeoutError),
    "read timeout in the body": (_broken_body(httpx.ReadTimeout), "Timeout", GatewayTimeoutError),
    "body cut off": (
        _broken_body(httpx.RemoteProtocolError),
        "BadGatewayError",
        InvalidResponseError,
    ),
    "body that is not JSON": (_not_json, "BadGatewayError", InvalidResponseError),
    "HTTP 429": (_status(429), "RateLimitError", GatewayRateLimitError),
    "connection refused": (_raises(httpx.ConnectError), "APIConnectionError", None),
}


@pytest.fixture
def gateway_of(litellm_mod: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Install a handler whose clients talk to a mock gateway responding with `respond`."""
    from langchain_cf_gateway.litellm_provider import PROVIDER, CloudflareGatewayLLM

    def install(respond: Any) -> CloudflareGatewayLLM:
        gateway = MockGateway(respond)
        handler = CloudflareGatewayLLM(
            transport=httpx.MockTransport(gateway.handle),
            async_transport=httpx.MockTransport(gateway.handle),
        )
        entry = {"provider": PROVIDER, "custom_handler": handler}
        monkeypatch.setattr(litellm_mod, "custom_provider_map", [entry])
        return handler

    return install


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("fault", list(FAULTS))
def test_the_boundary_maps_each_failure_the_same_on_every_path(
    litellm_mod: Any, gateway_of: Any, path: str, fault: str
) -> None:
    from langchain_cf_gateway.litellm_provider import gateway_error

    respond, litellm_class, core_class = FAULTS[fault]
    gateway_of(respond)
    with pytest.raises(Exception) as info:
        _call(litellm_mod, path)
    chain = _chain(info.value)
    assert litellm_class in chain, chain
    typed = gateway_error(info.value)
    if core_class is None:
        assert typed is None
    else:
        assert type(typed) is core_class, (typed, chain)


def _chain(exc: BaseException) -> list[str]:
    """The class names of `exc` and of what it wraps (MidStreamFallbackError...)."""
    names: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        names += [c.__name__ for c in type(current).__mro__]
        original = getattr(current, "original_exception", None)
        current = (
            original
            if isinstance(original, BaseException)
            else current.__cause__ or current.__context__
        )
    return names


# --------------------------------------------------------------------------- stream error events


def _error_event(error: Any, after_content: bool) -> Any:
    def respond(request: httpx.Request) -> httpx.Response:
        events = [delta("Hel")] if after_content else []
        body = sse(*events, {"error": error})
        return httpx.Response(200, content=body, headers={"cf-aig-log-id": "01EV"})

    return respond


@pytest.mark.parametrize("path", ["stream", "astream"])
@pytest.mark.parametrize("after_content", [False, True], ids=["first-event", "after-content"])
@pytest.mark.parametrize(
    ("error", "code"),
    [
        ({"message": "boom"}, None),
        ({"message": "no response", "code": 2005}, 2005),
        ([{"code": 2005, "message": "no response"}], 2005),
    ],
    ids=["message-only", "object-with-code", "list-with-code"],
)
def test_an_error_event_in_a_stream_keeps_its_code_and_log_id(
    litellm_mod: Any, gateway_of: Any, path: str, after_content: bool, error: Any, code: Any
) -> None:
    from langchain_cf_gateway.litellm_provider import gateway_error

    gateway_of(_error_event(error, after_content))
    with pytest.raises(Exception) as info:
        _call(litellm_mod, path)
    typed = gateway_error(info.value)
    assert isinstance(typed, GatewayError), _chain(info.value)
    assert (typed.code, typed.log_id) == (code, "01EV")


_V4_ERROR = {"success": False, "errors": [{"code": 2003, "message": "Rate limited"}]}


def _v4_event(after_content: bool) -> Any:
    def respond(request: httpx.Request) -> httpx.Response:
        events = [delta("Hel")] if after_content else []
        body = sse(*events, _V4_ERROR)
        return httpx.Response(200, content=body, headers={"cf-aig-log-id": "01EV"})

    return respond


@pytest.mark.parametrize("path", ["stream", "astream"])
@pytest.mark.parametrize("after_content", [False, True], ids=["first-event", "after-content"])
def test_a_v4_error_event_in_a_stream_keeps_its_code_and_log_id(
    litellm_mod: Any, gateway_of: Any, path: str, after_content: bool
) -> None:
    from langchain_cf_gateway.litellm_provider import gateway_error

    gateway_of(_v4_event(after_content))
    with pytest.raises(Exception) as info:
        _call(litellm_mod, path)
    typed = gateway_error(info.value)
    assert isinstance(typed, GatewayError), _chain(info.value)
    assert (typed.code, typed.status_code, typed.log_id) == (2003, 429, "01EV")


@pytest.mark.parametrize(
    ("body", "code", "status", "text"),
    [
        ({"error": {"message": "Overloaded", "type": "server_error"}}, None, 500, "Overloaded"),
        (_V4_ERROR, 2003, 429, "Rate limited"),
    ],
    ids=["provider-error-object", "v4-errors"],
)
@pytest.mark.parametrize("path", ["completion", "acompletion", "embedding"])
def test_a_200_body_that_is_an_error_is_that_error(
    litellm_mod: Any,
    gateway_of: Any,
    path: str,
    body: dict[str, Any],
    code: int | None,
    status: int,
    text: str,
) -> None:
    from langchain_cf_gateway.litellm_provider import gateway_error

    gateway_of(lambda request: httpx.Response(200, json=body, headers={"cf-aig-log-id": "01EV"}))
    with pytest.raises(Exception) as info:
        _call(litellm_mod, path)
    typed = gateway_error(info.value)
    assert isinstance(typed, GatewayError) and not isinstance(typed, InvalidResponseError)
    assert (typed.code, typed.status_code, typed.log_id) == (code, status, "01EV")
    assert text in str(typed)
