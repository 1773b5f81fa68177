"""The log store in PostgreSQL: one log for many gateway processes and hosts.

`PostgresLogStore` is `LogStore` with its rows in PostgreSQL (psycopg 3, a
`psycopg_pool.ConnectionPool`), and keeps its promises: the same writer thread batches
rows and commits them (group commit), and a response is sent once its row is committed;
`max_rows` keeps the newest rows; bodies are bounded as in SQLite; every logs-API query
gives what the SQLite store gives (`pg_queries`).

Schema. A `schema_version` table holds the version of the tables; a start creates them,
or applies the missing migrations (`pg_queries.MIGRATIONS`) in one transaction, under an
advisory lock so that gateways starting together migrate once. A database at a newer
version than this package knows is refused with an error saying to upgrade.

Outages. A database unreachable at start is an error naming the URL (its password
masked) and the `--log-store` flag. A database lost mid-run is an outage, as a failed
SQLite write: rows wait in memory, requests get HTTP 503 (code 2503) once
`commit_timeout` has passed, and the pool connects again when the database is back.
The store warns once when an outage starts and once when it ends; psycopg_pool's own
warning at each attempt to connect again (`error connecting in 'cf-aig-logstore'`) is
dropped for this store's pool, and kept for any other pool of the process.
"""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any, Final

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from ...core.credentials import mask_url, mask_urls
from ...core.errors import ConfigError
from ..shared_state.base import StoreUnreachable
from . import pg_queries
from .pg_queries import BODY_SUM, INSERT, MIGRATIONS, ROW_BODY_BYTES, SCHEMA_VERSION
from .store import (
    DEFAULT_BODY_MAX_BYTES,
    DEFAULT_COMMIT_TIMEOUT,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_ROWS,
    LogStore,
)
from .writer import UNAVAILABLE_STATUS, PendingRow, log

SCHEMES: Final = ("postgresql://", "postgres://")
"""URL schemes of a PostgreSQL log store (libpq's connection URIs)."""
FLAG: Final = "--log-store"
_MIGRATION_LOCK: Final = 0x63666169_6700  # pg_advisory_xact_lock key: "cfaig" + 0
_CONNECT_TIMEOUT_S: Final = 5
_POOL_NAME: Final = "cf-aig-logstore"


class _QuietReconnects(logging.Filter):
    """Drops psycopg_pool's warning at each attempt of this store's pool to connect again.

    During an outage the pool tries again with back-off, logging two lines each time;
    the store already says when the outage starts and when it ends. Records of other
    pools, and every other record of this one, pass.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            isinstance(record.args, tuple)
            and record.args[:1] == (_POOL_NAME,)
            and str(record.msg).startswith("error connecting in")
        )


_QUIET_RECONNECTS: Final = _QuietReconnects()


class PostgresLogStore(LogStore):
    """`LogStore` with its rows in PostgreSQL, shared by any number of gateway processes.

    Args:
        url: `postgresql://user[:password]@host:port/db` (any libpq connection URI).
        max_rows: rows kept across gateways, oldest deleted first; None or 0 keeps all.
        commit_timeout: seconds a request waits for its row's commit before it gets a
            503 response, code 2503.
        body_max_bytes: bytes kept of each body; None or 0 keeps whole bodies.
        max_body_bytes: bytes of bodies kept across rows, the oldest rows' dropped
            first; None or 0 keeps them all.

    Raises:
        ConfigError: the database cannot be reached, or its schema is newer than this
            package's (the message names the masked URL and the fix).
    """

    _STORE_ERRORS = (psycopg.OperationalError,)  # lost, unreachable, no connection in time
    select = staticmethod(pg_queries.select)  # type: ignore[assignment]
    get = staticmethod(pg_queries.get)  # type: ignore[assignment]
    body = staticmethod(pg_queries.body)  # type: ignore[assignment]
    patch = staticmethod(pg_queries.patch)  # type: ignore[assignment]
    delete = staticmethod(pg_queries.delete)  # type: ignore[assignment]

    def __init__(
        self,
        url: str,
        *,
        max_rows: int | None = DEFAULT_MAX_ROWS,
        commit_timeout: float = DEFAULT_COMMIT_TIMEOUT,
        body_max_bytes: int | None = DEFAULT_BODY_MAX_BYTES,
        max_body_bytes: int | None = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self._url = url
        super().__init__(
            mask_url(url),
            max_rows=max_rows,
            commit_timeout=commit_timeout,
            body_max_bytes=body_max_bytes,
            max_body_bytes=max_body_bytes,
        )

    def __repr__(self) -> str:
        return f"PostgresLogStore({self.path})"

    def _open_file(self) -> None:
        """No file: the database says who may read it."""

    @property
    def _wait_s(self) -> float:
        """How long one try waits for a connection before it counts as an outage."""
        return min(self.commit_timeout, 2.0)

    # ------------------------------------------------------------------ writer thread

    def _connect(self) -> Any:
        """Migrate the schema, then open the pool the writer thread uses.

        Raises:
            ConfigError: the database cannot be reached (one line: the masked URL, the
                reason and the flag), or its schema is newer than this package's.
        """
        # The pool keeps trying to connect (with back-off) for as long as the gateway
        # runs: a database lost mid-run is an outage, not the end of the store.
        pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            self._url,
            min_size=1,
            max_size=2,
            open=False,
            check=ConnectionPool.check_connection,
            kwargs={"autocommit": True, "connect_timeout": _CONNECT_TIMEOUT_S},
            name=_POOL_NAME,
            timeout=self._wait_s,
            reconnect_timeout=24 * 3600.0,
        )
        # psycopg_pool's logger (its level untouched); adding the one filter is idempotent.
        logging.getLogger("psycopg.pool").addFilter(_QUIET_RECONNECTS)
        try:
            with psycopg.connect(
                self._url, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S
            ) as conn:
                migrate(conn, self.path)
            pool.open(wait=True, timeout=self.commit_timeout)
            with pool.connection() as conn:
                found = conn.execute(BODY_SUM).fetchone()
                self._body_bytes = int(found[0]) if found else 0
        except psycopg.Error as exc:
            pool.close()
            text = str(exc).strip()
            reason = mask_urls(text.splitlines()[0]) if text else type(exc).__name__
            # No SQLSTATE: the server never answered (refused, timed out, pool timeout);
            # a wrong password or a missing database has one.
            unreachable = getattr(exc, "sqlstate", None) is None and isinstance(
                exc, (psycopg.OperationalError, PoolTimeout)
            )
            raise (StoreUnreachable if unreachable else ConfigError)(
                f"cannot connect to the log store {self.path} ({reason}): start PostgreSQL "
                f"there, or give {FLAG} a database this host can reach"
            ) from None
        except BaseException:
            pool.close()
            raise
        return pool

    def _read(self, conn: Any, fn: Any) -> Any:
        with conn.connection(timeout=self._wait_s) as one, one.transaction():
            return fn(one)

    def _rollback(self, conn: Any) -> None:
        if isinstance(conn, psycopg.Connection):
            with contextlib.suppress(psycopg.Error):
                conn.execute("ROLLBACK")

    def _flush(self, conn: Any) -> bool:
        if not self._waiting:
            return True
        try:
            with conn.connection(timeout=self._wait_s) as one:
                return super()._flush(one)
        except psycopg.Error as exc:  # no connection in time: the database is away
            self._outage(f"{type(exc).__name__}: {exc}")
            return False

    def _begin(self, conn: Any) -> None:
        conn.execute("BEGIN")

    def _end(self, conn: Any) -> None:
        conn.execute("COMMIT")

    def _mark_unavailable(self, conn: Any, r: PendingRow) -> None:
        found = conn.execute(
            "SELECT data::text FROM logs WHERE id = %s FOR UPDATE", (_row_id(r),)
        ).fetchone()
        if found is None:
            return
        data = json.loads(found[0])
        data.update(success=False, status_code=UNAVAILABLE_STATUS, log_store_unavailable=True)
        conn.execute(
            "UPDATE logs SET status_code = %s, success = 0, data = %s WHERE id = %s",
            (UNAVAILABLE_STATUS, json.dumps(data, separators=(",", ":")), _row_id(r)),
        )

    def _insert(self, conn: Any, rows: list[PendingRow]) -> None:
        try:
            with conn.transaction():  # a savepoint: a refused row leaves the batch usable
                self._insert_all(conn, rows)
            return
        except psycopg.OperationalError:
            raise  # lost, full: the store's fault, not a row's
        except psycopg.Error:
            pass
        for r in rows:  # a row PostgreSQL refuses even after storable(): find it
            try:
                with conn.transaction():
                    self._insert_all(conn, [r])
            except psycopg.OperationalError:
                raise
            except psycopg.Error as exc:
                reason = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "cf-aig log store: row %s stored as a stub: %s", r.row.get("id"), reason
                )
                conn.execute(INSERT, _values(r, stub=reason))

    def _insert_all(self, conn: Any, rows: list[PendingRow]) -> None:
        plain = [_values(r) for r in rows if r.retention is None]
        with conn.cursor() as cur:
            if plain:
                cur.executemany(INSERT, plain)
        for r in rows:
            if r.retention is not None:
                self._retain(conn, str(r.row.get("gateway_id")), _values(r), *r.retention)

    def _prune(self, conn: Any) -> None:
        if self.max_rows is None:
            return
        found = conn.execute("SELECT max(seq) FROM logs").fetchone()
        below = int(found[0] or 0) - self.max_rows
        if below > self._pruned_to:
            conn.execute("DELETE FROM logs WHERE seq <= %s", (below,))
            self._pruned_to = below

    def _bound_bodies(self, conn: Any, added: int) -> None:
        self._body_bytes += added
        if self.max_body_bytes is None or self._body_bytes <= self.max_body_bytes:
            return
        found = conn.execute(BODY_SUM).fetchone()
        total = self._body_bytes = int(found[0]) if found else 0
        if total <= self.max_body_bytes:
            return
        excess = total - self.max_body_bytes * 3 // 4
        freed, changed = 0, []
        query = psycopg.sql.SQL(
            "SELECT seq, {}, data::text FROM logs WHERE seq > %s AND "
            "(request_body IS NOT NULL OR response_body IS NOT NULL) ORDER BY seq"
        ).format(ROW_BODY_BYTES)
        for seq, size, data in conn.execute(query, (self._bodies_from,)):
            row = json.loads(data)
            row.update(request_body_complete=False, response_body_complete=False)
            row["bodies_dropped"] = True
            changed.append((json.dumps(row, separators=(",", ":")), seq))
            freed += int(size)
            if freed >= excess:
                break
        with conn.cursor() as cur:
            cur.executemany(
                "UPDATE logs SET request_body = NULL, response_body = NULL, data = %s "
                "WHERE seq = %s",
                changed,
            )
        if changed:
            self._bodies_from = int(changed[-1][1])
        self._body_bytes = total - freed

    @classmethod
    def _retain(
        cls, conn: Any, gateway_id: str, values: tuple[Any, ...], limit: int, strategy: str
    ) -> None:
        found = conn.execute(
            "SELECT count(*) FROM logs WHERE gateway_id = %s", (gateway_id,)
        ).fetchone()
        if strategy == "STOP_INSERTING" and found[0] >= limit:
            return
        conn.execute(INSERT, values)
        if strategy != "STOP_INSERTING":
            conn.execute(
                "DELETE FROM logs WHERE gateway_id = %s AND seq NOT IN "
                "(SELECT seq FROM logs WHERE gateway_id = %s ORDER BY seq DESC LIMIT %s)",
                (gateway_id, gateway_id, limit),
            )


def _values(r: PendingRow, stub: str | None = None) -> tuple[Any, ...]:
    """`PendingRow.values` for PostgreSQL, whose text holds no NUL (U+FFFD instead)."""
    return tuple(v.replace("\x00", "\ufffd") if isinstance(v, str) else v for v in r.values(stub))


def _row_id(r: PendingRow) -> str:
    return str(r.row.get("id")).replace("\x00", "\ufffd")


def migrate(conn: psycopg.Connection[Any], where: str) -> int:
    """Create the tables, or bring them to `SCHEMA_VERSION`, in one transaction.

    Args:
        conn: an autocommit connection.
        where: the masked URL, for the error.

    Returns:
        The version the database was at before (0 when it had no tables).

    Raises:
        ConfigError: the database is at a newer version than this package knows.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
        found = conn.execute("SELECT max(version) FROM schema_version").fetchone()
        current = int(found[0] or 0) if found else 0
        if current > SCHEMA_VERSION:
            raise ConfigError(
                f"the log store {where} has schema version {current}, newer than this "
                f"langchain-cf-gateway knows ({SCHEMA_VERSION}): upgrade langchain-cf-gateway, "
                f"or give {FLAG} another database"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[version - 1]:
                conn.execute(statement)
        if current < SCHEMA_VERSION:
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (SCHEMA_VERSION,))
    return current
