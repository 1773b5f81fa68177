"""The local Guardrails classifier: categories, actions, terms, and the texts it reads."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from langchain_cf_gateway.local.guardrails import (
    CATEGORIES,
    DEFAULT_TERMS,
    evaluate,
    matched_categories,
    prompt_text,
    response_text,
    validate_guardrails,
)


def test_the_documented_categories() -> None:
    # https://developers.cloudflare.com/ai-gateway/features/guardrails/usage-considerations/
    assert list(CATEGORIES) == [f"S{n}" for n in range(1, 14)] + ["P1"]
    assert CATEGORIES["S11"] == "Suicide & Self-Harm" and CATEGORIES["P1"] == "Prompt Injection"
    assert set(DEFAULT_TERMS) == set(CATEGORIES)


@pytest.mark.parametrize("category", list(CATEGORIES))
def test_every_category_is_triggered_by_its_default_terms(category: str) -> None:
    for term in DEFAULT_TERMS[category]:
        text = f"Please, {term.upper()}, thanks."
        assert category in matched_categories(text, CATEGORIES)
        assert evaluate({"prompt": {category: "BLOCK"}}, "prompt", text) == ([], [category])
        assert evaluate({"response": {category: "FLAG"}}, "response", text) == ([category], [])


def test_terms_match_whole_words_only() -> None:
    assert matched_categories("the murderer", ["S1"]) == []
    assert matched_categories("murder.", ["S1"]) == ["S1"]


def test_an_omitted_category_or_phase_is_ignored() -> None:
    assert evaluate({"prompt": {"S9": "BLOCK"}}, "prompt", "murder") == ([], [])
    assert evaluate({"prompt": {"S1": "BLOCK"}}, "response", "murder") == ([], [])
    assert evaluate(None, "prompt", "murder") == ([], [])


def test_gateway_terms_replace_the_defaults_per_category() -> None:
    setting = {"prompt": {"S1": "FLAG", "S2": "BLOCK"}, "terms": {"S2": ["heist"]}}
    assert evaluate(setting, "prompt", "murder and a heist") == (["S1"], ["S2"])
    assert evaluate(setting, "prompt", "shoplift") == ([], [])


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"prompt": {"S14": "BLOCK"}}, "unknown category 'S14'; valid: S1, S2"),
        ({"response": {"s14": "BLOCK"}}, "unknown category 's14'"),
        ({"prompt": {"S1": "block"}}, "unknown action 'block'; valid: BLOCK, FLAG"),
        ({"input": {}}, "unknown key 'input'; valid: prompt, response, terms"),
        ({"prompt": ["S1"]}, "guardrails.prompt must be an object"),
        ({"terms": {"S1": "murder"}}, "guardrails.terms.S1 must be a list"),
        ([], "guardrails must be an object"),
    ],
)
def test_bad_settings_name_the_fault_and_the_valid_ones(setting: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        validate_guardrails(setting)


def test_codes_in_any_letter_case_as_the_sdk_names_them() -> None:
    setting = {"prompt": {"p1": "BLOCK", "s1": "FLAG"}, "terms": {"s1": ["heist"]}}
    validate_guardrails(setting)
    assert evaluate(setting, "prompt", "jailbreak the heist") == (["S1"], ["P1"])


def test_good_settings_pass() -> None:
    validate_guardrails(None)
    validate_guardrails({"prompt": {"P1": "BLOCK"}, "response": {"S9": "FLAG"}, "terms": {}})
    validate_guardrails({"prompt": None})


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (
            {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]},
            "a",
        ),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": "parts"}]}]}, "parts"),
        ({"contents": [{"role": "user", "parts": [{"text": "gemini"}]}]}, "gemini"),
        ({"input": "responses api"}, "responses api"),
        ({"input": ["one", "two"]}, "one\ntwo"),
        ({"prompt": "workers ai"}, "workers ai"),
        ({"messages": [{"role": "system", "content": "murder"}]}, ""),
        (None, ""),
    ],
)
def test_prompt_text_is_the_last_user_message(body: object, text: str) -> None:
    assert prompt_text(body) == text  # type: ignore[arg-type]


def test_response_text_of_each_shape() -> None:
    assert response_text({"choices": [{"message": {"role": "assistant", "content": "hi"}}]}) == "hi"
    assert response_text({"content": [{"type": "text", "text": "claude"}]}) == "claude"
    assert response_text({"result": {"response": "workers"}}) == "workers"
    deltas = [
        {"choices": [{"delta": {"content": "mur"}}]},
        {"choices": [{"delta": {"content": "der"}}]},
    ]
    assert response_text(deltas) == "murder"


@given(st.recursive(st.none() | st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)))
def test_texts_never_raise(value: object) -> None:
    assert isinstance(response_text(value), str)
    if isinstance(value, dict):
        assert isinstance(prompt_text(value), str)
