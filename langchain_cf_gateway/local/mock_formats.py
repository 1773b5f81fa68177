"""The mock's responses in each provider's wire schema: OpenAI, Workers AI, Anthropic.

A `Completion` in, a JSON body or the SSE frames of a stream out:

- OpenAI (https://platform.openai.com/docs/api-reference/chat): a role chunk, one chunk
  per word, a chunk with the finish reason, a chunk with `choices: []` and `usage`,
  then `data: [DONE]`;
- Workers AI (https://developers.cloudflare.com/workers-ai/): `{"result": {"response",
  "usage"}}`; streamed, `data: {"response": piece}` frames, then `data: [DONE]`;
- Anthropic Messages (https://docs.anthropic.com/en/api/messages): the event sequence
  `message_start` ... `message_stop`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Final

from .mock_text import SYSTEM_FINGERPRINT, Completion

_PIECE = re.compile(r"\S+\s*|\s+")

# -------------------------------------------------------------- OpenAI schema


def openai_json(c: Completion, created: int) -> dict[str, Any]:
    """An OpenAI chat completion object."""
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
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": c.finish_reason,
            }
        ],
        "usage": c.usage(),
    }


def openai_chunks(c: Completion, created: int) -> list[bytes]:
    """The SSE frames of a streamed response, `data: [DONE]` included."""
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


def openai_error(status: int, message: str) -> dict[str, Any]:
    """An error body in OpenAI's shape."""
    kind = {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        429: "rate_limit_exceeded",
    }.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": str(status)}}


# -------------------------------------------------------------- Workers AI schema


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


def workers_ai_chunks(c: Completion) -> list[bytes]:
    """Workers AI's SSE frames: one per word, then usage, then `[DONE]`."""
    frames = [_sse({"response": piece}) for piece in _PIECE.findall(c.text or "")]
    frames.append(_sse({"response": "", "usage": c.usage()}))
    frames.append(b"data: [DONE]\n\n")
    return frames


# -------------------------------------------------------------- Anthropic schema


def anthropic_json(c: Completion) -> dict[str, Any]:
    """An Anthropic Messages response object."""
    return {
        "id": f"msg_{c.id_seed[:24]}",
        "type": "message",
        "role": "assistant",
        "model": c.model,
        "content": _anthropic_blocks(c),
        "stop_reason": _ANTHROPIC_STOP[c.finish_reason],
        "stop_sequence": None,
        "usage": {
            "input_tokens": c.prompt_tokens,
            "output_tokens": c.completion_tokens,
        },
    }


def anthropic_events(c: Completion) -> list[bytes]:
    """Anthropic's SSE event sequence, `message_start` to `message_stop`."""
    message = anthropic_json(c)
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
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": opening,
                },
            )
        )
        events += [
            _event(
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": d},
            )
            for d in deltas
        ]
        events.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
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


def anthropic_error(status: int, message: str) -> dict[str, Any]:
    """An error body in Anthropic's shape."""
    kind = {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        429: "rate_limit_error",
        529: "overloaded_error",
    }.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}}


_ANTHROPIC_STOP: Final = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
}


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
