"""`open_log_store`: the log store a path or URL names (SQLite, or PostgreSQL)."""

from __future__ import annotations

from typing import Any

from ...core.errors import ConfigError
from .store import (
    DEFAULT_BODY_MAX_BYTES,
    DEFAULT_COMMIT_TIMEOUT,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_ROWS,
    LogStore,
)


def open_log_store(
    target: str = ":memory:",
    *,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    commit_timeout: float = DEFAULT_COMMIT_TIMEOUT,
    body_max_bytes: int | None = DEFAULT_BODY_MAX_BYTES,
    max_body_bytes: int | None = DEFAULT_MAX_BODY_BYTES,
) -> LogStore:
    """The log store a path or URL names, open and ready.

    `postgresql://user@host:port/db` (or `postgres://`) opens a `PostgresLogStore`
    (the `postgresql` extra: psycopg 3 and psycopg_pool); `sqlite:///cf-aig-logs.sqlite`
    (relative) or `sqlite:////var/lib/cf-aig/logs.sqlite` (absolute), a plain path, or
    `":memory:"` (also `sqlite://`) opens a SQLite `LogStore`.

    Args:
        target: the URL or path.
        max_rows: rows kept across gateways, oldest deleted first; None or 0 keeps all.
        commit_timeout: seconds a request waits for its row's commit.
        body_max_bytes: bytes kept of each body; None or 0 keeps whole bodies.
        max_body_bytes: bytes of bodies kept across rows; None or 0 keeps them all.

    Returns:
        The store; `close()` it when done.

    Raises:
        ConfigError: a PostgreSQL URL without psycopg installed, a database that cannot
            be reached or whose schema is newer than this package's.
    """
    bounds: dict[str, Any] = {
        "max_rows": max_rows,
        "commit_timeout": commit_timeout,
        "body_max_bytes": body_max_bytes,
        "max_body_bytes": max_body_bytes,
    }
    if target.startswith(("postgresql://", "postgres://")):
        try:
            from .postgres import PostgresLogStore
        except ImportError:
            raise ConfigError(
                "a postgresql:// log store needs psycopg 3 and psycopg_pool: "
                "pip install 'langchain-cf-gateway[postgresql]'"
            ) from None
        return PostgresLogStore(target, **bounds)
    if target.startswith("sqlite://"):
        target = target[len("sqlite:///") :] if target.startswith("sqlite:///") else ""
        target = target or ":memory:"
    return LogStore(target, **bounds)
