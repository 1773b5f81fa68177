"""The log store: one SQLite row per request (or per universal step), Cloudflare's log object.

Rows are written by one thread that owns the connection and commits in batches, so
the event loop never runs SQLite. With a file store, an answer is sent once its row is
committed (group commit: rows of concurrent requests share one commit), so that every
acknowledged request survives a kill -9 of the server; in memory, answers never wait.
Reads go through the same thread, behind every write queued before them: a row queued
before its response was sent is always seen by `logs()` and by the logs API
(https://developers.cloudflare.com/api/resources/ai_gateway/).

Fields of a row, as the logs API and `LocalGateway.logs` return it: `id`
(UUIDv7, also `cf-aig-log-id`), `created_at`, `gateway_id`, `provider`, `model`,
`model_type`, `path`, `request_type`, `success`, `status_code`, `cached`,
`tokens_in`, `tokens_out`, `cost`, `custom_cost`, `duration` (ms), `metadata`
(an object, or null), `event_id`, `request_id`, `step`, `attempts`, `feedback`,
`score`, `request_content_type`, `response_content_type`, `request_size`,
`response_size`, `request_head`, `response_head` (auth headers redacted),
`request_head_complete`, `response_head_complete`, `authentication`, `wholesale`,
`byok`, `payload` (whether the bodies were kept; they are served by `/request` and
`/response`), `request_body_complete` and `response_body_complete` (whether the
stored body is the whole body: false when it was cut to the cap or dropped, see below;
these two are local to this gateway, after Cloudflare's `request_head_complete`) and
`bodies_dropped` (true once the total bound below removed the row's bodies). `cost`
is 0 unless `cf-aig-custom-cost` gives prices: the local gateway has no price table.

Bodies. Each stored body is at most `body_max_bytes` (`DEFAULT_BODY_MAX_BYTES`,
1 MiB; `cf-aig serve --log-body-max-bytes`): a longer one keeps its first bytes (cut on
a UTF-8 character boundary), the row says `*_body_complete: false` and `request_size`
/ `response_size` stay the real sizes; `/request` and `/response` serve the stored
prefix. The bodies of all rows together are at most `max_body_bytes`
(`DEFAULT_MAX_BODY_BYTES`, 256 MiB; `cf-aig serve --log-max-body-bytes`): past
it, the bodies of the oldest rows are dropped (down to three quarters of the bound), the
rows are kept. So the store holds at most `max_rows` rows plus that many body bytes.
Cloudflare documents no such bounds (its logs keep bodies up to its own request limits).
A database the store creates is readable and writable by its owner only (0600; SQLite
gives its `-wal` and `-shm` files the same mode); an existing one readable by group
or others gets a `ConfigFileWarning`, since
rows hold whole prompts.

Retention. The store keeps at most `max_rows` rows (`DEFAULT_MAX_ROWS`, 100,000,
by default, across all gateways), deleting the oldest as new ones come: Cloudflare's
Legacy Logs keep 100,000 logs per account on the free plan and delete the oldest when
*Automatic Log Deletion* is on
(https://developers.cloudflare.com/ai-gateway/reference/limits/,
https://developers.cloudflare.com/ai-gateway/observability/logging/legacy-logs/).
`cf-aig serve --log-max-rows N` changes it; `0` keeps every row. A gateway's
`log_management` caps its own rows too; its strategy defaults to `DELETE_OLDEST` when
unset (Cloudflare's docs name no default), keeping the newest rows.

Faults. Nothing a client or an upstream sends can stop the store: every value is made
storable first (`storable`: unpaired surrogates become U+FFFD, integers outside
SQLite's signed 64 bits and non-finite floats become null), and a row SQLite still
refuses is stored as a stub (id, gateway, time, status) with `log_error` saying why.
When the database cannot be written (another process holds its lock, the disk is full,
a write fails), rows wait in memory (at most `MAX_UNWRITTEN`; later ones are
dropped and counted in the warning that ends the outage) and the writer retries with
back-off (50 ms doubling to 1 s; each try waits 200 ms for a lock) until it can write
again. Reads keep working meanwhile, on what is committed (rows still waiting are not
seen yet).

With a file store a request waits at most `commit_timeout` seconds for its row
(`DEFAULT_COMMIT_TIMEOUT`, 10 s; `cf-aig serve --log-commit-timeout`), plus the
few milliseconds of a commit already under way, then gets HTTP 503 with the gateway's
error body, code 2503 (`ErrorCode.LOG_STORE_UNAVAILABLE`; local to this gateway,
Cloudflare documents no such failure). A stream, whose head has gone out, is cut short
instead (its last chunk is never sent). The row is stored once the store recovers,
saying 503 (`log_store_unavailable: true`). The operator gets one warning on the
`langchain_cf_gateway.local.logstore` logger when an outage starts and one when it
ends, never one per request.

The writer thread is supervised: an unexpected exception in its loop is logged with its
traceback, counted in `LogStore.restarts`, and the loop starts again on the same
connection and the same waiting rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import queue
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

from ...core.config import warn_if_readable
from ...core.protocol import LogsApi

T = TypeVar("T")
log = logging.getLogger(__name__)

DEFAULT_MAX_ROWS: Final = 100_000
"""Rows kept by default, across gateways (Cloudflare's free-plan log limit); oldest go first."""
DEFAULT_COMMIT_TIMEOUT: Final = 10.0
"""Seconds a request waits for its row's commit (file store) before it gets a 503: long
enough to ride out a checkpoint's fsync on a busy disk or a lock held for a few seconds."""
DEFAULT_BODY_MAX_BYTES: Final = 1024 * 1024
"""Bytes kept of each request or response body (1 MiB); the rest is cut, the row says so."""
DEFAULT_MAX_BODY_BYTES: Final = 256 * 1024 * 1024
"""Bytes of bodies kept across all rows (256 MiB); past it the oldest rows lose theirs."""
MAX_UNWRITTEN: Final = 10_000
"""Rows held in memory during an outage (the database cannot be written); later ones are
dropped and counted. A writer that is merely behind drops nothing."""

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
# OR IGNORE: a batch retried after a commit whose outcome was unknown (an I/O error while
# committing) may meet its own rows; the log id is unique, so the second copy is dropped.
_INSERT: Final = (
    f"INSERT OR IGNORE INTO logs ({', '.join(_COLUMNS)}, data, request_body, response_body) "
    f"VALUES ({', '.join('?' for _ in range(len(_COLUMNS) + 3))})"
)
_BATCH: Final = 512
_GATHER_S: Final = 0.002
_BUSY_TIMEOUT_MS: Final = 200
"""How long one write attempt waits for another connection's lock before backing off."""
_RETRY_FIRST_S: Final = 0.05
_RETRY_MAX_S: Final = 1.0
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_UNAVAILABLE_STATUS: Final = 503


class LogQueryError(ValueError):
    """A filter or order the logs API does not accept (answered with 400, code 7001)."""


class LogStoreUnavailable(RuntimeError):
    """The store cannot be written now (locked, full): a request whose row could not be
    committed in time is answered 503 (code 2503); `LogStore.run` and
    `LogStore.arun` raise it for a call that met such an outage.
    """


def storable(value: Any) -> Any:
    """`value` with everything SQLite or strict JSON would refuse replaced, recursively.

    The one place where client- and upstream-controlled values are made safe for the
    store, applied to the whole row (every column and the JSON copy): unpaired surrogates
    (`"\\ud800"` from a JSON escape) become U+FFFD, integers outside signed 64 bits
    (SQLite's INTEGER) and non-finite floats become None, mapping keys become text, any
    other object becomes its `str`.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if _INT64_MIN <= value <= _INT64_MAX else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, Mapping):
        return {_text(str(k)): storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(v) for v in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _text(bytes(value).decode("utf-8", "replace"))
    return _text(str(value))


def _text(value: str) -> str:
    if value.isascii():
        return value
    return _SURROGATE.sub("\ufffd", value)


class _Stop:
    pass


class _Query:
    __slots__ = ("fn", "future")

    def __init__(self, fn: Callable[[sqlite3.Connection], Any], future: Future[Any]) -> None:
        self.fn = fn
        self.future = future


@dataclass(slots=True)
class _Row:
    """A row waiting for its commit, and the request waiting for it (file store)."""

    row: Mapping[str, Any]
    request_body: bytes | None
    response_body: bytes | None
    retention: tuple[int, str] | None
    ack: Future[None] | None
    answered_503: bool = False
    """Its request got the 503 (its commit came too late): the row says so."""
    request_complete: bool = True
    response_complete: bool = True
    bodies_dropped: bool = False

    @property
    def body_bytes(self) -> int:
        return len(self.request_body or b"") + len(self.response_body or b"")

    def values(self, stub: str | None = None) -> tuple[Any, ...]:
        row = storable(self.row)
        row["request_body_complete"] = self.request_complete
        row["response_body_complete"] = self.response_complete
        if self.bodies_dropped:
            row["bodies_dropped"] = True
        if self.answered_503:
            row.update(success=False, status_code=_UNAVAILABLE_STATUS, log_store_unavailable=True)
        request_body, response_body = self.request_body, self.response_body
        if stub is not None:  # SQLite refused the full row: keep who, when and what status
            keep = ("id", "gateway_id", "created_at", "status_code", "success", "event_id")
            row = {k: row.get(k) for k in keep} | {"log_error": stub}
            request_body = response_body = None
        values = [_column_value(c, row.get(c)) for c in _COLUMNS]
        data = json.dumps(row, separators=(",", ":"), allow_nan=False)
        return (*values, data, request_body, response_body)


class LogStore:
    """SQLite rows of Cloudflare's log object, written by a supervised background thread.

    Args:
        path: SQLite file, or `":memory:"` (the default: answers never wait for a commit).
        max_rows: rows kept across gateways, oldest deleted first; None or 0 keeps all.
        commit_timeout: seconds a request waits for its row's commit (file store only)
            before it is answered 503, code 2503.
        body_max_bytes: bytes kept of each body; None or 0 keeps whole bodies.
        max_body_bytes: bytes of bodies kept across rows, the oldest rows' dropped
            first; None or 0 keeps them all.
    """

    def __init__(
        self,
        path: str = ":memory:",
        *,
        max_rows: int | None = DEFAULT_MAX_ROWS,
        commit_timeout: float = DEFAULT_COMMIT_TIMEOUT,
        body_max_bytes: int | None = DEFAULT_BODY_MAX_BYTES,
        max_body_bytes: int | None = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        if max_rows is not None and max_rows < 0:
            raise ValueError(f"max_rows must be 0 (keep every row) or more; got {max_rows}")
        for name, bound in (("body_max_bytes", body_max_bytes), ("max_body_bytes", max_body_bytes)):
            if bound is not None and bound < 0:
                raise ValueError(f"{name} must be 0 (no bound) or more; got {bound}")
        if not commit_timeout > 0:
            raise ValueError(
                f"commit_timeout must be a positive number of seconds; got {commit_timeout}"
            )
        self.path = path
        self.durable = path not in ("", ":memory:")
        """Rows live in a file: each answer waits for its row's commit (see `add`)."""
        self.max_rows = max_rows or None
        self.commit_timeout = float(commit_timeout)
        self.body_max_bytes = body_max_bytes or None
        self.max_body_bytes = max_body_bytes or None
        self._body_bytes = 0  # writer thread: at least the bytes of stored bodies
        self._bodies_from = 0  # writer thread: rows up to this seq have no bodies left
        self._unwritten_body_bytes = 0  # under _lock: bodies of rows not yet written
        self.restarts = 0
        """How many times the writer loop failed and was started again (see the module doc)."""
        self.dropped = 0
        """Rows dropped because `MAX_UNWRITTEN` rows were already waiting."""
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._waiting: list[_Row] = []  # writer thread only
        self._unwritten = 0  # rows added and not yet written or dropped
        self._lock = threading.Lock()  # _unwritten, dropped and the outage state
        self._outage_since: float | None = None
        self._outage_reason = ""
        self._pruned_to = 0
        self._calls: list[Any] = []  # reads and the stop of the batch in hand
        self._ready = threading.Event()
        self._error: BaseException | None = None
        if self.durable:
            _private_file(path)
        self._thread = threading.Thread(target=self._supervise, name="cf-aig-logstore", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error

    # ------------------------------------------------------------------ writer thread

    def _connect(self) -> sqlite3.Connection:
        # At start, wait as long as a request would for another process's lock.
        conn = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=self.commit_timeout
        )
        conn.execute("PRAGMA journal_mode=WAL" if self.durable else "PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA synchronous=NORMAL")
        if self.durable:  # a WAL grown by a large batch is cut back after its checkpoint
            conn.execute(f"PRAGMA journal_size_limit={_WAL_LIMIT}")
        conn.executescript(_SCHEMA)
        self._body_bytes = conn.execute(_BODY_SUM).fetchone()[0]
        # Then each write attempt waits briefly, so that reads and retries keep going.
        conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        return conn

    def _supervise(self) -> None:
        """The thread: runs `_serve`, and starts it again if it ever fails."""
        try:
            conn = self._connect()
        except BaseException as exc:  # surfaced to the constructor
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        delay = _RETRY_FIRST_S
        while True:
            try:
                self._serve(conn)
                return
            except BaseException:
                self.restarts += 1
                log.exception(
                    "cf-aig log store: the writer failed (restart %d); starting it again",
                    self.restarts,
                )
                # Rows are kept in _waiting; the calls of the failed batch are answered.
                calls, self._calls = self._calls, []
                for entry in calls:
                    if isinstance(entry, _Stop):
                        self._stop(conn)
                        return
                    if not entry.future.done():
                        entry.future.set_exception(
                            RuntimeError("the log store's writer failed; try again")
                        )
                time.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX_S)

    def _serve(self, conn: sqlite3.Connection) -> None:
        retry_at: float | None = None
        delay = _RETRY_FIRST_S
        while True:
            timeout = None if retry_at is None else max(0.0, retry_at - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            if isinstance(item, _Row) and not self.durable and retry_at is None:
                # Let a burst of rows gather: one wake-up per batch instead of one per
                # request keeps this thread from taking the GIL from the event loop at
                # every response. Reads (_Query) never wait for this.
                time.sleep(_GATHER_S)
            batch = [] if item is None else [item]
            size = item.body_bytes if isinstance(item, _Row) else 0
            while len(batch) < _BATCH and size < _BATCH_BYTES:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
                if isinstance(batch[-1], _Row):
                    size += batch[-1].body_bytes
            self._waiting.extend(e for e in batch if isinstance(e, _Row))
            self._calls = [e for e in batch if not isinstance(e, _Row)]
            if retry_at is None or time.monotonic() >= retry_at:
                if self._flush(conn):
                    retry_at, delay = None, _RETRY_FIRST_S
                else:
                    retry_at, delay = time.monotonic() + delay, min(delay * 2, _RETRY_MAX_S)
            calls, self._calls = self._calls, []
            for entry in calls:
                if isinstance(entry, _Stop):
                    self._stop(conn)
                    return
                try:  # on what is committed, even while rows wait for an outage to end
                    entry.future.set_result(entry.fn(conn))
                except sqlite3.OperationalError as exc:  # locked, full: the store, not the call
                    if conn.in_transaction:
                        with contextlib.suppress(sqlite3.Error):
                            conn.execute("ROLLBACK")
                    self._outage(f"{type(exc).__name__}: {exc}")
                    unavailable = LogStoreUnavailable(f"the log store cannot be written: {exc}")
                    unavailable.__cause__ = exc
                    entry.future.set_exception(unavailable)
                except BaseException as exc:
                    entry.future.set_exception(exc)

    def _stop(self, conn: sqlite3.Connection) -> None:
        """Write what waits (trying for at most `commit_timeout` s), then close."""
        deadline = time.monotonic() + self.commit_timeout
        delay = _RETRY_FIRST_S
        while not self._flush(conn) and time.monotonic() < deadline:
            time.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX_S)
        self._give_up_waiting()
        conn.close()

    def _flush(self, conn: sqlite3.Connection) -> bool:
        """Commit every waiting row; False (rows kept, outage reported) if the store refuses."""
        rows = self._waiting
        if not rows:
            return True
        bounds = self._body_bytes, self._bodies_from
        try:
            conn.execute("BEGIN IMMEDIATE")
            self._insert(conn, rows)
            self._prune(conn)
            self._bound_bodies(conn, sum(r.body_bytes for r in rows))
            self._commit(conn, rows)
        except Exception as exc:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            self._body_bytes, self._bodies_from = bounds
            self._outage(f"{type(exc).__name__}: {exc}")
            return False
        for r in rows:
            if r.ack is not None:
                _resolve(r.ack, None)
        with self._lock:
            self._unwritten -= len(rows)
            self._unwritten_body_bytes -= sum(r.body_bytes for r in rows)
        rows.clear()
        self._recovered()
        return True

    def _commit(self, conn: sqlite3.Connection, rows: list[_Row]) -> None:
        """COMMIT, once every waiting request is held to it (it can no longer give up).

        A request whose wait ended a moment ago has its row marked with the 503 it got.
        If anything fails from here, the requests held are answered 503 at once (they
        cannot wait for another try) and their rows will say so.
        """
        held: list[_Row] = []
        try:
            for r in rows:
                if r.ack is None:
                    continue
                if r.ack.set_running_or_notify_cancel():
                    held.append(r)
                    continue
                r.ack, r.answered_503 = None, True
                conn.execute(
                    "UPDATE logs SET status_code = ?, success = 0, data = json_set(data, "
                    "'$.status_code', ?, '$.success', json('false'), "
                    "'$.log_store_unavailable', json('true')) WHERE id = ?",
                    (_UNAVAILABLE_STATUS, _UNAVAILABLE_STATUS, _text(str(r.row.get("id")))),
                )
            conn.execute("COMMIT")
        except BaseException:
            for r in held:
                assert r.ack is not None
                _resolve(r.ack, LogStoreUnavailable(self._outage_reason or "commit failed"))
                r.ack, r.answered_503 = None, True
            raise

    def _insert(self, conn: sqlite3.Connection, rows: list[_Row]) -> None:
        plain: list[tuple[Any, ...]] = []
        try:
            for r in rows:
                if r.retention is None:
                    plain.append(r.values())
                    continue
                if plain:  # rare: write now, so that the count below is exact
                    conn.executemany(_INSERT, plain)
                    plain.clear()
                self._retain(conn, str(r.row.get("gateway_id")), r.values(), *r.retention)
            if plain:
                conn.executemany(_INSERT, plain)
            return
        except sqlite3.OperationalError:
            raise  # locked, full, I/O: the store's fault, not a row's
        except Exception:
            pass
        # A row SQLite refuses even after storable(): find it, one savepoint per row.
        conn.execute("ROLLBACK")
        conn.execute("BEGIN IMMEDIATE")
        for r in rows:
            conn.execute("SAVEPOINT one_row")
            try:
                if r.retention is None:
                    conn.execute(_INSERT, r.values())
                else:
                    self._retain(conn, str(r.row.get("gateway_id")), r.values(), *r.retention)
            except sqlite3.OperationalError:
                raise
            except Exception as exc:
                conn.execute("ROLLBACK TO one_row")
                reason = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "cf-aig log store: row %s stored as a stub: %s", r.row.get("id"), reason
                )
                conn.execute(_INSERT, r.values(stub=reason))  # if this fails, the store is at fault
            conn.execute("RELEASE one_row")

    def _prune(self, conn: sqlite3.Connection) -> None:
        """Keep the newest `max_rows` rows (by insertion order) of the whole store."""
        if self.max_rows is None:
            return
        newest = conn.execute("SELECT max(seq) FROM logs").fetchone()[0] or 0
        below = newest - self.max_rows
        if below > self._pruned_to:
            conn.execute("DELETE FROM logs WHERE seq <= ?", (below,))
            self._pruned_to = below

    def _bound_bodies(self, conn: sqlite3.Connection, added: int) -> None:
        """Keep the stored bodies under `max_body_bytes`: drop the oldest rows' bodies.

        `_body_bytes` is an upper bound (deletes only lower the real total); the real
        total is summed only when the bound is passed, and bodies are then dropped down
        to three quarters of it, so that this is rare.
        """
        self._body_bytes += added
        if self.max_body_bytes is None or self._body_bytes <= self.max_body_bytes:
            return
        total = int(conn.execute(_BODY_SUM).fetchone()[0])
        self._body_bytes = total
        if total <= self.max_body_bytes:
            return
        excess = total - self.max_body_bytes * 3 // 4
        freed, last = 0, self._bodies_from
        found = conn.execute(
            f"SELECT seq, {_ROW_BODY_BYTES} FROM logs WHERE seq > ? AND "
            "(request_body IS NOT NULL OR response_body IS NOT NULL) ORDER BY seq",
            (self._bodies_from,),
        )
        for seq, size in found:
            freed, last = freed + int(size), int(seq)
            if freed >= excess:
                break
        found.close()
        conn.execute(
            "UPDATE logs SET request_body = NULL, response_body = NULL, data = json_set(data, "
            "'$.request_body_complete', json('false'), '$.response_body_complete', "
            "json('false'), '$.bodies_dropped', json('true')) WHERE seq > ? AND seq <= ? AND "
            "(request_body IS NOT NULL OR response_body IS NOT NULL)",
            (self._bodies_from, last),
        )
        self._bodies_from, self._body_bytes = last, total - freed

    def _give_up_waiting(self) -> None:
        """At close: rows the store could not write are dropped, and their requests told."""
        if self._waiting:
            log.warning(
                "cf-aig log store: closing with %d rows that could not be written (%s)",
                len(self._waiting),
                self._outage_reason,
            )
        for r in self._waiting:
            if r.ack is not None:
                _resolve(r.ack, LogStoreUnavailable("the log store was closed"))
        self._waiting.clear()

    def _outage(self, reason: str) -> None:
        with self._lock:
            self._outage_reason = reason
            if self._outage_since is not None:
                return
            self._outage_since = time.monotonic()
        log.warning(
            "cf-aig log store: cannot write to %s (%s); rows wait in memory and writing is "
            "retried until it works%s",
            self.path,
            reason,
            f"; requests wait up to {self.commit_timeout:g} s for their row, then get HTTP 503 "
            "(code 2503)"
            if self.durable
            else "",
        )

    def _recovered(self) -> None:
        with self._lock:
            since, self._outage_since = self._outage_since, None
            dropped, self.dropped = self.dropped, 0
        if since is not None:
            log.warning(
                "cf-aig log store: writing to %s again after %.1f s%s",
                self.path,
                time.monotonic() - since,
                f"; {dropped} rows were dropped meanwhile" if dropped else "",
            )

    @classmethod
    def _retain(
        cls,
        conn: sqlite3.Connection,
        gateway_id: str,
        values: tuple[Any, ...],
        limit: int,
        strategy: str,
    ) -> None:
        """Insert one row of a gateway with `log_management`.

        The setting is the gateway object's:
        https://developers.cloudflare.com/api/resources/ai_gateway/
        """
        count = conn.execute("SELECT count(*) FROM logs WHERE gateway_id = ?", (gateway_id,))
        if strategy == "STOP_INSERTING" and count.fetchone()[0] >= limit:
            return
        conn.execute(_INSERT, values)
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
        caller must not change it afterwards. `retention` is the gateway's
        `(log_management, log_management_strategy)`: at most that many rows are kept,
        new ones dropped (`STOP_INSERTING`) or the oldest deleted (`DELETE_OLDEST`).

        A store in a file (`durable`) returns a future that is done once the row is
        committed: the gateway answers only then (see `committed`), so that a row
        acknowledged to a client survives a crash of the server (kill -9). In memory
        there is nothing to wait for.
        """
        ack: Future[None] | None = Future() if self.durable else None
        entry = _Row(row, request_body, response_body, retention, ack)
        entry.request_body, entry.request_complete = self._cap(request_body)
        entry.response_body, entry.response_complete = self._cap(response_body)
        with self._lock:
            if self._outage_since is not None and self._unwritten >= MAX_UNWRITTEN:
                self.dropped += 1
                if ack is not None:
                    ack.set_exception(LogStoreUnavailable("too many rows wait for the store"))
                return ack
            if (
                self.max_body_bytes is not None
                and self._unwritten_body_bytes + entry.body_bytes > self.max_body_bytes
            ):  # rows pile up (an outage): their bodies would pass the bound in memory
                entry.request_body = entry.response_body = None
                entry.request_complete = entry.response_complete = False
                entry.bodies_dropped = True
            self._unwritten += 1
            self._unwritten_body_bytes += entry.body_bytes
        self._queue.put(entry)
        return ack

    def _cap(self, body: bytes | None) -> tuple[bytes | None, bool]:
        """`body` cut to `body_max_bytes` (on a UTF-8 boundary), and whether whole."""
        if body is None:
            return None, False
        limit = self.body_max_bytes
        if limit is None or len(body) <= limit:
            return body, True
        cut = limit
        # Back off over UTF-8 continuation bytes (at most 3) so text keeps whole characters.
        while cut > limit - 3 and cut > 0 and 0x80 <= body[cut] <= 0xBF:
            cut -= 1
        return bytes(body[:cut]), False

    async def committed(self, acks: Iterable[Future[None] | None]) -> bool:
        """Wait for the commit of these rows, at most `commit_timeout` s in all.

        False if any was not committed in time: the caller answers 503 (code 2503), and
        those rows, written once the store recovers, carry that 503.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.commit_timeout
        ok = True
        for ack in acks:
            if ack is not None and not await self._committed_one(ack, deadline - loop.time()):
                ok = False
        return ok

    async def _committed_one(self, ack: Future[None], remaining: float) -> bool:
        waiting = asyncio.wrap_future(ack)
        if not waiting.done():
            await asyncio.wait((waiting,), timeout=max(remaining, 0.0))
        if not waiting.done():
            if ack.cancel():  # the writer has not taken it: its row will say 503
                self._outage(f"no commit within {self.commit_timeout:g} s")
                return False
            # Taken by the writer as we gave up: its commit is under way and brief.
            await asyncio.wait((waiting,))
        return not waiting.cancelled() and waiting.exception() is None

    def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` on the writer thread after every queued write; block for its result."""
        future: Future[T] = Future()
        self._queue.put(_Query(fn, future))
        return future.result()

    async def arun(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`run` for the event loop: awaits without blocking it."""
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
        """A query for `run`: (rows of the page, `result_info` totals).

        The totals are `total_count` and, with `with_stats`, the `min_` and `max_` of
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
                "SELECT data FROM logs WHERE gateway_id = ? AND id = ?",
                (_text(gateway_id), _text(log_id)),
            ).fetchone()
            return None if row is None else dict(json.loads(row[0]))

        return query

    @staticmethod
    def body(
        gateway_id: str, log_id: str, which: str
    ) -> Callable[[sqlite3.Connection], tuple[bool, bytes | None]]:
        """(row exists, stored body) for `which` in `request` / `response`."""
        column = "request_body" if which == "request" else "response_body"

        def query(conn: sqlite3.Connection) -> tuple[bool, bytes | None]:
            row = conn.execute(
                f"SELECT {column} FROM logs WHERE gateway_id = ? AND id = ?",
                (_text(gateway_id), _text(log_id)),
            ).fetchone()
            return (False, None) if row is None else (True, row[0])

        return query

    @staticmethod
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
            values = [_column_value(k, v) for k, v in changes.items()]
            conn.execute(
                f"UPDATE logs SET {sets}, data = ? WHERE gateway_id = ? AND id = ?",
                (
                    *values,
                    json.dumps(data, separators=(",", ":"), allow_nan=False),
                    _text(gateway_id),
                    _text(log_id),
                ),
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
        """Delete matching rows (at most `limit`, first in the given order); their count."""
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
_ROW_BODY_BYTES: Final = "(coalesce(length(request_body), 0) + coalesce(length(response_body), 0))"
_BODY_SUM: Final = f"SELECT coalesce(sum({_ROW_BODY_BYTES}), 0) FROM logs"
_BATCH_BYTES: Final = 32 * 1024 * 1024
"""A batch stops gathering rows past this many body bytes (one transaction, one WAL growth)."""
_WAL_LIMIT: Final = 64 * 1024 * 1024
"""`journal_size_limit`: the WAL file is truncated to this after a checkpoint."""


def _private_file(path: str) -> None:
    """Create the database readable by its owner only, or warn if it is readable by others.

    SQLite creates the `-wal` and `-shm` files with the database file's mode.
    """
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        warn_if_readable(Path(path), "logged prompts and answers", stacklevel=3)
        return
    except OSError:
        return  # sqlite3.connect reports what is wrong with the path
    os.close(fd)


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
            if not (value is None or isinstance(value, (str, int, float))):
                raise LogQueryError(
                    f"the filter on {key!r} takes text, numbers, booleans or null as values; "
                    f"got {type(value).__name__}"
                )
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
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", [_bindable(p) for p in params]


def _bindable(value: Any) -> Any:
    """A filter value SQLite can bind: a huge integer compares as a float, text is made valid."""
    if isinstance(value, int) and not isinstance(value, bool):
        if _INT64_MIN <= value <= _INT64_MAX:
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


def _resolve(future: Future[None], error: BaseException | None) -> None:
    try:
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
    except InvalidStateError:  # already settled (cancelled by its request, or dropped)
        pass
