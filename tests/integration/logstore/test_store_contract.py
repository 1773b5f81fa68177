"""The logs API gives the same result on SQLite and PostgreSQL.

Two gateways, one per store, get the same requests at the same (injected) times; each
request is tagged `metadata.n`. Every query of the logs API (list with every filter key
and operator, orders, pages, search, date and number bounds, totals; get; patch; delete
by filter and by limit) goes through `GatewayClient` (or plain HTTP where the client has
no keyword) to both, and must give the same rows in the same order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from langchain_cf_gateway import GatewayClient
from langchain_cf_gateway.core import Header
from langchain_cf_gateway.core.errors import GatewayError
from langchain_cf_gateway.core.protocol import LogsApi
from langchain_cf_gateway.local import LocalGateway
from langchain_cf_gateway.local.clock import Clock
from tests.support.local_calls import chat_body, compat, management
from tests.support.postgres import PostgresServer

START = 1_780_000_000.0
MODELS = ("openai/gpt-4o-mini", "anthropic/claude-3-5-haiku", "openai/gpt-4o")
VOLATILE = frozenset(("id", "duration", "request_id"))
"""Fields that differ between two runs of the same request (ids, timings)."""


def _requests(gw: LocalGateway, clock: Clock) -> None:
    """The same 14 requests, at the same times, on either gateway."""
    for n in range(14):
        clock.advance(1.5 if n % 3 else 0.25)
        model = MODELS[n % 3]
        if n == 9:
            model += "~status=503"
        headers = {
            Header.METADATA: json.dumps(
                {"n": n, "team": ["red", "blue", "Green"][n % 3], "vip": n % 4 == 0, "w": n / 4}
            ),
            Header.EVENT_ID: f"event-{n % 5}",
        }
        if n in (5, 6):
            headers[Header.CACHE_TTL] = "60"  # 6 hits 5's entry
            model = MODELS[0]
        if n in (2, 11):
            headers[Header.CUSTOM_COST] = json.dumps(
                {"per_token_in": 0.5 + n, "per_token_out": 1.25}
            )
        body = chat_body(model) if n != 12 else chat_body(model, max_tokens=3)
        compat(gw, body, headers)


@pytest.fixture(scope="module")
def gateways(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[LocalGateway]]:
    folder: Path = tmp_path_factory.mktemp("contract")
    clocks = [Clock(lambda: START), Clock(lambda: START)]
    stores = [f"sqlite:///{folder / 'logs.sqlite'}", postgres_server.new_database()]
    with (
        LocalGateway(log_store=stores[0], clock=clocks[0]) as lite,
        LocalGateway(log_store=stores[1], clock=clocks[1]) as pg,
    ):
        for gw, clock in ((lite, clocks[0]), (pg, clocks[1])):
            _requests(gw, clock)
        yield [lite, pg]


def _stable(row: Any) -> dict[str, Any]:
    data = row if isinstance(row, dict) else row.model_dump(mode="json")
    stable = {k: v for k, v in data.items() if k not in VOLATILE}
    head = stable.get("request_head")
    if isinstance(head, str):
        head = json.loads(head)
    if isinstance(head, dict):  # each gateway has its own port
        stable["request_head"] = {k: v for k, v in head.items() if k != "host"}
    return stable


def _both(gateways: list[LocalGateway], call: Any) -> list[Any]:
    """`call(client)` on each gateway: its result, or the error it raised."""
    out = []
    for gw in gateways:
        with GatewayClient(gw.config(), api_token=gw.management_token) as client:
            try:
                out.append(call(client))
            except (GatewayError, ValueError) as exc:
                out.append(f"{type(exc).__name__}: {exc}")
    return out


def _tags(page: Any) -> Any:
    if isinstance(page, str):
        return page
    return [json.loads(e.metadata)["n"] if isinstance(e.metadata, str) else e.metadata["n"]
            for e in page]  # fmt: skip


def test_the_stores_hold_the_same_rows(gateways: list[LocalGateway]) -> None:
    lite, pg = ([_stable(r) for r in gw.logs()] for gw in gateways)
    assert len(lite) == 14
    assert lite == pg
    assert {r["status_code"] for r in lite} == {200, 503}
    assert [r["cached"] for r in lite].count(True) == 1


@pytest.mark.parametrize("order_by", LogsApi.ORDER_BY)
@pytest.mark.parametrize("direction", LogsApi.ORDER_DIRECTIONS)
def test_orders_and_pages(gateways: list[LocalGateway], order_by: str, direction: str) -> None:
    for page in (1, 2, 3):
        found = _both(
            gateways,
            lambda c, page=page: c.list_logs(
                order_by=order_by, order_by_direction=direction, page=page, per_page=5
            ),
        )
        assert _tags(found[0]) == _tags(found[1])
        assert found[0].result_info.total_count == found[1].result_info.total_count == 14


def _value(gw: LocalGateway, key: str, at: int = 7) -> Any:
    """A value of `key` from the stored rows (row `at`), as a filter takes it."""
    rows = gw.logs()
    if key == "metadata.key":
        return ["team", "w"][at % 2]
    if key == "metadata.value":
        return ["blue", 1, True, 0.5][at % 4]
    if key == "tokens":
        row = rows[at]
        return (row.get("tokens_in") or 0) + (row.get("tokens_out") or 0)
    value = rows[at].get(key)
    if value is None:
        value = next((r.get(key) for r in rows if r.get(key) is not None), "x")
    if key == "created_at":
        return value
    return value


@pytest.mark.parametrize("operator", LogsApi.FILTER_OPERATORS)
@pytest.mark.parametrize("key", LogsApi.FILTER_KEYS)
def test_every_filter_key_and_operator(
    gateways: list[LocalGateway], key: str, operator: str
) -> None:
    for rows in ((7,), (2, 11), (4,), (9,), (13, 1)):
        found = []
        for gw in gateways:  # each store's own value: log ids differ
            values = [_value(gw, key, at) for at in rows]
            if operator == "contains":
                values = [v[1:-1] if isinstance(v, str) and len(v) > 3 else v for v in values]
            flt = [{"key": key, "operator": operator, "value": values}]
            found += _both([gw], lambda c, flt=flt: c.list_logs(filters=flt, per_page=50))
        if key == "duration":  # real timings, each store its own: each against its rows
            for gw, page in zip(gateways, found, strict=True):
                assert _tags(page) == _durations(gw, operator, flt[0]["value"])
            continue
        assert _tags(found[0]) == _tags(found[1]), (key, operator, flt)


def _durations(gw: LocalGateway, operator: str, values: list[Any]) -> list[int]:
    """The rows a `duration` filter selects, newest first, computed here."""

    def match(duration: int, value: int) -> bool:
        if operator == "contains":
            return str(value) in str(duration)
        return {
            "eq": duration == value,
            "neq": duration != value,
            "lt": duration < value,
            "gt": duration > value,
        }[operator]

    rows = reversed(gw.logs())
    return [r["metadata"]["n"] for r in rows if any(match(r["duration"], v) for v in values)]


@pytest.mark.parametrize(
    "query",
    [
        "search=claude",
        "search=GREEN",
        "min_tokens_in=1&max_tokens_out=30",
        "min_cost=0.0001",
        "max_total_tokens=20&order_by=model&order_by_direction=desc",
        "meta_info=true&min_duration=0",
        "start_date=2026-05-28T20:26:45Z&end_date=2026-05-28T20:26:50Z",
        "model=gpt-4o&cached=false&success=true",
        "provider=anthropic&order_by=created_at&order_by_direction=desc",
    ],
)
def test_query_parameters_and_totals(gateways: list[LocalGateway], query: str) -> None:
    found = [
        management(gw, "GET", f"gateways/{gw.gateway_id}/logs?{query}&per_page=50").json()
        for gw in gateways
    ]
    assert [_stable(r) for r in found[0]["result"]] == [_stable(r) for r in found[1]["result"]]
    assert found[0]["result"], "each query matches some rows"
    for info in found:
        info["result_info"] = {k: v for k, v in info["result_info"].items() if "duration" not in k}
    assert found[0]["result_info"] == found[1]["result_info"]


def test_get_patch_and_bodies(gateways: list[LocalGateway]) -> None:
    ids = [gw.logs()[4]["id"] for gw in gateways]
    for gw, log_id in zip(gateways, ids, strict=True):
        with GatewayClient(gw.config(), api_token=gw.management_token) as client:
            client.update_log(log_id, feedback=1, score=87.5, metadata={"n": 4, "k": "v\u00e9"})
    rows = [
        _both([gw], lambda c, log_id=log_id: c.get_log(log_id))[0]
        for gw, log_id in zip(gateways, ids, strict=True)
    ]
    assert _stable(rows[0]) == _stable(rows[1])
    assert rows[0].feedback == 1
    bodies = [
        _both(
            [gw], lambda c, log_id=log_id: (c.get_log_request(log_id), c.get_log_response(log_id))
        )[0]
        for gw, log_id in zip(gateways, ids, strict=True)
    ]
    assert bodies[0][0] == bodies[1][0]
    assert bodies[0][1]["choices"] == bodies[1][1]["choices"]
    missing = _both(gateways, lambda c: c.get_log("0190a000-0000-7000-8000-000000000000"))
    assert missing[0] == missing[1]
    assert isinstance(missing[0], str)
    # feedback now sorts and filters the same
    found = _both(gateways, lambda c: c.list_logs(feedback=1))
    assert _tags(found[0]) == _tags(found[1]) == [4]


def test_delete_by_filter_then_by_limit_and_order(gateways: list[LocalGateway]) -> None:
    counts = _both(
        gateways,
        lambda c: c.delete_logs(
            filters=[{"key": "model", "operator": "contains", "value": ["claude"]}]
        ),
    )
    assert counts[0] == counts[1] >= 1
    counts = _both(
        gateways, lambda c: c.delete_logs(limit=3, order_by="cost", order_by_direction="desc")
    )
    assert counts[0] == counts[1] == 3
    counts = _both(gateways, lambda c: c.delete_logs(limit=2, order_by="tokens_out"))
    assert counts[0] == counts[1] == 2
    left = _both(gateways, lambda c: c.list_logs(per_page=50, order_by_direction="asc"))
    assert _tags(left[0]) == _tags(left[1])
    assert len(_tags(left[0])) >= 1
    refused = _both(
        gateways,
        lambda c: c.delete_logs(filters=[{"key": "nope", "operator": "eq", "value": ["x"]}]),
    )
    assert refused[0] == refused[1]
