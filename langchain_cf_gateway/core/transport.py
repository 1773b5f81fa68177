"""HTTP pieces every hand-written client of the gateway needs: body encoding, SSE lines, errors.

The LangChain chat model talks to the gateway through the OpenAI SDK; the LiteLLM handler
(and anything else that speaks to the gateway with plain ``httpx``) uses these instead:

- :func:`encode_json`: a request body as compact UTF-8 JSON; pydantic objects (LiteLLM's
  ``Message`` handed back in a conversation, say) are dumped rather than rejected;
- :func:`parse_sse_line`: one line of an OpenAI-style event stream -> the parsed event,
  :data:`SSE_DONE`, or None for lines that carry no event;
- :func:`error_from_httpx`: an error answer -> the typed :class:`~.errors.GatewayError`.

No framework imports here: ``httpx`` only, and only for typing the response.
"""

from __future__ import annotations

import json
from typing import Any, Final

import httpx

from .errors import GatewayError, error_from_response

SSE_DONE: Final = object()
"""Returned by :func:`parse_sse_line` for ``data: [DONE]``, the end of an OpenAI stream."""

_DATA: Final = "data:"
_DONE: Final = "[DONE]"


def _jsonable(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):  # pydantic v2 models: LiteLLM Message, ChatCompletionMessageToolCall...
        return dump(exclude_none=True)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode_json(body: Any) -> bytes:
    """``body`` as compact UTF-8 JSON, the way the gateway hashes it for its cache key.

    The same body gives the same bytes every time (key order is kept, no spaces), so
    two identical calls hit the same cache entry (spec section 6).
    """
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=_jsonable).encode()


def parse_sse_line(line: str) -> Any:
    """One line of a ``text/event-stream``: the JSON of a ``data:`` line, or :data:`SSE_DONE`.

    Returns None for everything that is not an event payload: blank separator lines,
    ``:`` comments (keep-alives), and ``event:``/``id:``/``retry:`` fields. A ``data:``
    line that is not JSON raises ``ValueError`` (``json.JSONDecodeError``): a truncated
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


def error_from_httpx(response: httpx.Response) -> GatewayError:
    """The typed error of an HTTP error answer; the body must have been read already."""
    return error_from_response(response.status_code, response.headers, response.content)
