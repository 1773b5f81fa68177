"""The PostgreSQL log store keeps the SQLite store's promises.

A row is committed before its response is sent (two gateway processes on one database,
one killed with kill -9 mid-load: every acknowledged response has its row); `max_rows`
keeps the newest rows; bodies are cut as in SQLite; the schema is created, migrated from
an older version, and a newer one is refused; a database unreachable at start is one line
naming the masked URL and the flag (exit 2); a database lost mid-run gives 503 / 2503,
and the gateway writes again once it is back.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from psycopg_pool import ConnectionPool

from langchain_cf_gateway import GatewayClient
from langchain_cf_gateway.core import Header
from langchain_cf_gateway.core.errors import ConfigError
from langchain_cf_gateway.local import LocalGateway
from langchain_cf_gateway.local.logstore import open_log_store
from langchain_cf_gateway.local.logstore.pg_queries import MIGRATIONS, SCHEMA_VERSION
from tests.integration.reliability.load import run_load
from tests.support.gateway_process import ACCOUNT, MANAGEMENT_TOKEN, GatewayProcess
from tests.support.local_calls import chat_body, compat
from tests.support.postgres import PostgresServer, find_binaries
from tests.support.processes import child_env
from tests.support.rawserver import free_port


def _stored(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT id, event_id FROM logs").fetchall())


def _version(url: str) -> int:
    with psycopg.connect(url) as conn:
        found = conn.execute("SELECT version FROM schema_version").fetchall()
    assert len(found) == 1
    return int(found[0][0])


# --------------------------------------------------------------------------- schema


def test_a_new_database_gets_the_schema(postgres_server: PostgresServer) -> None:
    url = postgres_server.new_database()
    open_log_store(url).close()
    assert _version(url) == SCHEMA_VERSION
    open_log_store(url).close()  # a second start changes nothing
    assert _version(url) == SCHEMA_VERSION


def test_an_older_schema_is_migrated_keeping_its_rows(postgres_server: PostgresServer) -> None:
    url = postgres_server.new_database()
    with psycopg.connect(url, autocommit=True) as conn:  # what version 1 wrote
        for statement in MIGRATIONS[0]:
            conn.execute(statement)
        conn.execute("CREATE TABLE schema_version (version integer NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (1)")
        conn.execute(
            "INSERT INTO logs (id, gateway_id, created_at, data) VALUES "
            "('old-row', 'default', '2026-01-01T00:00:00.000Z', "
            '\'{"id":"old-row","gateway_id":"default","created_at":"2026-01-01T00:00:00.000Z"}\')'
        )
    with LocalGateway(log_store=url) as gw:
        assert compat(gw).status_code == 200
        ids = [r["id"] for r in gw.logs()]
        assert ids[0] == "old-row" and len(ids) == 2
    assert _version(url) == SCHEMA_VERSION == 2
    with psycopg.connect(url) as conn:
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes")}
    assert "logs_gateway" in indexes  # migration 2 ran


def test_a_newer_schema_is_refused(postgres_server: PostgresServer) -> None:
    url = postgres_server.new_database()
    open_log_store(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(ConfigError) as caught:
        open_log_store(url)
    message = str(caught.value)
    assert "schema version 99" in message and f"({SCHEMA_VERSION})" in message
    assert "upgrade langchain-cf-gateway" in message and "--log-store" in message
    assert _version(url) == 99  # left as it was


# --------------------------------------------------------------------------- retention, bodies


def test_max_rows_keeps_the_newest(postgres_server: PostgresServer) -> None:
    url = postgres_server.new_database()
    with LocalGateway(log_store=url, log_max_rows=5) as gw:
        for n in range(8):
            assert compat(gw, headers={Header.EVENT_ID: f"e{n}"}).status_code == 200
        assert [r["event_id"] for r in gw.logs()] == [f"e{n}" for n in range(3, 8)]
    assert sorted(_stored(url).values()) == [f"e{n}" for n in range(3, 8)]


def test_bodies_are_cut_as_in_sqlite(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    stores = [
        str(tmp_path_factory.mktemp("bodies") / "logs.sqlite"),
        postgres_server.new_database(),
    ]
    seen = []
    for store in stores:
        with LocalGateway(log_store=store, log_body_max_bytes=40) as gw:
            compat(gw, chat_body(messages=[{"role": "user", "content": "\u00e9" * 60}]))
            [row] = gw.logs()
            with GatewayClient(gw.config(), api_token=gw.management_token) as client:
                body = client.get_log_request(row["id"])
            seen.append((row["request_body_complete"], row["request_size"], body))
    assert seen[0] == seen[1]
    assert seen[0][0] is False and seen[0][1] > 40


# --------------------------------------------------------------------------- outages


def test_unreachable_at_start_is_one_line_naming_the_masked_url() -> None:
    url = f"postgresql://cf:s3cret-pw@127.0.0.1:{free_port()}/logs"
    done = subprocess.run(
        [sys.executable, "-m", "langchain_cf_gateway.cli", "serve", "--port", "0",
         "--log-store", url],
        capture_output=True, text=True, timeout=60, env=child_env(), check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"postgresql://cf:***@127.0.0.1:{url.split(':')[3].split('/')[0]}/logs" in lines[0]
    assert "--log-store" in lines[0]
    assert "s3cret-pw" not in done.stderr + done.stdout


@pytest.fixture
def own_server() -> Iterator[PostgresServer]:
    """A PostgreSQL of this test's own: it is stopped and started again."""
    binaries = find_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; .ci/run does)")
    server = PostgresServer(binaries)
    try:
        yield server.init()
    finally:
        server.remove()


def test_database_lost_mid_run_gives_2503_then_recovers(own_server: PostgresServer) -> None:
    url = own_server.new_database()
    with LocalGateway(log_store=url, log_commit_timeout=1.0) as gw:
        assert compat(gw).status_code == 200
        own_server.stop("immediate")
        lost = compat(gw, headers={Header.EVENT_ID: "during-outage"})
        assert lost.status_code == 503
        assert lost.json()["error"][0]["code"] == 2503
        own_server.start()
        deadline = time.monotonic() + 60
        while True:  # the pool connects again; requests are served and logged
            response = compat(gw, headers={Header.EVENT_ID: "after"})
            if response.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert response.status_code == 200
        rows = {r["event_id"]: r for r in gw.logs()}
    assert rows["during-outage"]["status_code"] == 503
    assert rows["during-outage"]["log_store_unavailable"] is True
    assert rows["after"]["status_code"] == 200


def _warnings(caplog: pytest.LogCaptureFixture, logger: str, start: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == logger and r.levelname == "WARNING" and r.getMessage().startswith(start)
    ]


def test_an_outage_is_two_warnings_not_one_per_reconnect_attempt(
    own_server: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    url = own_server.new_database()
    with LocalGateway(log_store=url, log_commit_timeout=1.0) as gw:
        assert compat(gw).status_code == 200
        own_server.stop("immediate")
        for _ in range(3):  # the pool tries to connect again meanwhile, with back-off
            assert compat(gw).status_code == 503
        own_server.start()
        deadline = time.monotonic() + 60
        while compat(gw).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert compat(gw).status_code == 200
    store = "langchain_cf_gateway.local.logstore"
    assert len(_warnings(caplog, store, "cf-aig log store: cannot write to")) == 1
    assert len(_warnings(caplog, store, "cf-aig log store: writing to")) == 1
    assert _warnings(caplog, "psycopg.pool", "error connecting in 'cf-aig-logstore'") == []
    # Another pool of the process keeps its own records.
    other = ConnectionPool(
        f"postgresql://127.0.0.1:{free_port()}/none", name="other", min_size=1, open=False
    )
    other.open(wait=False)
    deadline = time.monotonic() + 30
    while not _warnings(caplog, "psycopg.pool", "error connecting in 'other'"):
        assert time.monotonic() < deadline, "no warning of the other pool"
        time.sleep(0.1)
    other.close()


def test_reads_during_an_outage_say_the_store_cannot_be_read(
    own_server: PostgresServer,
) -> None:
    url = own_server.new_database()
    with LocalGateway(log_store=url, log_commit_timeout=1.0) as gw:
        log_id = compat(gw).headers[Header.LOG_ID]
        own_server.stop("immediate")
        logs = f"{gw.base_url}/client/v4/accounts/{gw.account_id}/ai-gateway/gateways/default/logs"
        auth = {"authorization": f"Bearer {gw.management_token}"}
        with httpx.Client(headers=auth, timeout=30) as client:
            reads = [
                client.get(logs),
                client.get(f"{logs}/{log_id}"),
                client.get(f"{logs}/{log_id}/request"),
            ]
            write = client.patch(f"{logs}/{log_id}", json={"feedback": 1})
    for answer in [*reads, write]:
        assert (answer.status_code, answer.json()["errors"][0]["code"]) == (503, 2503)
    for read in reads:
        message = read.json()["errors"][0]["message"]
        assert message.startswith("the log store cannot be read now ("), message
        assert message.endswith("); try again"), message
    message = write.json()["errors"][0]["message"]
    assert message.startswith("the log store cannot be written now ("), message
    assert message.endswith("); nothing was changed, try again"), message


# --------------------------------------------------------------------------- many writers


def test_two_gateway_processes_one_log(postgres_server: PostgresServer) -> None:
    url = postgres_server.new_database()
    with (
        GatewayProcess("--log-store", url) as first,
        GatewayProcess("--log-store", url) as second,
    ):
        reports = asyncio.run(_load_both(first.base_url, second.base_url, 150))
    acked = {**reports[0].acked, **reports[1].acked}
    assert len(acked) == 300 and not reports[0].errors and not reports[1].errors
    stored = _stored(url)
    assert [i for i in acked if i not in stored] == []
    assert all(stored[i] == event for i, (event, _) in acked.items())


async def _load_both(first: str, second: str, each: int) -> list[object]:
    return list(
        await asyncio.gather(
            run_load(first, ACCOUNT, each, concurrency=20),
            run_load(second, ACCOUNT, each, concurrency=20),
        )
    )


def test_kill_9_mid_load_loses_no_acknowledged_row(postgres_server: PostgresServer) -> None:
    url = postgres_server.new_database()
    survivor = GatewayProcess("--log-store", url).start()
    victim = GatewayProcess("--log-store", url).start()
    try:
        other = threading.Thread(
            target=lambda: results.append(
                asyncio.run(run_load(survivor.base_url, ACCOUNT, 200, concurrency=10))
            )
        )
        results: list[object] = []
        other.start()
        killed = asyncio.run(
            run_load(
                victim.base_url, ACCOUNT, 100_000, concurrency=40, kill_after=150, kill=victim.kill
            )
        )
        other.join(timeout=120)
    finally:
        victim.stop()
        survivor.stop()
    assert len(killed.acked) >= 150  # the kill came mid-load, with requests in flight
    stored = _stored(url)
    missing = [i for i in killed.acked if i not in stored]
    assert missing == []
    [steady] = results
    assert len(steady.acked) == 200  # type: ignore[attr-defined]
    assert all(i in stored for i in steady.acked)  # type: ignore[attr-defined]
    with GatewayProcess("--log-store", url) as again:  # a restart serves every row
        listed = httpx.get(
            f"{again.base_url}/client/v4/accounts/{ACCOUNT}/ai-gateway/gateways/default/logs",
            params={"per_page": 1},
            headers={"authorization": f"Bearer {MANAGEMENT_TOKEN}"},
        ).json()
    assert listed["result_info"]["total_count"] == len(stored)
