"""The log store: one row per request (or per universal step), Cloudflare's log object.

`LogStore` (in `store`) is what the gateway uses, in SQLite; `PostgresLogStore` (in
`postgres`, loaded only for a `postgresql://` URL) is the same in PostgreSQL, and
`open_log_store` (in `opening`) opens either from a path or URL. `row` defines the row (`LogRow`)
and its API form, `queries` / `pg_queries` the SQL of the logs API, `writer` the
thread that commits.
"""

from .opening import open_log_store
from .queries import LogQueryError
from .row import LogRow, storable, wire_log
from .store import (
    DEFAULT_BODY_MAX_BYTES,
    DEFAULT_COMMIT_TIMEOUT,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_ROWS,
    MAX_UNWRITTEN,
    LogStore,
)
from .writer import LogStoreUnavailable

__all__ = [
    "DEFAULT_BODY_MAX_BYTES",
    "DEFAULT_COMMIT_TIMEOUT",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_ROWS",
    "MAX_UNWRITTEN",
    "LogQueryError",
    "LogRow",
    "LogStore",
    "LogStoreUnavailable",
    "open_log_store",
    "storable",
    "wire_log",
]
