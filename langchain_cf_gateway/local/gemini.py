"""The mock model in Google's Gemini API schema (google-ai-studio's native routes).

Requests are read into the mock's chat form, so that Gemini callers get the same
responses, token counts, scripted tool calls and embeddings as everyone else
(`mock`); responses are written in the schema of https://ai.google.dev/api:

- `:generateContent`: a `GenerateContentResponse` (`candidates`, `usageMetadata`,
  `modelVersion`, `responseId`); text as a `text` part, tool calls as
  `functionCall` parts, `finishReason` `STOP` or `MAX_TOKENS`;
- `:streamGenerateContent`: one `GenerateContentResponse` per piece of text, the last
  with the finish reason and the full usage; as SSE `data:` frames with `alt=sse`,
  else as one JSON array streamed element by element;
- `:embedContent` (`{"embedding": {"values"}}`) and `:batchEmbedContents`
  (`{"embeddings": [...]}`), the mock's unit vectors (`outputDimensionality` honoured);
- `:countTokens`: `{"totalTokens"}`, the prompt tokens by the mock's rule;
- `GET models`: `{"models": [...]}` naming `models/mock` (and the embedding model);
  `GET models/{model}`: that model;
- errors: `{"error": {"code", "message", "status"}}` (https://ai.google.dev/gemini-api/docs/troubleshooting).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from .mock import EMBEDDING_DIMENSIONS, Completion, count_tokens, embedding_vector
from .native_routes import as_list, as_object

_STATUS: Final = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
MAX_EMBEDDING_DIMENSIONS: Final = 3072
"""Largest `outputDimensionality` (Gemini's embedding models give at most 3072 values)."""
_FINISH: Final = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP"}
_PIECES: Final = re.compile(r"\S+\s*|\s+")


def error(status: int, message: str) -> dict[str, Any]:
    """Google's error body for an HTTP status."""
    kind = _STATUS.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
    return {"error": {"code": status, "message": message, "status": kind}}


def _parts_text(content: Any) -> str:
    """The text parts of a `Content` (or of a bare string / list of parts)."""
    if isinstance(content, str):
        return content
    parts = content.get("parts") if isinstance(content, Mapping) else content
    if not isinstance(parts, list):
        return ""
    return " ".join(
        p["text"] for p in parts if isinstance(p, Mapping) and isinstance(p.get("text"), str)
    )


def chat_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """A Gemini `GenerateContentRequest` as the mock's OpenAI-style chat body."""
    raw = body.get("contents") or []
    contents = [raw] if isinstance(raw, (str, Mapping)) else raw if isinstance(raw, list) else []
    messages: list[dict[str, Any]] = []
    for content in contents:
        role = content.get("role", "user") if isinstance(content, Mapping) else "user"
        message: dict[str, Any] = {
            "role": "assistant" if role == "model" else "user",
            "content": _parts_text(content),
        }
        for part in as_list(as_object(content).get("parts")):
            if isinstance(part, Mapping) and isinstance(part.get("functionResponse"), Mapping):
                message["content"] += " " + json.dumps(part["functionResponse"].get("response"))
        messages.append(message)
    chat: dict[str, Any] = {"messages": messages}
    tools = [
        {
            "type": "function",
            "function": {"name": f.get("name"), "parameters": f.get("parameters", {})},
        }
        for tool in as_list(body.get("tools"))
        for f in as_list(as_object(tool).get("functionDeclarations"))
        if isinstance(f, Mapping)
    ]
    if tools:
        chat["tools"] = tools
    calling = as_object(as_object(body.get("toolConfig")).get("functionCallingConfig"))
    if calling.get("mode") == "ANY":
        names = as_list(calling.get("allowedFunctionNames"))
        chat["tool_choice"] = {"type": "function", "name": names[0]} if names else "required"
    config = as_object(body.get("generationConfig"))
    if isinstance(config.get("maxOutputTokens"), int):
        chat["max_tokens"] = config["maxOutputTokens"]
    if config.get("responseMimeType") == "application/json":
        schema = config.get("responseSchema") or config.get("responseJsonSchema")
        chat["response_format"] = (
            {"type": "json_schema", "json_schema": {"schema": schema}}
            if isinstance(schema, Mapping)
            else {"type": "json_object"}
        )
    return chat


def system_of(body: Mapping[str, Any]) -> str | None:
    """The text of a request's `systemInstruction` (counted as prompt tokens)."""
    instruction = body.get("systemInstruction") or body.get("system_instruction")
    return _parts_text(instruction) if instruction else None


def _usage(c: Completion, *, final: bool = True) -> dict[str, int]:
    out = c.completion_tokens if final else 0
    return {
        "promptTokenCount": c.prompt_tokens,
        "candidatesTokenCount": out,
        "totalTokenCount": c.prompt_tokens + out,
    }


def _response(c: Completion, parts: list[dict[str, Any]], finish: str | None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    return {
        "candidates": [candidate],
        "usageMetadata": _usage(c, final=finish is not None),
        "modelVersion": c.model,
        "responseId": c.id_seed[:24],
    }


def _call_parts(c: Completion) -> list[dict[str, Any]]:
    return [{"functionCall": {"name": t.name, "args": _args(t.arguments)}} for t in c.tool_calls]


def _args(arguments: str) -> Any:
    """A tool call's arguments as an object (a scripted string that is not JSON: `{}`)."""
    try:
        return json.loads(arguments) if arguments else {}
    except ValueError:
        return {}


def generate_json(c: Completion) -> dict[str, Any]:
    """`:generateContent`'s response."""
    parts = ([{"text": c.text}] if c.text else []) + _call_parts(c)
    return _response(c, parts, _FINISH[c.finish_reason])


def generate_frames(c: Completion, *, sse: bool) -> list[bytes]:
    """`:streamGenerateContent`'s response: SSE frames, or the pieces of one JSON array."""
    pieces = [_response(c, [{"text": p}], None) for p in _PIECES.findall(c.text or "")]
    pieces.append(_response(c, _call_parts(c) or [{"text": ""}], _FINISH[c.finish_reason]))
    encoded = [json.dumps(p, separators=(",", ":")).encode() for p in pieces]
    if sse:
        return [b"data: " + e + b"\r\n\r\n" for e in encoded]
    return [b"[" + encoded[0]] + [b",\r\n" + e for e in encoded[1:]] + [b"]"]


def embeddings(body: Mapping[str, Any], path: str) -> tuple[dict[str, Any], int]:
    """(`:embedContent` or `:batchEmbedContents` response, prompt tokens).

    Raises:
        ValueError: `outputDimensionality` is not an integer from 1 to
            `MAX_EMBEDDING_DIMENSIONS` (a 400 response in Google's error shape).
    """
    batch = path.endswith(":batchEmbedContents")
    values, tokens = [], 0
    for request in as_list(body.get("requests")) if batch else [body]:
        request = as_object(request)
        text = _parts_text(request.get("content"))
        size = request.get("outputDimensionality") or body.get("outputDimensionality")
        if size is not None and (
            isinstance(size, bool)
            or not isinstance(size, int)
            or not 0 < size <= MAX_EMBEDDING_DIMENSIONS
        ):
            raise ValueError(
                f"outputDimensionality must be an integer from 1 to {MAX_EMBEDDING_DIMENSIONS}"
            )
        values.append({"values": embedding_vector(text, size or EMBEDDING_DIMENSIONS)})
        tokens += count_tokens(text)
    if batch:
        return {"embeddings": values}, tokens
    return {"embedding": values[0] if values else {"values": []}}, tokens


def models(name: str | None = None) -> dict[str, Any]:
    """`GET models`: the mock's chat and embedding models in Gemini's `Model` schema.

    With `name` (`GET models/{name}`), that one model, described as the chat model.
    """
    chat = {
        "name": "models/mock",
        "version": "1",
        "displayName": "Local gateway mock",
        "description": "The local gateway's deterministic mock model",
        "inputTokenLimit": 1_048_576,
        "outputTokenLimit": 8192,
        "supportedGenerationMethods": ["generateContent", "countTokens"],
    }
    embed = {
        **chat,
        "name": "models/mock-embedding",
        "displayName": "Local gateway mock embeddings",
        "supportedGenerationMethods": ["embedContent"],
    }
    if name is not None:
        return {**chat, "name": f"models/{name}", "displayName": name}
    return {"models": [chat, embed]}
