"""The builders: fallback chains, splits, conditions and limits, alone and composed."""

from __future__ import annotations

from typing import Any

import pytest

from langchain_cf_gateway import DynamicRoute, InvalidDynamicRouteError


def _by_id(route: DynamicRoute) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in route.to_api()["elements"]}


def _targets(element: dict[str, Any]) -> dict[str, str]:
    return {name: out["elementId"] for name, out in element["outputs"].items()}


def test_fallback_chain() -> None:
    route = DynamicRoute.fallback_chain(
        ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku", "google/gemini-2.0-flash"],
        name="support",
        timeout_ms=10_000,
        retries=2,
    )
    body = route.to_api()
    assert body["name"] == "support"
    assert [e["id"] for e in body["elements"]] == ["start", "model", "model_2", "model_3", "end"]
    els = _by_id(route)
    assert _targets(els["start"]) == {"next": "model"}
    assert els["model"]["properties"] == {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "timeout": 10_000,
        "retries": 2,
    }
    assert _targets(els["model"]) == {"success": "end", "fallback": "model_2"}
    assert _targets(els["model_2"]) == {"success": "end", "fallback": "model_3"}
    # The last one's failure goes to the end, which returns the error.
    assert _targets(els["model_3"]) == {"success": "end", "fallback": "end"}
    # An alias becomes the provider's slug.
    assert els["model_3"]["properties"]["provider"] == "google-ai-studio"


def test_defaults_of_a_model_element() -> None:
    els = _by_id(DynamicRoute.fallback_chain(["openai/gpt-4o-mini"]))
    assert els["model"]["properties"]["timeout"] == 60_000
    assert els["model"]["properties"]["retries"] == 0
    assert DynamicRoute.fallback_chain(["openai/gpt-4o-mini"]).name == "route"


def test_split_80_20() -> None:
    route = DynamicRoute.split({"openai/gpt-4o-mini": 80, "anthropic/claude-3-5-haiku": 20})
    els = _by_id(route)
    assert _targets(els["start"]) == {"next": "split"}
    assert els["split"]["type"] == "percentage"
    shares = _targets(els["split"])
    assert list(shares) == ["80%", "20%"]
    assert els[shares["80%"]]["properties"]["model"] == "gpt-4o-mini"
    assert els[shares["20%"]]["properties"]["provider"] == "anthropic"


def test_split_with_equal_shares_puts_one_in_else() -> None:
    els = _by_id(DynamicRoute.split({"openai/gpt-4o": 50, "openai/gpt-4o-mini": 50}))
    shares = _targets(els["split"])
    assert set(shares) == {"50%", "else"}
    assert els[shares["else"]]["properties"]["model"] == "gpt-4o-mini"


def test_split_with_fractional_shares() -> None:
    els = _by_id(DynamicRoute.split([("openai/gpt-4o", 12.5), ("openai/gpt-4o-mini", 87.5)]))
    assert set(_targets(els["split"])) == {"12.5%", "87.5%"}


@pytest.mark.parametrize(
    ("shares", "field", "words"),
    [
        ({"openai/a": 80, "openai/b": 10}, "element 'split' outputs", "add up to 90%, not 100%"),
        (
            {"openai/a": 25, "openai/b": 25, "openai/c": 25, "openai/d": 25},
            "shares",
            "25% repeated: one percentage element has one output per share",
        ),
        ({}, "shares", "at least one branch"),
        ([("openai/a", "80")], "shares[0]", "a percent is a number"),
        ({"openai/a": 120}, "element 'split' outputs.120%", "between 0% and 100%"),
    ],
)
def test_split_errors(shares: Any, field: str, words: str) -> None:
    with pytest.raises(InvalidDynamicRouteError) as caught:
        DynamicRoute.split(shares)
    assert str(caught.value).startswith(f"{field}: ")
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("models", "words"),
    [
        (["gpt-4o-mini"], "model 'gpt-4o-mini': model id 'gpt-4o-mini' needs a provider"),
        (["opneai/gpt-4o"], "unknown provider 'opneai'"),
        (["dynamic/support"], "a model element calls one provider's model"),
        (["cloudflare/auto"], "a model element calls one provider's model"),
        ([], "give a list of model ids"),
        ("openai/gpt-4o", "give a list of model ids"),
    ],
)
def test_a_bad_model_id_is_named(models: Any, words: str) -> None:
    with pytest.raises(InvalidDynamicRouteError) as caught:
        DynamicRoute.fallback_chain(models)
    assert words in str(caught.value)


def test_bad_timeout_and_retries_name_the_element() -> None:
    with pytest.raises(InvalidDynamicRouteError, match="element 'model' timeout: 0"):
        DynamicRoute.fallback_chain(["openai/gpt-4o"], timeout_ms=0)
    with pytest.raises(InvalidDynamicRouteError, match="element 'model' retries: -2"):
        DynamicRoute.fallback_chain(["openai/gpt-4o"], retries=-2)
    with pytest.raises(InvalidDynamicRouteError) as caught:
        DynamicRoute.fallback_chain(["openai/gpt-4o"], timeout_ms="1s")  # type: ignore[arg-type]
    assert str(caught.value).startswith("timeout: ")
    assert "valid integer" in str(caught.value)


def test_conditional_composes_a_split_and_a_chain() -> None:
    paid = DynamicRoute.split({"openai/gpt-4o": 80, "anthropic/claude-3-5-sonnet": 20})
    free = DynamicRoute.fallback_chain(["workers-ai/@cf/meta/llama-3.1-8b-instruct"])
    route = DynamicRoute.conditional(
        {"metadata.plan": {"$eq": "paid"}}, then=paid, otherwise=free, name="support"
    )
    els = _by_id(route)
    assert _targets(els["start"]) == {"next": "condition"}
    assert els["condition"]["properties"] == {"conditions": {"metadata.plan": {"$eq": "paid"}}}
    branches = _targets(els["condition"])
    assert els[branches["true"]]["type"] == "percentage"
    assert els[branches["false"]]["properties"]["provider"] == "workers-ai"
    # The inlined routes' starts are gone and their ends are ours: one start, one end.
    types = [e["type"] for e in route.to_api()["elements"]]
    assert types.count("start") == 1
    assert types.count("end") == 1
    assert set(els) == {
        "start",
        "condition",
        "then_split",
        "then_share_1_model",
        "then_share_2_model",
        "else_model",
        "end",
    }


def test_conditional_of_model_ids_and_a_bad_condition() -> None:
    route = DynamicRoute.conditional(
        {"metadata.plan": "paid"}, then="openai/gpt-4o", otherwise="openai/gpt-4o-mini"
    )
    els = _by_id(route)
    assert els["then_model"]["properties"]["model"] == "gpt-4o"
    assert els["else_model"]["properties"]["model"] == "gpt-4o-mini"
    with pytest.raises(InvalidDynamicRouteError, match=r"element 'condition' condition\.plan"):
        DynamicRoute.conditional({"plan": "paid"}, then="openai/a", otherwise="openai/b")


def test_split_of_routes() -> None:
    inner = DynamicRoute.fallback_chain(["openai/gpt-4o", "openai/gpt-4o-mini"])
    route = DynamicRoute.split([(inner, 70), ("anthropic/claude-3-5-haiku", 30)])
    els = _by_id(route)
    first = _targets(els["split"])["70%"]
    assert first == "share_1_model"
    assert _targets(els[first]) == {"success": "end", "fallback": "share_1_model_2"}


def test_rate_limit_with_fallback() -> None:
    route = DynamicRoute.rate_limit(
        "openai/gpt-4o",
        key="metadata.user_id",
        limit=100,
        interval=3600,
        fallback="openai/gpt-4o-mini",
    )
    els = _by_id(route)
    assert els["limit"] == {
        "id": "limit",
        "type": "rate",
        "properties": {
            "limitType": "count",
            "key": "metadata.user_id",
            "limit": 100,
            "window": 3600,
            "technique": "sliding",
        },
        "outputs": {
            "success": {"elementId": "within_model"},
            "fallback": {"elementId": "over_model"},
        },
    }


def test_budget_limit_without_fallback_ends_with_the_error() -> None:
    route = DynamicRoute.rate_limit(
        "openai/gpt-4o",
        key="metadata.team",
        limit=2.5,
        interval=86400,
        limit_type="cost",
        technique=None,
    )
    els = _by_id(route)
    assert els["limit"]["properties"] == {
        "limitType": "cost",
        "key": "metadata.team",
        "limit": 2.5,
        "window": 86400,
    }
    assert _targets(els["limit"])["fallback"] == "end"


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"limit_type": "tokens"}, "element 'limit' limit_type: 'tokens'"),
        ({"key": "user"}, "element 'limit' key: 'user' is not a request field"),
        ({"interval": 0}, "element 'limit' interval: 0"),
        ({"technique": "leaky"}, "element 'limit' technique: 'leaky'"),
    ],
)
def test_rate_limit_errors(kwargs: dict[str, Any], words: str) -> None:
    args: dict[str, Any] = {"key": "metadata.user_id", "limit": 10, "interval": 60} | kwargs
    with pytest.raises(InvalidDynamicRouteError) as caught:
        DynamicRoute.rate_limit("openai/gpt-4o", **args)
    assert words in str(caught.value)


def test_a_limit_in_front_of_a_composed_route_round_trips() -> None:
    inner = DynamicRoute.conditional(
        {"metadata.plan": "paid"},
        then=DynamicRoute.split({"openai/gpt-4o": 80, "openai/gpt-4o-mini": 20}),
        otherwise="openai/gpt-4o-mini",
    )
    route = DynamicRoute.rate_limit(
        inner, key="metadata.user_id", limit=5, interval=60, fallback="openai/gpt-4o-mini"
    )
    assert DynamicRoute.from_api(route.to_api()) == route
    assert len({e["id"] for e in route.to_api()["elements"]}) == len(route.elements)


def test_inlining_elements_without_a_start_is_refused() -> None:
    from langchain_cf_gateway.core.dynamic_routes.builders import RouteGraph
    from langchain_cf_gateway.core.dynamic_routes.elements import EndElement

    with pytest.raises(InvalidDynamicRouteError, match="then: the route to inline has no start"):
        RouteGraph(1000, 0).branch([EndElement(id="end")], "then")
