"""The price table: look-up rules, cost arithmetic, user tables and their errors."""

from __future__ import annotations

import pytest

from langchain_cf_gateway.core import InvalidOptionError
from langchain_cf_gateway.pricing import DEFAULT_PRICES, ModelPrice, PriceTable


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-4o-mini", "gpt-4o-mini"),
        ("openai/gpt-4o-mini", "gpt-4o-mini"),
        ("OpenAI/GPT-4o-mini", "gpt-4o-mini"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),  # a dated snapshot: longest prefix
        ("openai/gpt-4o-2024-08-06", "gpt-4o"),
        ("anthropic/claude-3-5-haiku-20241022", "claude-3-5-haiku"),
        ("google-vertex-ai/google/gemini-2.5-flash", "gemini-2.5-flash"),
        ("workers-ai/@cf/meta/llama-3.1-8b-instruct", "@cf/meta/llama-3.1-8b-instruct"),
        ("@cf/meta/llama-3.1-8b-instruct", "@cf/meta/llama-3.1-8b-instruct"),
    ],
)
def test_lookup_finds_the_listed_model(model: str, expected: str) -> None:
    assert PriceTable.default().price(model) == DEFAULT_PRICES[expected]


@pytest.mark.parametrize("model", ["openai/gpt-4o-minimal", "unknown/model", "", None, "gpt"])
def test_lookup_misses_return_none(model: str | None) -> None:
    table = PriceTable.default()
    assert table.price(model) is None
    assert table.cost(model, 100, 100) is None


def test_cost_is_per_million_tokens_with_cached_prompt_tokens_at_their_rate() -> None:
    price = ModelPrice(input=2.0, output=8.0, cached_input=0.5)
    assert price.cost(1_000_000, 0) == pytest.approx(2.0)
    assert price.cost(0, 500_000) == pytest.approx(4.0)
    # 400k of the 1M prompt tokens came from the provider's prompt cache
    assert price.cost(1_000_000, 0, cached_input_tokens=400_000) == pytest.approx(
        0.6 * 2.0 + 0.4 * 0.5
    )
    # no cached rate: cached tokens cost the input rate
    assert ModelPrice(1.0, 1.0).cost(1000, 0, 1000) == pytest.approx(0.001)


def test_user_prices_extend_the_default_table_without_changing_it() -> None:
    table = PriceTable.coerce({"my-finetune": (0.3, 1.2), "gpt-4o-mini": ModelPrice(1.0, 1.0)})
    assert table.price("custom-acme/my-finetune") == ModelPrice(0.3, 1.2)
    assert table.price("openai/gpt-4o-mini") == ModelPrice(1.0, 1.0)
    assert table.price("gpt-4o") == DEFAULT_PRICES["gpt-4o"]  # still there
    assert PriceTable.default().price("gpt-4o-mini") == DEFAULT_PRICES["gpt-4o-mini"]


def test_a_price_table_instance_replaces_the_default() -> None:
    own = PriceTable({"only-this": (1.0, 2.0)})
    assert PriceTable.coerce(own) is own
    assert own.price("gpt-4o-mini") is None
    assert len(own) == 1 and list(own) == ["only-this"]


@pytest.mark.parametrize(
    "bad", [(-1.0, 1.0), (float("nan"), 1.0), ("cheap", 1.0), (1.0,), (True, 1.0)]
)
def test_bad_prices_name_the_fix(bad: tuple[object, ...]) -> None:
    with pytest.raises(InvalidOptionError, match=r"prices: 'm'") as info:
        PriceTable({"m": bad})  # type: ignore[dict-item]
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "spelling",
    ["claude-3-5-haiku-20241022", "anthropic/claude-3.5-haiku", "claude-3.5-haiku"],
)
def test_the_log_spellings_of_a_model_have_its_price(spelling: str) -> None:
    # Logs and invoices say `anthropic/claude-3.5-haiku` since 2026-09.
    table = PriceTable.default()
    assert table.price(spelling) == table.price("claude-3-5-haiku")
