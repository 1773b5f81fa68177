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
  structured-output stream (langchain issue 37421). An httpx response hook copies them into
  the `ResponseCapture` of the call in progress, found through a context variable
  that each call sets around the moment its request is sent. Calls never share a capture.
- **Fallbacks.** The universal endpoint takes a JSON array of steps, not an OpenAI body
  (https://developers.cloudflare.com/ai-gateway/usage/universal/).
  `UniversalTransport` turns the SDK's chat request into that array on its way
  out, so every SDK and LangChain path (tools, parse, beta streams)
  works unchanged.
- **Bounded answers.** The same hook bounds every response body
  (`limit_response`): at most
  `max_response_bytes` after decompression and, for a stream with `stream_timeout`,
  whole by its deadline. Its errors are raised as the core's class *and* the SDK's
  (`openai.APIError`, `openai.APITimeoutError`), which the SDK passes on untouched.
- **No credentials in errors.** `gateway_error` masks the request's credentials
  (and anything shaped like a key) in the message, `body`, `response` and
  `request` of the error, and in the SDK's error it is raised from.
- **Typed errors.** `gateway_error` turns the SDK's status error into the core's
  `GatewayError` subclass that *also* is the SDK's class
  for the same status (see `gateway_error` for the exact contract); an answer that
  is not JSON or a stream cut off becomes `InvalidResponseError`
  (`broken_answer`) instead of a bare `JSONDecodeError` or a short answer.
- **Connection pools.** Models share their httpx clients (building one costs more than
  the rest of a model); the async one keeps a pool per event loop (`PerLoopTransport`)
  so a model survives successive `asyncio.run` calls.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable, Mapping
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
from .core.body_limit import ACCEPT_ENCODING, MAX_RESPONSE_BYTES, limit_response
from .core.errors import (
    REDACTED,
    GatewayTimeoutError,
    credentials_of,
    is_credential_header,
    redact,
    redact_body,
)

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
        self.status: int | None = None
        self.ref: Any = None
        """The `ModelRef` of a per-call model override."""
        self.max_bytes = max_bytes
        """The cap of the answer's body (`max_response_bytes`)."""
        self.stream_timeout = stream_timeout
        """Seconds the whole answer may take, counted from `started`; None: no deadline."""
        self.started = time.monotonic()


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
    # Before the SDK reads a byte of the body: bound it (size, and a stream's deadline).
    limit_response(
        response,
        max_bytes=capture.max_bytes if capture is not None else MAX_RESPONSE_BYTES,
        timeout_s=capture.stream_timeout if capture is not None else None,
        started=capture.started if capture is not None else None,
        deadline_setting="stream_timeout",
        map_error=sdk_error,
    )


async def _acapture(response: httpx.Response) -> None:
    _capture(response)


def _add_hook(hooks: dict[str, list[Any]], hook: Any) -> None:
    responses = hooks.setdefault("response", [])
    if hook not in responses:
        responses.append(hook)


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
    """The httpx clients of one model, with the capture hook (and the fallback transport).

    Models without fallbacks share one pair of clients per proxy, as langchain-openai's
    default clients are shared: building a client (its TLS context) costs far more than
    the rest of a model, and the hook keeps no state of its own.

    Redirects are not followed: the gateway never redirects, and a redirect to another host
    would carry `cf-aig-authorization` along (httpx strips only `Authorization`).
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
        headers={"accept-encoding": ACCEPT_ENCODING},
        **kwargs,
    )


def _async_client(**kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=openai.DEFAULT_TIMEOUT,
        limits=openai.DEFAULT_CONNECTION_LIMITS,
        follow_redirects=False,
        event_hooks={"response": [_acapture]},
        headers={"accept-encoding": ACCEPT_ENCODING},
        **kwargs,
    )


@lru_cache(maxsize=8)
def _shared_sync_client(proxy: str | None) -> httpx.Client:
    return _sync_client(proxy=proxy)


@lru_cache(maxsize=8)
def _shared_async_client(proxy: str | None) -> httpx.AsyncClient:
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


_COMBINED: dict[tuple[type[GatewayError], type[openai.APIError]], type[GatewayError]] = {}


def _combined_class(
    gateway_cls: type[GatewayError], sdk_cls: type[openai.APIError]
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
    sdk_cls: type[openai.APIError],
    args: tuple[Any, ...],
    state: dict[str, Any],
) -> GatewayError:
    cls = _combined_class(gateway_cls, sdk_cls)
    err = cls.__new__(cls)
    err.args = args
    err.__dict__.update(state)
    return err


def gateway_error(exc: openai.APIStatusError, *also: str | None) -> GatewayError:
    """The typed gateway error for an SDK status error, also an instance of the SDK's class.

    The result is an instance of the core's class for the answer (`GatewayRateLimitError`
    for a 429, `GatewayAuthenticationError` for code 2009...) *and* of the exception the
    SDK raises for that HTTP status (`openai.RateLimitError`, `openai.BadRequestError`,
    with LangChain's `ModelRateLimitError`...). So `except GatewayRateLimitError`,
    `except openai.RateLimitError` and `except ModelRateLimitError` all catch it.
    Where both define an attribute (`message`, `code`, `body`, `status_code`) the
    gateway's meaning wins: `code` is the gateway's internal code and `body` the whole
    parsed body. `response`, `request` and `request_id` are the SDK's, with the
    credentials masked.

    The credentials of the request (its credential headers and query values, and
    `also`: those the request carried elsewhere, such as a fallback step's key) and
    anything shaped like a key are masked in the message, `body`, `response` and
    `request`, and in `exc` itself, which the caller chains the result from.
    """
    response = exc.response
    request = response.request
    secrets = credentials_of(request.headers.multi_items(), request.url.params.multi_items(), *also)
    try:
        body: Any = response.content
    except httpx.ResponseNotRead:
        body = exc.body
    typed = error_from_response(response.status_code, response.headers, body, secrets=secrets)
    # The SDK's error is chained (`raise ... from exc`), and langchain-openai's from the
    # SDK's own: tracebacks print them all, so all are masked.
    mask_exception_chain(exc, secrets)
    cls = _combined_class(type(typed), _sdk_error_class(response.status_code))
    err = cls.__new__(cls)
    err.__dict__.update(exc.__dict__)
    err.__dict__.update(typed.__dict__)
    err.args = typed.args
    return err


def mask_exception_chain(exc: BaseException, secrets: Iterable[str]) -> None:
    """Mask credentials in `exc` and every exception it was raised from, in place.

    Their text (`args`, `message`, a `JSONDecodeError`'s `doc`), `body` and
    their HTTP `response` and `request` (replaced by masked copies).
    """
    secrets = tuple(secrets)
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        current.args = tuple(redact(a, secrets) if isinstance(a, str) else a for a in current.args)
        state = vars(current)
        for name, value in list(state.items()):
            if name in ("message", "doc") and isinstance(value, str):
                state[name] = redact(value, secrets)
            elif name == "body":
                state[name] = redact_body(value, secrets)
            elif isinstance(value, httpx.Response):
                state[name] = _masked_response(value, secrets)
            elif isinstance(value, httpx.Request):  # httpx keeps it as `_request`
                state[name] = _masked_request(value, secrets)
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]


def _masked_request(request: httpx.Request, secrets: Iterable[str]) -> httpx.Request:
    headers = [
        (name, REDACTED if is_credential_header(name) else redact(value, secrets))
        for name, value in request.headers.multi_items()
    ]
    try:
        content = redact(request.content.decode("utf-8", "replace"), secrets).encode()
    except httpx.RequestNotRead:
        content = b""
    url = httpx.URL(redact(str(request.url), secrets))
    masked = httpx.Request(request.method, url, headers=headers, content=content)
    masked.extensions = request.extensions
    return masked


def _masked_response(response: httpx.Response, secrets: Iterable[str]) -> httpx.Response:
    """A read copy of `response` with its body, and its request's, credentials masked."""
    secrets = tuple(secrets)
    try:
        text = response.content.decode(response.encoding or "utf-8", "replace")
    except httpx.ResponseNotRead:
        text = ""
    headers = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    try:
        request: httpx.Request | None = _masked_request(response.request, secrets)
    except RuntimeError:  # a response built without its request
        request = None
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=redact(text, secrets).encode(),
        request=request,
    )


def sdk_error(error: GatewayError, response: httpx.Response) -> GatewayError:
    """A core error of the answer's body (too large, past its deadline) as the SDK's too.

    The SDK passes its own errors on without retrying or wrapping them, so the caller
    gets the core's class, which is also `openai.APITimeoutError` for a deadline and
    `openai.APIError` otherwise (so LangChain's and the SDK's `except` clauses work).
    """
    sdk_cls = openai.APITimeoutError if isinstance(error, GatewayTimeoutError) else openai.APIError
    cls = _combined_class(type(error), sdk_cls)
    err = cls.__new__(cls)
    err.__dict__.update(error.__dict__)
    err.__dict__.update(
        {"request": _masked_request(response.request, ()), "param": None, "type": None}
    )
    err.args = error.args
    return err


BROKEN_ANSWER: Final = (json.JSONDecodeError, httpx.TransportError)
"""What the SDK lets through when a 2xx answer is not JSON or a stream is cut off."""


def broken_answer(
    exc: Exception, status: int | None, headers: httpx.Headers | None, *secrets: str | None
) -> InvalidResponseError:
    """The core's error for an answer that broke off or is not JSON, with its log id.

    `exc` is chained from the result: the body a `JSONDecodeError` keeps (`doc`) is
    masked first, as it may echo credentials.
    """
    what = "is not valid JSON" if isinstance(exc, json.JSONDecodeError) else "was cut off"
    if isinstance(exc, json.JSONDecodeError):
        exc.doc = redact(exc.doc, [s for s in secrets if s])
    return InvalidResponseError(
        f"the answer {what} ({type(exc).__name__}: {exc})",
        status_code=status or 200,
        log_id=headers.get(Header.LOG_ID) if headers is not None else None,
    )
