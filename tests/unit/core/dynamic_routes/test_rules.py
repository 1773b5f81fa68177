"""Every rule a dynamic route keeps: one broken case each, and the message it gives.

Each case breaks one rule of a valid route (tests/unit/core/dynamic_routes/routes.py)
and asserts the element id, the field and the words of the fix; a rule removed makes
its case pass silently or fail with another message, so the case fails.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from langchain_cf_gateway import InvalidDynamicRouteError, InvalidOptionError
from langchain_cf_gateway.core.dynamic_routes import DynamicRoute

from .routes import element, ref, valid

Change = Callable[[dict[str, Any]], None]


def _set(element_id: str, *path: str, value: Any) -> Change:
    def change(route: dict[str, Any]) -> None:
        target = element(route, element_id)
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _condition(condition: Any) -> Change:
    return _set("plan", "properties", "conditions", value=condition)


def _shares(outputs: dict[str, str]) -> Change:
    return _set("split", "outputs", value={k: ref(v) for k, v in outputs.items()})


def _drop(element_id: str) -> Change:
    def change(route: dict[str, Any]) -> None:
        route["elements"].remove(element(route, element_id))

    return change


def _add(body: Any) -> Change:
    def change(route: dict[str, Any]) -> None:
        route["elements"].append(body)

    return change


def _set_route(key: str, value: Any) -> Change:
    def change(route: dict[str, Any]) -> None:
        route[key] = value

    return change


ORPHAN = {
    "id": "orphan",
    "type": "model",
    "properties": {"provider": "openai", "model": "gpt-4o", "timeout": 1000, "retries": 0},
    "outputs": {"success": ref("end")},
}

# (case, change, element id, field, words of the message)
CASES: list[tuple[str, Change, str | None, str, str]] = [
    # the graph
    ("no start", _drop("start"), None, "elements", "exactly one start element; found 0"),
    (
        "two starts",
        _add({"id": "start2", "type": "start", "outputs": {"next": ref("plan")}}),
        None,
        "elements",
        "found 2 (start, start2)",
    ),
    ("no end", _drop("end"), None, "elements", "needs an end element"),
    ("duplicate id", _add(dict(ORPHAN, id="gpt")), "gpt", "id", "used by two elements"),
    (
        "dangling output",
        _set("gpt", "outputs", "fallback", value=ref("claud")),
        "gpt",
        "outputs.fallback",
        "points at 'claud', which is no element of this route (did you mean 'claude'?)",
    ),
    (
        "output to start",
        _set("claude", "outputs", "fallback", value=ref("start")),
        "claude",
        "outputs.fallback",
        "points back at the start element",
    ),
    (
        "unknown output",
        _set("gpt", "outputs", "error", value=ref("end")),
        "gpt",
        "outputs",
        "unknown output 'error': a model element has success, optionally fallback",
    ),
    (
        "conditional without false",
        _set("plan", "outputs", value={"true": ref("split")}),
        "plan",
        "outputs",
        "missing output 'false': a conditional element has false and true",
    ),
    (
        "start without next",
        _set("start", "outputs", value={}),
        "start",
        "outputs",
        "missing output 'next'",
    ),
    (
        "limiter without success",
        _set("limit", "outputs", value={"fallback": ref("end")}),
        "limit",
        "outputs",
        "missing output 'success'",
    ),
    (
        "end with an output",
        _set("end", "outputs", value={"next": ref("gpt")}),
        "end",
        "outputs",
        "unknown output 'next': an end element has no outputs",
    ),
    ("unreachable", _add(ORPHAN), "orphan", "id", "not reachable from start"),
    (
        "cycle",
        _set("claude", "outputs", "fallback", value=ref("gpt")),
        "claude",
        "outputs",
        "makes a cycle (gpt -> claude -> gpt)",
    ),
    # shares
    (
        "share not a percent",
        _shares({"80": "gpt", "else": "claude"}),
        "split",
        "outputs.80",
        "'80%'",
    ),
    (
        "share over 100",
        _shares({"120%": "gpt", "else": "claude"}),
        "split",
        "outputs.120%",
        "between 0% and 100%",
    ),
    (
        "six shares",
        _shares({f"{p}%": "gpt" for p in (10, 20, 30, 15, 5)} | {"20.0%": "claude"}),
        "split",
        "outputs",
        "6 shares; at most 5 besides 'else'",
    ),
    (
        "shares not 100",
        _shares({"80%": "gpt", "30%": "claude"}),
        "split",
        "outputs",
        "add up to 110%, not 100%",
    ),
    (
        "shares over 100 with else",
        _shares({"80%": "gpt", "30%": "claude", "else": "end"}),
        "split",
        "outputs",
        "with 'else' they add up to at most 100%",
    ),
    ("else alone", _shares({"else": "gpt"}), "split", "outputs", "at least one share"),
    # conditions
    ("empty condition", _condition({}), "plan", "condition", "must be a non-empty object"),
    (
        "path outside the request",
        _condition({"user.plan": {"$eq": "paid"}}),
        "plan",
        "condition.user.plan",
        "not a request field: write metadata.<key>, body.<field> or headers.<name>",
    ),
    (
        "path with no name",
        _condition({"metadata.": "paid"}),
        "plan",
        "condition.metadata.",
        "not a request field",
    ),
    (
        "unknown field operator",
        _condition({"metadata.plan": {"$eqq": "paid"}}),
        "plan",
        "condition.metadata.plan.$eqq",
        "unknown operator '$eqq' on a field (did you mean '$eq'?)",
    ),
    (
        "operator missing",
        _condition({"metadata.plan": {}}),
        "plan",
        "condition.metadata.plan",
        "needs an operator",
    ),
    (
        "$in without a list",
        _condition({"metadata.plan": {"$in": "paid"}}),
        "plan",
        "condition.metadata.plan.$in",
        "$in takes a list of values",
    ),
    (
        "$nin of objects",
        _condition({"metadata.plan": {"$nin": [{"a": 1}]}}),
        "plan",
        "condition.metadata.plan.$nin",
        "$nin takes a list of values",
    ),
    (
        "$exists not a boolean",
        _condition({"metadata.plan": {"$exists": "yes"}}),
        "plan",
        "condition.metadata.plan.$exists",
        "$exists takes true or false",
    ),
    (
        "$gt of a list",
        _condition({"body.max_tokens": {"$gt": [1]}}),
        "plan",
        "condition.body.max_tokens.$gt",
        "$gt compares with a number or a string",
    ),
    (
        "$lte of a boolean",
        _condition({"body.max_tokens": {"$lte": True}}),
        "plan",
        "condition.body.max_tokens.$lte",
        "$lte compares with a number or a string",
    ),
    (
        "$eq of an object",
        _condition({"headers.x-tier": {"$eq": {"a": 1}}}),
        "plan",
        "condition.headers.x-tier.$eq",
        "$eq compares with a string, number, boolean or null",
    ),
    (
        "bare list value",
        _condition({"metadata.plan": ["paid"]}),
        "plan",
        "condition.metadata.plan",
        "compare with a string, number, boolean or null, or an operator",
    ),
    (
        "$not of a bad test",
        _condition({"metadata.plan": {"$not": {"$bad": 1}}}),
        "plan",
        "condition.metadata.plan.$not.$bad",
        "unknown operator '$bad' on a field",
    ),
    (
        "$and not a list",
        _condition({"$and": {"metadata.plan": "paid"}}),
        "plan",
        "condition.$and",
        "$and takes a non-empty list of conditions",
    ),
    (
        "unknown logical operator",
        _condition({"$nor": [{"metadata.plan": "paid"}]}),
        "plan",
        "condition.$nor",
        "unknown operator '$nor' joining conditions",
    ),
    (
        "bad part of $or",
        _condition({"$or": [{"metadata.plan": "paid"}, {"plan": "free"}]}),
        "plan",
        "condition.$or[1].plan",
        "not a request field",
    ),
    (
        "bad top-level $not",
        _condition({"$not": {}}),
        "plan",
        "condition.$not",
        "must be a non-empty object",
    ),
    # model properties
    (
        "unknown provider",
        _set("gpt", "properties", "provider", value="opneai"),
        "gpt",
        "provider",
        "unknown provider 'opneai'; known: openai",
    ),
    (
        "empty model",
        _set("gpt", "properties", "model", value=" "),
        "gpt",
        "model",
        "names no model",
    ),
    (
        "timeout 0",
        _set("gpt", "properties", "timeout", value=0),
        "gpt",
        "timeout",
        "0: a whole number of milliseconds, such as 30000, more than 0",
    ),
    (
        "negative retries",
        _set("gpt", "properties", "retries", value=-1),
        "gpt",
        "retries",
        "-1: retries are 0 or more",
    ),
    # limiter properties
    (
        "unknown limit type",
        _set("limit", "properties", "limitType", value="tokens"),
        "limit",
        "limit_type",
        "'tokens': 'count' (requests) or 'cost' (a budget)",
    ),
    (
        "key outside the request",
        _set("limit", "properties", "key", value="user_id"),
        "limit",
        "key",
        "not a request field",
    ),
    (
        "limit 0",
        _set("limit", "properties", "limit", value=0),
        "limit",
        "limit",
        "0: a limit is more than 0",
    ),
    (
        "fractional count",
        _set("limit", "properties", "limit", value=1.5),
        "limit",
        "limit",
        "a count limit is a whole number of requests",
    ),
    (
        "interval 0",
        _set("limit", "properties", "window", value=0),
        "limit",
        "interval",
        "0: a whole number of seconds, such as 3600, more than 0",
    ),
    (
        "unknown technique",
        _set("limit", "properties", "technique", value="leaky"),
        "limit",
        "technique",
        "'leaky': 'sliding' or 'fixed'",
    ),
    # the JSON itself
    (
        "unknown type",
        _add({"id": "router", "type": "router", "outputs": {}}),
        "router",
        "type",
        "unknown type 'router'; known: start, conditional, percentage, rate, model, end",
    ),
    ("element not an object", _add("gpt"), None, "elements[7]", "must be a JSON object"),
    ("element without id", _add({"type": "end"}), None, "elements[7].id", "non-empty string id"),
    (
        "unknown property",
        _set("gpt", "properties", "temperature", value=0.2),
        "gpt",
        "properties.temperature",
        "unknown property of a model element; known: provider, model, timeout, retries",
    ),
    (
        "unknown element key",
        _set("gpt", "label", value="GPT"),
        "gpt",
        "label",
        "unknown key; an element has id, type, properties and outputs",
    ),
    (
        "properties not an object",
        _set("gpt", "properties", value=["openai"]),
        "gpt",
        "properties",
        "must be a JSON object",
    ),
    (
        "timeout not a number",
        _set("gpt", "properties", "timeout", value="10s"),
        "gpt",
        "timeout",
        "valid integer",
    ),
    (
        "output not an id",
        _set("gpt", "outputs", "success", value={"element": "end"}),
        "gpt",
        "outputs.success",
        "valid string",
    ),
    ("route without a name", _set_route("name", ""), None, "name", "the JSON names no route"),
    ("blank route name", _set_route("name", "  "), None, "name", "a route needs a name"),
    ("route name with a slash", _set_route("name", "a/b"), None, "name", "without '/'"),
]


@pytest.mark.parametrize(
    ("change", "element_id", "field", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_broken_rule_names_the_element_the_field_and_the_fix(
    change: Change, element_id: str | None, field: str, words: str
) -> None:
    route = valid()
    change(route)
    with pytest.raises(InvalidDynamicRouteError) as caught:
        DynamicRoute.from_api(route)
    error = caught.value
    assert isinstance(error, InvalidOptionError)
    assert isinstance(error, ValueError)
    assert (error.element_id, error.field) == (element_id, field)
    where = f"element {element_id!r} {field}" if element_id is not None else field
    assert str(error).startswith(f"{where}: ")
    assert words in str(error)


def test_the_valid_route_is_valid() -> None:
    assert DynamicRoute.from_api(valid()).to_api() == valid()


@pytest.mark.parametrize(
    "condition",
    [
        {"metadata.plan": "paid"},
        {"metadata.plan": {"$ne": None}},
        {"metadata.plan": {"$in": ["paid", "trial"], "$nin": ["free"]}},
        {"metadata.plan": {"$exists": True}},
        {"body.max_tokens": {"$gt": 100, "$lte": 4000}},
        {"body.temperature": {"$gte": 0.5, "$lt": 1}},
        {"headers.x-tier": {"$not": {"$eq": "free"}}},
        {"$and": [{"metadata.plan": "paid"}, {"$or": [{"metadata.region": "eu"}]}]},
        {"$not": {"metadata.plan": "free"}},
    ],
)
def test_well_formed_conditions_pass(condition: dict[str, Any]) -> None:
    route = valid()
    _condition(condition)(route)
    assert DynamicRoute.from_api(route).to_api() == route


def test_shares_with_else_may_add_up_to_less_than_100() -> None:
    route = valid()
    _shares({"12.5%": "gpt", "50%": "claude", "else": "end"})(route)
    assert DynamicRoute.from_api(route).to_api() == route


def test_a_cost_limit_may_be_fractional_and_a_model_or_limiter_may_have_no_fallback() -> None:
    route = valid()
    _set("limit", "properties", "limitType", value="cost")(route)
    _set("limit", "properties", "limit", value=2.5)(route)
    _set("limit", "outputs", value={"success": ref("gpt")})(route)
    _set("claude", "outputs", value={"success": ref("end")})(route)
    assert DynamicRoute.from_api(route).to_api() == route


def test_direct_construction_checks_too_and_to_api_checks_again() -> None:
    route = DynamicRoute.from_api(valid())
    with pytest.raises(ValueError, match="exactly one start element; found 0"):
        DynamicRoute(name="x", elements=route.elements[1:])
    broken = route.model_copy(update={"elements": route.elements[1:]})
    with pytest.raises(InvalidDynamicRouteError, match="found 0"):
        broken.to_api()


def test_an_element_built_in_python_needs_an_id() -> None:
    from langchain_cf_gateway.core.dynamic_routes import EndElement, StartElement

    with pytest.raises(ValueError, match="id: every element needs a non-empty id"):
        DynamicRoute(
            name="x",
            elements=(StartElement(id="", outputs={"next": "end"}), EndElement(id="end")),
        )
