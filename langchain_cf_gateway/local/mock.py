r"""The mock model: a deterministic stand-in for every provider behind the local gateway.

What it responds, so that tests can predict it:

- **Text.** `"Mock answer: "` followed by the text of the last user message, cut to
  its first 50 tokens; `"Mock answer."` when there is no user text. The same request
  always gets the same response.
- **Tokens.** A token is a run of word characters or one punctuation character
  (`re.findall(r"\w+|[^\w\s]", text)`). `prompt_tokens` counts the text of every
  message (and tool call arguments); `completion_tokens` counts the response.
- **Limits.** `max_tokens` / `max_completion_tokens` cut the response to that many
  tokens with `finish_reason: "length"`; otherwise `"stop"`, or `"tool_calls"`
  when the response calls tools.
- **Tools.** Scripted tool calls are returned as given. Without a script, a request that
  forces a function (`tool_choice` naming one, or `"required"`) gets one call of that
  (or the first) tool; with `tool_choice` absent or `"auto"`, the tool the last user
  message names gets one call (`mock_tools` says how a message names a tool). The
  arguments satisfy the tool's JSON schema, with values the message gives
  (`mock_message`) and otherwise the schema's own (`mock_schema`). Once a tool result
  follows the last user message, the response is `"Based on {tool}: {result}"`.
- **JSON.** `response_format` of type `json_schema` gets an object satisfying the
  schema as its content; `json_object` gets an object keyed by the names the message
  quotes, else `{"response": "Mock answer: ..."}`.
- **Streaming.** OpenAI SSE: a role chunk, one chunk per word, a chunk with the finish
  reason, then a chunk with `choices: []` and `usage` (always sent, as if
  `stream_options.include_usage` were set), then `data: [DONE]`.
- **Embeddings.** Unit vectors of `EMBEDDING_DIMENSIONS` floats (or the request's
  `dimensions`), a function of the text and the size only; `encoding_format: "base64"`
  gives little-endian float32 as OpenAI does.
- **Bounds.** The mock bounds its own work: embeddings `dimensions` up to
  `EMBEDDING_DIMENSIONS_MAX` (8192) and at most `EMBEDDING_INPUTS_MAX` (2048,
  OpenAI's own limit) inputs; a schema it builds arguments or a structured response from
  nests at most `SCHEMA_DEPTH_MAX` (64) levels, holds at most
  `SCHEMA_VALUES_MAX` (10000) JSON values, and expands (through `$ref`) to at
  most `EXAMPLE_VALUES_MAX` (10000) values. Past a bound the response is HTTP 400
  in the provider's error shape, naming the field and the bound
  (`MockModel.refusal`); every check is a loop, never a recursion.
- **Anthropic.** `anthropic/v1/messages` responds in Anthropic's Messages schema,
  streaming its event sequence (`message_start` ... `message_stop`).
- **Workers AI.** `workers-ai/@cf/{model}` takes `messages` or `prompt` and responds with
  `{"result": {"response", "usage"}, "success": true, ...}`; streamed, `data:
  {"response": piece}` frames, a last one with `usage`, then `data: [DONE]`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from . import mock_embeddings, mock_formats
from .mock_embeddings import (
    EMBEDDING_DIMENSIONS,
    EMBEDDING_DIMENSIONS_MAX,
    EMBEDDING_INPUTS_MAX,
    embedding_texts,
    embedding_vector,
)
from .mock_message import MessageText, normal
from .mock_schema import (
    EXAMPLE_VALUES_MAX,
    SCHEMA_DEPTH_MAX,
    SCHEMA_VALUES_MAX,
    example_from_schema,
)
from .mock_text import (
    Completion,
    MockLimitError,
    ToolCall,
    count_tokens,
    cut_tokens,
    default_text,
    digest,
    prompt_tokens,
)
from .mock_tools import forced_tool, named_tool, result_text, user_turn

__all__ = [
    "EMBEDDING_DIMENSIONS",
    "EMBEDDING_DIMENSIONS_MAX",
    "EMBEDDING_INPUTS_MAX",
    "EXAMPLE_VALUES_MAX",
    "SCHEMA_DEPTH_MAX",
    "SCHEMA_VALUES_MAX",
    "Completion",
    "MockLimitError",
    "MockModel",
    "ToolCall",
    "count_tokens",
    "embedding_vector",
]


class MockModel:
    """Decides responses and renders them in OpenAI's and Anthropic's schemas."""

    def refusal(self, body: Mapping[str, Any], operation: str) -> dict[str, Any] | None:
        """The 400 error body for a request past the mock's bounds, else None.

        Checked before any response is made, in the provider's shape (Anthropic's for
        `messages`, OpenAI's otherwise), so one request never holds the event loop.
        """
        try:
            if operation == "embeddings":
                embedding_texts(body)
            elif operation in ("chat", "messages", "run"):
                messages = body.get("messages")
                text, _ = user_turn(messages if isinstance(messages, list) else [])
                message = MessageText(text)
                for tool in (forced_tool(body), named_tool(body, message)):
                    if tool is not None and tool.path:
                        example_from_schema(tool.schema, field=tool.path, message=message)
                self._structured(body, [], message)
        except MockLimitError as exc:
            if operation == "messages":
                return self.anthropic_error(400, str(exc))
            return self.openai_error(400, str(exc))
        return None

    def complete(
        self,
        body: Mapping[str, Any],
        model: str,
        *,
        text: str | None = None,
        tool_calls: Sequence[Mapping[str, Any] | ToolCall] | None = None,
        system: Any = None,
    ) -> Completion:
        """The response to a chat request; `text`/`tool_calls` replace it when scripted."""
        messages = body.get("messages") or []
        if not isinstance(messages, list):
            messages = []
        seed = digest(model, json.dumps(messages, sort_keys=True, default=str))
        calls: list[ToolCall] = []
        content: str | None
        user_text, results = user_turn(messages)
        message = MessageText(user_text)
        forced = forced_tool(body)
        tool = forced or (None if results else named_tool(body, message))
        if text is not None or tool_calls:
            content = text
            calls = [ToolCall.coerce(c, i, seed) for i, c in enumerate(tool_calls or ())]
        elif tool is not None:
            example = example_from_schema(
                tool.schema,
                field=tool.path or "schema",
                message=message,
                proper_name=forced is None,  # the message chose the tool: it holds its name
            )
            args = json.dumps(example if isinstance(example, dict) else {}, separators=(",", ":"))
            calls = [ToolCall(tool.name, args, f"call_{digest(seed, tool.name)[:24]}")]
            content = None
        else:
            content = self._structured(body, messages, message)
            if content is None:
                content = result_text(results) if results else default_text(messages)
        finish = "tool_calls" if calls else "stop"
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        if content and isinstance(limit, int) and not calls and count_tokens(content) > limit:
            content = cut_tokens(content, limit)
            finish = "length"
        out_tokens = count_tokens(content or "") + sum(
            count_tokens(c.name) + count_tokens(c.arguments) for c in calls
        )
        return Completion(
            model=model,
            text=content,
            tool_calls=calls,
            finish_reason=finish,
            prompt_tokens=prompt_tokens(messages, system if system is not None else None),
            completion_tokens=out_tokens,
            id_seed=seed,
        )

    @staticmethod
    def _structured(
        body: Mapping[str, Any], messages: Sequence[Any], message: MessageText
    ) -> str | None:
        """The JSON content `response_format` asks for, else None.

        `json_schema`: an object satisfying the schema, values the message names taken
        from it. `json_object`: the quoted names of the message as keys (a value the
        message gives after one, else `"mock"`), or `{"response": <the mock's text>}`.
        """
        fmt = body.get("response_format")
        if not isinstance(fmt, dict):
            return None
        if fmt.get("type") == "json_schema":
            spec = fmt.get("json_schema")
            schema = spec.get("schema", {}) if isinstance(spec, dict) else {}
            example = example_from_schema(
                schema, field="response_format.json_schema.schema", message=message
            )
            return json.dumps(example, separators=(",", ":"))
        if fmt.get("type") == "json_object":
            keys = message.quoted_names()
            data: dict[str, Any] = (
                {k: message.value_after([normal(k)]) or "mock" for k in keys}
                if keys
                else {"response": default_text(messages)}
            )
            return json.dumps(data, separators=(",", ":"))
        return None

    openai_json = staticmethod(mock_formats.openai_json)
    openai_chunks = staticmethod(mock_formats.openai_chunks)
    openai_error = staticmethod(mock_formats.openai_error)
    workers_ai_json = staticmethod(mock_formats.workers_ai_json)
    workers_ai_chunks = staticmethod(mock_formats.workers_ai_chunks)
    anthropic_json = staticmethod(mock_formats.anthropic_json)
    anthropic_events = staticmethod(mock_formats.anthropic_events)
    anthropic_error = staticmethod(mock_formats.anthropic_error)
    embeddings = staticmethod(mock_embeddings.embeddings)
