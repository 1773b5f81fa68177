"""The chat stream parser: one line of an OpenAI event stream in, LiteLLM chunks out.

Pure: no I/O, no LiteLLM internals; the streams of `streaming.py` feed it the lines of
a response body, as LiteLLM's `base_llm/base_model_iterator.py` feeds its parsers.
The gateway speaks OpenAI's chat completion chunks on its compat endpoint
(https://developers.cloudflare.com/ai-gateway/usage/chat-completion/).
"""

from __future__ import annotations

from typing import Any, Final, cast

from litellm.types.utils import GenericStreamingChunk

from ..core import Header
from ..core.codec import SSE_DONE, error_from_stream_event, is_error_body, parse_sse_line
from ..core.errors import InvalidResponseError
from ..core.redaction import redact

GATEWAY_KEY: Final = "gateway"
"""Key of the gateway dict in `_hidden_params`, and the chunk attribute on streams."""


class ChatChunkParser:
    """OpenAI SSE lines -> LiteLLM `GenericStreamingChunk` dicts.

    The first chunk carries the gateway dict in `provider_specific_fields`, which
    LiteLLM sets as attributes on the chunk it hands out (`chunk.gateway`). A malformed
    event, an error event or a stream cut before its end raise the core's errors
    (`InvalidResponseError`; for an error event the class of its gateway code, else
    `ProviderError`); the handler's `ErrorBoundary` turns
    them into what LiteLLM raises.
    """

    __slots__ = ("_finished", "_first", "_info", "_log_id", "_secrets", "done")

    def __init__(
        self, info: dict[str, Any], log_id: str | None = None, secrets: tuple[str, ...] = ()
    ) -> None:
        """Start parsing one stream.

        Args:
            info: The gateway dict of the response, set on the first chunk.
            log_id: The response's `cf-aig-log-id`, for the errors.
            secrets: Credentials of the request, masked in the errors.
        """
        self._info = info
        self._log_id = log_id
        self._secrets = secrets
        self._first = True
        self._finished = False
        self.done = False
        """`data: [DONE]` was read: nothing more to read."""

    def _invalid(self, message: str) -> InvalidResponseError:
        return InvalidResponseError(message, status_code=200, log_id=self._log_id)

    def end(self) -> None:
        """The body ended: a stream with neither `[DONE]` nor a finish reason was cut.

        Raises:
            InvalidResponseError: The stream ended before its end.
        """
        if not self.done and not self._finished:
            raise self._invalid(
                "the stream ended without a finish reason or data: [DONE]; "
                "the response is incomplete"
            )

    def feed(self, line: str) -> list[GenericStreamingChunk]:
        """The chunks of one line of the stream (none for blank lines and comments).

        Args:
            line: One line of the response body, without its line break.

        Returns:
            LiteLLM's chunks: one per tool call of the event, or one.

        Raises:
            InvalidResponseError: The line is a `data:` line that is not JSON.
            GatewayError: The event is an error event: the class of its gateway code,
                else `ProviderError`.
        """
        try:
            event = parse_sse_line(line)
        except ValueError:
            line = redact(line[:200], self._secrets)
            raise self._invalid(f"malformed event in the stream: {line!r}") from None
        if event is None:
            return []
        if event is SSE_DONE:
            self.done = True
            return []
        if not isinstance(event, dict):
            return []
        if is_error_body(event):
            headers = {Header.LOG_ID: self._log_id} if self._log_id is not None else None
            error = error_from_stream_event(event, 200, headers, self._secrets)
            raise error
        chunks = event_chunks(event)
        if chunks and chunks[-1]["is_finished"]:
            self._finished = True
        if chunks and self._first:
            self._first = False
            chunks[0]["provider_specific_fields"] = {GATEWAY_KEY: self._info}
        return chunks


def _usage_block(usage: Any) -> dict[str, Any] | None:
    if not isinstance(usage, dict) or usage.get("prompt_tokens") is None:
        return None
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    block: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": int(usage.get("total_tokens") or prompt + completion),
    }
    for key in ("prompt_tokens_details", "completion_tokens_details"):
        if isinstance(usage.get(key), dict):
            block[key] = usage[key]
    return block


def event_chunks(event: dict[str, Any]) -> list[GenericStreamingChunk]:
    """One OpenAI `chat.completion.chunk` -> LiteLLM's generic chunks (one per tool call).

    Args:
        event: The parsed event.

    Returns:
        The chunks; none for an event with neither choices nor usage.
    """
    usage = _usage_block(event.get("usage"))
    choices = event.get("choices") or []
    if not choices:
        if usage is None:
            return []
        return [
            GenericStreamingChunk(
                text="", is_finished=False, finish_reason="", usage=cast(Any, usage), index=0
            )
        ]
    choice = choices[0]
    delta = choice.get("delta") or {}
    finish = choice.get("finish_reason") or ""
    index = int(choice.get("index") or 0)
    tool_calls = delta.get("tool_calls") or [None]
    chunks: list[GenericStreamingChunk] = []
    last = len(tool_calls) - 1
    for i, call in enumerate(tool_calls):
        chunks.append(
            GenericStreamingChunk(
                text=(delta.get("content") or "") if i == 0 else "",
                tool_use=_tool_use(call) if call is not None else None,
                # LiteLLM stops at the first finished chunk: only the last may say so.
                is_finished=bool(finish) and i == last,
                finish_reason=finish if i == last else "",
                usage=cast(Any, usage) if i == last else None,
                index=index,
            )
        )
    return chunks


def _tool_use(call: dict[str, Any]) -> Any:
    function = call.get("function") or {}
    return {
        "id": call.get("id"),
        "type": "function",
        "function": {"name": function.get("name"), "arguments": function.get("arguments") or ""},
        "index": int(call.get("index") or 0),
    }
