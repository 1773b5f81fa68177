"""The log store: one SQLite row per request (or per universal step), Cloudflare's log object.

Rows are written by one thread that owns the connection and commits in batches, so
the event loop never runs SQLite. With a file store, an answer is sent once its row is
committed (group commit: rows of concurrent requests share one commit), so that every
acknowledged request survives a kill -9 of the server; in memory, answers never wait. Reads go through the same thread, behind every
write queued before them: a row queued before its response was sent is always seen by
``logs()`` and by the logs API (spec section 8).

Fields of a row, as the logs API and :meth:`LocalGateway.logs` return it: ``id``
(UUIDv7, also ``cf-aig-log-id``), ``created_at``, ``gateway_id``, ``provider``, ``model``,
``model_type``, ``path``, ``request_type``, ``success``, ``status_code``, ``cached``,
``tokens_in``, ``tokens_out``, ``cost``, ``custom_cost``, ``duration`` (ms), ``metadata``
(an object, or null), ``event_id``, ``request_id``, ``step``, ``attempts``, ``feedback``,
``score``, ``request_content_type``, ``response_content_type``, ``request_size``,
``response_size``, ``request_head``, ``response_head`` (auth headers redacted),
``request_head_complete``, ``response_head_complete``, ``authentication``, ``wholesale``,
``byok``, ``payload`` (whether the bodies were kept; they are served by ``/request`` and
``/response``). ``cost`` is 0 unless ``cf-aig-custom-cost`` gives prices: the local
gateway has no price table.

A gateway's ``log_management`` (section 8) caps its rows; the strategy defaults to
``DELETE_OLDEST`` when unset (the spec names no default), keeping the newest rows.
"""

from __future__ import annotations

import asyncio
import json
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from typing import Any, Final, TypeVar

from ..core.protocol import LogsApi

T = TypeVar("T")

ORDER_KEYS: Final = LogsApi.DELETE_ORDER_BY  # the list API checks its narrower set itself
FILTER_OPERATORS: Final = LogsApi.FILTER_OPERATORS
_COLUMNS: Final = (
    "id",
    "gateway_id",
    "created_at",
    "provider",
    "model",
    "model_type",
    "path",
    "success",
    "status_code",
    "cached",
    "tokens_in",
    "tokens_out",
    "cost",
    "duration",
    "event_id",
    "request_id",
    "step",
    "feedback",
    "score",
    "request_content_type",
    "response_content_type",
    "request_type",
    "metadata",
)
FILTER_KEYS: Final = LogsApi.FILTER_KEYS
_BOOL_COLUMNS: Final = frozenset(("success", "cached"))
_SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    {", ".join(f"{c}" for c in _COLUMNS)},
    data TEXT NOT NULL,
    request_body BLOB,
    response_body BLOB
);
CREATE UNIQUE INDEX IF NOT EXISTS logs_id ON logs (id);
CREATE INDEX IF NOT EXISTS logs_gateway ON logs (gateway_id, seq);
"""
_INSERT: Final = (
    f"INSERT INTO logs ({', '.join(_COLUMNS)}, data, request_body, response_body) "
    f"VALUES ({', '.join('?' for _ in range(len(_COLUMNS) + 3))})"
)
_BATCH: Final = 512
_GATHER_S: Final = 0.002


class LogQueryError(ValueError):
    """A filter or order the logs API does not accept (answered with 400, code 7001)."""


class _Stop:
    pass


class _Query:
    __slots__ = ("fn", "future")

    def __init__(self, fn: Callable[[sqlite3.Connection], Any], future: Future[Any]) -> None:
        self.fn = fn
        self.future = future


class LogStore:
    """SQLite rows of Cloudflare's log object, written by a background thread."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self.durable = path not in ("", ":memory:")
        """Rows live in a file: each answer waits for its row's commit (see :meth:`add`)."""
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="cf-aig-logstore", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error

    # ------------------------------------------------------------------ writer thread

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.execute(
                "PRAGMA journal_mode=WAL" if self.path != ":memory:" else "PRAGMA temp_store=MEMORY"
            )
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
        except BaseException as exc:  # surfaced to the constructor
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        pending: list[tuple[Any, ...]] = []
        acks: list[Future[None]] = []
        while True:
            item = self._queue.get()
            if isinstance(item, tuple) and not self.durable:
                # Let a burst of rows gather: one wake-up per batch instead of one per
                # request keeps this thread from taking the GIL from the event loop at
                # every response. Reads (_Query) never wait for this.
                time.sleep(_GATHER_S)
            batch = [item]
            while len(batch) < _BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = False
            for entry in batch:
                if isinstance(entry, tuple):
                    row, request_body, response_body, retention, ack = entry
                    if ack is not None:
                        acks.append(ack)
                    values = [_column_value(c, row.get(c)) for c in _COLUMNS]
                    values += (json.dumps(row, separators=(",", ":")), request_body, response_body)
                    if retention is None:
                        pending.append(tuple(values))
                    else:  # rare: write now, so that the count below is exact
                        self._write(conn, pending)
                        self._retain(conn, str(row.get("gateway_id")), tuple(values), *retention)
                    continue
                self._write(conn, pending)
                if isinstance(entry, _Stop):
                    stop = True
                    break
                try:
                    entry.future.set_result(entry.fn(conn))
                except BaseException as exc:
                    entry.future.set_exception(exc)
            self._write(conn, pending)
            for ack in acks:  # committed: the responses waiting on these may go
                ack.set_result(None)
            acks.clear()
            if stop:
                conn.close()
                return

    @staticmethod
    def _write(conn: sqlite3.Connection, pending: list[tuple[Any, ...]]) -> None:
        if not pending:
            return
        conn.execute("BEGIN")
        conn.executemany(_INSERT, pending)
        conn.execute("COMMIT")
        pending.clear()

    @classmethod
    def _retain(
        cls,
        conn: sqlite3.Connection,
        gateway_id: str,
        values: tuple[Any, ...],
        limit: int,
        strategy: str,
    ) -> None:
        """Insert one row of a gateway with ``log_management`` (spec section 8)."""
        count = conn.execute("SELECT count(*) FROM logs WHERE gateway_id = ?", (gateway_id,))
        if strategy == "STOP_INSERTING" and count.fetchone()[0] >= limit:
            return
        cls._write(conn, [values])
        if strategy != "STOP_INSERTING":
            conn.execute(
                "DELETE FROM logs WHERE gateway_id = ? AND seq NOT IN "
                "(SELECT seq FROM logs WHERE gateway_id = ? ORDER BY seq DESC LIMIT ?)",
                (gateway_id, gateway_id, limit),
            )

    # ------------------------------------------------------------------ API

    def add(
        self,
        row: Mapping[str, Any],
        request_body: bytes | None = None,
        response_body: bytes | None = None,
        retention: tuple[int, str] | None = None,
    ) -> Future[None] | None:
        """Queue one row; it is visible to every read issued after this call.

        The row is serialized on the writer thread, not here on the event loop: the
        caller must not change it afterwards. ``retention`` is the gateway's
        ``(log_management, log_management_strategy)``: at most that many rows are kept,
        new ones dropped (``STOP_INSERTING``) or the oldest deleted (``DELETE_OLDEST``).

        A store in a file (:attr:`durable`) returns a future that is done once the row is
        committed: the gateway answers only then, so that a row acknowledged to a client
        survives a crash of the server (kill -9). In memory there is nothing to wait for.
        """
        ack: Future[None] | None = Future() if self.durable else None
        self._queue.put((row, request_body, response_body, retention, ack))
        return ack

    def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on the writer thread after every queued write; block for its result."""
        future: Future[T] = Future()
        self._queue.put(_Query(fn, future))
        return future.result()

    async def arun(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """:meth:`run` for the event loop: awaits without blocking it."""
        future: Future[T] = Future()
        self._queue.put(_Query(fn, future))
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_Stop())
            self._thread.join(timeout=10)

    # ------------------------------------------------------------------ queries (writer thread)

    @staticmethod
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
        """A query for :meth:`run`: (rows of the page, ``result_info`` totals).

        The totals are ``total_count`` and, with ``with_stats``, the ``min_`` and ``max_`` of
        cost, duration, tokens_in, tokens_out and total_tokens over every matching row.
        """
        order = _order(order_by, direction)
        where, params = _where(gateway_id, filters)
        limit = (
            ""
            if per_page is None
            else f" LIMIT {int(per_page)} OFFSET {int((page - 1) * per_page)}"
        )
        stats = ", ".join(
            f"min({expr}), max({expr})"
            for expr in ("cost", "duration", "tokens_in", "tokens_out", _TOTAL_TOKENS)
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

    @staticmethod
    def get(gateway_id: str, log_id: str) -> Callable[[sqlite3.Connection], dict[str, Any] | None]:
        def query(conn: sqlite3.Connection) -> dict[str, Any] | None:
            row = conn.execute(
                "SELECT data FROM logs WHERE gateway_id = ? AND id = ?", (gateway_id, log_id)
            ).fetchone()
            return None if row is None else dict(json.loads(row[0]))

        return query

    @staticmethod
    def body(
        gateway_id: str, log_id: str, which: str
    ) -> Callable[[sqlite3.Connection], tuple[bool, bytes | None]]:
        """(row exists, stored body) for ``which`` in ``request`` / ``response``."""
        column = "request_body" if which == "request" else "response_body"

        def query(conn: sqlite3.Connection) -> tuple[bool, bytes | None]:
            row = conn.execute(
                f"SELECT {column} FROM logs WHERE gateway_id = ? AND id = ?", (gateway_id, log_id)
            ).fetchone()
            return (False, None) if row is None else (True, row[0])

        return query

    @staticmethod
    def patch(
        gateway_id: str, log_id: str, changes: Mapping[str, Any]
    ) -> Callable[[sqlite3.Connection], dict[str, Any] | None]:
        """Set ``feedback``, ``score`` and/or ``metadata`` of one row."""

        def query(conn: sqlite3.Connection) -> dict[str, Any] | None:
            found = conn.execute(
                "SELECT data FROM logs WHERE gateway_id = ? AND id = ?", (gateway_id, log_id)
            ).fetchone()
            if found is None:
                return None
            data: dict[str, Any] = json.loads(found[0])
            data.update(changes)
            sets = ", ".join(f"{k} = ?" for k in changes)
            values = [_column_value(k, v) for k, v in changes.items()]
            conn.execute(
                f"UPDATE logs SET {sets}, data = ? WHERE gateway_id = ? AND id = ?",
                (*values, json.dumps(data, separators=(",", ":")), gateway_id, log_id),
            )
            return data

        return query

    @staticmethod
    def delete(
        gateway_id: str | None,
        *,
        filters: Iterable[Mapping[str, Any]] = (),
        log_id: str | None = None,
        limit: int | None = None,
        order_by: str = "created_at",
        direction: str = "asc",
    ) -> Callable[[sqlite3.Connection], int]:
        """Delete matching rows (at most ``limit``, first in the given order); their count."""
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


_TOTAL_TOKENS: Final = "(coalesce(tokens_in, 0) + coalesce(tokens_out, 0))"
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


def _column_value(column: str, value: Any) -> Any:
    if column == "metadata":
        return None if value is None else json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return int(value)
    return value


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
            if key in _BOOL_COLUMNS and isinstance(value, str):
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
                column = _TOTAL_TOKENS
            elif key in _COLUMNS:
                column = key
            else:  # authentication, wholesale...: fields of the row without their own column
                column = f"json_extract(data, '$.{key}')"
            inner, arg = _compare(column, op, value)
            ors.append(inner)
            params.extend(arg)
        clauses.append("(" + " OR ".join(ors) + ")")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _compare(column: str, op: str, value: Any) -> tuple[str, list[Any]]:
    if value is None:
        return (f"{column} IS NULL" if op == "eq" else f"{column} IS NOT NULL"), []
    if op == "contains":
        return f"instr(CAST({column} AS TEXT), ?) > 0", [str(value)]
    sql = {"eq": "=", "neq": "!=", "lt": "<", "gt": ">", "gte": ">=", "lte": "<="}[op]
    if op == "neq":
        return f"({column} IS NULL OR {column} {sql} ?)", [value]
    return f"{column} {sql} ?", [value]
