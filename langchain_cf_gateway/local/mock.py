"""The mock model: a deterministic stand-in for every provider behind the local gateway.

What it answers, so that tests can predict it:

- **Text.** `"Mock answer: "` followed by the text of the last user message, cut to
  its first 50 tokens; `"Mock answer."` when there is no user text. The same request
  always gets the same answer.
- **Tokens.** A token is a run of word characters or one punctuation character
  (`re.findall(r"\\w+|[^\\w\\s]", text)`). `prompt_tokens` counts the text of every
  message (and tool call arguments); `completion_tokens` counts the answer.
- **Limits.** `max_tokens` / `max_completion_tokens` cut the answer to that many
  tokens with `finish_reason: "length"`; otherwise `"stop"`, or `"tool_calls"`
  when the answer calls tools.
- **Tools.** Scripted tool calls are returned as given. Without a script, a request that
  forces a function (`tool_choice` naming one, or `"required"`) gets one call of that
  (or the first) tool, with arguments built from its JSON schema (first enum value,
  `"mock"`, `1`, `1.0`, `true`, one-item arrays). `response_format` of type
  `json_schema` gets such an object as its content; `json_object` gets `{}`.
- **Streaming.** OpenAI SSE: a role chunk, one chunk per word, a chunk with the finish
  reason, then a chunk with `choices: []` and `usage` (always sent, as if
  `stream_options.include_usage` were set), then `data: [DONE]`.
- **Embeddings.** Unit vectors of `EMBEDDING_DIMENSIONS` floats (or the request's
  `dimensions`), a function of the text and the size only; `encoding_format: "base64"`
  gives little-endian float32 as OpenAI does.
- **Bounds.** The mock bounds its own work: embeddings `dimensions` up to
  `EMBEDDING_DIMENSIONS_MAX` (8192) and at most `EMBEDDING_INPUTS_MAX` (2048,
  OpenAI's own limit) inputs; a schema it builds arguments or a structured answer from
  nests at most `SCHEMA_DEPTH_MAX` (64) levels, holds at most
  `SCHEMA_VALUES_MAX` (10000) JSON values, and expands (through `$ref`) to at
  most `EXAMPLE_VALUES_MAX` (10000) values. Past a bound the answer is HTTP 400
  in the provider's error shape, naming the field and the bound
  (`MockModel.refusal`); every check is a loop, never a recursion.
- **Anthropic.** `anthropic/v1/messages` answers in Anthropic's Messages schema,
  streaming its event sequence (`message_start` ... `message_stop`).
- **Workers AI.** `workers-ai/@cf/{model}` takes `messages` or `prompt` and answers
  `{"result": {"response", "usage"}, "success": true, ...}`; streamed, `data:
  {"response": piece}` frames, a last one with `usage`, then `data: [DONE]`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

EMBEDDING_DIMENSIONS: Final = 32
"""Length of a mock embedding unless the request asks for `dimensions`."""
EMBEDDING_DIMENSIONS_MAX: Final = 8192
"""Largest `dimensions` the mock computes (OpenAI's largest model has 3072)."""
EMBEDDING_INPUTS_MAX: Final = 2048
"""Most inputs in one embeddings request: OpenAI's documented limit."""
SCHEMA_DEPTH_MAX: Final = 64
"""Deepest nesting of JSON values in a schema the mock builds an example from."""
SCHEMA_VALUES_MAX: Final = 10_000
"""Most JSON values (objects, arrays, strings, numbers) in such a schema."""
EXAMPLE_VALUES_MAX: Final = 10_000
"""Most values in one example built from a schema (`$ref` can multiply a small schema)."""

ANSWER_PREFIX: Final = "Mock answer: "
ANSWER_MAX_ECHO_TOKENS: Final = 50
SYSTEM_FINGERPRINT: Final = "fp_cf_aig_local"

_TOKEN = re.compile(r"\w+|[^\w\s]")
_PIECE = re.compile(r"\S+\s*|\s+")


def count_tokens(text: str) -> int:
    """Tokens of `text` by the mock's rule (see the module docstring)."""
    return len(_TOKEN.findall(text))


def _cut_tokens(text: str, limit: int) -> str:
    """The prefix of `text` holding its first `limit` tokens."""
    if limit <= 0:
        return ""
    for index, match in enumerate(_TOKEN.finditer(text)):
        if index + 1 == limit:
            return text[: match.end()]
    return text


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A function call in an answer."""

    name: str
    arguments: str
    """The arguments as a JSON string, as OpenAI sends them."""
    id: str

    @classmethod
    def coerce(cls, value: Mapping[str, Any] | ToolCall, index: int, seed: str) -> ToolCall:
        if isinstance(value, ToolCall):
            return value
        name = value.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError("a scripted tool call needs a 'name' (the function name)")
        args = value.get("arguments", value.get("args", {}))
        text = args if isinstance(args, str) else json.dumps(args, separators=(",", ":"))
        call_id = value.get("id") or f"call_{_digest(seed, name, str(index))[:24]}"
        return cls(name, text, str(call_id))

    def as_openai(self, index: int | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }
        if index is not None:
            out = {"index": index, **out}
        return out


@dataclass(slots=True)
class Completion:
    """What the mock decided to answer, before it is rendered in a provider's schema."""

    model: str
    text: str | None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    id_seed: str = ""

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def usage(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


class MockLimitError(ValueError):
    """A request past one of the mock model's bounds; `field` names the request field.

    Answered with HTTP 400 in the provider's error shape (`MockModel.refusal`).
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _text_of(content: Any) -> str:
    """The text of an OpenAI or Anthropic message content (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict):
                if isinstance(part.get("text"), str):
                    texts.append(part["text"])
                elif isinstance(part.get("content"), (str, list)):  # Anthropic tool_result
                    texts.append(_text_of(part["content"]))
        return " ".join(texts)
    return ""


def _prompt_tokens(messages: Sequence[Any], system: Any = None) -> int:
    total = count_tokens(_text_of(system)) if system else 0
    for message in messages:
        if not isinstance(message, dict):
            continue
        total += count_tokens(_text_of(message.get("content")))
        for call in message.get("tool_calls") or ():
            if isinstance(call, dict):
                fn = call.get("function") or {}
                total += count_tokens(str(fn.get("name", ""))) + count_tokens(
                    str(fn.get("arguments", ""))
                )
    return total


def _last_user_text(messages: Sequence[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return _text_of(message.get("content")).strip()
    return ""


def default_answer(messages: Sequence[Any]) -> str:
    """The mock's own answer to a conversation (see the module docstring)."""
    text = _last_user_text(messages)
    if not text:
        return "Mock answer."
    return ANSWER_PREFIX + _cut_tokens(text, ANSWER_MAX_ECHO_TOKENS)


# ------------------------------------------------------------------ JSON schema examples


def check_schema(schema: Any, field: str) -> None:
    """Raise `MockLimitError` for a schema past `SCHEMA_DEPTH_MAX` or
    `SCHEMA_VALUES_MAX`; a loop, so a schema 10,000 levels deep costs no recursion.
    """
    stack: list[tuple[Any, int]] = [(schema, 1)]
    seen = 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if seen > SCHEMA_VALUES_MAX:
            raise MockLimitError(
                field,
                f"the schema holds more than {SCHEMA_VALUES_MAX} JSON values, the mock "
                "model's bound; send a smaller schema",
            )
        if depth > SCHEMA_DEPTH_MAX:
            raise MockLimitError(
                field,
                f"the schema nests deeper than {SCHEMA_DEPTH_MAX} levels, the mock model's "
                "bound; send a shallower schema",
            )
        if isinstance(value, dict):
            stack += [(v, depth + 1) for v in value.values()]
        elif isinstance(value, list):
            stack += [(v, depth + 1) for v in value]


class _Example:
    """Builds one example value from a schema, counting what it builds against a budget."""

    def __init__(self, field: str) -> None:
        self.field = field
        self.values = 0

    def build(self, schema: Any, defs: Mapping[str, Any], depth: int) -> Any:
        self.values += 1
        if self.values > EXAMPLE_VALUES_MAX:
            raise MockLimitError(
                self.field,
                f"the schema expands (through $ref) to more than {EXAMPLE_VALUES_MAX} values, "
                "the mock model's bound; send a schema that refers to itself less",
            )
        if not isinstance(schema, dict) or depth > 8:
            return "mock"
        own = [d for d in (schema.get("$defs"), schema.get("definitions")) if isinstance(d, dict)]
        if own:
            defs = {**defs, **{k: v for d in own for k, v in d.items()}}
        if "$ref" in schema:
            name = str(schema["$ref"]).rsplit("/", 1)[-1]
            return self.build(defs.get(name, {}), defs, depth + 1)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return enum[0]
        if "default" in schema:
            return schema["default"]
        for combo in ("anyOf", "oneOf", "allOf"):
            options = schema.get(combo)
            if isinstance(options, list) and options:
                chosen = next(
                    (o for o in options if not (isinstance(o, dict) and o.get("type") == "null")),
                    options[0],
                )
                return self.build(chosen, defs, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object" or "properties" in schema:
            props = schema.get("properties")
            if not isinstance(props, dict):
                return {}
            return {name: self.build(sub, defs, depth + 1) for name, sub in props.items()}
        if kind == "array":
            return [self.build(schema.get("items", {}), defs, depth + 1)]
        if kind == "integer":
            return max(1, _number(schema.get("minimum"), 1))
        if kind == "number":
            return float(max(1.0, _number(schema.get("minimum"), 1.0)))
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return "mock"


def _number(value: Any, default: float) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return default
    return int(value) if isinstance(default, int) else value


def example_from_schema(
    schema: Any, defs: Mapping[str, Any] | None = None, depth: int = 0, *, field: str = "schema"
) -> Any:
    """A deterministic value that satisfies a (simple) JSON schema.

    Raises `MockLimitError` (naming `field`) for a schema past the mock's bounds.
    """
    check_schema(schema, field)
    return _Example(field).build(schema, defs or {}, depth)


def _forced_tool(body: Mapping[str, Any]) -> tuple[str, Any, str] | None:
    """(name, parameters schema, its field path) of the function a request forces, if any."""
    raw = body.get("tools")
    tools = (
        [(i, t) for i, t in enumerate(raw) if isinstance(t, dict)] if isinstance(raw, list) else []
    )
    choice = body.get("tool_choice")
    wanted: str | None = None
    if isinstance(choice, dict):
        fn = choice.get("function")
        wanted = fn.get("name") if isinstance(fn, dict) else choice.get("name")
        if wanted is None and choice.get("type") in ("any", "required"):
            wanted = ""
    elif choice in ("required", "any"):
        wanted = ""
    if wanted is None or not tools:
        return None
    for index, tool in tools:
        nested = isinstance(tool.get("function"), dict)
        fn = tool["function"] if nested else tool  # OpenAI nests it; Anthropic does not
        name = fn.get("name")
        if wanted in ("", name):
            if "parameters" in fn:
                key = "parameters"
            elif "input_schema" in fn:
                key = "input_schema"
            else:
                return str(name), {}, ""
            path = f"tools[{index}].function.{key}" if nested else f"tools[{index}].{key}"
            return str(name), fn[key], path
    return None


# ------------------------------------------------------------------ the model


class MockModel:
    """Decides answers and renders them in OpenAI's and Anthropic's schemas."""

    def refusal(self, body: Mapping[str, Any], operation: str) -> dict[str, Any] | None:
        """The 400 error body for a request past the mock's bounds, else None.

        Checked before any answer is made, in the provider's shape (Anthropic's for
        `messages`, OpenAI's otherwise), so one request never holds the event loop.
        """
        try:
            if operation == "embeddings":
                _embedding_texts(body)
            elif operation in ("chat", "messages", "run"):
                forced = _forced_tool(body)
                if forced is not None and forced[2]:
                    example_from_schema(forced[1], field=forced[2])
                self._structured(body)
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
        """The answer to a chat request; `text`/`tool_calls` replace it when scripted."""
        messages = body.get("messages") or []
        if not isinstance(messages, list):
            messages = []
        seed = _digest(model, json.dumps(messages, sort_keys=True, default=str))
        calls: list[ToolCall] = []
        content: str | None
        if text is not None or tool_calls:
            content = text
            calls = [ToolCall.coerce(c, i, seed) for i, c in enumerate(tool_calls or ())]
        elif (forced := _forced_tool(body)) is not None:
            name, params, path = forced
            args = json.dumps(example_from_schema(params, field=path), separators=(",", ":"))
            calls = [ToolCall(name, args, f"call_{_digest(seed, name)[:24]}")]
            content = None
        else:
            content = self._structured(body) or default_answer(messages)
        finish = "tool_calls" if calls else "stop"
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        if content and isinstance(limit, int) and not calls and count_tokens(content) > limit:
            content = _cut_tokens(content, limit)
            finish = "length"
        out_tokens = count_tokens(content or "") + sum(
            count_tokens(c.name) + count_tokens(c.arguments) for c in calls
        )
        return Completion(
            model=model,
            text=content,
            tool_calls=calls,
            finish_reason=finish,
            prompt_tokens=_prompt_tokens(messages, system if system is not None else None),
            completion_tokens=out_tokens,
            id_seed=seed,
        )

    @staticmethod
    def _structured(body: Mapping[str, Any]) -> str | None:
        fmt = body.get("response_format")
        if not isinstance(fmt, dict):
            return None
        if fmt.get("type") == "json_schema":
            spec = fmt.get("json_schema")
            schema = spec.get("schema", {}) if isinstance(spec, dict) else {}
            example = example_from_schema(schema, field="response_format.json_schema.schema")
            return json.dumps(example, separators=(",", ":"))
        if fmt.get("type") == "json_object":
            return "{}"
        return None

    # -------------------------------------------------------------- OpenAI schema

    @staticmethod
    def openai_json(c: Completion, created: int) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": c.text, "refusal": None}
        if c.tool_calls:
            message["tool_calls"] = [t.as_openai() for t in c.tool_calls]
        return {
            "id": f"chatcmpl-{c.id_seed[:29]}",
            "object": "chat.completion",
            "created": created,
            "model": c.model,
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": c.finish_reason}
            ],
            "usage": c.usage(),
        }

    @staticmethod
    def openai_chunks(c: Completion, created: int) -> list[bytes]:
        """The SSE frames of a streamed answer, `data: [DONE]` included."""
        head = {
            "id": f"chatcmpl-{c.id_seed[:29]}",
            "object": "chat.completion.chunk",
            "created": created,
            "model": c.model,
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }

        def frame(delta: dict[str, Any], finish: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return _sse({**head, "choices": [choice]})

        frames = [frame({"role": "assistant", "content": "", "refusal": None})]
        frames += [frame({"content": piece}) for piece in _PIECE.findall(c.text or "")]
        for index, call in enumerate(c.tool_calls):
            first = call.as_openai(index)
            first["function"] = {"name": call.name, "arguments": ""}
            frames.append(frame({"tool_calls": [first]}))
            frames.append(
                frame({"tool_calls": [{"index": index, "function": {"arguments": call.arguments}}]})
            )
        frames.append(frame({}, c.finish_reason))
        frames.append(_sse({**head, "choices": [], "usage": c.usage()}))
        frames.append(b"data: [DONE]\n\n")
        return frames

    @staticmethod
    def openai_error(status: int, message: str) -> dict[str, Any]:
        kind = {
            400: "invalid_request_error",
            401: "authentication_error",
            403: "permission_error",
            404: "not_found_error",
            429: "rate_limit_exceeded",
        }.get(status, "server_error" if status >= 500 else "invalid_request_error")
        return {"error": {"message": message, "type": kind, "param": None, "code": str(status)}}

    # -------------------------------------------------------------- Workers AI schema

    @staticmethod
    def workers_ai_json(c: Completion) -> dict[str, Any]:
        """`POST workers-ai/@cf/{model}`: Workers AI's own envelope.

        https://developers.cloudflare.com/ai-gateway/usage/providers/workersai/
        """
        result: dict[str, Any] = {"response": c.text or "", "usage": c.usage()}
        if c.tool_calls:
            result["tool_calls"] = [
                {"name": t.name, "arguments": json.loads(t.arguments or "{}")} for t in c.tool_calls
            ]
        return {"result": result, "success": True, "errors": [], "messages": []}

    @staticmethod
    def workers_ai_chunks(c: Completion) -> list[bytes]:
        frames = [_sse({"response": piece}) for piece in _PIECE.findall(c.text or "")]
        frames.append(_sse({"response": "", "usage": c.usage()}))
        frames.append(b"data: [DONE]\n\n")
        return frames

    # -------------------------------------------------------------- Anthropic schema

    @staticmethod
    def anthropic_json(c: Completion) -> dict[str, Any]:
        return {
            "id": f"msg_{c.id_seed[:24]}",
            "type": "message",
            "role": "assistant",
            "model": c.model,
            "content": _anthropic_blocks(c),
            "stop_reason": _ANTHROPIC_STOP[c.finish_reason],
            "stop_sequence": None,
            "usage": {"input_tokens": c.prompt_tokens, "output_tokens": c.completion_tokens},
        }

    @staticmethod
    def anthropic_events(c: Completion) -> list[bytes]:
        message = MockModel.anthropic_json(c)
        start = {
            **message,
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": c.prompt_tokens, "output_tokens": 0},
        }
        events = [_event("message_start", {"type": "message_start", "message": start})]
        for index, block in enumerate(message["content"]):
            if block["type"] == "text":
                opening: dict[str, Any] = {"type": "text", "text": ""}
                deltas = [
                    {"type": "text_delta", "text": piece} for piece in _PIECE.findall(block["text"])
                ]
            else:
                opening = {**block, "input": {}}
                deltas = [{"type": "input_json_delta", "partial_json": json.dumps(block["input"])}]
            events.append(
                _event(
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": opening},
                )
            )
            events += [
                _event(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": d},
                )
                for d in deltas
            ]
            events.append(
                _event("content_block_stop", {"type": "content_block_stop", "index": index})
            )
        events.append(
            _event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                    "usage": {"output_tokens": c.completion_tokens},
                },
            )
        )
        events.append(_event("message_stop", {"type": "message_stop"}))
        return events

    @staticmethod
    def anthropic_error(status: int, message: str) -> dict[str, Any]:
        kind = {
            400: "invalid_request_error",
            401: "authentication_error",
            403: "permission_error",
            404: "not_found_error",
            429: "rate_limit_error",
            529: "overloaded_error",
        }.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}

    # -------------------------------------------------------------- embeddings

    @staticmethod
    def embeddings(body: Mapping[str, Any], model: str) -> tuple[dict[str, Any], int]:
        """(OpenAI embeddings response, prompt tokens)."""
        texts, size = _embedding_texts(body)
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        tokens = 0
        for index, text in enumerate(texts):
            vector = embedding_vector(text, size)
            tokens += count_tokens(text)
            value: Any = (
                base64.b64encode(struct.pack(f"<{size}f", *vector)).decode()
                if as_base64
                else vector
            )
            data.append({"object": "embedding", "index": index, "embedding": value})
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return {"object": "list", "data": data, "model": model, "usage": usage}, tokens


def _embedding_texts(body: Mapping[str, Any]) -> tuple[list[str], int]:
    """(input texts, vector size) of an embeddings request, within the mock's bounds."""
    raw = body.get("input", "")
    if isinstance(raw, list) and len(raw) > EMBEDDING_INPUTS_MAX:
        raise MockLimitError(
            "input",
            f"{len(raw)} inputs is more than {EMBEDDING_INPUTS_MAX}, the most one request may "
            "send; send them in batches",
        )
    if isinstance(raw, str):
        texts = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw):
        texts = [" ".join(map(str, raw))]  # one pre-tokenized input
    elif isinstance(raw, list):
        texts = [
            x if isinstance(x, str) else " ".join(map(str, x)) if isinstance(x, list) else str(x)
            for x in raw
        ]
    else:
        texts = [str(raw)]
    size = body.get("dimensions")
    if isinstance(size, int) and not isinstance(size, bool) and size > EMBEDDING_DIMENSIONS_MAX:
        raise MockLimitError(
            "dimensions",
            f"{size} is more than {EMBEDDING_DIMENSIONS_MAX}, the mock model's bound; ask for "
            f"at most {EMBEDDING_DIMENSIONS_MAX}",
        )
    size = size if isinstance(size, int) and size > 0 else EMBEDDING_DIMENSIONS
    return texts, size


def embedding_vector(text: str, size: int = EMBEDDING_DIMENSIONS) -> list[float]:
    """The mock's unit vector for `text`: a function of the text and the size only."""
    values: list[float] = []
    counter = 0
    while len(values) < size:
        block = hashlib.sha256(f"{counter}\x00{text}".encode()).digest()
        values += [(v - 32768) / 32768 for (v,) in struct.iter_unpack(">H", block)]
        counter += 1
    values = values[:size]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


_ANTHROPIC_STOP: Final = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def _anthropic_blocks(c: Completion) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if c.text:
        blocks.append({"type": "text", "text": c.text})
    for call in c.tool_calls:
        try:
            args = json.loads(call.arguments) if call.arguments else {}
        except ValueError:
            args = {}
        call_id = call.id if call.id.startswith("toolu_") else "toolu_" + call.id[5:]
        blocks.append({"type": "tool_use", "id": call_id, "name": call.name, "input": args})
    return blocks


def _sse(payload: Mapping[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def _event(name: str, payload: Mapping[str, Any]) -> bytes:
    data = json.dumps(payload, separators=(",", ":"))
    return f"event: {name}\ndata: {data}\n\n".encode()
