"""The log store's writer thread: batches, group commits, retention and outages.

One thread owns the SQLite connection. Rows arrive on a queue and are committed in
batches (rows of concurrent requests share one commit); reads queued behind them run
on the same thread, so a read sees every row queued before it. When the database
cannot be written, rows wait in memory and the writer retries with back-off; the
operator gets one warning when an outage starts and one when it ends (see `logstore`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Any, Final

from .queries import BODY_SUM, INSERT, ROW_BODY_BYTES, SCHEMA
from .row import COLUMNS, column_value, storable, text

log = logging.getLogger(__package__)
"""`langchain_cf_gateway.local.logstore`: the store's one logger."""

_BATCH: Final = 512
_GATHER_S: Final = 0.002
_BUSY_TIMEOUT_MS: Final = 200
"""How long one write attempt waits for another connection's lock before backing off."""
_RETRY_FIRST_S: Final = 0.05
_RETRY_MAX_S: Final = 1.0
UNAVAILABLE_STATUS: Final = 503
_BATCH_BYTES: Final = 32 * 1024 * 1024
"""A batch stops gathering rows past this many body bytes (one transaction, one WAL growth)."""
_WAL_LIMIT: Final = 64 * 1024 * 1024
"""`journal_size_limit`: the WAL file is truncated to this after a checkpoint."""


class LogStoreUnavailable(RuntimeError):
    """The store cannot be used now (locked, full, lost); the message says why.

    A request whose row could not be committed in time gets a 503 response (code
    2503); `LogStore.run` and `LogStore.arun` raise it for a call (a read or a change)
    that met such an outage.
    """


class StopSignal:
    """Queued by `LogStore.close`: the writer commits what it holds, then stops."""


class ReadJob:
    """A read the writer thread runs on its connection, its result set on `future`."""

    __slots__ = ("fn", "future")

    def __init__(self, fn: Callable[[sqlite3.Connection], Any], future: Future[Any]) -> None:
        self.fn = fn
        self.future = future


@dataclass(slots=True)
class PendingRow:
    """A `LogRow` waiting for its commit, and the request waiting for it (file store)."""

    row: Mapping[str, Any]
    request_body: bytes | None
    response_body: bytes | None
    retention: tuple[int, str] | None
    ack: Future[None] | None
    got_503: bool = False
    """Its request got the 503 (its commit came too late): the row says so."""
    request_complete: bool = True
    response_complete: bool = True
    bodies_dropped: bool = False

    @property
    def body_bytes(self) -> int:
        """Bytes of the row's bodies, as kept."""
        return len(self.request_body or b"") + len(self.response_body or b"")

    def values(self, stub: str | None = None) -> tuple[Any, ...]:
        """The row as `INSERT` binds it; with `stub`, only who, when and what status."""
        row = storable(self.row)
        row["request_body_complete"] = self.request_complete
        row["response_body_complete"] = self.response_complete
        if self.bodies_dropped:
            row["bodies_dropped"] = True
        if self.got_503:
            row.update(success=False, status_code=UNAVAILABLE_STATUS, log_store_unavailable=True)
        request_body, response_body = self.request_body, self.response_body
        if stub is not None:  # SQLite refused the full row: keep who, when and what status
            keep = ("id", "gateway_id", "created_at", "status_code", "success", "event_id")
            row = {k: row.get(k) for k in keep} | {"log_error": stub}
            request_body = response_body = None
        values = [column_value(c, row.get(c)) for c in COLUMNS]
        data = json.dumps(row, separators=(",", ":"), allow_nan=False)
        return (*values, data, request_body, response_body)


class LogWriter:
    """The writer thread of `LogStore`: everything here runs on that thread.

    `LogStore` sets the attributes below, then starts `_supervise` in its thread.
    """

    path: str
    durable: bool
    max_rows: int | None
    commit_timeout: float
    max_body_bytes: int | None
    restarts: int
    dropped: int
    _body_bytes: int
    _bodies_from: int
    _unwritten: int
    _unwritten_body_bytes: int
    _queue: queue.SimpleQueue[Any]
    _waiting: list[PendingRow]
    _lock: threading.Lock
    _outage_since: float | None
    _outage_reason: str
    _pruned_to: int
    _calls: list[Any]
    _ready: threading.Event
    _error: BaseException | None

    def _connect(self) -> sqlite3.Connection:
        # At start, wait as long as a request would for another process's lock.
        conn = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=self.commit_timeout
        )
        conn.execute("PRAGMA journal_mode=WAL" if self.durable else "PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA synchronous=NORMAL")
        if self.durable:  # a WAL grown by a large batch is cut back after its checkpoint
            conn.execute(f"PRAGMA journal_size_limit={_WAL_LIMIT}")
        conn.executescript(SCHEMA)
        self._body_bytes = conn.execute(BODY_SUM).fetchone()[0]
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
                # Rows are kept in _waiting; the calls of the failed batch get their exception.
                calls, self._calls = self._calls, []
                for entry in calls:
                    if isinstance(entry, StopSignal):
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
            if isinstance(item, PendingRow) and not self.durable and retry_at is None:
                # Let a burst of rows gather: one wake-up per batch instead of one per
                # request keeps this thread from taking the GIL from the event loop at
                # every response. Reads (ReadJob) never wait for this.
                time.sleep(_GATHER_S)
            batch = [] if item is None else [item]
            size = item.body_bytes if isinstance(item, PendingRow) else 0
            while len(batch) < _BATCH and size < _BATCH_BYTES:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
                if isinstance(batch[-1], PendingRow):
                    size += batch[-1].body_bytes
            self._waiting.extend(e for e in batch if isinstance(e, PendingRow))
            self._calls = [e for e in batch if not isinstance(e, PendingRow)]
            if retry_at is None or time.monotonic() >= retry_at:
                if self._flush(conn):
                    retry_at, delay = None, _RETRY_FIRST_S
                else:
                    retry_at, delay = time.monotonic() + delay, min(delay * 2, _RETRY_MAX_S)
            calls, self._calls = self._calls, []
            for entry in calls:
                if isinstance(entry, StopSignal):
                    self._stop(conn)
                    return
                try:  # on what is committed, even while rows wait for an outage to end
                    entry.future.set_result(self._read(conn, entry.fn))
                except self._STORE_ERRORS as exc:  # locked, full, lost: the store, not the call
                    self._rollback(conn)
                    self._outage(f"{type(exc).__name__}: {exc}")
                    unavailable = LogStoreUnavailable(f"{type(exc).__name__}: {exc}")
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
            self._begin(conn)
            self._insert(conn, rows)
            self._prune(conn)
            self._bound_bodies(conn, sum(r.body_bytes for r in rows))
            self._commit(conn, rows)
        except Exception as exc:
            self._rollback(conn)
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

    _STORE_ERRORS: tuple[type[Exception], ...] = (sqlite3.OperationalError,)
    """What a read meets when the store, not the call, fails (locked, full, lost)."""

    def _read(self, conn: Any, fn: Callable[[Any], Any]) -> Any:
        """Run one read (or a patch, a delete) of the logs API."""
        return fn(conn)

    def _begin(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")

    def _end(self, conn: sqlite3.Connection) -> None:
        conn.execute("COMMIT")

    def _rollback(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")

    def _mark_unavailable(self, conn: sqlite3.Connection, r: PendingRow) -> None:
        """Say in a row, in the batch's transaction, that its request got the 503."""
        conn.execute(
            "UPDATE logs SET status_code = ?, success = 0, data = json_set(data, "
            "'$.status_code', ?, '$.success', json('false'), "
            "'$.log_store_unavailable', json('true')) WHERE id = ?",
            (UNAVAILABLE_STATUS, UNAVAILABLE_STATUS, text(str(r.row.get("id")))),
        )

    def _commit(self, conn: sqlite3.Connection, rows: list[PendingRow]) -> None:
        """COMMIT, once every waiting request is held to it (it can no longer give up).

        A request whose wait ended a moment ago has its row marked with the 503 it got.
        If anything fails from here, the requests held get a 503 response at once (they
        cannot wait for another try) and their rows will say so.
        """
        held: list[PendingRow] = []
        try:
            for r in rows:
                if r.ack is None:
                    continue
                if r.ack.set_running_or_notify_cancel():
                    held.append(r)
                    continue
                r.ack, r.got_503 = None, True
                self._mark_unavailable(conn, r)
            self._end(conn)
        except BaseException:
            for r in held:
                assert r.ack is not None
                _resolve(r.ack, LogStoreUnavailable(self._outage_reason or "commit failed"))
                r.ack, r.got_503 = None, True
            raise

    def _insert(self, conn: sqlite3.Connection, rows: list[PendingRow]) -> None:
        plain: list[tuple[Any, ...]] = []
        try:
            for r in rows:
                if r.retention is None:
                    plain.append(r.values())
                    continue
                if plain:  # rare: write now, so that the count below is exact
                    conn.executemany(INSERT, plain)
                    plain.clear()
                self._retain(conn, str(r.row.get("gateway_id")), r.values(), *r.retention)
            if plain:
                conn.executemany(INSERT, plain)
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
                    conn.execute(INSERT, r.values())
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
                conn.execute(INSERT, r.values(stub=reason))  # if this fails, the store is at fault
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
        total = int(conn.execute(BODY_SUM).fetchone()[0])
        self._body_bytes = total
        if total <= self.max_body_bytes:
            return
        excess = total - self.max_body_bytes * 3 // 4
        freed, last = 0, self._bodies_from
        found = conn.execute(
            f"SELECT seq, {ROW_BODY_BYTES} FROM logs WHERE seq > ? AND "
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
        conn.execute(INSERT, values)
        if strategy != "STOP_INSERTING":
            conn.execute(
                "DELETE FROM logs WHERE gateway_id = ? AND seq NOT IN "
                "(SELECT seq FROM logs WHERE gateway_id = ? ORDER BY seq DESC LIMIT ?)",
                (gateway_id, gateway_id, limit),
            )


def _resolve(future: Future[None], error: BaseException | None) -> None:
    try:
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
    except InvalidStateError:  # already settled (cancelled by its request, or dropped)
        pass
