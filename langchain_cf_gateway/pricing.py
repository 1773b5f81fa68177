"""Token prices, for estimating what calls cost: a small default table you can extend.

The figures are **estimates**: list prices in US dollars per million tokens, as the
providers published them in 2025, for the models people route through the gateway most.
They are not read from Cloudflare (the gateway's own figure is the `cost` of each log
row, see `GatewayClient.list_logs`) and they age: pass your own table to keep them right.

```python
from langchain_cf_gateway.pricing import ModelPrice, PriceTable

prices = PriceTable.default().extend({"my-finetune": ModelPrice(0.30, 1.20)})
prices.cost("openai/gpt-4o-mini", input_tokens=1200, output_tokens=300)
```
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import NamedTuple

from .core.errors import InvalidOptionError
from .core.model_names import model_key


class ModelPrice(NamedTuple):
    """US dollars per million tokens."""

    input: float
    output: float
    cached_input: float | None = None
    """Price of prompt tokens the provider served from its own prompt cache; None: `input`."""

    def cost(self, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0) -> float:
        """The cost of one call, in USD.

        Args:
            input_tokens: Prompt tokens, cached ones included.
            output_tokens: Completion tokens.
            cached_input_tokens: Prompt tokens the provider served from its prompt cache,
                priced at `cached_input` (at most `input_tokens` count).

        Returns:
            The cost in USD.
        """
        cached = min(max(cached_input_tokens, 0), input_tokens)
        cached_rate = self.input if self.cached_input is None else self.cached_input
        return (
            (input_tokens - cached) * self.input
            + cached * cached_rate
            + output_tokens * self.output
        ) / 1_000_000


DEFAULT_PRICES: Mapping[str, ModelPrice] = {
    # OpenAI
    "gpt-4o-mini": ModelPrice(0.15, 0.60, 0.075),
    "gpt-4o": ModelPrice(2.50, 10.00, 1.25),
    "gpt-4.1": ModelPrice(2.00, 8.00, 0.50),
    "gpt-4.1-mini": ModelPrice(0.40, 1.60, 0.10),
    "gpt-4.1-nano": ModelPrice(0.10, 0.40, 0.025),
    "o4-mini": ModelPrice(1.10, 4.40, 0.275),
    # Anthropic
    "claude-3-5-haiku": ModelPrice(0.80, 4.00, 0.08),
    "claude-3-haiku": ModelPrice(0.25, 1.25, 0.03),
    "claude-sonnet-4": ModelPrice(3.00, 15.00, 0.30),
    "claude-3-7-sonnet": ModelPrice(3.00, 15.00, 0.30),
    "claude-3-5-sonnet": ModelPrice(3.00, 15.00, 0.30),
    # Google
    "gemini-2.0-flash": ModelPrice(0.10, 0.40, 0.025),
    "gemini-2.5-flash": ModelPrice(0.30, 2.50, 0.075),
    "gemini-2.5-pro": ModelPrice(1.25, 10.00, 0.31),
    # Others served by the compat endpoint
    "llama-3.1-8b-instant": ModelPrice(0.05, 0.08),
    "llama-3.3-70b-versatile": ModelPrice(0.59, 0.79),
    "mistral-small-latest": ModelPrice(0.20, 0.60),
    "mistral-large-latest": ModelPrice(2.00, 6.00),
    "deepseek-chat": ModelPrice(0.27, 1.10, 0.07),
    "@cf/meta/llama-3.1-8b-instruct": ModelPrice(0.28, 0.83),
    "@cf/meta/llama-3.3-70b-instruct-fp8-fast": ModelPrice(0.29, 2.25),
}
"""List prices (USD per million tokens) of common models, 2025: an estimate, see the module."""


class PriceTable(Mapping[str, ModelPrice]):
    """Model name -> `ModelPrice`, with forgiving look-up.

    `price("openai/gpt-4o-mini-2024-07-18")` finds `gpt-4o-mini`: the look-up tries the
    exact id, then the id without its provider prefix, then the longest key of which the
    name is a dated snapshot (`-2024-07-18`, `-latest`), case-insensitively.
    """

    def __init__(self, prices: Mapping[str, ModelPrice | tuple[float, ...]] | None = None) -> None:
        self._prices: dict[str, ModelPrice] = {}
        self._by_key: dict[str | None, ModelPrice] = {}
        """The prices by `model_key`, made as entries are added, not per look-up."""
        for name, price in (prices or {}).items():
            self._set(name, _price(name, price))

    def _set(self, name: str, price: ModelPrice) -> None:
        self._prices[name.lower()] = price
        self._by_key[model_key(name)] = price

    @classmethod
    def default(cls) -> PriceTable:
        """The table of `DEFAULT_PRICES`."""
        return cls(DEFAULT_PRICES)

    @classmethod
    def coerce(
        cls, prices: PriceTable | Mapping[str, ModelPrice | tuple[float, ...]] | None
    ) -> PriceTable:
        """A table from None, a mapping or a `PriceTable`.

        None gives the default table, a mapping the default table extended by it, and a
        `PriceTable` is taken as it is.

        Args:
            prices: What the caller gave.

        Returns:
            The table.
        """
        if isinstance(prices, PriceTable):
            return prices
        return cls.default().extend(prices or {})

    def extend(self, prices: Mapping[str, ModelPrice | tuple[float, ...]]) -> PriceTable:
        """A new table: this one with `prices` added or replaced."""
        table = PriceTable(self._prices)
        for name, price in prices.items():
            table._set(name, _price(name, price))
        return table

    def __getitem__(self, name: str) -> ModelPrice:
        return self._prices[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._prices)

    def __len__(self) -> int:
        return len(self._prices)

    def price(self, model: str | None) -> ModelPrice | None:
        """The price of a model id or response model name; None when the table lacks it."""
        if not model:
            return None
        name = model.strip().lower()
        candidates = [name]
        _, sep, rest = name.partition("/")
        if sep and not name.startswith("@"):
            candidates.append(rest)
            if rest.startswith("google/"):  # google-vertex-ai/google/{model}
                candidates.append(rest[len("google/") :])
        for candidate in candidates:
            if candidate in self._prices:
                return self._prices[candidate]
        # The spelling of logs and invoices (`anthropic/claude-3.5-haiku`) or a snapshot
        # of it: the table's entry with the same model key.
        by_key = self._by_key.get(model_key(name))
        if by_key is not None:
            return by_key
        best = max(
            (k for k in self._prices for c in candidates if _is_snapshot_of(c, k)),
            key=len,
            default=None,
        )
        return self._prices[best] if best else None

    def cost(
        self,
        model: str | None,
        input_tokens: int,
        output_tokens: int,
        cached_input_tokens: int = 0,
    ) -> float | None:
        """Estimated US dollars, or None when the model has no price here."""
        price = self.price(model)
        if price is None:
            return None
        return price.cost(input_tokens, output_tokens, cached_input_tokens)


def _is_snapshot_of(name: str, key: str) -> bool:
    """`gpt-4o-2024-08-06` and `gpt-4o-latest` are `gpt-4o`; `gpt-4o-mini` is not."""
    if not name.startswith(key + "-"):
        return False
    rest = name[len(key) + 1 :]
    return rest[:1].isdigit() or rest == "latest"


def _price(name: str, value: ModelPrice | tuple[float, ...]) -> ModelPrice:
    try:
        price = value if isinstance(value, ModelPrice) else ModelPrice(*value)
    except TypeError:
        raise InvalidOptionError(
            "prices",
            f"{name!r}: give ModelPrice(input, output[, cached_input]) in USD per million "
            f"tokens, or a tuple of those; got {value!r}",
        ) from None
    for rate in price:
        if rate is not None and (
            isinstance(rate, bool)
            or not isinstance(rate, (int, float))
            or not math.isfinite(rate)
            or rate < 0
        ):
            raise InvalidOptionError(
                "prices", f"{name!r}: prices must be finite numbers >= 0; got {value!r}"
            )
    return price
