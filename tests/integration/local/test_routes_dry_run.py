"""`cf-aig routes test` and `dry_run()` on a local gateway: the counts are the route's.

https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest

from langchain_cf_gateway import DynamicRoute
from langchain_cf_gateway.cli import main
from langchain_cf_gateway.cli.route_dry_run import dry_run
from langchain_cf_gateway.local import LocalGateway

MINI = "openai/gpt-4o-mini"
HAIKU = "anthropic/claude-3-5-haiku"
SPLIT = DynamicRoute.split({MINI: 80, HAIKU: 20}, name="ab")


def within_binomial_bounds(count: int, n: int, p: float, sigmas: float = 4.5) -> bool:
    """`count` of `n` draws of probability `p` within `sigmas` standard deviations
    (a false alarm about once in 150,000 runs)."""
    return abs(count - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


def cli(capsys: pytest.CaptureFixture[str], route: DynamicRoute, tmp: Path, *flags: str) -> str:
    path = tmp / f"{route.name}.json"
    path.write_text(json.dumps(route.to_api()))
    code = main(["routes", "test", str(path), *flags])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    return out


def test_a_split_of_1000_requests_is_within_binomial_bounds_and_fast(
    gateway: LocalGateway,
) -> None:
    began = time.perf_counter()
    result = dry_run(SPLIT, requests=1000, gateway=gateway)
    took = time.perf_counter() - began
    assert sum(result.models.values()) == 1000
    assert within_binomial_bounds(result.models[MINI], 1000, 0.8)
    assert within_binomial_bounds(result.models[HAIKU], 1000, 0.2)
    assert (result.fallbacks, result.errors) == (0, {})
    assert took < 20, f"1,000 dry-run requests took {took:.1f} s"


def test_a_seeded_split_is_within_bounds_too(gateway: LocalGateway) -> None:
    result = dry_run(SPLIT, requests=1000, seed="s", gateway=gateway)
    assert within_binomial_bounds(result.models[MINI], 1000, 0.8)


def test_a_conditional_takes_its_branch_per_metadata(gateway: LocalGateway) -> None:
    route = DynamicRoute.conditional(
        {"metadata.plan": {"$eq": "paid"}}, then=MINI, otherwise=HAIKU, name="plan"
    )
    assert dry_run(route, requests=20, metadata={"plan": "paid"}, gateway=gateway).models == {
        MINI: 20
    }
    assert dry_run(route, requests=20, metadata={"plan": "free"}, gateway=gateway).models == {
        HAIKU: 20
    }
    assert dry_run(route, requests=5, gateway=gateway).models == {HAIKU: 5}


def test_headers_and_body_fields_reach_the_conditions(gateway: LocalGateway) -> None:
    route = DynamicRoute.conditional(
        {"$or": [{"headers.x-team": {"$eq": "core"}}, {"body.temperature": {"$gte": 1}}]},
        then=MINI,
        otherwise=HAIKU,
        name="hb",
    )
    assert dry_run(route, requests=3, headers={"X-Team": "core"}, gateway=gateway).models == {
        MINI: 3
    }
    assert dry_run(route, requests=3, body={"temperature": 1.5}, gateway=gateway).models == {
        MINI: 3
    }
    assert dry_run(route, requests=3, gateway=gateway).models == {HAIKU: 3}


def test_a_rate_limit_fallback_is_counted(gateway: LocalGateway) -> None:
    route = DynamicRoute.rate_limit(
        MINI, key="metadata.user", limit=3, interval=60, fallback=HAIKU, name="rl"
    )
    result = dry_run(route, requests=10, metadata={"user": "alice"}, gateway=gateway)
    assert result.models == {MINI: 3, HAIKU: 7}
    assert result.fallbacks == 7


def test_a_limit_without_a_fallback_is_counted_as_error_responses(gateway: LocalGateway) -> None:
    route = DynamicRoute.rate_limit(MINI, key="metadata.user", limit=2, interval=60, name="hard")
    result = dry_run(route, requests=5, metadata={"user": "u"}, gateway=gateway)
    assert result.models == {MINI: 2}
    assert result.errors == {(429, 2003): 3}
    assert result.fallbacks == 0


def test_a_failing_model_falls_back_and_is_counted(gateway: LocalGateway) -> None:
    route = DynamicRoute.fallback_chain([f"{MINI}~status=503", HAIKU], name="fb")
    result = dry_run(route, requests=4, gateway=gateway)
    assert (result.models, result.fallbacks) == ({HAIKU: 4}, 4)


def test_the_same_seed_prints_the_same_output_twice(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first = cli(capsys, SPLIT, tmp_path, "--n", "200", "--seed", "42")
    again = cli(capsys, SPLIT, tmp_path, "--n", "200", "--seed", "42")
    other = cli(capsys, SPLIT, tmp_path, "--n", "200", "--seed", "43")
    assert first == again
    assert first != other
    assert first.startswith("route 'ab' on a local gateway: 200 requests, seed '42'\n")


def test_the_json_printout(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    route = DynamicRoute.rate_limit(
        MINI, key="metadata.user", limit=1, interval=60, fallback=HAIKU, name="rl"
    )
    out = cli(capsys, route, tmp_path, "--n", "4", "--metadata", "user=bob", "--json")
    assert json.loads(out) == {
        "route": "rl",
        "requests": 4,
        "seed": None,
        "models": [
            {"model": HAIKU, "provider": "anthropic", "count": 3, "share": 0.75},
            {"model": MINI, "provider": "openai", "count": 1, "share": 0.25},
        ],
        "fallbacks": {"count": 3, "share": 0.75},
        "errors": [],
    }
