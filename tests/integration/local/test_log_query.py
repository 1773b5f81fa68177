"""The logs API's query parser (local gateway) and our client's encoder, property-based.

A delete must never widen: whatever the query string, the parser either refuses it or
returns every filter it was given. What ``GatewayClient`` encodes, the parser reads back.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from langchain_cf_gateway.core.protocol import LogsApi
from langchain_cf_gateway.local.log_query import (
    parse_delete_query,
    parse_filters,
    parse_list_query,
)
from langchain_cf_gateway.local.logstore import LogQueryError
from langchain_cf_gateway.management import LogFilter
from langchain_cf_gateway.management._query import dotted_filters as _dotted_filters
from langchain_cf_gateway.management._query import log_params as _log_params

NAMES = st.sampled_from(
    [
        "filters",
        "filters.key",
        "filters.operator",
        "filters.value",
        "filters[0][key]",
        "limit",
        "order_by",
        "order_by_direction",
        "search",
        "event_id",
        "page",
        "bogus",
        "",
    ]
)
TEXT = st.text(max_size=20)
VALUES = st.one_of(
    TEXT.filter(lambda s: s.strip() == s and s != ""),
    st.integers(-1000, 1000),
    st.booleans(),
)
TEXT_KEYS = ("event_id", "provider", "model", "metadata.key", "metadata.value", "user_agent")


@given(st.lists(st.tuples(NAMES, TEXT), max_size=8))
def test_a_delete_is_refused_or_keeps_every_filter(items: list[tuple[str, str]]) -> None:
    try:
        query = parse_delete_query(items)
    except LogQueryError:
        return
    names = {name for name, _ in items}
    assert names <= {"filters", "filters.key", "filters.operator", "filters.value", "limit"} | {
        "order_by",
        "order_by_direction",
    }
    if names & {"filters", "filters.key", "filters.operator", "filters.value"}:
        assert query.filters, "a filter was given and none is applied: the delete would widen"
    for flt in query.filters:
        assert flt["key"] in LogsApi.FILTER_KEYS
        assert flt["operator"] in LogsApi.FILTER_OPERATORS
        assert flt["value"] and "_internal" not in flt
    assert query.limit is None or 1 <= query.limit <= LogsApi.DELETE_LIMIT_MAX


@given(st.lists(st.tuples(NAMES, TEXT), max_size=8))
def test_a_list_is_refused_or_parsed_within_bounds(items: list[tuple[str, str]]) -> None:
    try:
        query = parse_list_query(items)
    except LogQueryError:
        return
    assert 1 <= query.per_page <= LogsApi.PER_PAGE_MAX
    assert query.order_by in LogsApi.ORDER_BY


single_value_filters = st.lists(
    st.builds(
        lambda key, op, value: LogFilter(key, op, value),
        st.sampled_from(TEXT_KEYS),
        st.sampled_from(LogsApi.FILTER_OPERATORS),
        VALUES.map(str),
    ),
    min_size=1,
    max_size=5,
)


@given(single_value_filters)
def test_what_the_client_encodes_the_server_reads_back(filters: list[LogFilter]) -> None:
    decoded = parse_filters(_dotted_filters(filters))
    assert decoded == [f.to_json() for f in filters]


@given(
    st.sampled_from(TEXT_KEYS),
    st.sampled_from(LogsApi.FILTER_OPERATORS),
    st.lists(VALUES.map(str), min_size=1, max_size=4),
)
def test_one_filter_keeps_all_its_values(key: str, op: Any, values: list[str]) -> None:
    flt = LogFilter(key, op, values)
    assert parse_filters(_dotted_filters([flt])) == [flt.to_json()]


@pytest.mark.parametrize(
    ("key", "raw", "typed"),
    [
        ("cached", "true", True),
        ("success", "false", False),
        ("cost", "0.5", 0.5),
        ("tokens_in", "12", 12),
        ("event_id", "12", "12"),
    ],
)
def test_dotted_values_take_their_keys_type(key: str, raw: str, typed: Any) -> None:
    [flt] = parse_filters(
        [("filters.key", key), ("filters.operator", "eq"), ("filters.value", raw)]
    )
    assert flt["value"] == [typed] and type(flt["value"][0]) is type(typed)


@pytest.mark.parametrize("raw", ["[]", "{}", "null", "[null]", '[{"key": "event_id"}]'])
def test_a_json_filter_that_selects_nothing_is_refused(raw: str) -> None:
    with pytest.raises(LogQueryError, match="filter"):
        parse_delete_query([("filters", raw)])


def test_delete_defaults_to_the_oldest_first_and_list_to_the_newest() -> None:
    assert parse_delete_query([("limit", "3")]).direction == "asc"
    assert parse_list_query([]).direction == "desc"
    assert parse_list_query([("direction", "asc")]).direction == "asc"  # deprecated alias
    assert parse_delete_query([("order_by", "cost")]).order_by == "cost"
    with pytest.raises(LogQueryError, match="order_by"):
        parse_list_query([("order_by", "cost")])


def test_client_dates_become_created_at_filters() -> None:
    params = _log_params({"start_date": "2026-01-01T00:00:00Z"}, delete=True)
    [flt] = parse_delete_query(params).filters
    assert flt == {"key": "created_at", "operator": "gt", "value": ["2026-01-01T00:00:00Z"]}
