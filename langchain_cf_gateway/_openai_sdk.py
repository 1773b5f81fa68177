"""The OpenAI SDK, set up to talk to the gateway: shared by the chat model and the embeddings.

What the stock SDK set-up gets wrong for a gateway, each solved once here:

- **No provider key, no `Authorization`.** The SDK insists on an API key and reads
  `OPENAI_API_KEY` when given none. Any `Authorization` header stops the gateway from
  injecting a stored key (BYOK) or billing through Unified Billing
  (https://developers.cloudflare.com/ai-gateway/features/unified-billing/), so
  without a key we hand the SDK a placeholder and mark `Authorization` omitted, both on
  the client and on every request (the SDK's own, documented way of dropping a header).
  `OpenAI-Organization` and `OpenAI-Project` (read by the SDK from `OPENAI_ORG_ID`
  and `OPENAI_PROJECT_ID`) are omitted too: nothing of an OpenAI set-up leaks in.
- **Response headers on every path.** The SDK hides them on streams and on the
  structured-output stream
  (https://github.com/langchain-ai/langchain/issues/37421). An httpx response hook copies them into
  the `ResponseCapture` of the call in progress, found through a context variable
  that each call sets around the moment its request is sent. Calls never share a capture.
- **Fallbacks.** The universal endpoint takes a JSON array of steps, not an OpenAI body
  (https://developers.cloudflare.com/ai-gateway/usage/universal/).
  `UniversalTransport` turns the SDK's chat request into that array on its way
  out, so every SDK and LangChain path (tools, parse, beta streams)
  works unchanged.
- **Bounded responses.** The same hook bounds every response body
  (`limit_response`): at most `max_response_bytes` after decompression and, for a
  stream with `stream_timeout`, whole by its deadline. Its errors are raised as the
  core's class *and* the SDK's (`openai.APIError`, `openai.APITimeoutError`); the error
  boundary of every call (`_errors.map_sdk_errors`) does the rest.
- **Retries follow the error table.** The SDK resends every 408, 409, 429 and 5xx
  (`max_retries`); a policy's spend cap is a 429 no resend can pass, and the table in
  `core.error_codes` names the codes that cannot succeed again. The hook reads the body of
  such a response (an error body: small) and sets the SDK's own `x-should-retry: false`
  on it when `GatewayError.retryable` says so.
- **Connection pools.** Models share their httpx clients (building one costs more than
  the rest of a model); the async one keeps a pool per event loop (`PerLoopTransport`)
  so a model survives successive `asyncio.run` calls.
- **A user's own client stays as it is.** With `http_client=`, the model sends through a
  client of its own (our hooks, the user's headers and timeout) whose transport hands each
  request to the user's client (`ThroughClient`): the user's transport, proxies, auth and
  hooks apply, and the user's client is never changed.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, Final
from weakref import WeakKeyDictionary

import httpx
import openai

from ._errors import as_sdk_error
from .core import ConfigError, UniversalRoute, error_from_response
from .core.body_limit import ACCEPT_ENCODING, MAX_RESPONSE_BYTES, limit_response

PROVIDER_KEY_ENV: Final = "CLOUDFLARE_AI_GATEWAY_PROVIDER_KEY"
"""The provider key's variable: read when `api_key` is not given, and its secret id in
serialized models (`lc_secrets`). `OPENAI_API_KEY` is never read."""

NO_PROVIDER_KEY: Final = "cf-aig-no-provider-key"
"""What the SDK gets as its API key when there is none. Never sent: the header is omitted."""

OMIT_AUTHORIZATION: Final[Mapping[str, Any]] = {"Authorization": openai.omit}
"""Per-request headers that drop the SDK's `Authorization` (its validation wants to see it)."""


# --------------------------------------------------------------------------- capture


class ResponseCapture:
    """One call's response headers (filled in by the httpx hook) and its body bounds."""

    __slots__ = ("headers", "max_bytes", "ref", "started", "status", "stream_timeout")

    def __init__(
        self, *, max_bytes: int = MAX_RESPONSE_BYTES, stream_timeout: float | None = None
    ) -> None:
        self.headers: httpx.Headers | None = None
        """The headers of the response of the last request sent; None before it comes."""
        self.status: int | None = None
        """The status of that response; None before it comes."""
        self.ref: Any = None
        """The `ModelRef` of a per-call model override."""
        self.max_bytes = max_bytes
        """The cap of the response's body (`max_response_bytes`)."""
        self.stream_timeout = stream_timeout
        """Seconds the whole response may take, counted from `started`; None: no deadline."""
        self.started = time.monotonic()


CURRENT_CAPTURE: ContextVar[ResponseCapture | None] = ContextVar(
    "cf_aig_response_capture", default=None
)
"""The capture of the call whose request is being sent in this context, if any."""


@contextmanager
def sending(capture: ResponseCapture) -> Iterator[ResponseCapture]:
    """Make `capture` the one the hooks fill in while the block sends a request.

    Args:
        capture: The call's capture.

    Yields:
        `capture`.
    """
    token = CURRENT_CAPTURE.set(capture)
    try:
        yield capture
    finally:
        CURRENT_CAPTURE.reset(token)


def _forget(request: httpx.Request) -> None:
    # A retry starts afresh: a connection refused after a 503 happened before a response.
    capture = CURRENT_CAPTURE.get()
    if capture is not None:
        capture.headers = capture.status = None


async def _aforget(request: httpx.Request) -> None:
    _forget(request)


def _capture(response: httpx.Response) -> None:
    # The capture object is mutated, never the variable: a hook that runs in a copied
    # context (asyncio.wait_for wraps a task) still fills in the caller's capture.
    capture = CURRENT_CAPTURE.get()
    if capture is not None:
        capture.headers = response.headers
        capture.status = response.status_code
    # Before the SDK reads a byte of the body: bound it (size, and a stream's deadline).
    limit_response(
        response,
        max_bytes=capture.max_bytes if capture is not None else MAX_RESPONSE_BYTES,
        timeout_s=capture.stream_timeout if capture is not None else None,
        started=capture.started if capture is not None else None,
        deadline_setting="stream_timeout",
        map_error=as_sdk_error,
    )


def _on_response(response: httpx.Response) -> None:
    _capture(response)
    if _sdk_resends(response.status_code):
        response.read()
        _mark_final(response)


async def _aon_response(response: httpx.Response) -> None:
    _capture(response)
    if _sdk_resends(response.status_code):
        await response.aread()
        _mark_final(response)


def _sdk_resends(status: int) -> bool:
    """Whether the OpenAI SDK resends a response of this status (`_should_retry`)."""
    return status in (408, 409, 429) or status >= 500


def _mark_final(response: httpx.Response) -> None:
    """Tell the SDK not to resend an error the table calls final (`x-should-retry: false`)."""
    if not error_from_response(response.status_code, response.headers, response.content).retryable:
        response.headers["x-should-retry"] = "false"


_HOOKS: Final[Mapping[str, list[Callable[..., Any]]]] = {
    "request": [_forget],
    "response": [_on_response],
}
_ASYNC_HOOKS: Final[Mapping[str, list[Callable[..., Any]]]] = {
    "request": [_aforget],
    "response": [_aon_response],
}


# --------------------------------------------------------------------------- fallbacks


def _universal_request(request: httpx.Request, route: UniversalRoute) -> httpx.Request:
    """The SDK's OpenAI-style request re-addressed to the universal endpoint.

    https://developers.cloudflare.com/ai-gateway/usage/universal/
    """
    query = json.loads(request.content)
    body = json.dumps(route.body(query), separators=(",", ":")).encode()
    headers = httpx.Headers(request.headers)
    for name in ("content-length", "authorization"):
        # The provider key of a fallback chain travels in each step's headers instead.
        headers.pop(name, None)
    return httpx.Request(
        request.method,
        httpx.URL(route.url, params=request.url.params),
        headers=headers,
        content=body,
        extensions=request.extensions,
    )


class UniversalTransport(httpx.BaseTransport):
    """Sends every request of its client to the universal endpoint of one fallback chain."""

    def __init__(self, route: UniversalRoute, inner: httpx.BaseTransport) -> None:
        self._route = route
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(_universal_request(request, self._route))

    def close(self) -> None:
        self._inner.close()


class AsyncUniversalTransport(httpx.AsyncBaseTransport):
    """The async twin of `UniversalTransport`."""

    def __init__(self, route: UniversalRoute, inner: httpx.AsyncBaseTransport) -> None:
        self._route = route
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(_universal_request(request, self._route))

    async def aclose(self) -> None:
        await self._inner.aclose()


# --------------------------------------------------------------------------- clients


def client_headers(
    route_headers: Mapping[str, str],
    *,
    omit_authorization: bool,
    organization: str | None = None,
    user_headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Default headers of the SDK clients: the route's, the user's, and what to drop."""
    headers: dict[str, Any] = {"OpenAI-Project": openai.omit}
    if organization is None:
        headers["OpenAI-Organization"] = openai.omit
    if user_headers:
        headers.update(user_headers)
    headers.update(route_headers)
    if omit_authorization and not any(k.lower() == "authorization" for k in headers):
        headers.update(OMIT_AUTHORIZATION)
    return headers


def http_clients(
    *,
    universal: UniversalRoute | None = None,
    proxy: str | None = None,
    sync_client: httpx.Client | None = None,
    async_client: httpx.AsyncClient | None = None,
) -> tuple[httpx.Client, httpx.AsyncClient]:
    """The httpx clients of one model, with the capture hooks (and the fallback transport).

    Models without fallbacks share one pair of clients per proxy and trusted certificates
    (`SSL_CERT_FILE`, `SSL_CERT_DIR`, which httpx reads as it builds a client), as
    langchain-openai's default clients are shared: building a client (its TLS context) costs far more than
    the rest of a model, and the hooks keep no state of their own.

    A user's own client (`sync_client`, `async_client`) is never changed: the model gets a
    client of its own, with our hooks and the user's headers, cookies, query parameters and
    timeout, whose transport (`ThroughClient`) sends each request with the user's
    `client.send`, so the user's transport, proxies, auth, redirects and hooks all apply.

    Redirects are not followed by our clients: the gateway never redirects, and a redirect
    to another host would carry `cf-aig-authorization` along (httpx strips only
    `Authorization`).

    Args:
        universal: The fallback chain, whose requests go to the universal endpoint.
        proxy: The proxy URL of the shared clients (`openai_proxy`).
        sync_client: The user's `http_client`, if any.
        async_client: The user's `http_async_client`, if any.

    Returns:
        The sync and the async client to hand to the SDK.

    Raises:
        ConfigError: A user's client together with fallbacks.
    """
    if universal is not None and (sync_client is not None or async_client is not None):
        raise ConfigError(
            "fallbacks send requests through the model's own HTTP client; drop http_client / "
            "http_async_client (use timeout=, max_retries= or openai_proxy= instead)"
        )
    if sync_client is not None:
        sync = _sync_client(transport=ThroughClient(sync_client), **_settings_of(sync_client))
    elif universal is None:
        sync = _shared_sync_client(proxy, _trust())
    else:
        transport = httpx.HTTPTransport(proxy=proxy, limits=openai.DEFAULT_CONNECTION_LIMITS)
        sync = _sync_client(transport=UniversalTransport(universal, transport))
    if async_client is not None:
        asynchronous = _async_client(
            transport=AsyncThroughClient(async_client), **_settings_of(async_client)
        )
    elif universal is None:
        asynchronous = _shared_async_client(proxy, _trust())
    else:
        asynchronous = _async_client(
            transport=AsyncUniversalTransport(universal, PerLoopTransport(proxy))
        )
    return sync, asynchronous


def _settings_of(client: httpx.Client | httpx.AsyncClient) -> dict[str, Any]:
    """What a user's client adds to the requests it builds, for ours to add the same."""
    return {
        "headers": client.headers,
        "cookies": client.cookies,
        "params": client.params,
        "timeout": client.timeout,
    }


class ThroughClient(httpx.BaseTransport):
    """Sends each request with a user's `httpx.Client`, which it never changes nor closes."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` with the user's client, as a stream (our client reads it).

        Args:
            request: The request our client built.

        Returns:
            The user's client's response, its body unread.
        """
        return self._client.send(request, stream=True)

    def close(self) -> None:
        """Leave the user's client open: it is the user's to close."""


class AsyncThroughClient(httpx.AsyncBaseTransport):
    """The async twin of `ThroughClient`, for a user's `httpx.AsyncClient`."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send `request` with the user's client, as a stream (our client reads it).

        Args:
            request: The request our client built.

        Returns:
            The user's client's response, its body unread.
        """
        return await self._client.send(request, stream=True)

    async def aclose(self) -> None:
        """Leave the user's client open: it is the user's to close."""


def _sync_client(**kwargs: Any) -> httpx.Client:
    settings: dict[str, Any] = {
        "timeout": openai.DEFAULT_TIMEOUT,
        "headers": {"accept-encoding": ACCEPT_ENCODING},
        **kwargs,
    }
    return httpx.Client(
        limits=openai.DEFAULT_CONNECTION_LIMITS,
        follow_redirects=False,
        event_hooks={k: list(v) for k, v in _HOOKS.items()},
        **settings,
    )


def _async_client(**kwargs: Any) -> httpx.AsyncClient:
    settings: dict[str, Any] = {
        "timeout": openai.DEFAULT_TIMEOUT,
        "headers": {"accept-encoding": ACCEPT_ENCODING},
        **kwargs,
    }
    return httpx.AsyncClient(
        limits=openai.DEFAULT_CONNECTION_LIMITS,
        follow_redirects=False,
        event_hooks={k: list(v) for k, v in _ASYNC_HOOKS.items()},
        **settings,
    )


def _trust() -> tuple[str | None, str | None]:
    """The certificates httpx trusts, read from the environment as a client is built."""
    return os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")


@lru_cache(maxsize=8)
def _shared_sync_client(proxy: str | None, trust: tuple[str | None, str | None]) -> httpx.Client:
    return _sync_client(proxy=proxy)


@lru_cache(maxsize=8)
def _shared_async_client(
    proxy: str | None, trust: tuple[str | None, str | None]
) -> httpx.AsyncClient:
    return _async_client(transport=PerLoopTransport(proxy))


class PerLoopTransport(httpx.AsyncBaseTransport):
    """One connection pool per event loop, so a model outlives `asyncio.run`.

    A pooled connection belongs to the loop that opened it; reused from another loop it
    fails with "Event loop is closed" (what a shared `ChatOpenAI` does across
    `asyncio.run` calls or per-test loops). Pools of finished loops go with the loop.
    """

    def __init__(self, proxy: str | None = None) -> None:
        self._proxy = proxy
        self._pools: WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncHTTPTransport] = (
            WeakKeyDictionary()
        )

    def _pool(self) -> httpx.AsyncHTTPTransport:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None:
            pool = httpx.AsyncHTTPTransport(
                proxy=self._proxy, limits=openai.DEFAULT_CONNECTION_LIMITS
            )
            self._pools[loop] = pool
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._pool().handle_async_request(request)

    async def aclose(self) -> None:
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.aclose()


def sdk_clients(
    *,
    base_url: str,
    api_key: str | None,
    headers: Mapping[str, Any],
    http_client: httpx.Client,
    http_async_client: httpx.AsyncClient,
    timeout: Any = None,
    max_retries: int | None = None,
    organization: str | None = None,
    default_query: Mapping[str, object] | None = None,
) -> tuple[openai.OpenAI, openai.AsyncOpenAI]:
    """The OpenAI SDK clients for one route; the key is never read from the environment."""
    params: dict[str, Any] = {
        # An explicit key (or the placeholder) keeps the SDK from reading OPENAI_API_KEY,
        # and an explicit base URL from reading OPENAI_BASE_URL.
        "api_key": api_key or NO_PROVIDER_KEY,
        "base_url": base_url,
        "organization": organization,
        "default_headers": headers,
        "default_query": default_query,
    }
    if timeout is not None:
        params["timeout"] = timeout
    if max_retries is not None:
        params["max_retries"] = max_retries
    return (
        openai.OpenAI(**params, http_client=http_client),
        openai.AsyncOpenAI(**params, http_client=http_async_client),
    )
