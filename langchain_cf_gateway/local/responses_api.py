"""The mock model in OpenAI's Responses API schema (`openai/responses`).

Cloudflare serves the Responses API on the OpenAI provider route
(https://developers.cloudflare.com/ai-gateway/usage/providers/openai/), and
`@ai-sdk/openai` calls it by default. A request is read into the mock's chat form
(`input` and `instructions` as messages, function `tools`, `tool_choice`,
`max_output_tokens`, `text.format`), so the response, token counts and scripted tool
calls are those of `mock`; the response follows https://platform.openai.com/docs/api-reference/responses:

- not streamed: a `response` object whose `output` holds one `message` item with an
  `output_text` part, then one `function_call` item per tool call; `status`
  `incomplete` with `incomplete_details.reason: "max_output_tokens"` when cut;
- streamed: the documented event sequence (`response.created`,
  `response.in_progress`, `response.output_item.added`,
  `response.content_part.added`, `response.output_text.delta` per piece, ... ,
  `response.completed`), each as `event: {type}` with a `sequence_number`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from .mock import Completion
from .native_routes import as_list, as_object

_PIECES: Final = re.compile(r"\S+\s*|\s+")


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            p["text"] for p in content if isinstance(p, Mapping) and isinstance(p.get("text"), str)
        )
    return ""


def chat_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """A Responses API request as the mock's OpenAI-style chat body."""
    raw = body.get("input")
    items = [{"role": "user", "content": raw}] if isinstance(raw, str) else as_list(raw)
    messages: list[dict[str, Any]] = []
    for item in map(as_object, items):
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role", "user")
            messages.append({"role": role, "content": _text(item.get("content"))})
        elif kind == "function_call":
            call = {"name": item.get("name", ""), "arguments": item.get("arguments", "")}
            messages.append(
                {"role": "assistant", "content": None, "tool_calls": [{"function": call}]}
            )
        elif kind == "function_call_output":
            messages.append({"role": "tool", "content": _text(item.get("output"))})
    chat: dict[str, Any] = {"messages": messages}
    tools = [
        {
            "type": "function",
            "function": {"name": t.get("name"), "parameters": t.get("parameters", {})},
        }
        for t in map(as_object, as_list(body.get("tools")))
        if t.get("type") == "function"
    ]
    if tools:
        chat["tools"] = tools
    if "tool_choice" in body:
        chat["tool_choice"] = body["tool_choice"]
    if isinstance(body.get("max_output_tokens"), int):
        chat["max_tokens"] = body["max_output_tokens"]
    fmt = as_object(as_object(body.get("text")).get("format"))
    if fmt.get("type") == "json_schema":
        chat["response_format"] = {
            "type": "json_schema",
            "json_schema": {"schema": fmt.get("schema", {})},
        }
    elif fmt.get("type") == "json_object":
        chat["response_format"] = {"type": "json_object"}
    return chat


def _message_item(c: Completion, text: str, status: str) -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {
        "id": f"msg_{c.id_seed[:24]}",
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": [part] if status == "completed" else [],
    }


def _call_items(c: Completion) -> list[dict[str, Any]]:
    return [
        {
            "id": f"fc_{c.id_seed[:20]}{index:04d}",
            "type": "function_call",
            "status": "completed",
            "call_id": call.id,
            "name": call.name,
            "arguments": call.arguments,
        }
        for index, call in enumerate(c.tool_calls)
    ]


def response_json(
    c: Completion, created: int, request: Mapping[str, Any], *, done: bool = True
) -> dict[str, Any]:
    """The `response` object (`done=False`: as `response.created` shows it)."""
    output: list[dict[str, Any]] = []
    if done:
        if c.text is not None:
            output.append(_message_item(c, c.text, "completed"))
        output += _call_items(c)
    cut = c.finish_reason == "length"
    usage = {
        "input_tokens": c.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": c.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": c.total_tokens,
    }
    return {
        "id": f"resp_{c.id_seed[:32]}",
        "object": "response",
        "created_at": created,
        "status": ("incomplete" if cut else "completed") if done else "in_progress",
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if cut and done else None,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "model": c.model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": False,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": as_list(request.get("tools")),
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage if done else None,
        "metadata": {},
    }


def response_events(c: Completion, created: int, request: Mapping[str, Any]) -> list[bytes]:
    """The SSE events of a streamed response, `response.completed` last."""
    events: list[dict[str, Any]] = []

    def emit(kind: str, **fields: Any) -> None:
        events.append({"type": kind, "sequence_number": len(events), **fields})

    pending = response_json(c, created, request, done=False)
    emit("response.created", response=pending)
    emit("response.in_progress", response=pending)
    index = 0
    if c.text is not None:
        item = _message_item(c, "", "in_progress")
        where = {"item_id": item["id"], "output_index": index, "content_index": 0}
        emit("response.output_item.added", output_index=index, item=item)
        empty = {"type": "output_text", "text": "", "annotations": []}
        emit("response.content_part.added", **where, part=empty)
        for piece in _PIECES.findall(c.text):
            emit("response.output_text.delta", **where, delta=piece, logprobs=[])
        emit("response.output_text.done", **where, text=c.text, logprobs=[])
        emit("response.content_part.done", **where, part={**empty, "text": c.text})
        emit(
            "response.output_item.done",
            output_index=index,
            item=_message_item(c, c.text, "completed"),
        )
        index += 1
    for call in _call_items(c):
        where = {"item_id": call["id"], "output_index": index}
        emit(
            "response.output_item.added",
            output_index=index,
            item={**call, "arguments": "", "status": "in_progress"},
        )
        emit("response.function_call_arguments.delta", **where, delta=call["arguments"])
        emit(
            "response.function_call_arguments.done",
            **where,
            name=call["name"],
            arguments=call["arguments"],
        )
        emit("response.output_item.done", output_index=index, item=call)
        index += 1
    final = response_json(c, created, request)
    emit(
        "response.incomplete" if final["status"] == "incomplete" else "response.completed",
        response=final,
    )
    return [
        f"event: {e['type']}\ndata: {json.dumps(e, separators=(',', ':'))}\n\n".encode()
        for e in events
    ]
