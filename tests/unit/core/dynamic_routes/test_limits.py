"""Names a route can be called by, finite and bounded numbers, ASCII shares, provider slugs.

A route's name must be one `parse_model_id` accepts after `dynamic/`, so a deployed
route can be called; numbers must be finite and within the bounds in the messages.
"""

from __future__ import annotations

from typing import Any

import pytest

from langchain_cf_gateway import InvalidDynamicRouteError
from langchain_cf_gateway.core.dynamic_routes import DynamicRoute
from langchain_cf_gateway.core.dynamic_routes.graph import (
    MAX_COUNT_LIMIT,
    MAX_NAME_LENGTH,
    MAX_RETRIES,
    MAX_TIMEOUT_MS,
    MAX_WINDOW_SECONDS,
)
from langchain_cf_gateway.core.routing import parse_model_id

from .routes import element, ref, valid

UNCALLABLE_NAMES = ["a b", "süppört", " lead", "lead ", "a\nb", "a\x00b", "a" * 100_000, "a/b"]


@pytest.mark.parametrize("name", UNCALLABLE_NAMES, ids=repr)
def test_a_name_dynamic_slash_name_cannot_call_is_refused_by_the_builders(name: str) -> None:
    with pytest.raises(InvalidDynamicRouteError) as caught:
        DynamicRoute.split({"openai/gpt-4o-mini": 100}, name=name)
    assert caught.value.field == "name"


@pytest.mark.parametrize("name", UNCALLABLE_NAMES, ids=repr)
def test_a_name_dynamic_slash_name_cannot_call_is_refused_by_from_api(name: str) -> None:
    route = valid()
    route["name"] = name
    with pytest.raises(InvalidDynamicRouteError) as caught:
        DynamicRoute.from_api(route)
    assert caught.value.field == "name"


def test_the_length_bound_is_in_the_message_and_a_name_at_the_bound_is_callable() -> None:
    with pytest.raises(InvalidDynamicRouteError, match=f"at most {MAX_NAME_LENGTH} characters"):
        DynamicRoute.split({"openai/gpt-4o-mini": 100}, name="a" * (MAX_NAME_LENGTH + 1))
    name = "a" * MAX_NAME_LENGTH
    route = DynamicRoute.split({"openai/gpt-4o-mini": 100}, name=name)
    assert parse_model_id(f"dynamic/{route.name}").model == name


@pytest.mark.parametrize("name", ["support", "cf-support", "paid_v2", "A.b~1"])
def test_every_accepted_name_is_callable(name: str) -> None:
    route = DynamicRoute.split({"openai/gpt-4o-mini": 100}, name=name)
    assert parse_model_id(f"dynamic/{route.name}").model == name


def _condition(value: Any) -> dict[str, Any]:
    route = valid()
    element(route, "plan")["properties"]["conditions"] = value
    return route


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")], ids=repr)
@pytest.mark.parametrize(
    "shape",
    [
        lambda n: {"metadata.x": {"$eq": n}},
        lambda n: {"metadata.x": n},
        lambda n: {"metadata.x": {"$gt": n}},
        lambda n: {"metadata.x": {"$in": [1, n]}},
        lambda n: {"$or": [{"metadata.x": {"$not": {"$lte": n}}}]},
    ],
    ids=["$eq", "bare", "$gt", "$in", "nested"],
)
def test_a_non_finite_number_in_a_condition_is_refused_at_build(number: float, shape: Any) -> None:
    with pytest.raises(InvalidDynamicRouteError, match="finite") as caught:
        DynamicRoute.conditional(
            shape(number), then="openai/gpt-4o", otherwise="openai/gpt-4o-mini"
        )
    assert caught.value.element_id is not None
    assert caught.value.field.startswith("condition.")
    with pytest.raises(InvalidDynamicRouteError, match="finite"):
        DynamicRoute.from_api(_condition(shape(number)))


@pytest.mark.parametrize("number", [10**400, 2**63, -(2**53)], ids=str)
def test_a_number_in_a_condition_beyond_2_to_53_is_refused(number: int) -> None:
    with pytest.raises(InvalidDynamicRouteError, match=str(2**53 - 1)):
        DynamicRoute.from_api(_condition({"metadata.x": {"$gt": number}}))
    DynamicRoute.from_api(_condition({"metadata.x": {"$gt": 2**53 - 1, "$lt": 1.5e300}}))


def _model(field: str, value: Any) -> dict[str, Any]:
    route = valid()
    element(route, "gpt")["properties"][field] = value
    return route


def _limit(field: str, value: Any) -> dict[str, Any]:
    route = valid()
    element(route, "limit")["properties"][field] = value
    return route


@pytest.mark.parametrize(
    ("route", "field", "bound"),
    [
        (lambda: _model("timeout", 10**30), "timeout", MAX_TIMEOUT_MS),
        (lambda: _model("timeout", MAX_TIMEOUT_MS + 1), "timeout", MAX_TIMEOUT_MS),
        (lambda: _model("retries", 99), "retries", MAX_RETRIES),
        (lambda: _model("retries", MAX_RETRIES + 1), "retries", MAX_RETRIES),
        (lambda: _limit("window", 10**20), "interval", MAX_WINDOW_SECONDS),
        (lambda: _limit("window", MAX_WINDOW_SECONDS + 1), "interval", MAX_WINDOW_SECONDS),
        (lambda: _limit("limit", 2**63), "limit", MAX_COUNT_LIMIT),
        (lambda: _limit("limit", MAX_COUNT_LIMIT + 1), "limit", MAX_COUNT_LIMIT),
    ],
    ids=[
        "timeout 1e30",
        "timeout +1",
        "retries 99",
        "retries +1",
        "window 1e20",
        "window +1",
        "limit 2**63",
        "limit +1",
    ],
)
def test_numbers_beyond_their_bound_are_refused_naming_the_bound(
    route: Any, field: str, bound: int
) -> None:
    with pytest.raises(InvalidDynamicRouteError, match=f"at most {bound}") as caught:
        DynamicRoute.from_api(route())
    assert caught.value.field == field


def test_numbers_at_their_bound_are_accepted() -> None:
    route = _model("timeout", MAX_TIMEOUT_MS)
    element(route, "gpt")["properties"]["retries"] = MAX_RETRIES
    element(route, "limit")["properties"]["window"] = MAX_WINDOW_SECONDS
    element(route, "limit")["properties"]["limit"] = MAX_COUNT_LIMIT
    assert DynamicRoute.from_api(route).to_api() == route


@pytest.mark.parametrize("cost", [float("inf"), 10.0**300], ids=str)
def test_a_cost_limit_is_finite_and_bounded(cost: float) -> None:
    route = _limit("limitType", "cost")
    element(route, "limit")["properties"]["limit"] = cost
    with pytest.raises(InvalidDynamicRouteError, match="at most") as caught:
        DynamicRoute.from_api(route)
    assert caught.value.field == "limit"


def test_the_builders_refuse_the_same_bounds() -> None:
    with pytest.raises(InvalidDynamicRouteError, match=f"at most {MAX_TIMEOUT_MS}"):
        DynamicRoute.fallback_chain(["openai/a"], timeout_ms=10**30)
    with pytest.raises(InvalidDynamicRouteError, match=f"at most {MAX_RETRIES}"):
        DynamicRoute.fallback_chain(["openai/a"], retries=99)
    with pytest.raises(InvalidDynamicRouteError, match=f"at most {MAX_WINDOW_SECONDS}"):
        DynamicRoute.rate_limit("openai/gpt-4o", key="metadata.user", limit=1, interval=10**20)


@pytest.mark.parametrize("share", ["٨٠%", "\uff18\uff10%", "80٪"])
def test_a_share_is_written_in_ascii_digits(share: str) -> None:
    route = valid()
    element(route, "split")["outputs"] = {share: ref("gpt"), "20%": ref("claude")}
    with pytest.raises(InvalidDynamicRouteError, match="shares like '80%'"):
        DynamicRoute.from_api(route)


@pytest.mark.parametrize("written", ["OpenAI ", " openai", "OPENAI"])
def test_a_provider_is_read_as_its_canonical_slug(written: str) -> None:
    route = _model("provider", written)
    built = DynamicRoute.from_api(route)
    assert element(built.to_api(), "gpt")["properties"]["provider"] == "openai"
    assert parse_model_id(f"{written.strip()}/gpt-4o-mini").slug == "openai"


def test_an_unknown_provider_is_still_refused() -> None:
    with pytest.raises(InvalidDynamicRouteError, match="unknown provider 'opneai'"):
        DynamicRoute.from_api(_model("provider", "opneai"))
