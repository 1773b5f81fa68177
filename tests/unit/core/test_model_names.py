"""core.model_names.model_key: the old and new spellings of a model, one key.

Since 2026-09 Cloudflare names models `provider/model` in logs and invoices
(`anthropic/claude-haiku-4.5`, where it said `claude-haiku-4-5-20251001` before).
"""

from __future__ import annotations

import pytest

from langchain_cf_gateway.core.model_names import model_key


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("claude-haiku-4-5-20251001", "anthropic/claude-haiku-4.5"),
        ("claude-3-5-haiku-20241022", "anthropic/claude-3.5-haiku"),
        ("gpt-4o-mini-2024-07-18", "openai/gpt-4o-mini"),
        ("gpt-4o-mini", "openai/gpt-4o-mini"),
        ("gemini-2.5-flash", "google-ai-studio/gemini-2.5-flash"),
        ("gemini-2.5-flash", "google-vertex-ai/google/gemini-2.5-flash"),
        ("mistral-large-latest", "mistral/mistral-large"),
        ("@cf/meta/llama-3.1-8b-instruct", "workers-ai/@cf/meta/llama-3.1-8b-instruct"),
        ("GPT-4o", "openai/gpt-4o"),
    ],
)
def test_the_old_and_new_spellings_share_one_key(old: str, new: str) -> None:
    assert model_key(old) == model_key(new)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("gpt-4o", "gpt-4o-mini"),
        ("claude-haiku-4.5", "claude-haiku-4"),
        ("gemini-2.5-flash", "gemini-2.5-pro"),
        ("openai/gpt-4.1", "openai/gpt-4.1-mini"),
    ],
)
def test_different_models_keep_different_keys(a: str, b: str) -> None:
    assert model_key(a) != model_key(b)


def test_no_model_has_no_key() -> None:
    assert model_key(None) is None
    assert model_key("  ") is None
