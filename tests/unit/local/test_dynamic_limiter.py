"""Limiter counters on a fake clock: fixed (calendar-aligned) and sliding windows,
counts and costs, keys kept apart.

https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/json-configuration/
"""

from __future__ import annotations

import pytest

from langchain_cf_gateway.local.dynamic_exec import LimitCounters


def test_fixed_windows_are_calendar_aligned() -> None:
    counters = LimitCounters()
    assert counters.admit("k", "fixed", 60, 1000.0, 2)  # window [960, 1020)
    assert counters.admit("k", "fixed", 60, 1010.0, 2)
    assert not counters.admit("k", "fixed", 60, 1019.9, 2)
    assert counters.admit("k", "fixed", 60, 1020.0, 2)  # a new window, 10 s after the 2nd


def test_no_technique_means_fixed() -> None:
    counters = LimitCounters()
    assert counters.admit("k", None, 60, 1019.0, 1)
    assert counters.admit("k", None, 60, 1020.0, 1)


def test_sliding_windows_count_the_last_seconds() -> None:
    counters = LimitCounters()
    assert counters.admit("k", "sliding", 60, 1000.0, 2)
    assert counters.admit("k", "sliding", 60, 1010.0, 2)
    assert not counters.admit("k", "sliding", 60, 1020.0, 2)  # fixed would admit here
    assert not counters.admit("k", "sliding", 60, 1059.9, 2)
    assert counters.admit("k", "sliding", 60, 1060.0, 2)  # the first left the window
    assert not counters.admit("k", "sliding", 60, 1069.9, 2)
    assert counters.admit("k", "sliding", 60, 1070.0, 2)


def test_a_refused_request_is_not_counted() -> None:
    counters = LimitCounters()
    assert counters.admit("k", "sliding", 10, 0.0, 1)
    for t in range(1, 10):
        assert not counters.admit("k", "sliding", 10, float(t), 1)
    assert counters.admit("k", "sliding", 10, 10.0, 1)


@pytest.mark.parametrize("technique", ["fixed", "sliding"])
def test_keys_are_counted_apart(technique: str) -> None:
    counters = LimitCounters()
    assert counters.admit(("r", "alice"), technique, 60, 0.0, 1)
    assert counters.admit(("r", "bob"), technique, 60, 0.0, 1)
    assert not counters.admit(("r", "alice"), technique, 60, 1.0, 1)


@pytest.mark.parametrize("technique", ["fixed", "sliding"])
def test_costs_add_up_and_roll_over(technique: str) -> None:
    counters = LimitCounters()
    counters.add("k", technique, 60, 0.0, 0.25)
    counters.add("k", technique, 60, 30.0, 0.5)
    assert counters.spent("k", technique, 60, 59.0) == pytest.approx(0.75)
    later = counters.spent("k", technique, 60, 61.0)
    assert later == pytest.approx(0.5 if technique == "sliding" else 0.0)
    assert counters.spent("k", technique, 60, 200.0) == 0.0


def test_forget_drops_the_counters_of_one_route() -> None:
    counters = LimitCounters()
    counters.admit((1, "gw", "limit", None), "fixed", 60, 0.0, 1)
    counters.admit((2, "gw", "limit", None), "fixed", 60, 0.0, 1)
    counters.forget(1)
    assert counters.admit((1, "gw", "limit", None), "fixed", 60, 1.0, 1)
    assert not counters.admit((2, "gw", "limit", None), "fixed", 60, 1.0, 1)
