"""Client side: an error body that echoes credentials never puts them in what a user sees.

A hostile (or merely chatty) gateway or provider answers with a body that repeats the
provider key, the gateway token and other key-shaped strings. On every client path the
exception the caller gets (its text, repr, chain, ``body``, ``response`` and ``request``)
and the log records of the call show them masked.
"""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from langchain_cf_gateway import ChatCloudflareGateway, CloudflareGatewayEmbeddings
from langchain_cf_gateway.management import AsyncGatewayClient, GatewayClient

from .client_helpers import (
    HostileServer,
    gateway_kwargs,
    hostile_server,
    litellm_kwargs,
    litellm_registered,
)

PROVIDER_KEY = "sk-proj-SECRETprovider0123456789abcdefXYZ"
GATEWAY_TOKEN = "cfgwTOKENsecret_0123456789abcdefghijKLMN"
OTHER_OPENAI_KEY = "sk-live-otherKEY9876543210zyxwvu"
GOOGLE_KEY = "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW"
BEARER_VALUE = "someOpaqueBearerValue123456789"
SECRETS = (PROVIDER_KEY, GATEWAY_TOKEN, OTHER_OPENAI_KEY, GOOGLE_KEY, BEARER_VALUE)


def _echo_text() -> str:
    return (
        f"Incorrect API key provided: {PROVIDER_KEY}. You sent cf-aig-authorization: "
        f"Bearer {GATEWAY_TOKEN} and Authorization: Bearer {BEARER_VALUE}; "
        f"also seen {OTHER_OPENAI_KEY} and {GOOGLE_KEY}"
    )


BODIES: dict[str, tuple[int, bytes, str]] = {
    "provider-401": (
        401,
        json.dumps({"error": {"message": _echo_text(), "type": "invalid_request_error"}}).encode(),
        "application/json",
    ),
    "gateway-2009": (
        401,
        json.dumps(
            {
                "success": False,
                "result": [],
                "messages": [],
                "error": [{"code": 2009, "message": _echo_text()}],
            }
        ).encode(),
        "application/json",
    ),
    "text-500": (500, _echo_text().encode(), "text/plain"),
    "broken-200": (200, ("<html>" + _echo_text()).encode(), "text/html"),
}


@pytest.fixture(params=sorted(BODIES))
def echo_server(request: pytest.FixtureRequest) -> Iterator[HostileServer]:
    status, body, content_type = BODIES[request.param]
    yield from hostile_server(lambda h: h.answer(status, body, {"content-type": content_type}))


def _texts(exc: BaseException) -> list[str]:
    """Everything a user can print from an exception: its chain and exposed attributes."""
    texts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args)]
        for name, value in vars(current).items():
            if isinstance(value, httpx.Response):
                texts.append(value.content.decode("utf-8", "replace") if _read(value) else "")
                texts.append(repr(dict(value.request.headers)))
                texts.append(str(value.request.url))
            elif isinstance(value, httpx.Request):
                texts.append(repr(dict(value.headers)))
                texts.append(str(value.url))
            elif isinstance(value, BaseException):
                todo.append(value)
            else:
                texts.append(f"{name}={value!r}")
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                todo.append(linked)
    return texts


def _read(response: httpx.Response) -> bool:
    try:
        response.content  # noqa: B018
    except httpx.ResponseNotRead:
        return False
    return True


def _assert_masked(exc: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    texts = _texts(exc) + [r.getMessage() for r in caplog.records]
    texts += [r.exc_text or "" for r in caplog.records]
    leaked = sorted({s for s in SECRETS for t in texts if s in t})
    assert not leaked, f"credentials in what the caller sees: {leaked}"
    # The error is still useful: it says what went wrong, with the key masked.
    assert str(exc)


def _capture(call: Callable[[], Any], caplog: pytest.LogCaptureFixture) -> BaseException:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Exception) as info:
        call()
    return info.value


def _chat(server: HostileServer) -> ChatCloudflareGateway:
    return ChatCloudflareGateway(
        model="openai/gpt-4o-mini",
        api_key=PROVIDER_KEY,
        gateway_token=GATEWAY_TOKEN,
        max_retries=0,
        **gateway_kwargs(server),
    )


CHAT_PATHS: dict[str, Callable[[ChatCloudflareGateway], Any]] = {
    "invoke": lambda m: m.invoke("hi"),
    "ainvoke": lambda m: asyncio.run(m.ainvoke("hi")),
    "stream": lambda m: list(m.stream("hi")),
    "astream": lambda m: asyncio.run(_drain(m.astream("hi"))),
}


async def _drain(stream: Any) -> list[Any]:
    return [chunk async for chunk in stream]


@pytest.mark.parametrize("path", sorted(CHAT_PATHS))
def test_chat_model_errors_mask_echoed_credentials(
    path: str, echo_server: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    model = _chat(echo_server)
    exc = _capture(lambda: CHAT_PATHS[path](model), caplog)
    _assert_masked(exc, caplog)


def test_chat_model_with_fallbacks_masks_the_step_key(
    echo_server: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    model = ChatCloudflareGateway(
        model="openai/gpt-4o-mini",
        fallbacks=["anthropic/claude-3-5-haiku-latest"],
        api_key=PROVIDER_KEY,
        gateway_token=GATEWAY_TOKEN,
        max_retries=0,
        **gateway_kwargs(echo_server),
    )
    exc = _capture(lambda: model.invoke("hi"), caplog)
    _assert_masked(exc, caplog)


@pytest.mark.parametrize("sync", [True, False], ids=["embed", "aembed"])
def test_embeddings_errors_mask_echoed_credentials(
    sync: bool, echo_server: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    embeddings = CloudflareGatewayEmbeddings(
        model="openai/text-embedding-3-small",
        api_key=PROVIDER_KEY,
        gateway_token=GATEWAY_TOKEN,
        max_retries=0,
        **gateway_kwargs(echo_server),
    )
    call = (
        (lambda: embeddings.embed_query("hi"))
        if sync
        else (lambda: asyncio.run(embeddings.aembed_query("hi")))
    )
    _assert_masked(_capture(call, caplog), caplog)


LITELLM_PATHS = ("completion", "acompletion", "stream", "astream", "embedding")


@pytest.mark.parametrize("path", LITELLM_PATHS)
def test_litellm_errors_mask_echoed_credentials(
    path: str, echo_server: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    litellm = litellm_registered()
    kwargs = litellm_kwargs(echo_server, api_key=PROVIDER_KEY, gateway_token=GATEWAY_TOKEN)
    kwargs["num_retries"] = 0
    messages = [{"role": "user", "content": "hi"}]
    model = "cloudflare-ai-gateway/openai/gpt-4o-mini"

    def call() -> Any:
        if path == "completion":
            return litellm.completion(model=model, messages=messages, **kwargs)
        if path == "acompletion":
            return asyncio.run(litellm.acompletion(model=model, messages=messages, **kwargs))
        if path == "stream":
            return list(litellm.completion(model=model, messages=messages, stream=True, **kwargs))
        if path == "astream":

            async def go() -> list[Any]:
                stream = await litellm.acompletion(
                    model=model, messages=messages, stream=True, **kwargs
                )
                return [c async for c in stream]

            return asyncio.run(go())
        return litellm.embedding(
            model="cloudflare-ai-gateway/openai/text-embedding-3-small", input=["hi"], **kwargs
        )

    _assert_masked(_capture(call, caplog), caplog)


@pytest.mark.parametrize("sync", [True, False], ids=["GatewayClient", "AsyncGatewayClient"])
def test_management_client_errors_mask_echoed_credentials(
    sync: bool, echo_server: HostileServer, caplog: pytest.LogCaptureFixture
) -> None:
    kwargs = gateway_kwargs(echo_server, api_token=GATEWAY_TOKEN, max_retries=0)

    def call() -> Any:
        if sync:
            with GatewayClient(**kwargs) as client:
                return client.get_log("01JLOGID")

        async def go() -> Any:
            async with AsyncGatewayClient(**kwargs) as client:
                return await client.get_log("01JLOGID")

        return asyncio.run(go())

    _assert_masked(_capture(call, caplog), caplog)
