"""`cf-aig logs`: the gateway's logs as a readable table.

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
It is never printed. `cf-aig feedback` (`cli_feedback`) shares these options.

Stored values come from clients and upstreams: the table shows them through
`printable`, so that a model name holding an ANSI escape, a carriage return or a
bidi override cannot repaint or reorder the operator's terminal. `--json` escapes them
as JSON does (`\u001b`).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Any, Final

import httpx

from ..core import GatewayConfig, InvalidOptionError, MissingAccountIdError
from ..core.api_client import ENV_API_TOKEN, GatewayClient, LogEntry, LogQuery
from ..core.credentials import mask_urls
from ..core.protocol import LogsApi

PAGE_SIZE: Final = 50
"""Logs asked for per request."""
LOCAL_ACCOUNT_ID: Final = "local"
"""The account id used against a base URL (the local gateway) when none is configured."""
_SINCE: Final = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS: Final = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def configure(parser: argparse.ArgumentParser) -> None:
    """The arguments of `cf-aig logs`."""
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
    add_gateway_arguments(parser)


def add_gateway_arguments(parser: argparse.ArgumentParser) -> None:
    """`--account-id`, `--gateway-id`, `--token`, `--base-url` (shared with feedback)."""
    group = parser.add_argument_group(
        "gateway (default: environment, then the config file; see the README)"
    )
    group.add_argument("--account-id", metavar="ID")
    group.add_argument("--gateway-id", metavar="ID")
    group.add_argument(
        "--token",
        metavar="TOKEN",
        help=f"a Cloudflare API token with 'AI Gateway Read' (default: {ENV_API_TOKEN}, then "
        "the gateway token); prefer the environment: a token on the command line lands "
        "in shell history",
    )
    group.add_argument("--base-url", metavar="URL", help="another host, e.g. a local gateway")


def client_from_args(args: argparse.Namespace) -> GatewayClient:
    """A client resolved like the library's: arguments > environment > config file."""
    settings = {
        "gateway_id": args.gateway_id,
        "token": args.token,
        "base_url": args.base_url,
    }
    try:
        config = GatewayConfig.resolve(account_id=args.account_id, **settings)
    except MissingAccountIdError:
        # The local gateway serves any account id: with a base URL, none is needed.
        config = GatewayConfig.resolve(account_id=LOCAL_ACCOUNT_ID, **settings)
        if config.base_url is None:
            raise
    return GatewayClient(config, api_token=args.token)


def run(args: argparse.Namespace) -> int:
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


def unreachable(client: GatewayClient, exc: httpx.HTTPError) -> int:
    # httpx's message names the URL, never the headers: the token stays out of it.
    message = f"cannot reach the management API at {client.api_base}: {exc}"
    print(
        f"cf-aig: {mask_urls(message)}. "  # a password in --base-url never shows
        "Check --base-url / CLOUDFLARE_AI_GATEWAY_BASE_URL and the network",
        file=sys.stderr,
    )
    return 1


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`30m`, `2h`, `7d`... ago, or an ISO 8601 date (UTC when no zone is given)."""
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
    """The logs as aligned columns; an empty list says so."""
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
    """`text` with every character a terminal would act on shown as an escape instead.

    C0 and C1 controls (ESC, CR, BEL...), DEL, format characters (bidi overrides and
    isolates, zero-width characters) and line or paragraph separators become `\\xNN` or
    `\\uNNNN`; everything else is kept as it is.
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
        cache = "-"  # a failed request was not answered from the cache, nor stored in it
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
