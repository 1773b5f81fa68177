"""Figures, goals, rounds and scale: what every benchmark shares.

A figure is a list of per-round values (a ratio, a time, a rate) with its median and
spread. Ratios are taken round by round against a baseline measured in the same round
(these machines are noisy; two numbers taken a minute apart are not comparable), and
the variants of a round run in a rotated order so drift falls on each of them alike.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

SCALE_ENV = "BENCH_SCALE"


def scale() -> float:
    """``BENCH_SCALE`` (default 1): multiplies every count, for quick runs (e.g. 0.05)."""
    raw = os.environ.get(SCALE_ENV, "1")
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"{SCALE_ENV} must be a number such as 1 or 0.1; got {raw!r}") from None
    if value <= 0:
        raise SystemExit(f"{SCALE_ENV} must be above 0; got {raw!r}")
    return value


def scaled(count: int, minimum: int = 1) -> int:
    """``count`` times the scale, never below ``minimum``."""
    return max(minimum, round(count * scale()))


def scaled_rounds(rounds: int, minimum: int = 2) -> int:
    """Rounds shrink with a scale below 1 (never below ``minimum``) and never grow."""
    return max(minimum, round(rounds * min(1.0, scale())))


@dataclass(frozen=True)
class Goal:
    """A bound on a figure's median: ``<= 1.05``, ``>= 2000``."""

    op: Literal["<=", ">=", "=="]
    bound: float
    aim: float | None = None
    """A stretch target reported alongside (the LiteLLM 0.7x), never judged."""

    def met(self, value: float) -> bool:
        if self.op == "<=":
            return value <= self.bound
        if self.op == ">=":
            return value >= self.bound
        return value == self.bound

    def __str__(self) -> str:
        text = f"{self.op} {_num(self.bound)}"
        return f"{text} (aim {_num(self.aim)})" if self.aim is not None else text


@dataclass
class Figure:
    """One reported number: its per-round values, unit and goal."""

    name: str
    values: list[float]
    unit: str = ""
    goal: Goal | None = None
    note: str = ""
    tolerance_spread: bool = False
    """'No worse' goals: met when the median is within the bound or the p25-p75 spread
    reaches it (the difference is not distinguishable from noise)."""

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def spread(self) -> tuple[float, float]:
        """p25 and p75 over rounds (min and max with fewer than four rounds)."""
        if not self.values:
            return (float("nan"), float("nan"))
        if len(self.values) < 4:
            return (min(self.values), max(self.values))
        q = statistics.quantiles(self.values, n=4, method="inclusive")
        return (q[0], q[2])

    @property
    def verdict(self) -> str:
        if self.goal is None:
            return ""
        if not self.values:
            return "not measured"
        if self.goal.met(self.median):
            return "met"
        if self.tolerance_spread and any(self.goal.met(v) for v in self.spread):
            return "met (within noise)"
        return "MISSED"


@dataclass
class Section:
    """The figures of one benchmark, with how they were measured."""

    name: str
    title: str
    method: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        return figure


Variant = Callable[[int], float]
"""Runs n operations, returns the seconds they took (or a per-op figure the caller chose)."""


def interleaved_rounds(
    variants: dict[str, Variant],
    rounds: int,
    per_round: int,
    warmup: int = 0,
    cpu: dict[str, list[float]] | None = None,
    rotate: bool = True,
) -> dict[str, list[float]]:
    """Per-round results of each variant; the order rotates every round.

    With two variants, rotating runs each twice in a row at every round boundary (A B | B
    A | A B); ``rotate=False`` keeps A B A B, so every run follows the other variant's
    (for benchmarks where a variant's own previous run leaves state behind: pools).

    Each variant gets ``warmup`` untimed operations first (connections opened, caches
    filled, lazy imports done): we measure the steady state a long-lived app sees.
    ``cpu``, when given, receives each round's CPU seconds of this process (all its
    threads) per variant: the client's own cost, which other processes' load on the
    machine disturbs far less than wall time.
    """
    names = list(variants)
    if warmup:
        for name in names:
            variants[name](warmup)
    out: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names) if rotate else 0
        order = names[shift:] + names[:shift]
        for name in order:
            cpu_start = time.process_time()
            out[name].append(variants[name](per_round))
            if cpu is not None:
                cpu.setdefault(name, []).append(time.process_time() - cpu_start)
    return out


def ratios(numerator: Sequence[float], denominator: Sequence[float]) -> list[float]:
    return [a / b for a, b in zip(numerator, denominator, strict=True)]


def timed(fn: Callable[[], object], n: int) -> float:
    """Seconds for n sequential calls of fn."""
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return time.perf_counter() - start


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of already-sorted values, nearest-rank."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def _num(value: float | None) -> str:
    if value is None:
        return ""
    if value != value:  # NaN
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if abs(value) >= 0.1 or value == 0 else f"{value:.3f}"


def fmt(value: float | None) -> str:
    return _num(value)
