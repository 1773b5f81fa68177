"""The LangChain integrations' one error boundary: what the SDK, httpx and langchain-openai raise -> the core's errors.

Every call path of `ChatCloudflareGateway` (`invoke`, `ainvoke`, `stream`, `astream`,
`batch`...) and of `CloudflareGatewayEmbeddings` (`embed_documents`, `embed_query`,
`aembed_*`) runs inside `map_sdk_errors()`, as httpx runs every request inside
`map_httpcore_exceptions()`. No call site catches and translates on its own, so the
paths cannot drift apart. The table (`error_from_exception`):

| Raised inside the call | Becomes |
|---|---|
| a `GatewayError`, or an error raised from one (a body past `max_response_bytes`, a stream past `stream_timeout`, a body that is not JSON) | that error |
| `openai.APIStatusError` (an HTTP error response) | `error_from_openai`: the core's class for the status and code, credentials masked |
| `openai.APIError` for an error event inside a 2xx stream (`data: {"error": ...}`) | `error_from_stream_event`: the class for the event's gateway code, else `ProviderError`; the response's status unless the event carries one |
| `openai.APITimeoutError`, or `httpx.TimeoutException` in the middle of a body or stream | `GatewayTimeoutError` (408) |
| `json.JSONDecodeError`: a 2xx body or an SSE event that is not JSON | `InvalidResponseError` |
| `UnexpectedShape`: a 2xx JSON body of another shape (no `choices`, no `data`, the wrong count) | `InvalidResponseError` |
| `httpx.TransportError` once a response has begun: the body or stream cut off | `InvalidResponseError` |
| `openai.APIConnectionError` before any response (connection refused, DNS) | `openai.APIConnectionError` naming the URL tried and the fix (`core.connection.connection_message`) |
| anything else | unchanged |

The failures below HTTP go through `core.codec.error_from_transport`, the table the LiteLLM
handler uses too. Every error raised is the core's class *and* the OpenAI SDK's for the
same status or kind (`openai.RateLimitError` for a 429, `openai.APITimeoutError` for a
timeout, `openai.APIError` otherwise), so `except GatewayRateLimitError`,
`except openai.RateLimitError` and LangChain's `except ModelRateLimitError` all work.
Credentials are masked in the error and in every exception it is chained from.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Final, Protocol

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

from .core import GatewayError, Header, InvalidResponseError, error_from_response
from .core.codec import error_from_stream_event, error_from_transport
from .core.connection import connection_message
from .core.credentials import is_credential
from .core.errors import GatewayTimeoutError
from .core.redaction import REDACTED, credentials_of, redact, redact_body


class UnexpectedShape(Exception):
    """Raised by the integrations' own checks of a 2xx body that is JSON of another shape.

    The boundary turns it into `InvalidResponseError`, with the response's status and log
    id; its message names what was missing, never the body (which may echo credentials).
    """


class ErrorInResponse(Exception):
    """Raised by the integrations' own checks of a 2xx body or stream event that is an error.

    `core.codec.is_error_body` tells one (a provider's `{"error": ...}`, Cloudflare's v4
    envelope); the boundary raises the error it carries (`error_from_stream_event`), with
    the response's log id. The event is never shown as it is (it may echo credentials).
    """

    def __init__(self, event: dict[str, Any]) -> None:
        super().__init__("an error inside a 2xx response")
        self.event = event


class Exchange(Protocol):
    """What the boundary needs to know of the call's response so far."""

    status: int | None
    """The response's status once its headers came, else None."""
    headers: httpx.Headers | None
    """The response's headers once they came, else None."""


# --------------------------------------------------------------------------- the boundary


@contextmanager
def map_sdk_errors(exchange: Exchange, secrets: Callable[[], Iterable[str]]) -> Iterator[None]:
    """Raise every error of the block as the core's typed error (the table of this module).

    Use it around a whole call, sync or async (`with` works inside `async def`), and around
    the iteration of a stream.

    Args:
        exchange: The call's response so far (status, headers), read when an error occurs.
        secrets: Returns the credentials the call sent, masked in the error; called only
            when an error occurs.

    Yields:
        Nothing: the block runs as it is.

    Raises:
        GatewayError: The core's typed error for what went wrong, also an instance of the
            OpenAI SDK's exception for that status or kind.
        openai.APIConnectionError: No connection to the gateway, naming the URL and the fix.
    """
    try:
        yield
    except Exception as exc:
        mapped = error_from_exception(exc, exchange, tuple(secrets()))
        if mapped is None:
            unreachable = sdk_connection_error(exc, exchange)
            if unreachable is not None:
                raise unreachable from exc
        if mapped is None or mapped is exc:
            raise
        # An error of ours found behind the SDK's or langchain-openai's wrapper stands
        # alone; a translated one keeps what it was translated from.
        raise mapped from (None if mapped in _chain(exc) else exc)


def error_from_exception(
    exc: BaseException, exchange: Exchange, secrets: tuple[str, ...] = ()
) -> GatewayError | None:
    """The error to raise for `exc`, raised inside a call; None to let `exc` stand.

    Args:
        exc: What the SDK, httpx or langchain-openai raised.
        exchange: The call's response so far (status, headers).
        secrets: The credentials the call sent, masked in the error.

    Returns:
        The core's error, also the SDK's class for its status or kind; None for an error
        that is not the gateway's (a connection refused, a bug).
    """
    ours = next((e for e in _chain(exc) if isinstance(e, GatewayError)), None)
    if ours is not None:
        return ours if isinstance(ours, openai.APIError) else as_sdk_error(ours, _request_of(exc))
    if isinstance(exc, openai.APIStatusError):
        return error_from_openai(exc, *secrets)
    event = exc.event if isinstance(exc, ErrorInResponse) else _stream_error_event(exc)
    if event is not None and exchange.status is not None:
        mask_exception_chain(exc, secrets)
        in_stream = error_from_stream_event(event, exchange.status, exchange.headers, secrets)
        return as_sdk_error(in_stream, _request_of(exc))
    if isinstance(exc, UnexpectedShape):
        log_id = exchange.headers.get(Header.LOG_ID) if exchange.headers is not None else None
        shape = InvalidResponseError(str(exc), status_code=exchange.status or 200, log_id=log_id)
        return as_sdk_error(shape, _request_of(exc))
    cause: BaseException | None = exc
    if isinstance(exc, openai.APIConnectionError):
        # The SDK's wrapper of what httpx raised while sending or reading the body.
        cause = next((e for e in _chain(exc) if isinstance(e, httpx.TransportError)), None)
        if isinstance(exc, openai.APITimeoutError):
            if not isinstance(cause, httpx.TimeoutException):
                cause = httpx.TimeoutException(str(exc))
        elif exchange.status is None:
            return None  # before any response: the SDK's connection error stands
    if not isinstance(cause, json.JSONDecodeError | httpx.TransportError):
        return None
    typed = error_from_transport(
        cause, status_code=exchange.status, headers=exchange.headers, secrets=secrets
    )
    return as_sdk_error(typed, _request_of(exc)) if typed is not None else None


def sdk_connection_error(
    exc: BaseException, exchange: Exchange
) -> openai.APIConnectionError | None:
    """The SDK's connection error for a call that got no response, worded by the core.

    The SDK says only "Connection error."; this one says which URL it tried (credentials
    masked) and what to check (`core.connection.connection_message`). It is still an
    `openai.APIConnectionError` (LangChain and users catch that).

    Args:
        exc: What the SDK raised.
        exchange: The call's response so far: the error applies when none began.

    Returns:
        The error to raise (chained from `exc`), or None to let `exc` stand.
    """
    if (
        not isinstance(exc, openai.APIConnectionError)
        or isinstance(exc, openai.APITimeoutError)
        or getattr(exc, "_worded", False)
        or exchange.status is not None
    ):
        return None
    request = _request_of(exc)
    if request is None:
        return None
    cause = next((e for e in _chain(exc) if isinstance(e, httpx.TransportError)), None)
    if cause is None and isinstance(exc.__context__, httpx.TransportError):
        cause = exc.__context__
    reason = str(cause) if cause is not None else ""
    error = openai.APIConnectionError(
        message=connection_message(request.url, reason), request=_masked_request(request, ())
    )
    error._worded = True  # type: ignore[attr-defined]  # a nested boundary leaves it be
    return error


def _stream_error_event(exc: BaseException) -> dict[str, Any] | None:
    """The event, if `exc` is the SDK's error for a `data: {"error": ...}` event of a stream.

    The SDK raises the bare `openai.APIError` with the event's `error` as its `body`.
    """
    if type(exc) is not openai.APIError or not isinstance(exc.body, dict | list | str):
        return None
    return {"error": exc.body}


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and the exceptions it was raised from (`__cause__`), innermost last."""
    current: BaseException | None = exc
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__


def _request_of(exc: BaseException) -> httpx.Request | None:
    for current in _chain(exc):
        try:
            request = getattr(current, "request", None)
        except RuntimeError:  # an httpx error raised without its request
            continue
        if isinstance(request, httpx.Request):
            return request
    return None


# --------------------------------------------------------------------------- the SDK's classes

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


def error_from_openai(exc: openai.APIStatusError, *also: str | None) -> GatewayError:
    """The typed gateway error for an SDK status error, also an instance of the SDK's class.

    The result is an instance of the core's class for the response (`GatewayRateLimitError`
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
        (name, REDACTED if is_credential(name) else redact(value, secrets))
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


def as_sdk_error(
    error: GatewayError, request: httpx.Request | httpx.Response | None
) -> GatewayError:
    """`error` as an instance of the OpenAI SDK's class for its kind too.

    `openai.APITimeoutError` for a timeout, `openai.APIError` for anything else that is
    not a status error (a body too large or cut off, not JSON). The SDK and langchain-openai
    pass these on as they are, and `except openai.APIError` catches them.

    Args:
        error: The core's error.
        request: The request it concerns (or its response), kept with its credential
            headers masked.

    Returns:
        A copy of `error` of the combined class.
    """
    if isinstance(request, httpx.Response):
        request = request.request
    sdk_cls = openai.APITimeoutError if isinstance(error, GatewayTimeoutError) else openai.APIError
    cls = _combined_class(type(error), sdk_cls)
    err = cls.__new__(cls)
    err.__dict__.update(error.__dict__)
    masked = _masked_request(request, ()) if request is not None else None
    err.__dict__.update({"request": masked, "param": None, "type": None})
    err.args = error.args
    return err
