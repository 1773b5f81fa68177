"""The SQL of the log store: its schema, and the reads and deletes the logs API makes.

Each query here is a function of a connection, built on the event loop and run by
`LogStore.run` / `LogStore.arun` on the store's thread, behind every write queued
before it. Filters, orders and bounds are those of the logs API
(https://developers.cloudflare.com/api/resources/ai_gateway/subresources/logs/methods/list).
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from ...core.protocol import LogsApi
from .row import BOOL_COLUMNS, COLUMNS, column_value, in_int64, storable, text

ORDER_KEYS: Final = LogsApi.DELETE_ORDER_BY  # the list API checks its narrower set itself
FILTER_OPERATORS: Final = LogsApi.FILTER_OPERATORS
FILTER_KEYS: Final = LogsApi.FILTER_KEYS
SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    {", ".join(f"{c}" for c in COLUMNS)},
    data TEXT NOT NULL,
    request_body BLOB,
    response_body BLOB
);
CREATE UNIQUE INDEX IF NOT EXISTS logs_id ON logs (id);
CREATE INDEX IF NOT EXISTS logs_gateway ON logs (gateway_id, seq);
"""
# OR IGNORE: a batch retried after a commit whose outcome was unknown (an I/O error while
# committing) may meet its own rows; the log id is unique, so the second copy is dropped.
INSERT: Final = (
    f"INSERT OR IGNORE INTO logs ({', '.join(COLUMNS)}, data, request_body, response_body) "
    f"VALUES ({', '.join('?' for _ in range(len(COLUMNS) + 3))})"
)
TOTAL_TOKENS: Final = "(coalesce(tokens_in, 0) + coalesce(tokens_out, 0))"
ROW_BODY_BYTES: Final = "(coalesce(length(request_body), 0) + coalesce(length(response_body), 0))"
BODY_SUM: Final = f"SELECT coalesce(sum({ROW_BODY_BYTES}), 0) FROM logs"


class LogQueryError(ValueError):
    """A filter or order the logs API does not accept (a 400 response, code 7001)."""


def select(
    gateway_id: str | None,
    *,
    filters: Iterable[Mapping[str, Any]] = (),
    order_by: str = "created_at",
    direction: str = "asc",
    page: int = 1,
    per_page: int | None = None,
    with_stats: bool = False,
) -> Callable[[sqlite3.Connection], tuple[list[dict[str, Any]], dict[str, Any]]]:
    """A query for `run`: (rows of the page, `result_info` totals).

    The totals are `total_count` and, with `with_stats`, the `min_` and `max_` of
    cost, duration, tokens_in, tokens_out and total_tokens over every matching row.
    """
    order = _order(order_by, direction)
    where, params = _where(gateway_id, filters)
    limit = (
        "" if per_page is None else f" LIMIT {int(per_page)} OFFSET {int((page - 1) * per_page)}"
    )
    stats = ", ".join(
        f"min({expr}), max({expr})"
        for expr in ("cost", "duration", "tokens_in", "tokens_out", TOTAL_TOKENS)
    )

    def query(conn: sqlite3.Connection) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        info: dict[str, Any] = {}
        if with_stats:
            found = conn.execute(f"SELECT count(*), {stats} FROM logs{where}", params)
            total, *values = found.fetchone()
            for index, name in enumerate(
                ("cost", "duration", "tokens_in", "tokens_out", "total_tokens")
            ):
                info[f"min_{name}"] = values[2 * index]
                info[f"max_{name}"] = values[2 * index + 1]
            info["total_count"] = int(total)
        rows = conn.execute(f"SELECT data FROM logs{where} ORDER BY {order}{limit}", params)
        return [json.loads(r[0]) for r in rows], info

    return query


def get(gateway_id: str, log_id: str) -> Callable[[sqlite3.Connection], dict[str, Any] | None]:
    """A query for `run`: one row by gateway and id, or None."""

    def query(conn: sqlite3.Connection) -> dict[str, Any] | None:
        row = conn.execute(
            "SELECT data FROM logs WHERE gateway_id = ? AND id = ?",
            (text(gateway_id), text(log_id)),
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    return query


def body(
    gateway_id: str, log_id: str, which: str
) -> Callable[[sqlite3.Connection], tuple[bool, bytes | None]]:
    """(row exists, stored body) for `which` in `request` / `response`."""
    column = "request_body" if which == "request" else "response_body"

    def query(conn: sqlite3.Connection) -> tuple[bool, bytes | None]:
        row = conn.execute(
            f"SELECT {column} FROM logs WHERE gateway_id = ? AND id = ?",
            (text(gateway_id), text(log_id)),
        ).fetchone()
        return (False, None) if row is None else (True, row[0])

    return query


def patch(
    gateway_id: str, log_id: str, changes: Mapping[str, Any]
) -> Callable[[sqlite3.Connection], dict[str, Any] | None]:
    """Set `feedback`, `score` and/or `metadata` of one row (made `storable`)."""
    changes = storable(changes)

    def query(conn: sqlite3.Connection) -> dict[str, Any] | None:
        found = conn.execute(
            "SELECT data FROM logs WHERE gateway_id = ? AND id = ?", (gateway_id, log_id)
        ).fetchone()
        if found is None:
            return None
        data: dict[str, Any] = json.loads(found[0])
        data.update(changes)
        sets = ", ".join(f"{k} = ?" for k in changes)
        values = [column_value(k, v) for k, v in changes.items()]
        conn.execute(
            f"UPDATE logs SET {sets}, data = ? WHERE gateway_id = ? AND id = ?",
            (
                *values,
                json.dumps(data, separators=(",", ":"), allow_nan=False),
                text(gateway_id),
                text(log_id),
            ),
        )
        return data

    return query


def delete(
    gateway_id: str | None,
    *,
    filters: Iterable[Mapping[str, Any]] = (),
    log_id: str | None = None,
    limit: int | None = None,
    order_by: str = "created_at",
    direction: str = "asc",
) -> Callable[[sqlite3.Connection], int]:
    """Delete matching rows (at most `limit`, first in the given order); their count.

    Raises:
        LogQueryError: `limit` below 1, or an unknown filter key, operator or order.
    """
    where, params = _where(gateway_id, filters)
    if log_id is not None:
        where += (" AND " if where else " WHERE ") + "id = ?"
        params.append(log_id)
    if limit is not None:
        if limit < 1:
            raise LogQueryError(f"limit must be a positive integer; got {limit}")
        where = (
            f" WHERE seq IN (SELECT seq FROM logs{where} "
            f"ORDER BY {_order(order_by, direction)} LIMIT {int(limit)})"
        )

    def query(conn: sqlite3.Connection) -> int:
        return int(conn.execute(f"DELETE FROM logs{where}", params).rowcount)

    return query


_SEARCH: Final = (
    "instr(lower(coalesce(id, '') || ' ' || coalesce(provider, '') || ' ' || "
    "coalesce(model, '') || ' ' || coalesce(path, '') || ' ' || coalesce(event_id, '') || ' ' "
    "|| coalesce(metadata, '')), lower(?)) > 0"
)


def _order(order_by: str, direction: str) -> str:
    if order_by not in ORDER_KEYS:
        raise LogQueryError(
            f"Invalid enum value: order_by must be one of {', '.join(ORDER_KEYS)}; got {order_by!r}"
        )
    if direction not in LogsApi.ORDER_DIRECTIONS:
        raise LogQueryError(f"order_by_direction must be asc or desc; got {direction!r}")
    return f"{order_by} {direction}, seq {direction}"


def _where(gateway_id: str | None, filters: Iterable[Mapping[str, Any]]) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if gateway_id is not None:
        clauses.append("gateway_id = ?")
        params.append(gateway_id)
    for flt in filters:
        key, op, values = flt.get("key"), flt.get("operator", "eq"), flt.get("value")
        internal = bool(flt.get("_internal"))  # min_/max_, dates, search: built by the API
        if internal and key == "_search":
            clauses.append(_SEARCH)
            params.append(str(values[0] if isinstance(values, list) else values))
            continue
        if key not in FILTER_KEYS:
            raise LogQueryError(
                f"Invalid enum value: filter key must be one of {', '.join(FILTER_KEYS)}; got {key!r}"
            )
        if op not in FILTER_OPERATORS and not (internal and op in ("gte", "lte")):
            raise LogQueryError(
                f"Invalid enum value: operator must be one of {', '.join(FILTER_OPERATORS)}; got {op!r}"
            )
        if not isinstance(values, list):
            values = [values]
        if not values:
            raise LogQueryError(f"filter on {key!r} needs at least one value")
        ors: list[str] = []
        for value in values:
            if not (value is None or isinstance(value, (str, int, float))):
                raise LogQueryError(
                    f"the filter on {key!r} takes text, numbers, booleans or null as values; "
                    f"got {type(value).__name__}"
                )
            if key in BOOL_COLUMNS and isinstance(value, str):
                value = value.lower() == "true"
            if isinstance(value, bool):
                value = int(value)
            if key in ("metadata.key", "metadata.value"):
                part = "key" if key == "metadata.key" else "CAST(value AS TEXT)"
                inner, arg = _compare(part, op, value)
                ors.append(f"EXISTS (SELECT 1 FROM json_each(logs.metadata) WHERE {inner})")
                params.extend(arg)
                continue
            if key == "tokens":
                column = TOTAL_TOKENS
            elif key in COLUMNS:
                column = key
            else:  # authentication, wholesale...: fields of the row without their own column
                column = f"json_extract(data, '$.{key}')"
            inner, arg = _compare(column, op, value)
            ors.append(inner)
            params.extend(arg)
        clauses.append("(" + " OR ".join(ors) + ")")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", [_bindable(p) for p in params]


def _bindable(value: Any) -> Any:
    """A filter value SQLite can bind: a huge integer compares as a float, text is made valid."""
    if isinstance(value, int) and not isinstance(value, bool):
        if in_int64(value):
            return value
        return math.copysign(math.inf, value) if abs(value) > 2**1023 else float(value)
    return storable(value)


def _compare(column: str, op: str, value: Any) -> tuple[str, list[Any]]:
    if value is None:
        return (f"{column} IS NULL" if op == "eq" else f"{column} IS NOT NULL"), []
    if op == "contains":
        return f"instr(CAST({column} AS TEXT), ?) > 0", [str(value)]
    sql = {"eq": "=", "neq": "!=", "lt": "<", "gt": ">", "gte": ">=", "lte": "<="}[op]
    if op == "neq":
        return f"({column} IS NULL OR {column} {sql} ?)", [value]
    return f"{column} {sql} ?", [value]
