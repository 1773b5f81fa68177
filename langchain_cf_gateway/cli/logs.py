r"""`cf-aig logs`: the gateway's logs as a readable table.

They come from Cloudflare's management API:
https://developers.cloudflare.com/api/resources/ai_gateway/

```text
cf-aig logs [--limit N] [--cached | --no-cached] [--success | --no-success]
            [--provider SLUG] [--model NAME] [--event-id ID] [--since 1h|ISO-DATE]
            [--order desc|asc] [--json]
            [--account-id ID] [--gateway-id ID] [--token TOKEN] [--base-url URL]
```

The gateway is resolved as the library resolves it (arguments > environment > config
file); the token is `--token`, else `CLOUDFLARE_API_TOKEN`, else the gateway token.
It is never printed. `cf-aig feedback` shares these flags (`cli.arguments`).

Stored values come from clients and upstreams: the table shows them through
`printable`, so that a model name holding an ANSI escape, a carriage return or a
bidi override cannot repaint or reorder the operator's terminal. `--json` escapes them
as JSON does (`\u001b`).
"""

from __future__ import annotations

import argparse
import json
import re
import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Any, Final

import httpx

from ..core import InvalidOptionError
from ..core.protocol import LogsApi
from ..management import LogEntry, LogQuery
from .arguments import (
    MANAGEMENT_TOKEN_HELP,
    add_gateway_arguments,
    client_from_args,
    unreachable,
)

PAGE_SIZE: Final = 50
"""Logs asked for per request."""
_SINCE: Final = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS: Final = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of `cf-aig logs` to `parser`.

    Args:
        parser: The subcommand's parser.
    """
    parser.description = "List the gateway's logs, newest first, as a table."
    parser.add_argument(
        "--limit", type=int, default=20, metavar="N", help="at most N logs (default 20)"
    )
    parser.add_argument(
        "--cached",
        action=argparse.BooleanOptionalAction,
        help="only cache hits (--cached) or only misses (--no-cached)",
    )
    parser.add_argument(
        "--success",
        action=argparse.BooleanOptionalAction,
        help="only successful (--success) or only failed (--no-success) requests",
    )
    parser.add_argument("--provider", metavar="SLUG", help="e.g. openai, workers-ai")
    parser.add_argument("--model", metavar="NAME", help="e.g. gpt-4o-mini")
    parser.add_argument("--event-id", metavar="ID", help="the cf-aig-event-id you sent")
    parser.add_argument(
        "--since",
        metavar="AGE|DATE",
        help="only logs newer than 30m, 2h, 7d... or an ISO date such as 2026-11-23T10:00Z",
    )
    parser.add_argument(
        "--order",
        choices=LogsApi.ORDER_DIRECTIONS,
        default="desc",
        help="by creation time: desc (newest first, default) or asc",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    add_gateway_arguments(parser, token_help=MANAGEMENT_TOKEN_HELP)


def run(args: argparse.Namespace) -> int:
    """List the logs the flags select, as a table or as JSON lines.

    Args:
        args: The parsed command line.

    Returns:
        0 when listed; 1 when the management API cannot be reached.

    Raises:
        InvalidOptionError: `--limit` below 1.
    """
    if args.limit < 1:
        raise InvalidOptionError("--limit", f"must be 1 or more; got {args.limit}")
    query: LogQuery = {"order_by": "created_at", "order_by_direction": args.order}
    if args.cached is not None:
        query["cached"] = args.cached
    if args.success is not None:
        query["success"] = args.success
    if args.provider:
        query["provider"] = args.provider
    if args.model:
        query["model"] = args.model
    if args.event_id:
        query["event_id"] = args.event_id
    if args.since:
        query["start_date"] = parse_since(args.since)
    with client_from_args(args) as client:
        try:
            per_page = min(args.limit, PAGE_SIZE)
            page = client.list_logs(per_page=per_page, **query)
            entries, total = list(page.result), page.result_info.total_count
            while len(entries) < args.limit and page.has_more and page.result:
                page = client.list_logs(
                    page=(page.result_info.page or 1) + 1, per_page=per_page, **query
                )
                entries.extend(page.result)
            entries = entries[: args.limit]
        except httpx.HTTPError as exc:
            return unreachable(client, exc)
    if args.json:
        for entry in entries:
            print(json.dumps(entry.model_dump(mode="json"), sort_keys=True))
        return 0
    print(render_table(entries))
    shown = f"{len(entries)} log{'s' if len(entries) != 1 else ''}"
    if total is not None and total > len(entries):
        shown += f" of {total} (raise --limit for more)"
    print(f"{shown} in gateway {client.config.gateway_id!r}")
    return 0


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """The moment `--since` names: `30m`, `2h`, `7d`... ago, or an ISO 8601 date.

    Args:
        text: The value of `--since`.
        now: The present (default: the clock's).

    Returns:
        An aware datetime; a date without a zone is read as UTC.

    Raises:
        InvalidOptionError: Neither an age nor an ISO date.
    """
    now = now or datetime.now(timezone.utc)
    match = _SINCE.match(text.strip().lower())
    if match:
        amount, unit = int(match[1]), match[2]
        return now - timedelta(**{_UNITS[unit]: amount})
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidOptionError(
            "--since",
            f"write an age such as 30m, 2h or 7d, or an ISO date such as "
            f"2026-11-23T10:00:00Z; got {text!r}",
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


_COLUMNS: Final = (
    "CREATED (UTC)",
    "LOG ID",
    "MODEL",
    "STATUS",
    "CACHE",
    "TOKENS",
    "COST",
    "MS",
    "FB",
)


def render_table(entries: list[LogEntry]) -> str:
    """The logs as aligned columns; an empty list says so.

    Args:
        entries: The logs, in the order to show them.

    Returns:
        The table, one line per log under a header line; each cell through `printable`.
    """
    if not entries:
        return "No logs match."
    rows = [_COLUMNS, *(_row(e) for e in entries)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    numeric = {"TOKENS", "COST", "MS"}
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if _COLUMNS[i] in numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def printable(text: str) -> str:
    r"""`text` with every character a terminal would act on shown as an escape instead.

    C0 and C1 controls (ESC, CR, BEL...), DEL, format characters (bidi overrides and
    isolates, zero-width characters) and line or paragraph separators become `\xNN` or
    `\uNNNN`; everything else is kept as it is.

    Args:
        text: A value stored by a client or an upstream.

    Returns:
        The text, safe to write to a terminal.
    """
    if text.isprintable():  # the common case: nothing to escape
        return text
    return "".join(_ESCAPES.get(c) or _escape(c) for c in text)


_ESCAPES: Final = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
_UNSAFE: Final = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"))


def _escape(char: str) -> str:
    if unicodedata.category(char) not in _UNSAFE:
        return char
    code = ord(char)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def _row(entry: LogEntry) -> tuple[str, ...]:
    return tuple(printable(cell) for cell in _cells(entry))


def _cells(entry: LogEntry) -> tuple[str, ...]:
    created = (
        entry.created_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        if entry.created_at
        else "-"
    )
    model = "/".join(p for p in (entry.provider, entry.model) if p) or "-"
    if entry.success is None:
        status = str(entry.status_code or "-")
    else:
        status = f"{'ok' if entry.success else 'FAIL'}"
        if entry.status_code:
            status += f" {entry.status_code}"
    cache = "HIT" if entry.cached else "MISS"
    if entry.cached is None or entry.success is False:
        cache = "-"  # a failed request's response neither came from the cache nor went in
    tokens = f"{entry.tokens_in or 0}/{entry.tokens_out or 0}"
    cost = f"${entry.cost:.6f}" if entry.cost is not None else "-"
    duration = _number(entry.duration)
    feedback = {1.0: "+1", -1.0: "-1"}.get(entry.feedback or 0, "")  # feedback is a number
    if entry.score is not None:
        feedback = f"{feedback} {_number(entry.score)}".strip()
    return (created, entry.id, model, status, cache, tokens, cost, duration, feedback)


def _number(value: Any) -> str:
    if value is None:
        return "-"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
