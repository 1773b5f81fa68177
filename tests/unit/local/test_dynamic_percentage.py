"""The percentage element's choice: shares in order, `else`, seeded repeatability, and
the shares coming out right without a seed.

https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/json-configuration/
"""

from __future__ import annotations

import math
import random

import pytest

from langchain_cf_gateway.core.dynamic_routes import PercentageElement
from langchain_cf_gateway.local.dynamic_exec import Draws, choose

SPLIT = PercentageElement(id="p", outputs={"80%": "a", "20%": "b"})
WITH_ELSE = PercentageElement(id="p", outputs={"30%": "a", "12.5%": "b", "else": "c"})


@pytest.mark.parametrize(
    ("draw", "expected"), [(0.0, "a"), (79.999, "a"), (80.0, "b"), (99.999, "b")]
)
def test_a_draw_takes_the_share_it_falls_in(draw: float, expected: str) -> None:
    assert choose(SPLIT, draw) == expected


@pytest.mark.parametrize(
    ("draw", "expected"), [(29.9, "a"), (30.0, "b"), (42.4, "b"), (42.5, "c"), (99.0, "c")]
)
def test_past_every_share_is_else(draw: float, expected: str) -> None:
    assert choose(WITH_ELSE, draw) == expected


def test_a_seed_repeats_its_draw_and_seeds_differ() -> None:
    draws = Draws()
    once = [draws.draw("r", "p", str(seed)) for seed in range(50)]
    assert once == [Draws().draw("r", "p", str(seed)) for seed in range(50)]
    assert len(set(once)) == 50
    assert all(0 <= d < 100 for d in once)
    # the route and the element are part of the seed: two splits are independent
    assert draws.draw("r", "p", "1") != draws.draw("r", "q", "1")
    assert draws.draw("r", "p", "1") != draws.draw("s", "p", "1")


def within_binomial(count: int, n: int, p: float, sigmas: float = 4.0) -> bool:
    return abs(count - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


def test_unseeded_80_20_over_1000_draws_is_within_4_sigma() -> None:
    draws = Draws()
    chosen = [choose(SPLIT, draws.draw("r", "p", None)) for _ in range(1000)]
    assert within_binomial(chosen.count("a"), 1000, 0.8)


def test_seeded_80_20_over_1000_seeds_is_within_4_sigma() -> None:
    draws = Draws()
    chosen = [choose(SPLIT, draws.draw("r", "p", str(seed))) for seed in range(1000)]
    assert within_binomial(chosen.count("a"), 1000, 0.8)


def test_the_bound_catches_a_wrong_split() -> None:
    rng = random.Random(7)
    wrong = sum(rng.random() < 0.7 for _ in range(1000))
    assert not within_binomial(wrong, 1000, 0.8)
