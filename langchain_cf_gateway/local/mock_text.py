"""What the mock says: its text, its tokens, its tool calls and its bounds' error.

Deterministic: the same request always gets the same text (see `mock`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

MOCK_TEXT_PREFIX: Final = "Mock answer: "
"""What the mock's text starts with (a wire value clients and tests match on)."""
MOCK_TEXT_MAX_ECHO_TOKENS: Final = 50
SYSTEM_FINGERPRINT: Final = "fp_cf_aig_local"

_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """Tokens of `text` by the mock's rule (see the module docstring)."""
    return len(_TOKEN.findall(text))


def cut_tokens(text: str, limit: int) -> str:
    """The prefix of `text` holding its first `limit` tokens."""
    if limit <= 0:
        return ""
    for index, match in enumerate(_TOKEN.finditer(text)):
        if index + 1 == limit:
            return text[: match.end()]
    return text


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A function call in a response."""

    name: str
    arguments: str
    """The arguments as a JSON string, as OpenAI sends them."""
    id: str

    @classmethod
    def coerce(cls, value: Mapping[str, Any] | ToolCall, index: int, seed: str) -> ToolCall:
        """A `ToolCall` from a script's mapping (an id derived from `seed` if none).

        Raises:
            ValueError: the mapping has no `name`.
        """
        if isinstance(value, ToolCall):
            return value
        name = value.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError("a scripted tool call needs a 'name' (the function name)")
        args = value.get("arguments", value.get("args", {}))
        text = args if isinstance(args, str) else json.dumps(args, separators=(",", ":"))
        call_id = value.get("id") or f"call_{digest(seed, name, str(index))[:24]}"
        return cls(name, text, str(call_id))

    def as_openai(self, index: int | None = None) -> dict[str, Any]:
        """The call in OpenAI's `tool_calls` shape (`index` for stream chunks)."""
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
    """What the mock decided to respond, before it is rendered in a provider's schema."""

    model: str
    text: str | None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    id_seed: str = ""

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    def usage(self) -> dict[str, int]:
        """The OpenAI `usage` object."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


class MockLimitError(ValueError):
    """A request past one of the mock model's bounds; `field` names the request field.

    Refused with HTTP 400 in the provider's error shape (`MockModel.refusal`).
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


def digest(*parts: str) -> str:
    """A stable hex digest of the parts (ids and seeds of the mock)."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def text_of(content: Any) -> str:
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
                    texts.append(text_of(part["content"]))
        return " ".join(texts)
    return ""


def prompt_tokens(messages: Sequence[Any], system: Any = None) -> int:
    """The prompt tokens of the messages (and the system prompt)."""
    total = count_tokens(text_of(system)) if system else 0
    for message in messages:
        if not isinstance(message, dict):
            continue
        total += count_tokens(text_of(message.get("content")))
        calls = message.get("tool_calls")
        for call in calls if isinstance(calls, list) else ():
            fn = call.get("function") if isinstance(call, dict) else None
            if isinstance(fn, dict):
                total += count_tokens(str(fn.get("name", ""))) + count_tokens(
                    str(fn.get("arguments", ""))
                )
    return total


def _last_user_text(messages: Sequence[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return text_of(message.get("content")).strip()
    return ""


def default_text(messages: Sequence[Any]) -> str:
    """The mock's own response to a conversation (see the module docstring)."""
    text = _last_user_text(messages)
    if not text:
        return "Mock answer."
    return MOCK_TEXT_PREFIX + cut_tokens(text, MOCK_TEXT_MAX_ECHO_TOKENS)
