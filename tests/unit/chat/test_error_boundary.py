"""The error boundary, once for every call path: chat and embeddings, sync and async, streams.

Each fault the gateway or the network can produce becomes the same core error on every
path, which is also the OpenAI SDK's class for its status or kind, carries the log id of
the response (when one came) and never shows the provider key.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from langchain_cf_gateway import ChatCloudflareGateway, CloudflareGatewayEmbeddings
from langchain_cf_gateway import embeddings as embeddings_module
from langchain_cf_gateway._openai_sdk import http_clients
from langchain_cf_gateway.core import (
    GatewayError,
    GatewayRateLimitError,
    GatewayTimeoutError,
    InvalidResponseError,
    ProviderError,
    ProviderUnavailableError,
)
from langchain_cf_gateway.core.protocol import ERROR_STATUS, ErrorCode

from .scripted import (
    LOG_ID,
    Script,
    completion_body,
    embeddings_body,
    respond,
    sse_events,
    transports,
)

SECRET = "sk-unit-provider-key-0123456789"
"""The provider key every model sends; echoed by every faulty body, never in an error."""

_ERROR_BODY = {"error": {"message": f"Incorrect API key provided: {SECRET}", "type": "e"}}


def _error(status: int) -> Any:
    return respond(status, json.dumps(_ERROR_BODY).encode())


def _timeout(request: httpx.Request) -> Exception:
    return httpx.ReadTimeout("timed out", request=request)


def _reset(request: httpx.Request) -> Exception:
    return httpx.RemoteProtocolError("peer closed connection", request=request)


def _half(path: str) -> list[bytes]:
    """The first half of a good body of `path`, as a stream (or not) would send it."""
    if path in ("stream", "astream"):
        return sse_events(["Hel", "lo"])
    body = embeddings_body() if path.startswith(("embed", "aembed")) else completion_body()
    return [body[: len(body) // 2]]


def _content_type(path: str) -> str:
    return "text/event-stream" if path in ("stream", "astream") else "application/json"


def _not_json(path: str) -> Any:
    if path in ("stream", "astream"):
        return respond(
            200, [b"data: {not json " + SECRET.encode() + b"\n\n"], content_type=_content_type(path)
        )
    return respond(200, b"<html>" + SECRET.encode() + b"</html>")


# fault -> (step of the script for a path, core class, SDK class, status, log id expected)
FAULTS: dict[str, tuple[Callable[[str], Any], type[Exception], type[Exception], int, bool]] = {
    "429": (lambda path: _error(429), GatewayRateLimitError, openai.RateLimitError, 429, True),
    "502": (
        lambda path: _error(502),
        ProviderUnavailableError,
        openai.InternalServerError,
        502,
        True,
    ),
    "timeout-before-response": (
        lambda path: _timeout(httpx.Request("POST", "http://gateway.test/")),
        GatewayTimeoutError,
        openai.APITimeoutError,
        408,
        False,
    ),
    "timeout-mid-body": (
        lambda path: respond(200, _half(path), content_type=_content_type(path), fail=_timeout),
        GatewayTimeoutError,
        openai.APITimeoutError,
        408,
        True,
    ),
    "cut-off": (
        lambda path: respond(200, _half(path), content_type=_content_type(path), fail=_reset),
        InvalidResponseError,
        openai.APIError,
        200,
        True,
    ),
    "not-json": (_not_json, InvalidResponseError, openai.APIError, 200, True),
    # A 200 that is not what was asked for: a proxy's HTML page (as text/html, which the
    # SDK hands over as text), JSON of another shape, nothing at all. Each is a response
    # that breaks the protocol, never a TypeError, a bare ValueError or an empty result.
    "html-page": (
        lambda path: respond(
            200, b"<html>captive portal " + SECRET.encode() + b"</html>", content_type="text/html"
        ),
        InvalidResponseError,
        openai.APIError,
        200,
        True,
    ),
    "wrong-shape": (
        lambda path: respond(
            200,
            json.dumps({"hello": SECRET}).encode(),
            content_type=_content_type(path)
            if path not in ("stream", "astream")
            else "application/json",
        ),
        InvalidResponseError,
        openai.APIError,
        200,
        True,
    ),
    "empty": (
        lambda path: respond(200, b"", content_type=_content_type(path)),
        InvalidResponseError,
        openai.APIError,
        200,
        True,
    ),
}

CHAT_PATHS = ["invoke", "ainvoke", "stream", "astream", "batch"]
EMBEDDINGS_PATHS = ["embed_documents", "embed_query", "aembed_documents", "aembed_query"]


def _chat(script: Script) -> ChatCloudflareGateway:
    sync_client, async_client = transports(script)
    return ChatCloudflareGateway(
        model="openai/gpt-4o-mini",
        account_id="acct",
        base_url="http://gateway.test",
        api_key=SECRET,
        max_retries=0,
        http_client=sync_client,
        http_async_client=async_client,
    )


def _embeddings(script: Script, monkeypatch: pytest.MonkeyPatch) -> CloudflareGatewayEmbeddings:
    sync_client, async_client = transports(script)
    monkeypatch.setattr(
        embeddings_module,
        "http_clients",
        lambda **_: http_clients(sync_client=sync_client, async_client=async_client),
    )
    return CloudflareGatewayEmbeddings(
        model="openai/text-embedding-3-small",
        account_id="acct",
        base_url="http://gateway.test",
        api_key=SECRET,
        max_retries=0,
    )


def _call(path: str, script: Script, monkeypatch: pytest.MonkeyPatch) -> None:
    if path in EMBEDDINGS_PATHS:
        embeddings = _embeddings(script, monkeypatch)
        if path.startswith("a"):
            asyncio.run(getattr(embeddings, path)(["hi"] if "documents" in path else "hi"))
        else:
            getattr(embeddings, path)(["hi"] if "documents" in path else "hi")
        return
    model = _chat(script)
    if path == "invoke":
        model.invoke("hi")
    elif path == "batch":
        model.batch(["hi"])
    elif path == "stream":
        list(model.stream("hi"))
    elif path == "ainvoke":
        asyncio.run(model.ainvoke("hi"))
    else:

        async def run() -> None:
            async for _ in model.astream("hi"):
                pass

        asyncio.run(run())


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("path", CHAT_PATHS + EMBEDDINGS_PATHS)
def test_every_fault_is_the_same_error_on_every_path(
    path: str, fault: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    step, core_cls, sdk_cls, status, has_log_id = FAULTS[fault]
    script = Script(step(path))

    with pytest.raises(core_cls) as err:
        _call(path, script, monkeypatch)

    assert isinstance(err.value, sdk_cls)
    assert err.value.status_code == status
    assert err.value.log_id == (LOG_ID if has_log_id else None)
    assert SECRET not in str(err.value)
    assert len(script.requests) == 1  # max_retries=0: one request, whatever happened


def test_a_connection_refused_stays_the_sdk_connection_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for path in CHAT_PATHS + EMBEDDINGS_PATHS:
        refused = Script(httpx.ConnectError("refused"))
        with pytest.raises(openai.APIConnectionError) as err:
            _call(path, refused, monkeypatch)
        assert not isinstance(err.value, openai.APITimeoutError), path


def test_a_retry_after_a_response_forgets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # A 503 and then a connection refused: the refusal came before any response, so it is
    # the SDK's connection error, not a response cut off.
    script = Script(_error(503), httpx.ConnectError("refused"))
    sync_client, async_client = transports(script)
    model = ChatCloudflareGateway(
        model="openai/gpt-4o-mini",
        account_id="acct",
        base_url="http://gateway.test",
        max_retries=1,
        http_client=sync_client,
        http_async_client=async_client,
    )
    with pytest.raises(openai.APIConnectionError) as err:
        model.invoke("hi")
    assert not isinstance(err.value, InvalidResponseError)
    assert len(script.requests) == 2


# An error event inside a 200 stream: Cloudflare's shapes (a code in the object, or a list of
# errors) and a provider's (a message only), as the first event or after some content.
_STREAM_ERRORS: dict[str, tuple[dict[str, Any], int | None]] = {
    "message-only": ({"error": {"message": f"boom {SECRET}"}}, None),
    "object-with-code": ({"error": {"message": f"no response {SECRET}", "code": 2005}}, 2005),
    "list-with-code": ({"error": [{"code": 2005, "message": f"no response {SECRET}"}]}, 2005),
}


@pytest.mark.parametrize("after_content", [False, True], ids=["first-event", "after-content"])
@pytest.mark.parametrize("shape", list(_STREAM_ERRORS))
@pytest.mark.parametrize("path", ["stream", "astream"])
def test_an_error_event_in_a_200_stream_is_the_typed_error(
    path: str, shape: str, after_content: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    event, code = _STREAM_ERRORS[shape]
    pieces = sse_events(["Hel", "lo"]) if after_content else []
    pieces.append(f"data: {json.dumps(event)}\n\n".encode())
    script = Script(respond(200, pieces, content_type="text/event-stream"))

    with pytest.raises(GatewayError) as err:
        _call(path, script, monkeypatch)

    assert isinstance(err.value, openai.APIError)
    # The status the code comes with (2005: 400), else a server error: never the 200 of
    # the response, and the same as the LiteLLM handler's.
    assert err.value.status_code == (ERROR_STATUS[ErrorCode(code)] if code else 500)
    assert err.value.log_id == LOG_ID
    assert err.value.code == code
    if code is None:  # a provider's failure mid-stream: a server error, retryable
        assert isinstance(err.value, ProviderUnavailableError) and err.value.retryable
    assert SECRET not in str(err.value)
    assert SECRET not in repr(err.value.body)
    cause = err.value.__cause__
    while cause is not None:
        assert SECRET not in str(cause)
        cause = cause.__cause__
    assert len(script.requests) == 1


def test_an_error_event_with_its_own_status_keeps_it(monkeypatch: pytest.MonkeyPatch) -> None:
    event = {"error": {"message": "slow down", "status": 429}}
    script = Script(
        respond(200, [f"data: {json.dumps(event)}\n\n".encode()], content_type="text/event-stream")
    )
    with pytest.raises(GatewayRateLimitError) as err:
        _call("stream", script, monkeypatch)
    assert isinstance(err.value, openai.APIError)
    assert err.value.status_code == 429
    assert err.value.log_id == LOG_ID


# An error object inside a 2xx response that is not an event the SDK raises for: Cloudflare's
# v4 envelope as a stream event, and a whole 200 body that is an error, not a result.
_V4_EVENT = {"success": False, "errors": [{"code": 2003, "message": f"Rate limited {SECRET}"}]}


@pytest.mark.parametrize("after_content", [False, True], ids=["first-event", "after-content"])
@pytest.mark.parametrize("path", ["stream", "astream"])
def test_a_v4_error_event_in_a_200_stream_keeps_its_code(
    path: str, after_content: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    pieces = sse_events(["Hel", "lo"]) if after_content else []
    pieces.append(f"data: {json.dumps(_V4_EVENT)}\n\n".encode())
    script = Script(respond(200, pieces, content_type="text/event-stream"))
    with pytest.raises(GatewayRateLimitError) as err:
        _call(path, script, monkeypatch)
    assert (err.value.code, err.value.status_code, err.value.log_id) == (2003, 429, LOG_ID)
    assert SECRET not in str(err.value)


@pytest.mark.parametrize(
    ("body", "cls", "code", "status"),
    [
        ({"error": {"message": f"Overloaded {SECRET}", "type": "server_error"}}, None, None, 500),
        (_V4_EVENT, GatewayRateLimitError, 2003, 429),
    ],
    ids=["provider-error-object", "v4-errors"],
)
@pytest.mark.parametrize("path", ["invoke", "ainvoke", "embed_query", "aembed_documents"])
def test_a_200_body_that_is_an_error_is_that_error(
    path: str,
    body: dict[str, Any],
    cls: type[GatewayError] | None,
    code: int | None,
    status: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not "cut off or corrupted": the provider's or gateway's message, code and log id."""
    script = Script(respond(200, json.dumps(body).encode()))
    with pytest.raises(GatewayError) as err:
        _call(path, script, monkeypatch)
    assert not isinstance(err.value, InvalidResponseError)
    assert isinstance(err.value, cls or ProviderError)
    assert (err.value.code, err.value.status_code, err.value.log_id) == (code, status, LOG_ID)
    assert ("Overloaded" if code is None else "Rate limited") in str(err.value)
    assert SECRET not in str(err.value)
