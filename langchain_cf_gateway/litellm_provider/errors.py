"""The one error boundary of the LiteLLM provider, and the errors it raises to LiteLLM.

Every call path (`completion`, `acompletion`, `streaming`, `astreaming`, `embedding`,
`aembedding`, and each step of a stream) runs inside `ErrorBoundary`, as httpx runs
every request inside `map_httpcore_exceptions()`. What is raised inside it leaves as:

| Raised inside | Leaves as | LiteLLM makes of it |
|---|---|---|
| `GatewayInputError` (bad input, before anything is sent) | the same class, also a `litellm.BadRequestError` (`input_error`) | 400, never retried |
| `GatewayError` of an HTTP error response | `GatewayLLMError` with the response's status and headers | by status: 429 `RateLimitError`, 401 `AuthenticationError`... |
| `GatewayError` of an error event inside a 2xx stream (`core.codec.error_from_stream_event`: the event's gateway code, the log id) | `GatewayLLMError` with the event's status, else 500 | by status: 500 `InternalServerError`... |
| `GatewayTimeoutError`, and any `httpx.TimeoutException` (before the response, in its body or its stream) | `GatewayLLMError` with status 408 | `litellm.Timeout`, retried by the Router |
| `InvalidResponseError` (a 2xx body that is not a JSON object, a malformed or cut stream, a body past its cap), and any other `httpx.TransportError` once the response has begun | `GatewayLLMError` with status 502 (the typed error keeps the real status) | `BadGatewayError`, retried |
| `httpx.ConnectError` before any response (connection refused, DNS) | `GatewayConnectionError` (still an `httpx.ConnectError`) naming the URL tried and the fix (`core.connection`) | `APIConnectionError`, with that message |
| any other `httpx.TransportError` before any response | unchanged | `APIConnectionError` |
| LiteLLM's own exceptions, anything else | unchanged | LiteLLM's mapping |

Failures below HTTP go through `core.codec.error_from_transport`, the table the LangChain
integrations share, so a timeout or a cut stream is the same error everywhere.
`gateway_error` recovers the core's typed error from what LiteLLM raises.
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import cast

import httpx
from litellm.exceptions import BadRequestError as LiteLLMBadRequestError
from litellm.llms.custom_llm import CustomLLMError

from ..core import GatewayError, GatewayInputError
from ..core.codec import error_from_transport
from ..core.connection import GatewayConnectionError, connection_error
from ..core.errors import GatewayTimeoutError, InvalidResponseError

PROVIDER = "cloudflare-ai-gateway"
"""The provider name: models are `cloudflare-ai-gateway/<model id>`."""


class GatewayLLMError(CustomLLMError):
    """A gateway error as LiteLLM expects it: `status_code` picks LiteLLM's exception.

    `gateway_error` is the core's typed error (code, log id, retryable); `headers`
    lets LiteLLM read `retry-after` for its retry and cooldown logic.
    """

    def __init__(
        self,
        error: GatewayError,
        headers: httpx.Headers | None = None,
        *,
        status_code: int | None = None,
    ) -> None:
        """Wrap `error` for LiteLLM.

        Args:
            error: The core's typed error.
            headers: The response headers, when a response came.
            status_code: The status LiteLLM maps from, when it is not the error's own (a
                broken 200 response is a 502 to LiteLLM while the typed error keeps 200).
        """
        super().__init__(status_code=status_code or error.status_code, message=str(error))  # type: ignore[no-untyped-call]
        self.gateway_error = error
        self.headers = headers
        self.body = error.body


def gateway_error(exc: BaseException) -> GatewayError | None:
    """The core's typed `GatewayError` behind a LiteLLM exception, if there is one.

    LiteLLM re-raises a handler's error as its own class (`litellm.RateLimitError`...)
    inside an `except` block, so ours is on the `__context__`/`__cause__` chain (or
    behind `original_exception` for a `MidStreamFallbackError`).

    Args:
        exc: What `litellm.completion` (or the Router, or a stream) raised.

    Returns:
        The typed error (status, code, log id, retryable), or None if there is none.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, GatewayError):
            return current
        found = getattr(current, "gateway_error", None)
        if isinstance(found, GatewayError):
            return found
        original = getattr(current, "original_exception", None)  # MidStreamFallbackError
        if isinstance(original, BaseException) and id(original) not in seen:
            current = original
            continue
        current = current.__cause__ or current.__context__
    return None


_INPUT_ERROR_TYPES: dict[type[GatewayInputError], type[Exception]] = {}


def input_error(err: GatewayInputError, model: str) -> Exception:
    """Bad input as both the core's error (a `ValueError`) and `litellm.BadRequestError`.

    LiteLLM re-raises its own exception classes unchanged and maps anything else without
    a status to `APIConnectionError`, which the Router retries and cools down on; bad
    input is neither, so it keeps its class (`InvalidModelIdError`...) and is a 400.

    Args:
        err: The core's input error.
        model: The model of the call, for LiteLLM's message.

    Returns:
        An instance of a class derived from both `type(err)` and LiteLLM's class.
    """
    cls = type(err)
    combined = _INPUT_ERROR_TYPES.get(cls)
    if combined is None:
        combined = type(
            cls.__name__,
            (cls, LiteLLMBadRequestError),
            {"__module__": __name__, "__doc__": cls.__doc__, "__str__": Exception.__str__},
        )
        _INPUT_ERROR_TYPES[cls] = combined
    exc = cast(LiteLLMBadRequestError, combined.__new__(combined))
    LiteLLMBadRequestError.__init__(exc, message=str(err), model=model, llm_provider=PROVIDER)
    exc.args = err.args
    for key, value in vars(err).items():  # InvalidOptionError.field
        setattr(exc, key, value)
    return exc


def for_litellm(error: GatewayError, headers: httpx.Headers | None = None) -> GatewayLLMError:
    """`error` with the status LiteLLM picks its class by (the table of this module).

    Args:
        error: The core's typed error.
        headers: The response headers, when a response came.

    Returns:
        The error to raise to LiteLLM.
    """
    if isinstance(error, InvalidResponseError):
        return GatewayLLMError(error, headers, status_code=502)
    if isinstance(error, GatewayTimeoutError):
        return GatewayLLMError(error, headers, status_code=408)
    return GatewayLLMError(error, headers)


class ErrorBoundary:
    """The context manager every call path of the handler runs in (sync and async alike).

    It holds what is known of the call so far: the model, the credentials to mask, and
    the response once it has begun (`began`), which decides whether a transport failure
    cut a response off or prevented one. Enter it again for each step of a stream.
    """

    __slots__ = ("headers", "model", "secrets", "status_code")

    def __init__(self, model: str) -> None:
        """Start a call's boundary.

        Args:
            model: The model of the call, for LiteLLM's messages.
        """
        self.model = model
        self.secrets: tuple[str, ...] = ()
        self.status_code: int | None = None
        self.headers: httpx.Headers | None = None

    def began(self, response: httpx.Response) -> None:
        """Record that `response` has begun (its status and headers have come).

        Args:
            response: The response, its body not necessarily read.
        """
        self.status_code = response.status_code
        self.headers = response.headers

    def __enter__(self) -> ErrorBoundary:
        """Enter the boundary.

        Returns:
            The boundary itself.
        """
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Raise what `exc` becomes by the table of this module; let the rest pass.

        Args:
            exc_type: The class of the exception raised inside, if any.
            exc: The exception raised inside, if any.
            traceback: Its traceback.

        Raises:
            Exception: The mapped exception (`GatewayLLMError`, or the input error also
                a `litellm.BadRequestError`), chained from `exc`.
        """
        if exc is None or not isinstance(exc, Exception):
            return
        mapped = self.map(exc)
        if mapped is not None:
            raise mapped from exc

    def map(self, exc: Exception) -> Exception | None:
        """What `exc` becomes at the boundary, or None to let it pass unchanged.

        Args:
            exc: The exception raised inside the boundary.

        Returns:
            The exception to raise instead, or None.
        """
        if isinstance(exc, GatewayLLMError | LiteLLMBadRequestError | GatewayConnectionError):
            return None
        if isinstance(exc, GatewayInputError):
            return input_error(exc, self.model)
        if isinstance(exc, GatewayError):
            return for_litellm(exc, self.headers)
        if isinstance(exc, httpx.TransportError | json.JSONDecodeError):
            typed = error_from_transport(
                exc, status_code=self.status_code, headers=self.headers, secrets=self.secrets
            )
            if typed is not None:
                return for_litellm(typed, self.headers)
            if self.status_code is None and isinstance(exc, httpx.TransportError):
                return connection_error(exc)
        return None
