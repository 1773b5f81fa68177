"""The arguments of the management API checked and encoded, without sending anything.

The encoding is cloudflare-python's (`Querystring(nested_format="dots",
array_format="repeat")`): every `filters.key`, then every `filters.operator`, then every
`filters.value`; each check names the argument and its allowed values.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from langchain_cf_gateway.core import InvalidOptionError
from langchain_cf_gateway.core.protocol import LogsApi
from langchain_cf_gateway.management import LogFilter
from langchain_cf_gateway.management._query import (
    check_query,
    dotted_filters,
    feedback_body,
    iso_date,
    log_params,
    path_id,
    per_page,
    query_items,
)


@pytest.mark.parametrize(
    ("query", "pairs"),
    [
        ({}, []),
        (
            {"cached": True},
            [("filters.key", "cached"), ("filters.operator", "eq"), ("filters.value", "true")],
        ),
        (
            {"success": False, "provider": "openai"},
            [
                ("filters.key", "success"),
                ("filters.key", "provider"),
                ("filters.operator", "eq"),
                ("filters.operator", "eq"),
                ("filters.value", "false"),
                ("filters.value", "openai"),
            ],
        ),
        (
            {"metadata": {"team": "search"}},
            [
                ("filters.key", "metadata.key"),
                ("filters.key", "metadata.value"),
                ("filters.operator", "eq"),
                ("filters.operator", "eq"),
                ("filters.value", "team"),
                ("filters.value", "search"),
            ],
        ),
        (
            {"filters": [LogFilter("tokens_in", "gt", 10)], "search": "weather"},
            [
                ("filters.key", "tokens_in"),
                ("filters.operator", "gt"),
                ("filters.value", "10"),
                ("search", "weather"),
            ],
        ),
        (
            {"filters": [{"key": "provider", "operator": "eq", "value": ["openai", "groq"]}]},
            [
                ("filters.key", "provider"),
                ("filters.operator", "eq"),
                ("filters.value", "openai"),
                ("filters.value", "groq"),
            ],
        ),
        (
            {"order_by": "model", "order_by_direction": "asc"},
            [("order_by", "model"), ("order_by_direction", "asc")],
        ),
    ],
    ids=[
        "empty",
        "cached",
        "two-keywords",
        "metadata",
        "raw-filter",
        "one-filter-two-values",
        "order",
    ],
)
def test_a_list_query_travels_as_cloudflares_sdks_encode_it(
    query: dict[str, Any], pairs: list[tuple[str, str]]
) -> None:
    assert log_params(check_query(query), delete=False) == pairs


def test_dates_are_created_at_filters_in_utc() -> None:
    naive = datetime(2026, 1, 2, 3, 4, 5)
    aware = datetime(2026, 1, 2, 4, 4, 5, tzinfo=timezone(timedelta(hours=1)))
    assert log_params({"start_date": naive, "end_date": aware}, delete=False) == [
        ("filters.key", "created_at"),
        ("filters.key", "created_at"),
        ("filters.operator", "gt"),
        ("filters.operator", "lt"),
        ("filters.value", "2026-01-02T03:04:05Z"),
        ("filters.value", "2026-01-02T03:04:05Z"),
    ]
    assert iso_date("start_date", "2026-01-02T03:04:05Z") == "2026-01-02T03:04:05Z"


def test_a_delete_takes_its_own_order_by_and_no_search() -> None:
    assert log_params({"order_by": "cost"}, delete=True) == [("order_by", "cost")]
    with pytest.raises(InvalidOptionError, match="order_by"):
        log_params({"order_by": "cost"}, delete=False)
    with pytest.raises(InvalidOptionError, match="filters, not a search") as err:
        log_params({"search": "x"}, delete=True)
    assert err.value.field == "search"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"cached": "yes"}, "cached"),
        ({"success": 1}, "success"),
        ({"feedback": 2}, "feedback"),
        ({"feedback": True}, "feedback"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": 5}, "end_date"),
        ({"order_by_direction": "up"}, "order_by_direction"),
        ({"metadata": {"nested": {"a": 1}}}, "metadata"),
        ({"filters": [{"key": "colour", "value": ["red"]}]}, "filters"),
        ({"filters": [LogFilter("provider", "eq", ["a", "b"])], "cached": True}, "filters"),
        ({"filters": [LogFilter("provider", "eq", None)]}, "filters"),
    ],
)
def test_a_bad_query_names_its_field(query: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidOptionError) as err:
        log_params(query, delete=False)  # type: ignore[arg-type]
    assert err.value.field == field


def test_an_unknown_keyword_names_the_known_ones() -> None:
    with pytest.raises(InvalidOptionError, match="not a log query keyword; known: cached") as err:
        check_query({"cache": True})
    assert err.value.field == "cache"


def test_several_filters_need_one_value_each() -> None:
    one = LogFilter("provider", "eq", "openai")
    assert dotted_filters([one, LogFilter("cached", "eq", True)])[-2:] == [
        ("filters.value", "openai"),
        ("filters.value", "true"),
    ]
    with pytest.raises(InvalidOptionError, match="exactly one value"):
        dotted_filters([one, LogFilter("model", "eq", ["a", "b"])])


@pytest.mark.parametrize("good", ["default", "my-gw", "a.b_c-1", "0193a1b2-c3d4", "x" * 128])
def test_a_path_id_is_kept(good: str) -> None:
    assert path_id("gateway_id", good) == good


@pytest.mark.parametrize("bad", ["", "../gateways", "a/b", "id with space", "x" * 129, "-a", None])
def test_a_path_id_that_could_leave_its_path_is_refused(bad: str | None) -> None:
    with pytest.raises(InvalidOptionError, match="gateway_id"):
        path_id("gateway_id", bad)


@pytest.mark.parametrize("bad", [0, -1, LogsApi.PER_PAGE_MAX + 1, True, 2.0, "5"])
def test_per_page_is_bounded(bad: Any) -> None:
    with pytest.raises(InvalidOptionError, match="per_page"):
        per_page(bad)
    assert per_page(LogsApi.PER_PAGE_MAX) == LogsApi.PER_PAGE_MAX


def test_query_items_keep_order_and_drop_none() -> None:
    assert query_items({"page": 1, "search": None, "per_page": 20}) == [
        ("page", "1"),
        ("per_page", "20"),
    ]
    assert query_items([("a", "1"), ("a", "2")]) == [("a", "1"), ("a", "2")]
    assert query_items(None) == []


def test_a_feedback_body_holds_what_was_given() -> None:
    assert feedback_body(1, None, None) == {"feedback": 1}
    assert feedback_body(-1, 95, {"reviewer": "ana", "ok": True}) == {
        "feedback": -1,
        "score": 95,
        "metadata": {"reviewer": "ana", "ok": True},
    }
    assert feedback_body(None, 0, None) == {"score": 0}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"feedback": 2}, "feedback"),
        ({"feedback": -1.5}, "feedback"),
        ({"feedback": "1"}, "feedback"),
        ({"feedback": True}, "feedback"),
        ({"score": 101}, "score"),
        ({"score": -1}, "score"),
        ({"score": "95"}, "score"),
        ({"metadata": {f"k{i}": i for i in range(6)}}, "metadata"),
        ({"metadata": {"nested": {"a": 1}}}, "metadata"),
        ({}, "feedback"),
    ],
)
def test_a_bad_feedback_body_names_its_field(kwargs: dict[str, Any], field: str) -> None:
    args = {"feedback": None, "score": None, "metadata": None, **kwargs}
    with pytest.raises(InvalidOptionError) as err:
        feedback_body(**args)
    assert err.value.field == field
