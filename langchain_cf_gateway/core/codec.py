"""The wire format the package's own HTTP clients read and write: JSON bodies, SSE events, errors.

The LangChain chat model talks to the gateway through the OpenAI SDK; the LiteLLM handler
(and anything else that speaks to the gateway with plain `httpx`) uses these instead:

- `encode_json`: a request body as compact UTF-8 JSON; pydantic objects (LiteLLM's
  `Message` handed back in a conversation, say) are dumped rather than rejected;
- `parse_sse_line`: one line of an OpenAI-style event stream -> the parsed event,
  `SSE_DONE`, or None for lines that carry no event;
- `error_from_httpx`: an error response -> the typed `GatewayError`, with the request's
  credentials masked;
- `error_from_transport`: a failure below HTTP (a timeout, a body cut off, a 2xx body
  that is not JSON) -> the typed `GatewayError`, the same for every integration and
  every call path (sync, async, stream), so their errors cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

import httpx

from .error_codes import gateway_code
from .errors import GatewayError, GatewayTimeoutError, InvalidResponseError, error_from_response
from .protocol import ERROR_STATUS, Header
from .redaction import credentials_of, redact, redact_body

SSE_DONE: Final = object()
"""Returned by `parse_sse_line` for `data: [DONE]`, the end of an OpenAI stream."""

_DATA: Final = "data:"
_DONE: Final = "[DONE]"


def _jsonable(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):  # pydantic v2 models: LiteLLM Message, ChatCompletionMessageToolCall...
        return dump(exclude_none=True)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode_json(body: Any) -> bytes:
    """`body` as compact UTF-8 JSON, the way the gateway hashes it for its cache key.

    The same body gives the same bytes every time (key order is kept, no spaces), so
    two identical calls hit the same cache entry
    (https://developers.cloudflare.com/ai-gateway/features/caching/).
    """
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_jsonable).encode()


def parse_sse_line(line: str) -> Any:
    """One line of a `text/event-stream`: the JSON of a `data:` line, or `SSE_DONE`.

    Returns None for everything that is not an event payload: blank separator lines,
    `:` comments (keep-alives), and `event:`/`id:`/`retry:` fields. A `data:`
    line that is not JSON raises `ValueError` (`json.JSONDecodeError`): a truncated
    or corrupted stream must not pass for a finished one.
    """
    if not line.startswith(_DATA):
        return None
    payload = line[len(_DATA) :].strip()
    if not payload:
        return None
    if payload == _DONE:
        return SSE_DONE
    return json.loads(payload)


def error_from_httpx(response: httpx.Response, *also: str | None) -> GatewayError:
    """The typed error of an HTTP error response; the body must have been read already.

    The credentials of the request (and `also`, credentials the request carried in its
    body, such as a fallback step's key) are masked in the error's message and body.
    """
    try:
        request: httpx.Request | None = response.request
    except RuntimeError:  # a response built by hand, without its request
        request = None
    secrets = (
        credentials_of(request.headers.multi_items(), request.url.params.multi_items(), *also)
        if request is not None
        else credentials_of(None, None, *also)
    )
    return error_from_response(
        response.status_code, response.headers, response.content, secrets=secrets
    )


def error_from_transport(
    exc: BaseException,
    *,
    status_code: int | None = None,
    headers: httpx.Headers | None = None,
    secrets: tuple[str | None, ...] = (),
) -> GatewayError | None:
    """The core's error for a call that failed below HTTP, or None where none applies.

    The one table every integration maps through (the LangChain models through the OpenAI
    SDK, the LiteLLM handler through httpx); each integration then raises the result as
    its framework's class for it:

    | What failed | Becomes |
    |---|---|
    | any `httpx.TimeoutException` (connect, write, read, pool), before the response or in the middle of its body or stream | `GatewayTimeoutError` (status 408, retryable) |
    | `json.JSONDecodeError`: a 2xx body that is not JSON | `InvalidResponseError` ("is not valid JSON") |
    | any other `httpx.TransportError` once a response has begun (`status_code` given): the body or stream cut off | `InvalidResponseError` ("was cut off") |
    | any other `httpx.TransportError` before a response (no `status_code`): connection refused, DNS | None: the framework's own connection error, worded by `core.connection.connection_message` (the URL tried and the fix) |
    | anything else | None |

    Args:
        exc: The exception the HTTP client raised.
        status_code: The status of the response when one had begun, else None.
        headers: The response headers when one had begun (for the log id).
        secrets: Credentials the request carried, masked in the message of a body that
            is not JSON (and in the `JSONDecodeError` itself, its `doc`, `msg` and
            `args`, as it is chained), with anything shaped like a key.

    Returns:
        The typed error to raise (chained from `exc`), or None to let `exc` stand.
    """
    log_id = headers.get(Header.LOG_ID) if headers is not None else None
    known = [s for s in secrets if s]
    if isinstance(exc, httpx.TimeoutException):
        return GatewayTimeoutError(
            f"no whole response from the gateway in time ({type(exc).__name__})", log_id=log_id
        )
    if isinstance(exc, json.JSONDecodeError):
        # The error is chained from `exc`, which shows the body (its `doc`, and often its
        # message quotes it): mask them in place, as the body may echo credentials.
        exc.doc = redact(exc.doc, known)
        exc.msg = redact(exc.msg, known)
        exc.args = tuple(redact(a, known) if isinstance(a, str) else a for a in exc.args)
        return InvalidResponseError(
            f"the response is not valid JSON ({type(exc).__name__}: {redact(str(exc), known)})",
            status_code=status_code or 200,
            log_id=log_id,
        )
    if isinstance(exc, httpx.TransportError) and status_code is not None:
        return InvalidResponseError(
            f"the response was cut off ({type(exc).__name__}: {redact(str(exc), known)})",
            status_code=status_code,
            log_id=log_id,
        )
    return None


_FIRST_GATEWAY_CODE: Final = 1000

ERROR_IN_2XX_STATUS: Final = 500
"""The status of an error inside a 2xx response that names none: a server error, which
`GatewayError.retryable` calls retryable (an "Overloaded" mid-stream), and which LiteLLM
maps to its `InternalServerError`."""


def is_error_body(data: Any) -> bool:
    """Whether a 2xx body or stream event is an error rather than a result.

    A provider's error object (`{"error": {...}}` or `{"error": "..."}`) or Cloudflare's
    (`{"error": [...]}`; the v4 envelope `{"success": false, "errors": [...]}`,
    https://developers.cloudflare.com/fundamentals/api/how-to/make-api-calls/), in a body
    without `choices` or `data` (a result that also carries an `error` key is a result).

    Args:
        data: The parsed body or event.

    Returns:
        True for an error object.
    """
    if not isinstance(data, Mapping) or data.get("choices") or data.get("data"):
        return False
    if data.get("error"):
        return True
    return data.get("success") is False and bool(data.get("errors"))


"""Cloudflare's own codes have four digits; a smaller `code` is a provider's HTTP status."""


def error_from_stream_event(
    event: dict[str, Any],
    status_code: int,
    headers: Mapping[str, str] | None,
    secrets: tuple[str, ...] = (),
) -> GatewayError:
    """The typed error for an error inside a 2xx response: a stream's event or a whole body.

    The event is read as an error response's body (`error_from_response`): Cloudflare's
    shape (`{"error": [{"code": 2005, "message": ...}]}`,
    https://developers.cloudflare.com/ai-gateway/reference/errors/) or a provider's
    (`{"error": {"message": ...}}`, with a gateway `code` when Cloudflare adds one). The
    class follows the gateway code when there is one, else the status.

    Args:
        event: The parsed event.
        status_code: The status to use unless the event carries its own (400-599); a
            2xx becomes `ERROR_IN_2XX_STATUS`.
        headers: The stream response's headers (its `cf-aig-log-id`).
        secrets: The credentials the call sent, masked in the message and body.

    Returns:
        The core's typed error, credentials masked.
    """
    in_2xx = not 400 <= status_code <= 599
    error = event.get("error")
    body: dict[str, Any] = event
    if isinstance(error, dict):
        own = error.get("status", error.get("status_code"))
        if isinstance(own, int) and not isinstance(own, bool) and 400 <= own <= 599:
            status_code, in_2xx = own, False
        code = error.get("code")
        if isinstance(code, int) and not isinstance(code, bool) and code >= _FIRST_GATEWAY_CODE:
            body = {**event, "errors": [{"code": code, "message": error.get("message")}]}
    if in_2xx:  # the status the code comes with, else a server error
        code, _ = gateway_code(body)
        status_code = ERROR_STATUS.get(code, ERROR_IN_2XX_STATUS)  # type: ignore[call-overload]
    typed = error_from_response(status_code, headers, body, secrets=secrets)
    typed.body = redact_body(event, secrets)
    return typed
