"""The OpenAI SDK, set up to talk to the gateway: shared by the chat model and the embeddings.

What the stock SDK set-up gets wrong for a gateway, each solved once here:

- **No provider key, no ``Authorization``.** The SDK insists on an API key and reads
  ``OPENAI_API_KEY`` when given none. Any ``Authorization`` header stops the gateway from
  injecting a stored key (BYOK) or billing through Unified Billing (spec section 3), so
  without a key we hand the SDK a placeholder and mark ``Authorization`` omitted, both on
  the client and on every request (the SDK's own, documented way of dropping a header).
  ``OpenAI-Organization`` and ``OpenAI-Project`` (read by the SDK from ``OPENAI_ORG_ID``
  and ``OPENAI_PROJECT_ID``) are omitted too: nothing of an OpenAI set-up leaks in.
- **Response headers on every path.** The SDK hides them on streams and on the
  structured-output stream (langchain issue 37421). An httpx response hook copies them into
  the :class:`ResponseCapture` of the call in progress, found through a context variable
  that each call sets around the moment its request is sent. Calls never share a capture.
- **Fallbacks.** The universal endpoint takes a JSON array of steps, not an OpenAI body
  (spec section 1a). :class:`UniversalTransport` turns the SDK's chat request into that
  array on its way out, so every SDK and LangChain path (tools, parse, beta streams)
  works unchanged.
- **Typed errors.** :func:`gateway_error` turns the SDK's status error into the core's
  :class:`~langchain_cf_gateway.core.GatewayError` subclass that *also* is the SDK's class
  for the same status (see :func:`gateway_error` for the exact contract); an answer that
  is not JSON or a stream cut off becomes :class:`~langchain_cf_gateway.core.InvalidResponseError`
  (:func:`broken_answer`) instead of a bare ``JSONDecodeError`` or a short answer.
- **Connection pools.** Models share their httpx clients (building one costs more than
  the rest of a model); the async one keeps a pool per event loop (:class:`PerLoopTransport`)
  so a model survives successive ``asyncio.run`` calls.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, Final
from weakref import WeakKeyDictionary

import httpx
import openai
from langchain_openai.chat_models.base import (
    OpenAIAPIError,
    OpenAIAuthenticationError,
    OpenAIInvalidRequestError,
    OpenAIModelNotFoundError,
    OpenAIPermissionDeniedError,
    OpenAIRateLimitError,
)

from .core import (
    ConfigError,
    GatewayError,
    Header,
    InvalidResponseError,
    UniversalRoute,
    error_from_response,
)

NO_PROVIDER_KEY: Final = "cf-aig-no-provider-key"
"""What the SDK gets as its API key when there is none. Never sent: the header is omitted."""

OMIT_AUTHORIZATION: Final[Mapping[str, Any]] = {"Authorization": openai.omit}
"""Per-request headers that drop the SDK's ``Authorization`` (its validation wants to see it)."""


# --------------------------------------------------------------------------- capture


class ResponseCapture:
    """The response headers of one call, filled in by the httpx hook while the call runs."""

    __slots__ = ("headers", "ref", "status")

    def __init__(self) -> None:
        self.headers: httpx.Headers | None = None
        self.status: int | None = None
        self.ref: Any = None
        """The :class:`~langchain_cf_gateway.core.ModelRef` of a per-call model override."""


CURRENT_CAPTURE: ContextVar[ResponseCapture | None] = ContextVar(
    "cf_aig_response_capture", default=None
)
"""The capture of the call whose request is being sent in this context, if any."""


def _capture(response: httpx.Response) -> None:
    # The capture object is mutated, never the variable: a hook that runs in a copied
    # context (asyncio.wait_for wraps a task) still fills in the caller's capture.
    capture = CURRENT_CAPTURE.get()
    if capture is not None:
        capture.headers = response.headers
        capture.status = response.status_code


async def _acapture(response: httpx.Response) -> None:
    _capture(response)


def _add_hook(hooks: dict[str, list[Any]], hook: Any) -> None:
    responses = hooks.setdefault("response", [])
    if hook not in responses:
        responses.append(hook)


# --------------------------------------------------------------------------- fallbacks


def _universal_request(request: httpx.Request, route: UniversalRoute) -> httpx.Request:
    """The SDK's OpenAI-style request re-addressed to the universal endpoint (section 1a)."""
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
    """The async twin of :class:`UniversalTransport`."""

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
    """The httpx clients of one model, with the capture hook (and the fallback transport).

    Models without fallbacks share one pair of clients per proxy, as langchain-openai's
    default clients are shared: building a client (its TLS context) costs far more than
    the rest of a model, and the hook keeps no state of its own.

    Redirects are not followed: the gateway never redirects, and a redirect to another host
    would carry ``cf-aig-authorization`` along (httpx strips only ``Authorization``).
    """
    if universal is not None and (sync_client is not None or async_client is not None):
        raise ConfigError(
            "fallbacks send requests through the model's own HTTP client; drop http_client / "
            "http_async_client (use timeout=, max_retries= or openai_proxy= instead)"
        )
    if sync_client is None:
        if universal is None:
            sync_client = _shared_sync_client(proxy)
        else:
            transport = httpx.HTTPTransport(proxy=proxy, limits=openai.DEFAULT_CONNECTION_LIMITS)
            sync_client = _sync_client(transport=UniversalTransport(universal, transport))
    if async_client is None:
        if universal is None:
            async_client = _shared_async_client(proxy)
        else:
            async_client = _async_client(
                transport=AsyncUniversalTransport(universal, PerLoopTransport(proxy))
            )
    _add_hook(sync_client.event_hooks, _capture)
    _add_hook(async_client.event_hooks, _acapture)
    return sync_client, async_client


def _sync_client(**kwargs: Any) -> httpx.Client:
    return httpx.Client(
        timeout=openai.DEFAULT_TIMEOUT,
        limits=openai.DEFAULT_CONNECTION_LIMITS,
        follow_redirects=False,
        event_hooks={"response": [_capture]},
        **kwargs,
    )


def _async_client(**kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=openai.DEFAULT_TIMEOUT,
        limits=openai.DEFAULT_CONNECTION_LIMITS,
        follow_redirects=False,
        event_hooks={"response": [_acapture]},
        **kwargs,
    )


@lru_cache(maxsize=8)
def _shared_sync_client(proxy: str | None) -> httpx.Client:
    return _sync_client(proxy=proxy)


@lru_cache(maxsize=8)
def _shared_async_client(proxy: str | None) -> httpx.AsyncClient:
    return _async_client(transport=PerLoopTransport(proxy))


class PerLoopTransport(httpx.AsyncBaseTransport):
    """One connection pool per event loop, so a model outlives ``asyncio.run``.

    A pooled connection belongs to the loop that opened it; reused from another loop it
    fails with "Event loop is closed" (what a shared ``ChatOpenAI`` does across
    ``asyncio.run`` calls or per-test loops). Pools of finished loops go with the loop.
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


# --------------------------------------------------------------------------- errors

# The class the SDK (through langchain-openai, which adds LangChain's ModelError family)
# raises for each status; the statuses it does not name get openai.APIStatusError.
_SDK_ERROR_BY_STATUS: Final[dict[int, type[openai.APIStatusError]]] = {
    400: OpenAIInvalidRequestError,
    401: OpenAIAuthenticationError,
    403: OpenAIPermissionDeniedError,
    404: OpenAIModelNotFoundError,
    409: openai.ConflictError,
    422: openai.UnprocessableEntityError,
    429: OpenAIRateLimitError,
}


def _sdk_error_class(status: int) -> type[openai.APIStatusError]:
    if status >= 500:
        return OpenAIAPIError
    return _SDK_ERROR_BY_STATUS.get(status, openai.APIStatusError)


_COMBINED: dict[tuple[type[GatewayError], type[openai.APIStatusError]], type[GatewayError]] = {}


def _combined_class(
    gateway_cls: type[GatewayError], sdk_cls: type[openai.APIStatusError]
) -> type[GatewayError]:
    combined = _COMBINED.get((gateway_cls, sdk_cls))
    if combined is not None:
        return combined
    # Shown under the core class's own name and module: the SDK base is an implementation
    # detail of "where did this error come from", not a different kind of error.
    combined = type(
        gateway_cls.__name__,
        (gateway_cls, sdk_cls),
        {
            "__module__": gateway_cls.__module__,
            "__doc__": gateway_cls.__doc__,
            "__reduce__": _reduce_combined,
        },
    )
    # Racing threads may both build one; setdefault keeps a single class per pair.
    return _COMBINED.setdefault((gateway_cls, sdk_cls), combined)


def _reduce_combined(self: GatewayError) -> tuple[Any, ...]:
    gateway_cls, sdk_cls = type(self).__bases__
    # The HTTP exchange does not pickle; everything the caller reads (status, code, log id,
    # message, body) does.
    state = {k: v for k, v in self.__dict__.items() if k not in ("response", "request")}
    return (_rebuild_combined, (gateway_cls, sdk_cls, self.args, state))


def _rebuild_combined(
    gateway_cls: type[GatewayError],
    sdk_cls: type[openai.APIStatusError],
    args: tuple[Any, ...],
    state: dict[str, Any],
) -> GatewayError:
    cls = _combined_class(gateway_cls, sdk_cls)
    err = cls.__new__(cls)
    err.args = args
    err.__dict__.update(state)
    return err


def gateway_error(exc: openai.APIStatusError) -> GatewayError:
    """The typed gateway error for an SDK status error, also an instance of the SDK's class.

    The result is an instance of the core's class for the answer (``GatewayRateLimitError``
    for a 429, ``GatewayAuthenticationError`` for code 2009...) *and* of the exception the
    SDK raises for that HTTP status (``openai.RateLimitError``, ``openai.BadRequestError``,
    with LangChain's ``ModelRateLimitError``...). So ``except GatewayRateLimitError``,
    ``except openai.RateLimitError`` and ``except ModelRateLimitError`` all catch it.
    Where both define an attribute (``message``, ``code``, ``body``, ``status_code``) the
    gateway's meaning wins: ``code`` is the gateway's internal code and ``body`` the whole
    parsed body. ``response``, ``request`` and ``request_id`` are the SDK's.
    """
    response = exc.response
    try:
        body: Any = response.content
    except httpx.ResponseNotRead:
        body = exc.body
    typed = error_from_response(response.status_code, response.headers, body)
    cls = _combined_class(type(typed), _sdk_error_class(response.status_code))
    err = cls.__new__(cls)
    err.__dict__.update(exc.__dict__)
    err.__dict__.update(typed.__dict__)
    err.args = typed.args
    return err


BROKEN_ANSWER: Final = (json.JSONDecodeError, httpx.TransportError)
"""What the SDK lets through when a 2xx answer is not JSON or a stream is cut off."""


def broken_answer(
    exc: Exception, status: int | None, headers: httpx.Headers | None
) -> InvalidResponseError:
    """The core's error for an answer that broke off or is not JSON, with its log id."""
    what = "is not valid JSON" if isinstance(exc, json.JSONDecodeError) else "was cut off"
    return InvalidResponseError(
        f"the answer {what} ({type(exc).__name__}: {exc})",
        status_code=status or 200,
        log_id=headers.get(Header.LOG_ID) if headers is not None else None,
    )
