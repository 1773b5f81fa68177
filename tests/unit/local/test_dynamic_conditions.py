"""Conditions of conditional elements against one request: every operator, missing fields.

https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/json-configuration/
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.core.dynamic_routes.conditions import FIELD_OPERATORS, check_condition
from langchain_cf_gateway.local.dynamic_exec import RouteRequest, matches

REQUEST = RouteRequest.of(
    {Header.METADATA: json.dumps({"plan": "paid", "seats": 5, "beta": True}), "x-team": "core"},
    {"model": "dynamic/r", "temperature": 0.7, "messages": [{"role": "user", "content": "hi"}]},
)

CASES: list[tuple[dict[str, Any], bool]] = [
    ({"metadata.plan": "paid"}, True),
    ({"metadata.plan": "free"}, False),
    ({"metadata.plan": {"$eq": "paid"}}, True),
    ({"metadata.plan": {"$ne": "paid"}}, False),
    ({"metadata.plan": {"$ne": "free"}}, True),
    ({"metadata.seats": {"$gt": 4}}, True),
    ({"metadata.seats": {"$gt": 5}}, False),
    ({"metadata.seats": {"$gte": 5}}, True),
    ({"metadata.seats": {"$lt": 5}}, False),
    ({"metadata.seats": {"$lte": 5}}, True),
    ({"metadata.seats": {"$gt": 1, "$lt": 10}}, True),
    ({"metadata.seats": {"$gt": 1, "$lt": 3}}, False),
    ({"metadata.plan": {"$gt": "free"}}, True),  # strings compare with strings
    ({"metadata.plan": {"$gt": 1}}, False),  # a string never compares with a number
    ({"metadata.seats": {"$gt": "1"}}, False),
    ({"metadata.plan": {"$in": ["paid", "trial"]}}, True),
    ({"metadata.plan": {"$in": ["free"]}}, False),
    ({"metadata.plan": {"$nin": ["free"]}}, True),
    ({"metadata.plan": {"$nin": ["paid"]}}, False),
    ({"metadata.plan": {"$exists": True}}, True),
    ({"metadata.plan": {"$exists": False}}, False),
    ({"metadata.plan": {"$not": {"$eq": "free"}}}, True),
    ({"metadata.plan": {"$not": "paid"}}, False),
    ({"metadata.beta": True}, True),
    ({"metadata.beta": 1}, False),  # true is not 1
    ({"metadata.seats": 5.0}, True),
    ({"metadata.seats": "5"}, False),
    ({"body.temperature": {"$lt": 1}}, True),
    ({"body.messages.0.role": "user"}, True),
    ({"body.messages.1.role": {"$exists": False}}, True),
    ({"headers.x-team": "core"}, True),
    ({"headers.X-Team": "core"}, True),
    ({"$and": [{"metadata.plan": "paid"}, {"headers.x-team": "core"}]}, True),
    ({"$and": [{"metadata.plan": "paid"}, {"headers.x-team": "edge"}]}, False),
    ({"$or": [{"metadata.plan": "free"}, {"headers.x-team": "core"}]}, True),
    ({"$or": [{"metadata.plan": "free"}, {"headers.x-team": "edge"}]}, False),
    ({"$not": {"metadata.plan": "free"}}, True),
    ({"metadata.plan": "paid", "metadata.seats": 6}, False),  # every field must hold
]

MISSING_FIELD: list[tuple[dict[str, Any], bool]] = [
    ({"metadata.user": "u"}, False),
    ({"metadata.user": {"$eq": None}}, False),
    ({"metadata.user": {"$ne": "u"}}, True),
    ({"metadata.user": {"$gt": 0}}, False),
    ({"metadata.user": {"$lte": "z"}}, False),
    ({"metadata.user": {"$in": ["u"]}}, False),
    ({"metadata.user": {"$nin": ["u"]}}, True),
    ({"metadata.user": {"$exists": False}}, True),
    ({"metadata.user": {"$exists": True}}, False),
    ({"body.nested.deeper": "x"}, False),
    ({"body.messages.9": {"$exists": True}}, False),
    ({"headers.x-absent": {"$exists": True}}, False),
]


@pytest.mark.parametrize(("condition", "expected"), CASES, ids=lambda c: json.dumps(c))
def test_each_operator(condition: dict[str, Any], expected: bool) -> None:
    check_condition("c", condition)  # a condition the route builder accepts
    assert matches(condition, REQUEST) is expected


@pytest.mark.parametrize(("condition", "expected"), MISSING_FIELD, ids=lambda c: json.dumps(c))
def test_a_missing_field(condition: dict[str, Any], expected: bool) -> None:
    check_condition("c", condition)
    assert matches(condition, REQUEST) is expected


def test_every_operator_the_builder_accepts_is_covered() -> None:
    used = {
        op
        for condition, _ in CASES
        for test in condition.values()
        if isinstance(test, dict)
        for op in test
    }
    assert set(FIELD_OPERATORS) <= used


@pytest.mark.parametrize("raw", [None, "not json", "[1, 2]", '"text"'])
def test_metadata_that_is_not_an_object_counts_as_none(raw: str | None) -> None:
    headers = {} if raw is None else {Header.METADATA: raw}
    request = RouteRequest.of(headers, {})
    assert matches({"metadata.plan": {"$exists": False}}, request)
