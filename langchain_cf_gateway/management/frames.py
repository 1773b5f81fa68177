"""Logs as pandas DataFrames and as HTML tables in Jupyter.

```python
from langchain_cf_gateway.management import GatewayClient, logs_to_pandas

with GatewayClient() as client:
    frame = logs_to_pandas(client.iter_logs(start_date="2026-11-01", limit=1000))
frame.groupby(["provider", "model"])[["cost", "duration"]].agg(["sum", "mean"])
```

One row per log entry, one column per field of `LogEntry`
(https://developers.cloudflare.com/api/resources/ai_gateway/subresources/logs/methods/list/):
`created_at` as a UTC datetime, counts as nullable integers, cost, duration and
scores as floats, flags as nullable booleans. pandas is the `pandas` extra.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, Protocol

from ..core.display import html_table, require_pandas


class _Entry(Protocol):
    def model_dump(self) -> dict[str, Any]: ...


LOG_COLUMNS: Final[Mapping[str, str]] = {
    "id": "string",
    "created_at": "datetime64[ns, UTC]",
    "provider": "string",
    "model": "string",
    "model_type": "string",
    "path": "string",
    "success": "boolean",
    "cached": "boolean",
    "status_code": "Int64",
    "duration": "float64",
    "tokens_in": "Int64",
    "tokens_out": "Int64",
    "cost": "float64",
    "custom_cost": "object",
    "step": "Int64",
    "event_id": "string",
    "metadata": "object",
    "feedback": "float64",
    "score": "float64",
    "request_type": "string",
    "request_content_type": "string",
    "response_content_type": "string",
}
"""The columns of a logs frame (the fields of `LogEntry`) and their pandas dtypes."""

PAGE_COLUMNS: Final = (
    "created_at",
    "id",
    "provider",
    "model",
    "cached",
    "success",
    "status_code",
    "duration",
    "tokens_in",
    "tokens_out",
    "cost",
    "feedback",
    "metadata",
)
"""The columns a log page shows in Jupyter: the ones read most."""


def logs_to_pandas(entries: Iterable[_Entry]) -> Any:
    """Log entries (a `LogPage`, `iter_logs(...)`, a list) as a `pandas.DataFrame`.

    Args:
        entries: `LogEntry` values.

    Returns:
        A `pandas.DataFrame`, one row per entry, the columns of `LOG_COLUMNS` with their
        dtypes, in that order; no rows but the same columns when `entries` is empty.

    Raises:
        ImportError: pandas is not installed (`pip install 'langchain-cf-gateway[pandas]'`).
    """
    pd = require_pandas()
    rows = [entry.model_dump() for entry in entries]
    columns: dict[str, Any] = {}
    for name, dtype in LOG_COLUMNS.items():
        values = [row.get(name) for row in rows]
        if dtype.startswith("datetime"):
            columns[name] = pd.to_datetime(pd.Series(values, dtype="object"), utc=True).astype(
                dtype
            )
        elif dtype == "object":
            columns[name] = pd.Series(values, dtype="object")
        else:
            columns[name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(columns)


def log_page_html(entries: Iterable[_Entry], *, caption: str | None = None) -> str:
    """Log entries as an HTML table of `PAGE_COLUMNS`, the first 20 shown.

    Args:
        entries: `LogEntry` values.
        caption: A line above the table.

    Returns:
        The `<table>` markup, every value escaped and credentials masked.
    """
    rows = ([entry.model_dump().get(c) for c in PAGE_COLUMNS] for entry in entries)
    return html_table(PAGE_COLUMNS, rows, caption=caption)
