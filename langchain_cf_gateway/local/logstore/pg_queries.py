"""The SQL of the PostgreSQL log store: its schema and migrations, and the logs API's queries.

The twin of `queries` (SQLite): each function returns a query of a psycopg connection,
run by `PostgresLogStore.run` / `arun` on the store's thread, and gives the same result
as its SQLite twin for every filter, operator and order of the logs API
(https://developers.cloudflare.com/api/resources/ai_gateway/subresources/logs/methods/list).
To that end text columns compare bytewise (`COLLATE "C"`, as SQLite's `BINARY`), nulls
sort first ascending and last descending (as SQLite), booleans are stored as 0/1 and
the whole row is kept as `json` (its text as written, keys in order). SQL is composed
with `psycopg.sql`: every value is a bound parameter, every name an `Identifier`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from psycopg import Connection, sql

from ...core.protocol import LogsApi
from .queries import ORDER_KEYS, LogQueryError
from .row import BOOL_COLUMNS, COLUMNS, column_value, in_int64, storable, text

Conn = Connection[Any]

_INTEGER_COLUMNS: Final = frozenset(
    ("success", "cached", "status_code", "tokens_in", "tokens_out", "step")
)
_REAL_COLUMNS: Final = frozenset(("cost", "duration", "feedback", "score"))


def _column_type(column: str) -> str:
    if column in _INTEGER_COLUMNS:
        return "bigint"
    if column in _REAL_COLUMNS:
        return "double precision"
    return 'text COLLATE "C"'


MIGRATIONS: Final[tuple[tuple[sql.Composed | sql.SQL, ...], ...]] = (
    (  # 1: the rows
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS logs (seq bigint GENERATED ALWAYS AS IDENTITY "
            "PRIMARY KEY, {}, data json NOT NULL, request_body bytea, response_body bytea)"
        ).format(
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_column_type(c)))
                for c in COLUMNS
            )
        ),
        sql.SQL("CREATE UNIQUE INDEX IF NOT EXISTS logs_id ON logs (id)"),
    ),
    (  # 2: a gateway's rows in order (the logs API always names its gateway)
        sql.SQL("CREATE INDEX IF NOT EXISTS logs_gateway ON logs (gateway_id, seq)"),
    ),
)
"""Schema versions: `MIGRATIONS[n - 1]` takes a database from version n - 1 to n."""
SCHEMA_VERSION: Final = len(MIGRATIONS)
"""The version this package writes; a database at a newer one is refused."""

# ON CONFLICT: a batch retried after a commit whose outcome was unknown (the connection
# was lost while committing) may meet its own rows; the log id is unique.
INSERT: Final = sql.SQL(
    "INSERT INTO logs ({}, data, request_body, response_body) VALUES ({}) "
    "ON CONFLICT (id) DO NOTHING"
).format(
    sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS),
    sql.SQL(", ").join(sql.Placeholder() for _ in range(len(COLUMNS) + 3)),
)
TOTAL_TOKENS: Final = sql.SQL("(coalesce(tokens_in, 0) + coalesce(tokens_out, 0))")
ROW_BODY_BYTES: Final = sql.SQL(
    "(coalesce(octet_length(request_body), 0) + coalesce(octet_length(response_body), 0))"
)
BODY_SUM: Final = sql.SQL("SELECT coalesce(sum({}), 0) FROM logs").format(ROW_BODY_BYTES)
_STATS: Final = ("cost", "duration", "tokens_in", "tokens_out", "total_tokens")


def bind(column: str, value: Any) -> Any:
    """A row field as its PostgreSQL column takes it (text holds no NUL: U+FFFD instead).

    Args:
        column: one of `COLUMNS`.
        value: the field's (storable) value.

    Returns:
        The value to bind.
    """
    value = column_value(column, value)
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


def select(
    gateway_id: str | None,
    *,
    filters: Iterable[Mapping[str, Any]] = (),
    order_by: str = "created_at",
    direction: str = "asc",
    page: int = 1,
    per_page: int | None = None,
    with_stats: bool = False,
) -> Callable[[Conn], tuple[list[dict[str, Any]], dict[str, Any]]]:
    """A query for `run`: (rows of the page, `result_info` totals), as `queries.select`."""
    order = _order(order_by, direction)
    where, params = _where(gateway_id, filters)
    limit: sql.Composable = sql.SQL("")
    if per_page is not None:
        limit = sql.SQL(" LIMIT {} OFFSET {}").format(
            sql.Literal(int(per_page)), sql.Literal(int((page - 1) * per_page))
        )
    exprs = [sql.Identifier(n) for n in _STATS[:4]] + [TOTAL_TOKENS]
    stats = sql.SQL(", ").join(sql.SQL("min({0}), max({0})").format(e) for e in exprs)

    def query(conn: Conn) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        info: dict[str, Any] = {}
        if with_stats:
            found = conn.execute(
                sql.SQL("SELECT count(*), {} FROM logs{}").format(stats, where), params
            ).fetchone()
            assert found is not None
            total, *values = found
            for index, name in enumerate(_STATS):
                info[f"min_{name}"] = _number(values[2 * index])
                info[f"max_{name}"] = _number(values[2 * index + 1])
            info["total_count"] = int(total)
        rows = conn.execute(
            sql.SQL("SELECT data::text FROM logs{} ORDER BY {}{}").format(where, order, limit),
            params,
        )
        return [json.loads(r[0]) for r in rows], info

    return query


def _number(value: Any) -> Any:
    """A total as SQLite gives it: a whole number of a float column is an integer."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def get(gateway_id: str, log_id: str) -> Callable[[Conn], dict[str, Any] | None]:
    """A query for `run`: one row by gateway and id, or None."""

    def query(conn: Conn) -> dict[str, Any] | None:
        row = conn.execute(
            "SELECT data::text FROM logs WHERE gateway_id = %s AND id = %s",
            (_key(gateway_id), _key(log_id)),
        ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    return query


def body(gateway_id: str, log_id: str, which: str) -> Callable[[Conn], tuple[bool, bytes | None]]:
    """(row exists, stored body) for `which` in `request` / `response`."""
    column = sql.Identifier("request_body" if which == "request" else "response_body")

    def query(conn: Conn) -> tuple[bool, bytes | None]:
        row = conn.execute(
            sql.SQL("SELECT {} FROM logs WHERE gateway_id = %s AND id = %s").format(column),
            (_key(gateway_id), _key(log_id)),
        ).fetchone()
        if row is None:
            return False, None
        return True, None if row[0] is None else bytes(row[0])

    return query


def patch(
    gateway_id: str, log_id: str, changes: Mapping[str, Any]
) -> Callable[[Conn], dict[str, Any] | None]:
    """Set `feedback`, `score` and/or `metadata` of one row (made `storable`)."""
    changes = storable(changes)

    def query(conn: Conn) -> dict[str, Any] | None:
        found = conn.execute(
            "SELECT data::text FROM logs WHERE gateway_id = %s AND id = %s FOR UPDATE",
            (_key(gateway_id), _key(log_id)),
        ).fetchone()
        if found is None:
            return None
        data: dict[str, Any] = json.loads(found[0])
        data.update(changes)
        sets = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in changes)
        conn.execute(
            sql.SQL("UPDATE logs SET {}, data = %s WHERE gateway_id = %s AND id = %s").format(sets),
            (
                *[bind(k, v) for k, v in changes.items()],
                json.dumps(data, separators=(",", ":"), allow_nan=False),
                _key(gateway_id),
                _key(log_id),
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
) -> Callable[[Conn], int]:
    """Delete matching rows (at most `limit`, first in the given order); their count.

    Raises:
        LogQueryError: `limit` below 1, or an unknown filter key, operator or order.
    """
    where, params = _where(gateway_id, filters, log_id)
    if limit is not None:
        if limit < 1:
            raise LogQueryError(f"limit must be a positive integer; got {limit}")
        where = sql.SQL(" WHERE seq IN (SELECT seq FROM logs{} ORDER BY {} LIMIT {})").format(
            where, _order(order_by, direction), sql.Literal(int(limit))
        )

    def query(conn: Conn) -> int:
        return int(conn.execute(sql.SQL("DELETE FROM logs{}").format(where), params).rowcount)

    return query


def _key(value: str) -> str:
    return text(value).replace("\x00", "\ufffd")


_SEARCH: Final = sql.SQL(
    "strpos(lower(coalesce(id, '') || ' ' || coalesce(provider, '') || ' ' || "
    "coalesce(model, '') || ' ' || coalesce(path, '') || ' ' || coalesce(event_id, '') || ' ' "
    "|| coalesce(metadata, '')), lower(%s)) > 0"
)
# A metadata value as SQLite's CAST(json_each.value AS TEXT) reads it: strings unquoted,
# booleans 1/0, numbers and nested values as their JSON text, null as null.
_META_VALUE: Final = sql.SQL(
    "(CASE json_typeof(m.value) WHEN 'boolean' THEN "
    "(CASE WHEN m.value::text = 'true' THEN '1' ELSE '0' END) "
    "ELSE m.value #>> '{}' END) COLLATE \"C\""
)
_META_EACH: Final = sql.SQL(
    "EXISTS (SELECT 1 FROM json_each(CASE WHEN json_typeof(logs.metadata::json) = 'object' "
    "THEN logs.metadata::json ELSE '{{}}'::json END) AS m WHERE {})"
)


def _order(order_by: str, direction: str) -> sql.Composable:
    if order_by not in ORDER_KEYS:
        raise LogQueryError(
            f"Invalid enum value: order_by must be one of {', '.join(ORDER_KEYS)}; got {order_by!r}"
        )
    if direction not in LogsApi.ORDER_DIRECTIONS:
        raise LogQueryError(f"order_by_direction must be asc or desc; got {direction!r}")
    # SQLite sorts nulls before every value.
    way = sql.SQL("ASC NULLS FIRST" if direction == "asc" else "DESC NULLS LAST")
    return sql.SQL("{} {}, seq {}").format(sql.Identifier(order_by), way, way)


def _where(
    gateway_id: str | None, filters: Iterable[Mapping[str, Any]], log_id: str | None = None
) -> tuple[sql.Composable, list[Any]]:
    clauses: list[sql.Composable] = []
    params: list[Any] = []
    if gateway_id is not None:
        clauses.append(sql.SQL("gateway_id = %s"))
        params.append(_key(gateway_id))
    for flt in filters:
        key, op, values = flt.get("key"), flt.get("operator", "eq"), flt.get("value")
        internal = bool(flt.get("_internal"))
        if internal and key == "_search":
            clauses.append(_SEARCH)
            params.append(_key(str(values[0] if isinstance(values, list) else values)))
            continue
        if key not in LogsApi.FILTER_KEYS:
            raise LogQueryError(
                "Invalid enum value: filter key must be one of "
                f"{', '.join(LogsApi.FILTER_KEYS)}; got {key!r}"
            )
        if op not in LogsApi.FILTER_OPERATORS and not (internal and op in ("gte", "lte")):
            raise LogQueryError(
                "Invalid enum value: operator must be one of "
                f"{', '.join(LogsApi.FILTER_OPERATORS)}; got {op!r}"
            )
        if not isinstance(values, list):
            values = [values]
        if not values:
            raise LogQueryError(f"filter on {key!r} needs at least one value")
        ors: list[sql.Composable] = []
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
                part = sql.SQL('m.key COLLATE "C"') if key == "metadata.key" else _META_VALUE
                inner, arg = _compare(part, op, value, as_text=True)
                ors.append(_META_EACH.format(inner))
                params.extend(arg)
                continue
            column, as_text = _column(str(key))
            inner, arg = _compare(column, op, value, as_text=as_text)
            ors.append(inner)
            params.extend(arg)
        clauses.append(sql.SQL("({})").format(sql.SQL(" OR ").join(ors)))
    if log_id is not None:
        clauses.append(sql.SQL("id = %s"))
        params.append(_key(log_id))
    if not clauses:
        return sql.SQL(""), params
    return sql.SQL(" WHERE {}").format(sql.SQL(" AND ").join(clauses)), params


def _column(key: str) -> tuple[sql.Composable, bool]:
    """The expression a filter key compares, and whether it is text."""
    if key == "tokens":
        return TOTAL_TOKENS, False
    if key in COLUMNS:
        return sql.Identifier(key), _column_type(key).startswith("text")
    # Fields of the row without their own column (authentication, user_agent...), as
    # SQLite's json_extract reads them: booleans 1/0, text as text.
    field = sql.SQL("(data -> {})").format(sql.Literal(key))
    typed = sql.SQL(
        "(CASE json_typeof({0}) WHEN 'boolean' THEN NULL WHEN 'number' THEN NULL "
        "ELSE {0} #>> '{{}}' END) COLLATE \"C\""
    ).format(field)
    if key in ("authentication", "wholesale", "byok"):
        flag = sql.SQL(
            "(CASE json_typeof({0}) WHEN 'boolean' THEN "
            "(CASE WHEN {0}::text = 'true' THEN 1 ELSE 0 END) END)"
        ).format(field)
        return flag, False
    return typed, True


def _compare(
    column: sql.Composable, op: str, value: Any, *, as_text: bool
) -> tuple[sql.Composable, list[Any]]:
    if value is None:
        way = "IS NULL" if op == "eq" else "IS NOT NULL"
        return sql.SQL("{} {}").format(column, sql.SQL(way)), []
    if op == "contains":
        return sql.SQL("strpos(({})::text, %s) > 0").format(column), [_key(str(value))]
    value = _key(_text_of(value)) if as_text else _bindable(value)
    sign = sql.SQL({"eq": "=", "neq": "!=", "lt": "<", "gt": ">", "gte": ">=", "lte": "<="}[op])
    if op == "neq":
        return sql.SQL("({0} IS NULL OR {0} {1} %s)").format(column, sign), [value]
    return sql.SQL("{} {} %s").format(column, sign), [value]


def _text_of(value: Any) -> str:
    """A filter value as SQLite's text affinity turns it into text."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{value:.1f}"
    return str(value)


def _bindable(value: Any) -> Any:
    """A number filter value PostgreSQL can bind: a huge integer compares as a float."""
    if isinstance(value, int) and not isinstance(value, bool):
        if in_int64(value):
            return value
        return math.copysign(math.inf, value) if abs(value) > 2**1023 else float(value)
    if isinstance(value, str):
        return _key(value)
    return value
