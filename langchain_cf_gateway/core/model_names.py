"""One key for the old and new spellings of a model in logs, invoices and results.

Since September 2026 Cloudflare names models `provider/model` in logs and invoices
(`anthropic/claude-haiku-4.5`, where it said `claude-haiku-4-5-20251001` before), and
providers answer with dated snapshots (`gpt-4o-mini-2024-07-18`). `model_key` maps all of
them to one key, so usage totals, prices and log views group a model however it was
spelled (https://developers.cloudflare.com/ai-gateway/changelog/).
"""

from __future__ import annotations

import re
from typing import Final

from .providers import find_provider

_DATE: Final = re.compile(r"(?:-\d{8}|-\d{4}-\d{2}-\d{2}|@\d{8})$")
"""A snapshot date at the end: `-20251001`, `-2024-07-18`, `@20240620`."""

_DOTTED_VERSION: Final = re.compile(r"(?<=\d)\.(?=\d)")
"""A dot between digits, as in `4.5`: logs write `claude-haiku-4.5`, the API `4-5`."""


def model_key(model: str | None) -> str | None:
    """The grouping key of a model id or a model name as a log or a response spells it.

    Lowercased; a provider prefix (`anthropic/`, `google-vertex-ai/google/`, `workers-ai/`)
    dropped; a trailing snapshot date or `-latest` dropped; a dot between digits written
    as a dash. Different models keep different keys (`gpt-4o` is not `gpt-4o-mini`).

    Args:
        model: A model id (`openai/gpt-4o-mini`), a log's model name
            (`anthropic/claude-haiku-4.5`) or a response's (`claude-haiku-4-5-20251001`).

    Returns:
        The key (`claude-haiku-4-5`), or None for no model.
    """
    if model is None or not model.strip():
        return None
    name = model.strip().lower()
    head, sep, rest = name.partition("/")
    if sep and not name.startswith("@") and find_provider(head) is not None:
        name = rest
        if name.startswith("google/"):  # google-vertex-ai/google/{model}
            name = name[len("google/") :]
    name = _DATE.sub("", name)
    if name.endswith("-latest"):
        name = name[: -len("-latest")]
    return _DOTTED_VERSION.sub("-", name)
