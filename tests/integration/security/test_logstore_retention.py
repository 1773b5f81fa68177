"""Issue 11, item 7: log retention is bounded by default, as Cloudflare's is.

Cloudflare's Legacy Logs keep 100,000 logs per account on the free plan and can delete
the oldest when the limit is reached
(https://developers.cloudflare.com/ai-gateway/reference/limits/); the local store keeps
at most 100,000 rows by default, the oldest deleted first, and ``--log-max-rows`` /
``LocalGateway(log_max_rows=...)`` changes the bound.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from langchain_cf_gateway.local import LocalGateway
from langchain_cf_gateway.local.logstore import LogStore
from tests.support.gateway_process import ACCOUNT, MANAGEMENT_TOKEN, GatewayProcess
from tests.support.local_calls import chat_body, compat

from .logstore_helpers import log_id, logged_rows, strict_json


def _ids(store: LogStore) -> list[str]:
    return store.run(lambda conn: [r[0] for r in conn.execute("SELECT id FROM logs ORDER BY seq")])


def test_the_store_keeps_100000_rows_by_default_and_deletes_the_oldest() -> None:
    store = LogStore()
    try:
        for i in range(100_010):
            store.add({"id": f"row-{i}", "gateway_id": "default", "created_at": "2026-11-30"})
        ids = _ids(store)
    finally:
        store.close()
    assert len(ids) == 100_000
    assert ids[0] == "row-10" and ids[-1] == "row-100009"


def test_the_oldest_rows_go_beyond_a_configured_bound() -> None:
    with LocalGateway(log_max_rows=5) as gw:
        sent = [log_id(compat(gw, chat_body())) for _ in range(8)]
        assert list(logged_rows(gw)) == sent[3:]


def test_a_file_store_applies_its_bound_to_the_rows_it_finds(tmp_path: Path) -> None:
    db = str(tmp_path / "logs.sqlite")
    with LocalGateway(log_path=db, log_max_rows=10) as gw:
        sent = [log_id(compat(gw, chat_body())) for _ in range(6)]
        assert list(logged_rows(gw)) == sent
    with LocalGateway(log_path=db, log_max_rows=3) as gw:
        sent.append(log_id(compat(gw, chat_body())))
        assert list(logged_rows(gw)) == sent[-3:]


def test_zero_keeps_every_row() -> None:
    store = LogStore(max_rows=0)
    try:
        for i in range(30):
            store.add({"id": f"row-{i}", "gateway_id": "default", "created_at": "2026-11-30"})
        assert len(_ids(store)) == 30
    finally:
        store.close()


def test_cf_aig_serve_takes_the_bound_from_log_max_rows(tmp_path: Path) -> None:
    with GatewayProcess("--log-max-rows", "3", log_path=tmp_path / "logs.sqlite") as gw:
        url = f"{gw.base_url}/v1/{ACCOUNT}/default/compat/chat/completions"
        with httpx.Client(timeout=20) as http:
            sent = [log_id(http.post(url, json=chat_body())) for _ in range(5)]
            rows = http.get(
                f"{gw.base_url}/client/v4/accounts/{ACCOUNT}/ai-gateway/gateways/default/logs"
                "?order_by_direction=asc",
                headers={"authorization": f"Bearer {MANAGEMENT_TOKEN}"},
            )
    assert [row["id"] for row in strict_json(rows)["result"]] == sent[-3:]
