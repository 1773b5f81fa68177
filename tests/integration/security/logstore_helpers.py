"""Shared pieces of the log store's adversarial tests: strict JSON, rows, a held lock."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.local import LocalGateway
from tests.support.local_calls import gateway_error, management

LOG_STORE_UNAVAILABLE = 2503
"""The code of the 503 a request gets when its row cannot be committed in time."""


def _refuse_constant(name: str) -> Any:
    raise AssertionError(f"non-strict JSON: {name} in a gateway answer")


def strict_json(response: httpx.Response) -> Any:
    """The body as strict JSON: no NaN/Infinity, every string encodable as UTF-8."""
    data = json.loads(response.content, parse_constant=_refuse_constant)

    def walk(value: Any) -> None:
        if isinstance(value, str):
            value.encode("utf-8")  # a lone surrogate raises here
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    return data


def every_row(page: Callable[[int], httpx.Response]) -> dict[str, dict[str, Any]]:
    """Every row a logs listing returns, by id, page by page (``per_page`` is at most 50,
    as in Cloudflare's API schema), each page read as strict JSON."""
    rows: dict[str, dict[str, Any]] = {}
    for number in range(1, 1000):
        answer = page(number)
        assert answer.status_code == 200, answer.text
        result = strict_json(answer)["result"]
        rows.update((row["id"], row) for row in result)
        if len(result) < 50:
            break
    return rows


def logged_rows(gw: LocalGateway) -> dict[str, dict[str, Any]]:
    """Every row of the default gateway, by id, through the logs API (strict JSON)."""
    return every_row(
        lambda number: management(
            gw, "GET", f"gateways/default/logs?per_page=50&page={number}&order_by_direction=asc"
        )
    )


def log_id(response: httpx.Response) -> str:
    value = response.headers.get(Header.LOG_ID)
    assert value, f"no {Header.LOG_ID} on the answer: {response.status_code} {response.text}"
    return value


def assert_store_unavailable(response: httpx.Response) -> None:
    """The 503 of a row that could not be committed in time, in the gateway's error shape."""
    strict_json(response)
    status, code, message = gateway_error(response)
    assert (status, code) == (503, LOG_STORE_UNAVAILABLE), response.text
    assert "log" in message.lower()


@contextmanager
def database_locked(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holds the write lock (``BEGIN EXCLUSIVE``) until the block ends."""
    holder = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        yield holder  # the block may end the lock itself (ROLLBACK), from any thread
        if holder.in_transaction:
            holder.execute("ROLLBACK")
    finally:
        holder.close()
