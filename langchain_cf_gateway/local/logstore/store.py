"""The log store: one SQLite row per request (or per universal step), Cloudflare's log object.

Rows are written by one thread that owns the connection and commits in batches, so
the event loop never runs SQLite. With a file store, a response is sent once its row is
committed (group commit: rows of concurrent requests share one commit), so that every
acknowledged request survives a kill -9 of the server; in memory, responses never wait.
Reads go through the same thread, behind every write queued before them: a row queued
before its response was sent is always seen by `logs()` and by the logs API
(https://developers.cloudflare.com/api/resources/ai_gateway/).

The fields of a row are those of `row.LogRow`, as the logs API and `LocalGateway.logs`
return them. The store is a package: `row` (the row type), `queries` (the SQL),
`writer` (the writer thread) and `store` (`LogStore`, the API the gateway uses).

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
import os
import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Final, TypeVar

from ...core.config import warn_if_readable
from . import queries
from .row import LogRow
from .writer import LogStoreUnavailable, LogWriter, PendingRow, ReadJob, StopSignal

T = TypeVar("T")

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


class LogStore(LogWriter):
    """SQLite rows of Cloudflare's log object, written by a supervised background thread.

    Args:
        path: SQLite file, or `":memory:"` (the default: responses never wait for a commit).
        max_rows: rows kept across gateways, oldest deleted first; None or 0 keeps all.
        commit_timeout: seconds a request waits for its row's commit (file store only)
            before it gets a 503 response, code 2503.
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
        """Rows live in a file: each response waits for its row's commit (see `add`)."""
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
        self._waiting: list[PendingRow] = []  # writer thread only
        self._unwritten = 0  # rows added and not yet written or dropped
        self._lock = threading.Lock()  # _unwritten, dropped and the outage state
        self._outage_since: float | None = None
        self._outage_reason = ""
        self._pruned_to = 0
        self._calls: list[Any] = []  # reads and the stop of the batch in hand
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._open_file()
        self._thread = threading.Thread(target=self._supervise, name="cf-aig-logstore", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error

    def _open_file(self) -> None:
        if self.durable:
            _private_file(self.path)

    # ------------------------------------------------------------------ API

    def add(
        self,
        row: LogRow,
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
        committed: the gateway sends the response only then (see `committed`), so that a row
        acknowledged to a client survives a crash of the server (kill -9). In memory
        there is nothing to wait for.
        """
        ack: Future[None] | None = Future() if self.durable else None
        entry = PendingRow(row, request_body, response_body, retention, ack)
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

        False if any was not committed in time: the caller sends a 503 response (code 2503), and
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

    def run(self, fn: Callable[[Any], T]) -> T:
        """Run `fn` on the writer thread after every queued write; block for its result."""
        future: Future[T] = Future()
        self._queue.put(ReadJob(fn, future))
        return future.result()

    async def arun(self, fn: Callable[[Any], T]) -> T:
        """`run` for the event loop: awaits without blocking it."""
        future: Future[T] = Future()
        self._queue.put(ReadJob(fn, future))
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Stop the writer thread after it has written what waits."""
        if self._thread.is_alive():
            self._queue.put(StopSignal())
            self._thread.join(timeout=10)

    # ------------------------------------------------------------------ queries

    select = staticmethod(queries.select)
    get = staticmethod(queries.get)
    body = staticmethod(queries.body)
    patch = staticmethod(queries.patch)
    delete = staticmethod(queries.delete)


def _private_file(path: str) -> None:
    """Create the database readable by its owner only, or warn if it is readable by others.

    SQLite creates the `-wal` and `-shm` files with the database file's mode.
    """
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        warn_if_readable(Path(path), "logged prompts and responses", stacklevel=3)
        return
    except OSError:
        return  # sqlite3.connect reports what is wrong with the path
    os.close(fd)
