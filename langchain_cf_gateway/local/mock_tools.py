"""Which tool the mock calls, and what it says once the tool's result is back.

The rules (documented for users in `local/README.md`; words as `mock_message` reads them):

- **Offered tools.** OpenAI's `tools` (`{"type": "function", "function": {...}}`),
  Anthropic's and Workers AI's (`{"name", "description", "input_schema" | "parameters"}`).
- **`tool_choice`.** `"none"` (or `{"type": "none"}`): never a call. `"required"` /
  `"any"`: the first tool; a named function: that tool (every time, even after a result).
  Absent or `"auto"` (or `{"type": "auto"}`): the tool the user's last message names.
- **Naming a tool.** The message holds the tool's name as a whole word (`get_weather`; a name
  of letters, digits and `_`),
  the earliest such name winning; else the tool sharing the most words with the message,
  counting the words of 4 or more characters of its name and description that are not
  common English words (`weather` in "What is the weather in Paris?" names
  `get_weather`); ties go to the tool offered first. No shared word: no call.
- **The turn.** Only the last user message counts. Once a tool result follows it (an
  OpenAI `tool` message, an Anthropic `tool_result` block), the mock does not call again
  (unless forced) and responds `"Based on {tool}: {result}"`, results joined by `"; "`,
  each cut to its first 50 tokens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .mock_message import COMMON_WORDS, MessageText, key_words
from .mock_text import MOCK_TEXT_MAX_ECHO_TOKENS, cut_tokens, text_of

RESULT_PREFIX: Final = "Based on "
"""What the mock's response to a tool result starts with (a wire value tests match on)."""


@dataclass(frozen=True, slots=True)
class OfferedTool:
    """A function offered in a request's `tools`."""

    name: str
    description: str
    schema: Any
    """Its parameters' JSON schema (`{}` when it has none)."""
    path: str
    """The request field holding the schema (named in a bound's error), `""` if none."""


def offered_tools(body: Mapping[str, Any]) -> list[OfferedTool]:
    """The functions of a request's `tools`, in the order offered."""
    raw = body.get("tools")
    if not isinstance(raw, list):
        return []
    tools: list[OfferedTool] = []
    for index, tool in enumerate(raw):
        if not isinstance(tool, dict):
            continue
        nested = isinstance(tool.get("function"), dict)
        fn = tool["function"] if nested else tool  # OpenAI nests it; Anthropic does not
        name = fn.get("name")
        if not isinstance(name, str) or not name:
            continue
        description = fn.get("description")
        key = next((k for k in ("parameters", "input_schema") if k in fn), None)
        prefix = f"tools[{index}].function" if nested else f"tools[{index}]"
        tools.append(
            OfferedTool(
                name,
                description if isinstance(description, str) else "",
                fn[key] if key else {},
                f"{prefix}.{key}" if key else "",
            )
        )
    return tools


def forced_tool(body: Mapping[str, Any]) -> OfferedTool | None:
    """The tool a request's `tool_choice` forces (`required`, `any` or a named function)."""
    choice = body.get("tool_choice")
    wanted: str | None = None
    if isinstance(choice, dict):
        fn = choice.get("function")
        wanted = fn.get("name") if isinstance(fn, dict) else choice.get("name")
        if wanted is None and choice.get("type") in ("any", "required"):
            wanted = ""
    elif choice in ("required", "any"):
        wanted = ""
    if wanted is None:
        return None
    return next((t for t in offered_tools(body) if wanted in ("", t.name)), None)


def _auto(body: Mapping[str, Any]) -> bool:
    choice = body.get("tool_choice")
    return choice in (None, "auto") or (isinstance(choice, dict) and choice.get("type") == "auto")


def named_tool(body: Mapping[str, Any], message: MessageText) -> OfferedTool | None:
    """The tool the message names, when `tool_choice` lets the model choose (else None)."""
    if not _auto(body) or not message.text.strip():
        return None
    tools = offered_tools(body)
    at = message.first_at
    by_name = [(at[t.name.lower()], i) for i, t in enumerate(tools) if t.name.lower() in at]
    if by_name:
        return tools[min(by_name)[1]]
    best: OfferedTool | None = None
    best_score = 0
    for tool in tools:
        wanted = {w for w in key_words(tool.name, tool.description) if len(w) >= 4}
        score = len((wanted - COMMON_WORDS) & message.words)
        if score > best_score:
            best, best_score = tool, score
    return best


def user_turn(messages: Sequence[Any]) -> tuple[str, list[tuple[str, str]]]:
    """The last user message's text and the tool results that follow it, as (tool, text)."""
    text = ""
    results: list[tuple[str, str]] = []
    names: dict[str, str] = {}
    called: list[str] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        role, content = message.get("role"), message.get("content")
        blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
        if role == "assistant":
            raw = message.get("tool_calls")
            calls = [
                (str(c.get("id", "")), c["function"].get("name"))
                for c in (raw if isinstance(raw, list) else ())
                if isinstance(c, dict) and isinstance(c.get("function"), dict)
            ]
            calls += [
                (str(b.get("id", "")), b.get("name")) for b in blocks if b.get("type") == "tool_use"
            ]
            for call_id, name in calls:
                names[call_id] = called_name = str(name or "the tool")
                called.append(called_name)
        elif role == "tool":
            fallback = called[len(results)] if len(results) < len(called) else "the tool"
            name = message.get("name") or names.get(str(message.get("tool_call_id")), fallback)
            results.append((str(name), text_of(content).strip()))
        elif role == "user":
            outputs = [b for b in blocks if b.get("type") == "tool_result"]
            if outputs:
                results += [
                    (names.get(str(b.get("tool_use_id")), "the tool"), text_of(b.get("content")))
                    for b in outputs
                ]
            else:
                text, results, called = text_of(content).strip(), [], []
    return text, results


def result_text(results: Sequence[tuple[str, str]]) -> str:
    """`"Based on {tool}: {result}"` for each result, joined by `"; "`."""
    parts = [
        f"{name}: {cut_tokens(out.strip(), MOCK_TEXT_MAX_ECHO_TOKENS)}" for name, out in results
    ]
    return RESULT_PREFIX + "; ".join(parts)
