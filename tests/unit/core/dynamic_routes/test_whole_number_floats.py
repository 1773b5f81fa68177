"""Integer properties given as floats: Cloudflare's `cloudflare` SDK types `timeout`,
`retries`, `limit` and `window` as `float`
(`cloudflare/types/ai_gateway/dynamic_routing_get_response.py`), so a route read back
through it carries `10000.0`. A whole-number float is that integer; `1.5` is refused,
naming the element and the field."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from langchain_cf_gateway import DynamicRoute, InvalidDynamicRouteError
from langchain_cf_gateway.core.dynamic_routes import LimitElement, ModelElement

ROUTE = DynamicRoute.rate_limit(
    "openai/gpt-4o-mini",
    key="metadata.user_id",
    limit=2,
    interval=60,
    fallback="anthropic/claude-3-5-haiku",
    name="r",
)


def with_properties(kind: str, **changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(ROUTE.to_api())
    element = next(e for e in body["elements"] if e["type"] == kind)
    element["properties"].update(changes)
    return body


def test_whole_number_floats_read_as_integers() -> None:
    body = with_properties("model", timeout=10000.0, retries=1.0)
    limiter = next(e for e in body["elements"] if e["type"] == "rate")
    limiter["properties"].update(window=60.0, limit=2.0)
    route = DynamicRoute.from_api(body)
    first = next(e for e in route.elements if isinstance(e, ModelElement))
    assert (first.timeout, first.retries) == (10000, 1)
    assert (type(first.timeout), type(first.retries)) == (int, int)
    [limit] = [e for e in route.elements if isinstance(e, LimitElement)]
    assert (limit.interval, type(limit.interval)) == (60, int)
    assert (limit.limit, type(limit.limit)) == (2, int)
    # Written back as the integers the API takes.
    assert json.dumps(route.to_api()).count('"timeout": 10000,') == 1
    assert route == DynamicRoute.from_api(route.to_api())


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        ("model", "timeout", 1.5),
        ("model", "retries", 0.5),
        ("rate", "window", 60.25),
        ("rate", "limit", 2.5),
        ("model", "timeout", float("nan")),
        ("model", "retries", float("inf")),
    ],
)
def test_a_fractional_float_is_refused_naming_the_field(
    kind: str, field: str, value: float
) -> None:
    name = {"window": "interval"}.get(field, field)
    with pytest.raises(InvalidDynamicRouteError, match=f"element '[^']+' {name}") as caught:
        DynamicRoute.from_api(with_properties(kind, **{field: value}))
    assert caught.value.field == name


def test_a_cost_limit_keeps_its_float() -> None:
    body = with_properties("rate", limitType="cost", limit=2.0)
    [limit] = [e for e in DynamicRoute.from_api(body).elements if isinstance(e, LimitElement)]
    assert (limit.limit, type(limit.limit)) == (2.0, float)


def test_booleans_and_strings_stay_refused() -> None:
    for value in (True, "10000"):
        with pytest.raises(InvalidDynamicRouteError, match="timeout"):
            DynamicRoute.from_api(with_properties("model", timeout=value))
