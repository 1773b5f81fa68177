"""Guardrails on the local gateway: a deterministic classifier of the documented categories.

Cloudflare evaluates prompts and responses with Llama Guard 3 (`S1` to `S13`) and Prompt
Guard (`P1`) and lets each category be ignored, flagged or blocked, separately for
prompts and responses
(https://developers.cloudflare.com/ai-gateway/features/guardrails/usage-considerations/):

```json
{"guardrails": {"prompt": {"P1": "BLOCK", "S1": "FLAG"}, "response": {"S9": "BLOCK"}}}
```

An omitted category is ignored. Codes are read in any letter case (cloudflare-python's
`GuardrailsPrompt` names them `p1`, `s1`, ... and sends `P1`, `S1`); the setting is
kept and returned as given. The local gateway has no model: a category matches when
the text holds one of its terms, as a whole word or phrase, in any letter case.
`DEFAULT_TERMS` lists a few obvious terms per category; the gateway setting may replace
them per category with the local-only key `terms`
(`{"guardrails": {"prompt": {"S1": "BLOCK"}, "terms": {"S1": ["heist"]}}}`; Cloudflare's
API has no such key, so keep it out of settings sent there).

What is checked: the prompt is the text of the last user message (OpenAI, Anthropic,
Gemini and Workers AI shapes, the Responses API's `input`, an embeddings `input`); the
response is the model's text in the response body (a stream: every event of it). A
blocked prompt is HTTP 424, code 2016, and a blocked response HTTP 424, code 2017
(https://developers.cloudflare.com/ai-gateway/features/guardrails/set-up-guardrail/).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Final

CATEGORIES: Final[dict[str, str]] = {
    "S1": "Violent Crimes",
    "S2": "Non-Violent Crimes",
    "S3": "Sex-Related Crimes",
    "S4": "Child Sexual Exploitation",
    "S5": "Defamation",
    "S6": "Specialized Advice",
    "S7": "Privacy",
    "S8": "Intellectual Property",
    "S9": "Indiscriminate Weapons",
    "S10": "Hate",
    "S11": "Suicide & Self-Harm",
    "S12": "Sexual Content",
    "S13": "Elections",
    "P1": "Prompt Injection",
}
"""The categories Guardrails evaluates, by code (Llama Guard 3's `S14`, code interpreter
abuse, is not one of them): the table of
https://developers.cloudflare.com/ai-gateway/features/guardrails/usage-considerations/
and `GuardrailsPrompt` in cloudflare-python's `types/ai_gateway/ai_gateway_update_params.py`."""

ACTIONS: Final = ("BLOCK", "FLAG")
"""What a category may do when it matches; an omitted category is ignored."""

PHASES: Final = ("prompt", "response")

DEFAULT_TERMS: Final[dict[str, tuple[str, ...]]] = {
    "S1": ("murder", "kill someone", "assault"),
    "S2": ("shoplift", "launder money", "pick a lock"),
    "S3": ("sex trafficking", "sexual assault"),
    "S4": ("child exploitation", "grooming a minor"),
    "S5": ("defamatory", "libel"),
    "S6": ("diagnose my", "dosage for", "legal advice"),
    "S7": ("home address of", "social security number of"),
    "S8": ("pirated", "crack the license"),
    "S9": ("nerve agent", "build a bomb", "bioweapon"),
    "S10": ("racial slur", "hate speech"),
    "S11": ("suicide", "self-harm"),
    "S12": ("explicit sex", "pornographic"),
    "S13": ("rig the election", "voter fraud"),
    "P1": ("ignore previous instructions", "ignore all previous instructions", "jailbreak"),
}
"""The local classifier's terms per category, unless the gateway's `terms` replaces them."""

TERMS_KEY: Final = "terms"


def validate_guardrails(value: Any) -> None:
    """Check a gateway's `guardrails` setting (null turns Guardrails off).

    Args:
        value: the setting as sent.

    Raises:
        ValueError: naming what is wrong: an unknown phase, category or action (with the
            valid ones), or `terms` that are not lists of strings.
    """
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise ValueError(f"guardrails must be an object or null; got {value!r}")
    for phase, rules in value.items():
        if phase == TERMS_KEY:
            _validate_terms(rules)
            continue
        if phase not in PHASES:
            raise ValueError(
                f"guardrails: unknown key {phase!r}; valid: {', '.join((*PHASES, TERMS_KEY))}"
            )
        if rules is None:
            continue
        if not isinstance(rules, Mapping):
            raise ValueError(f"guardrails.{phase} must be an object of category: action")
        for category, action in rules.items():
            _check_category(f"guardrails.{phase}", category)
            if action not in ACTIONS:
                raise ValueError(
                    f"guardrails.{phase}.{category}: unknown action {action!r}; "
                    f"valid: {', '.join(ACTIONS)}"
                )


def _check_category(where: str, category: Any) -> None:
    if not isinstance(category, str) or category.upper() not in CATEGORIES:
        raise ValueError(f"{where}: unknown category {category!r}; valid: {', '.join(CATEGORIES)}")


def _validate_terms(terms: Any) -> None:
    if not isinstance(terms, Mapping):
        raise ValueError("guardrails.terms must be an object of category: [term, ...]")
    for category, words in terms.items():
        _check_category("guardrails.terms", category)
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            raise ValueError(f"guardrails.terms.{category} must be a list of non-empty strings")


@lru_cache(maxsize=256)
def _pattern(terms: tuple[str, ...]) -> re.Pattern[str] | None:
    words = [re.escape(t.strip()) for t in terms if t.strip()]
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)", re.IGNORECASE)


def matched_categories(
    text: str, categories: Iterable[str], terms: Mapping[str, Any] | None = None
) -> list[str]:
    """The categories among `categories` whose terms occur in `text`, in table order.

    Args:
        text: the prompt or response text.
        categories: the categories to check (codes in any letter case).
        terms: the gateway's `terms` (replacing `DEFAULT_TERMS` per category), if any.

    Returns:
        The matching category codes, as `CATEGORIES` spells them.
    """
    wanted = {c.upper() for c in categories}
    replaced = {str(k).upper(): v for k, v in (terms or {}).items()}
    found: list[str] = []
    for category in CATEGORIES:
        if category not in wanted:
            continue
        words = replaced.get(category, DEFAULT_TERMS[category])
        pattern = _pattern(tuple(words))
        if pattern is not None and pattern.search(text):
            found.append(category)
    return found


def evaluate(
    setting: Mapping[str, Any] | None, phase: str, text: str
) -> tuple[list[str], list[str]]:
    """(flagged, blocked) categories of `text` under the gateway's `guardrails` setting.

    Args:
        setting: the gateway's `guardrails` setting (None: off).
        phase: `prompt` or `response`.
        text: the text to classify.

    Returns:
        The matching categories whose action is FLAG, and those whose action is BLOCK.
    """
    rules = {str(k).upper(): v for k, v in ((setting or {}).get(phase) or {}).items()}
    if not rules or not text:
        return [], []
    hits = matched_categories(text, rules, (setting or {}).get(TERMS_KEY))
    return (
        [c for c in hits if rules[c] == "FLAG"],
        [c for c in hits if rules[c] == "BLOCK"],
    )


def terms_in(setting: Mapping[str, Any] | None, phase: str, text: str) -> set[str]:
    """The spans of `text` that matched a FLAG or BLOCK category of `phase`.

    Only for redacting the stored bodies of a log row: never sent nor logged.

    Args:
        setting: the gateway's `guardrails` setting (None: off).
        phase: `prompt` or `response`.
        text: the text that was classified.

    Returns:
        The matched spans, as they are spelled in `text`.
    """
    rules = {str(k).upper() for k in ((setting or {}).get(phase) or {})}
    replaced = {str(k).upper(): v for k, v in ((setting or {}).get(TERMS_KEY) or {}).items()}
    spans: set[str] = set()
    for category in CATEGORIES:
        if category in rules:
            pattern = _pattern(tuple(replaced.get(category, DEFAULT_TERMS[category])))
            if pattern is not None:
                spans.update(found.group() for found in pattern.finditer(text))
    return spans


def applies(setting: Mapping[str, Any] | None, phase: str) -> bool:
    """Whether any category is flagged or blocked for `phase` (`prompt` or `response`)."""
    return bool((setting or {}).get(phase))


def _text_of(content: Any) -> str:
    """The text of a message's content: a string, or a list of parts with `text`."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "\n".join(parts)
    return ""


def prompt_text(body: Mapping[str, Any] | None) -> str:
    """The text of the last user message of a request body, in any provider's shape.

    Args:
        body: the parsed JSON request body.

    Returns:
        The text (empty when there is none).
    """
    if not isinstance(body, Mapping):
        return ""
    for key in ("messages", "contents", "input"):
        items = body.get(key)
        if isinstance(items, str):
            return items
        if isinstance(items, list):
            for item in reversed(items):
                if not isinstance(item, Mapping):
                    if isinstance(item, str) and key == "input":
                        return "\n".join(i for i in items if isinstance(i, str))
                    continue
                if item.get("role", "user") != "user":
                    continue
                if "parts" in item:  # Gemini
                    return _text_of(item.get("parts"))
                return _text_of(item.get("content"))
    prompt = body.get("prompt")
    return prompt if isinstance(prompt, str) else ""


_TEXT_KEYS: Final = frozenset(
    ("content", "text", "response", "output_text", "thinking", "arguments", "input", "prompt")
)


def response_text(data: Any) -> str:
    """The text in a parsed body or stream event, in any provider's shape.

    Every string under a `content`, `text`, `response`, `output_text`, `thinking`,
    `arguments`, `input` or `prompt` key, in order: OpenAI's `choices[].message.content`,
    `delta.content` and tool call `arguments`, Anthropic's `content[].text` and
    `delta.text`, Gemini's `parts[].text`, Workers AI's `result.response`; in a request
    body, every message's text. Ids, timestamps and other fields are left out.

    Args:
        data: a parsed JSON value.

    Returns:
        The text found, joined (empty when there is none).
    """
    found: list[str] = []
    stack: list[Any] = [data]
    while stack:  # a loop, not a recursion: the body is the provider's
        value = stack.pop()
        if isinstance(value, Mapping):
            for key, item in reversed(list(value.items())):
                if isinstance(item, str):
                    if key in _TEXT_KEYS:
                        found.append(item)
                else:
                    stack.append(item)
        elif isinstance(value, list):
            stack.extend(reversed(value))
    return "".join(found)
