"""The mock's responses on provider-native APIs beyond chat completions and Anthropic messages.

`MockUpstream` asks `respond` first; it serves the operations
named by `native_routes` (OpenAI's Responses API, Anthropic's `count_tokens`,
Gemini's routes) and every path the mock does not serve, and returns None for the rest.

Each provider's errors are in that provider's own shape, as its SDK expects them, so an
SDK raises its own typed error: Anthropic's `{"type": "error", "error": {"type",
"message"}}` (https://docs.anthropic.com/en/api/errors), Google's `{"error": {"code",
"message", "status"}}`, OpenAI's `{"error": {"message", "type", "param", "code"}}` for
the others. This holds for a fault's `status=` and for an unserved path (404).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from . import gemini, responses_api
from .faults import Fault
from .mock import MockLimitError, MockModel, count_tokens
from .native_routes import GOOGLE_AI_STUDIO, as_list, as_object

if TYPE_CHECKING:
    from .scripts import Script
    from .upstream import ProviderCall

JSON: Final = "application/json"  # as in .upstream, which imports this module
SSE: Final = "text/event-stream; charset=utf-8"
OPERATIONS: Final = frozenset(
    ("responses", "count_tokens", "generate_content", "embed_content", "model_list", "other")
)
"""The operations `respond` serves."""


@dataclass(slots=True)
class NativeResponse:
    """What the mock sends: a whole body, or SSE/array frames to stream."""

    status: int
    content_type: str
    body: bytes | None = None
    frames: list[bytes] | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None


def error_body(slug: str, status: int, message: str) -> dict[str, Any]:
    """An upstream error in the shape of provider `slug`'s own API."""
    if slug == "anthropic":
        return MockModel.anthropic_error(status, message)
    if slug == GOOGLE_AI_STUDIO:
        return gemini.error(status, message)
    return MockModel.openai_error(status, message)


def respond(
    model: MockModel, call: ProviderCall, script: Script | None, fault: Fault | None, now: int
) -> NativeResponse | None:
    """The mock's response to `call`, or None when the operation is not one of `OPERATIONS`."""
    if call.operation not in OPERATIONS:
        return None
    slug = call.provider.slug
    if fault is not None and fault.status is not None and fault.status >= 300:
        err = error_body(slug, fault.status, f"mock fault: HTTP {fault.status}")
        return NativeResponse(fault.status, JSON, _dumps(err))
    if call.operation == "other":
        message = (
            f"the local gateway's mock model does not serve {slug}/{call.path}; "
            "configure a pass-through upstream for other paths"
        )
        return NativeResponse(404, JSON, _dumps(error_body(slug, 404, message)))
    body = call.body or {}
    if call.operation == "model_list":
        return NativeResponse(200, JSON, _dumps(gemini.models(call.model or None)))
    if call.operation == "embed_content":
        try:
            data, tokens = gemini.embeddings(body, call.path)
        except ValueError as exc:
            return NativeResponse(400, JSON, _dumps(error_body(slug, 400, str(exc))))
        return NativeResponse(200, JSON, _dumps(data), tokens_in=tokens, tokens_out=0)
    if call.operation == "count_tokens" and slug == GOOGLE_AI_STUDIO:
        chat = gemini_chat(as_object(body.get("generateContentRequest")) or body)
        tokens = model.complete(chat, call.model, system=gemini.system_of(body)).prompt_tokens
        return NativeResponse(200, JSON, _dumps({"totalTokens": tokens}), tokens_in=tokens)
    if call.operation == "count_tokens":
        messages = {"messages": as_list(body.get("messages"))}
        tokens = model.complete(messages, call.model, system=body.get("system")).prompt_tokens
        tokens += sum(count_tokens(json.dumps(t)) for t in as_list(body.get("tools")))
        return NativeResponse(200, JSON, _dumps({"input_tokens": tokens}), tokens_in=tokens)
    responses = call.operation == "responses"
    chat = responses_api.chat_body(body) if responses else gemini_chat(body)
    try:  # a schema past the mock's bounds is the client's error, in its provider's shape
        c = model.complete(
            chat,
            call.model,
            text=script.text if script else None,
            tool_calls=script.tool_calls if script else None,
            system=body.get("instructions") if responses else gemini.system_of(body),
        )
    except MockLimitError as exc:
        return NativeResponse(400, JSON, _dumps(error_body(slug, 400, str(exc))))
    out = NativeResponse(200, JSON, tokens_in=c.prompt_tokens, tokens_out=c.completion_tokens)
    if responses and call.stream:
        out.content_type, out.frames = SSE, responses_api.response_events(c, now, body)
    elif responses:
        out.body = _dumps(responses_api.response_json(c, now, body))
    elif call.stream:
        sse = "alt=sse" in call.query_string.split("&")
        out.content_type = SSE if sse else JSON
        out.frames = gemini.generate_frames(c, sse=sse)
    else:
        out.body = _dumps(gemini.generate_json(c))
    return out


def gemini_chat(body: Mapping[str, Any]) -> dict[str, Any]:
    """A Gemini request as the mock's chat body, with what the mock's tool choice reads.

    On top of `gemini.chat_body`: each function's `description`, `mode: NONE` as
    `tool_choice: "none"`, and a content of `functionResponse` parts only as a `tool`
    message naming the function (its text, hence its tokens, unchanged).
    """
    chat = gemini.chat_body(body)
    declared = {
        f.get("name"): f.get("description")
        for tool in as_list(body.get("tools"))
        for f in as_list(as_object(tool).get("functionDeclarations"))
        if isinstance(f, Mapping)
    }
    for tool in chat.get("tools", ()):
        description = declared.get(tool["function"]["name"])
        if isinstance(description, str):
            tool["function"]["description"] = description
    calling = as_object(as_object(body.get("toolConfig")).get("functionCallingConfig"))
    if calling.get("mode") == "NONE":
        chat["tool_choice"] = "none"
    raw = body.get("contents")
    if isinstance(raw, list) and len(raw) == len(chat["messages"]):
        for content, message in zip(raw, chat["messages"], strict=True):
            parts = [p for p in as_list(as_object(content).get("parts")) if isinstance(p, Mapping)]
            names = [as_object(p.get("functionResponse")).get("name") for p in parts]
            if parts and all(isinstance(n, str) for n in names):
                message.update(role="tool", name=", ".join(n for n in names if n))
    return chat


def _dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()
