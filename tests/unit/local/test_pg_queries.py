"""The PostgreSQL log store's SQL, without a server: values are bound, never spliced; what
the SQLite store refuses, it refuses with the same message; paths and URLs open the
right store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from langchain_cf_gateway.core.protocol import LogsApi
from langchain_cf_gateway.local.logstore import (
    LogQueryError,
    LogStore,
    open_log_store,
    pg_queries,
    queries,
)
from langchain_cf_gateway.local.logstore.pg_queries import MIGRATIONS, SCHEMA_VERSION


def _where(filters: list[dict[str, Any]]) -> tuple[str, list[Any]]:
    where, params = pg_queries._where("default", filters)
    return where.as_string(None), params


@given(
    key=st.sampled_from(LogsApi.FILTER_KEYS),
    operator=st.sampled_from(LogsApi.FILTER_OPERATORS),
    value=st.text(min_size=6).map(lambda t: f"'\"{t};--"),
)
def test_a_filter_value_is_bound_never_spliced(key: str, operator: str, value: str) -> None:
    sql, params = _where([{"key": key, "operator": operator, "value": [value]}])
    assert value not in sql
    assert params[0] == "default" and len(params) == 2


def test_a_search_and_a_log_id_are_bound_too() -> None:
    evil = "x' OR '1'='1"
    where, params = pg_queries._where(
        None, [{"key": "_search", "value": [evil], "_internal": True}], log_id=evil
    )
    assert evil not in where.as_string(None) and params == [evil, evil]


@pytest.mark.parametrize(
    "flt",
    [
        {"key": "nope", "operator": "eq", "value": ["x"]},
        {"key": "model", "operator": "like", "value": ["x"]},
        {"key": "model", "operator": "eq", "value": []},
        {"key": "model", "operator": "eq", "value": [{"a": 1}]},
    ],
)
def test_refused_as_sqlite_refuses(flt: dict[str, Any]) -> None:
    errors = []
    for module in (queries, pg_queries):
        with pytest.raises(LogQueryError) as caught:
            module._where("default", [flt])
        errors.append(str(caught.value))
    assert errors[0] == errors[1]


@pytest.mark.parametrize(("order_by", "direction"), [("bogus", "asc"), ("model", "up")])
def test_orders_refused_as_sqlite_refuses(order_by: str, direction: str) -> None:
    errors = []
    for module in (queries, pg_queries):
        with pytest.raises(LogQueryError) as caught:
            module.select("default", order_by=order_by, direction=direction)
        errors.append(str(caught.value))
    assert errors[0] == errors[1]


def test_nulls_sort_as_in_sqlite() -> None:
    assert "ASC NULLS FIRST" in pg_queries._order("model", "asc").as_string(None)
    assert "DESC NULLS LAST" in pg_queries._order("model", "desc").as_string(None)


def test_one_migration_per_schema_version() -> None:
    assert len(MIGRATIONS) == SCHEMA_VERSION >= 2
    first = MIGRATIONS[0][0].as_string(None)
    assert '"created_at" text COLLATE "C"' in first and "data json NOT NULL" in first


@pytest.mark.parametrize("target", [":memory:", "sqlite://", "sqlite:///:memory:"])
def test_memory_targets(target: str) -> None:
    store = open_log_store(target)
    try:
        assert type(store) is LogStore and store.path == ":memory:" and not store.durable
    finally:
        store.close()


def test_a_sqlite_url_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "logs.sqlite"
    store = open_log_store(f"sqlite:///{path}")  # four slashes: an absolute path
    try:
        assert store.path == str(path) and store.durable and path.exists()
    finally:
        store.close()
