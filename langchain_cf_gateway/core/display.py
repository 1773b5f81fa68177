"""Rich display in Jupyter and DataFrames: escaped HTML tables, and pandas on demand.

Jupyter shows an object by its `_repr_html_`
(https://ipython.readthedocs.io/en/stable/config/integrating.html#rich-display); the
gateway info, the usage tracker and the log pages build theirs here. Every value is
HTML-escaped and passed through `redact` (a key or a `Bearer` token in a log's metadata
reads `[redacted]`). pandas is an optional extra, imported only when a frame is asked for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape
from importlib import import_module
from typing import Any, Final

from .redaction import redact

PANDAS_EXTRA: Final = "pip install 'langchain-cf-gateway[pandas]'"
"""The install line of the pandas extra, named by the error when pandas is missing."""

MAX_ROWS: Final = 20
"""Rows a table shows; the rest are counted under it (`... N more`)."""


def require_pandas() -> Any:
    """The `pandas` module, imported on first use.

    Returns:
        The `pandas` module.

    Raises:
        ImportError: pandas is not installed; the message names the extra to install.
    """
    try:
        return import_module("pandas")
    except ImportError as exc:
        raise ImportError(f"DataFrames need pandas: {PANDAS_EXTRA}") from exc


def cell_text(value: Any) -> str:
    """One value as a table cell shows it, before escaping: short, with secrets masked.

    Args:
        value: Any value of a row.

    Returns:
        `""` for None, floats with at most 6 significant digits, datetimes to the second,
        mappings and lists as compact JSON; credentials masked.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dict | list | tuple):
        try:
            text = json.dumps(value, default=str, separators=(",", ":"))
        except (TypeError, ValueError):
            text = str(value)
    else:
        text = str(value)
    return redact(text)


def html_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    caption: str | None = None,
    footer: Sequence[Any] | None = None,
    max_rows: int = MAX_ROWS,
) -> str:
    """An HTML table, every header and cell escaped, at most `max_rows` rows shown.

    Args:
        columns: The header cells.
        rows: The rows, one value per column.
        caption: A line above the table.
        footer: A last row in bold (totals).
        max_rows: Rows shown; the rest are counted in a `... N more` row.

    Returns:
        The `<table>` markup.
    """
    head = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
    body: list[str] = []
    hidden = 0
    for row in rows:
        if len(body) >= max_rows:
            hidden += 1
            continue
        body.append("<tr>" + "".join(f"<td>{escape(cell_text(v))}</td>" for v in row) + "</tr>")
    if hidden:
        body.append(f'<tr><td colspan="{len(columns)}">... {hidden} more</td></tr>')
    if footer is not None:
        cells = "".join(f"<td><b>{escape(cell_text(v))}</b></td>" for v in footer)
        body.append(f"<tr>{cells}</tr>")
    top = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{top}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def key_value_table(pairs: Iterable[tuple[str, Any]], *, caption: str | None = None) -> str:
    """A two-column HTML table of the pairs whose value is not None.

    Args:
        pairs: Names and values.
        caption: A line above the table.

    Returns:
        The `<table>` markup.
    """
    rows = [(k, v) for k, v in pairs if v is not None]
    return html_table(("field", "value"), rows, caption=caption, max_rows=len(rows) or 1)
