"""The log store (see `store`)."""

from .store import (
    DEFAULT_BODY_MAX_BYTES,
    DEFAULT_COMMIT_TIMEOUT,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_ROWS,
    MAX_UNWRITTEN,
    LogQueryError,
    LogStore,
    LogStoreUnavailable,
    storable,
)

__all__ = [
    "DEFAULT_BODY_MAX_BYTES",
    "DEFAULT_COMMIT_TIMEOUT",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_ROWS",
    "MAX_UNWRITTEN",
    "LogQueryError",
    "LogStore",
    "LogStoreUnavailable",
    "storable",
]
