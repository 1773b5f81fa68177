"""The log store: one SQLite row per request (or per universal step), Cloudflare's log object.

`LogStore` (in `store`) is what the gateway uses; `row` defines the row (`LogRow`)
and its API form, `queries` the SQL of the logs API, `writer` the thread that commits.
"""

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
    "storable",
    "wire_log",
]
