"""Issue 11, attack findings F3 and F7: what the log store keeps of bodies, and who can read it.

F3: a stored body is capped (``log_body_max_bytes``, 1 MiB by default), the row says so
(``request_body_complete`` / ``response_body_complete``; ``request_size`` and
``response_size`` stay the real sizes) and the body routes serve the stored prefix; the
bodies of all rows together are bounded (``log_max_body_bytes``, 256 MiB by default): past
it the oldest rows lose their bodies, never the rows. F7: a log database the gateway
creates is readable by its owner only, and an existing one readable by others is warned of.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from langchain_cf_gateway.core.config import ConfigFileWarning
from langchain_cf_gateway.local import LocalGateway, logstore
from langchain_cf_gateway.local.logstore import LogStore
from tests.support.gateway_process import ACCOUNT, MANAGEMENT_TOKEN, GatewayProcess
from tests.support.local_calls import api_error, management

from .logstore_helpers import log_id, logged_rows

MODEL = "@cf/meta/llama-3.1-8b-instruct"
MIB = 1024 * 1024
DEFAULT_BODY_MAX_BYTES = MIB


def echo(gw: LocalGateway, prompt: str) -> httpx.Response:
    """A Workers AI call the mock answers by echoing the prompt (no token needed)."""
    url = f"{gw.base_url}/v1/{gw.account_id}/default/workers-ai/{MODEL}"
    return httpx.post(
        url,
        timeout=120,
        content=json.dumps({"prompt": prompt}).encode(),
        headers={"content-type": "application/json"},
    )


def stored_body_bytes(gw: LocalGateway) -> int:
    store: LogStore = gw._state.logs  # type: ignore[union-attr]
    return int(
        store.run(
            lambda conn: conn.execute(
                "SELECT coalesce(sum(coalesce(length(request_body), 0) "
                "+ coalesce(length(response_body), 0)), 0) FROM logs"
            ).fetchone()[0]
        )
    )


def test_defaults_are_documented_bounds() -> None:
    assert logstore.DEFAULT_BODY_MAX_BYTES == MIB
    assert logstore.DEFAULT_MAX_BODY_BYTES == 256 * MIB


def test_a_20_mb_echo_request_stores_at_most_the_cap_and_says_so() -> None:
    prompt = "x" * (20 * 1024 * 1024)
    with LocalGateway() as gw:
        answer = echo(gw, prompt)
        assert answer.status_code == 200, answer.text[:300]
        ident = log_id(answer)
        sent = json.dumps({"prompt": prompt}).encode()

        row = management(gw, "GET", f"gateways/default/logs/{ident}").json()["result"]
        assert row["request_size"] == len(sent)  # the real size
        assert row["response_size"] == len(answer.content)
        assert row["request_body_complete"] is False
        assert row["response_body_complete"] is False

        stored = management(gw, "GET", f"gateways/default/logs/{ident}/request")
        assert stored.status_code == 200
        assert 0 < len(stored.content) <= DEFAULT_BODY_MAX_BYTES
        assert sent.startswith(stored.content)  # the prefix of what was sent
        stored = management(gw, "GET", f"gateways/default/logs/{ident}/response")
        assert stored.status_code == 200
        assert 0 < len(stored.content) <= DEFAULT_BODY_MAX_BYTES
        assert answer.content.startswith(stored.content)
        assert stored_body_bytes(gw) <= 2 * DEFAULT_BODY_MAX_BYTES

        small = echo(gw, "hello")
        row = management(gw, "GET", f"gateways/default/logs/{log_id(small)}").json()["result"]
        assert row["request_body_complete"] is True and row["response_body_complete"] is True
        whole = management(gw, "GET", f"gateways/default/logs/{log_id(small)}/request")
        assert whole.content == json.dumps({"prompt": "hello"}).encode()


def test_the_cap_cuts_utf8_text_on_a_character_boundary() -> None:
    with LocalGateway(log_body_max_bytes=1001) as gw:
        answer = echo(gw, "é" * 5000)  # two bytes each, after {"prompt":"
        assert answer.status_code == 200
        stored = management(gw, "GET", f"gateways/default/logs/{log_id(answer)}/request")
        assert 900 < len(stored.content) <= 1001
        stored.content.decode("utf-8")  # no half character at the end


@pytest.fixture(params=["memory", "file"])
def bounded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LocalGateway]:
    path = ":memory:" if request.param == "memory" else str(tmp_path / "logs.db")
    with LocalGateway(
        log_path=path, log_body_max_bytes=64 * 1024, log_max_body_bytes=256 * 1024
    ) as gw:
        yield gw


def test_many_large_requests_keep_the_stored_bodies_under_the_bound(
    bounded: LocalGateway,
) -> None:
    gw = bounded
    ids = []
    for number in range(40):
        answer = echo(gw, f"{number:03d}" + "y" * 200_000)
        assert answer.status_code == 200
        ids.append(log_id(answer))
        assert stored_body_bytes(gw) <= 256 * 1024
    # 40 rows x 2 bodies x 64 KiB = 5 MiB without the bound.
    rows = logged_rows(gw)
    assert set(ids) <= set(rows)  # rows are kept, only bodies go
    newest = management(gw, "GET", f"gateways/default/logs/{ids[-1]}/request")
    assert newest.status_code == 200 and len(newest.content) == 64 * 1024
    oldest = management(gw, "GET", f"gateways/default/logs/{ids[0]}/request")
    status, code = api_error(oldest)
    assert (status, code) == (404, 7002)
    assert "log-max-body-bytes" in oldest.json()["errors"][0]["message"]
    first = rows[ids[0]]
    assert first["request_body_complete"] is False and first["response_body_complete"] is False
    assert first["request_size"] > 200_000  # still the real size


def test_the_file_of_a_bounded_store_stays_small(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    with LocalGateway(
        log_path=str(path), log_body_max_bytes=64 * 1024, log_max_body_bytes=256 * 1024
    ) as gw:
        for number in range(80):
            assert echo(gw, f"{number:03d}" + "z" * 100_000).status_code == 200
    # Unbounded: 80 x 2 x 64 KiB = 10 MiB of bodies. Bounded: 256 KiB plus free pages.
    size = sum(p.stat().st_size for p in tmp_path.iterdir() if p.name.startswith("logs.db"))
    assert size < 3 * 1024 * 1024, size
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM logs").fetchone()[0] == 80


def test_a_new_log_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    old = os.umask(0o022)
    try:
        with LocalGateway(log_path=str(path)) as gw:
            assert echo(gw, "private prompt").status_code == 200
            files = [p for p in tmp_path.iterdir() if p.name.startswith("new.db")]
            assert {p.name for p in files} >= {"new.db", "new.db-wal"}
            for p in files:
                assert stat.S_IMODE(p.stat().st_mode) == 0o600, (p.name, oct(p.stat().st_mode))
    finally:
        os.umask(old)


def test_an_existing_log_database_readable_by_others_is_warned_of(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    sqlite3.connect(path).close()
    path.touch()
    path.chmod(0o644)
    with pytest.warns(ConfigFileWarning, match="chmod 600"):
        LocalGateway(log_path=str(path)).start().stop()
    path.chmod(0o600)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigFileWarning)
        LocalGateway(log_path=str(path)).start().stop()


def test_cf_aig_serve_takes_both_body_bounds_and_creates_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "served.db"
    flags = ("--log-body-max-bytes", "1000", "--log-max-body-bytes", "5000")
    with GatewayProcess(*flags, log_path=path) as gw:
        url = f"{gw.base_url}/v1/{ACCOUNT}/default/workers-ai/{MODEL}"
        api = f"{gw.base_url}/client/v4/accounts/{ACCOUNT}/ai-gateway/gateways/default/logs"
        auth = {"authorization": f"Bearer {MANAGEMENT_TOKEN}"}
        ids = []
        for number in range(10):
            answer = httpx.post(url, json={"prompt": f"{number}" + "w" * 3000}, timeout=30)
            assert answer.status_code == 200
            ids.append(log_id(answer))
        newest = httpx.get(f"{api}/{ids[-1]}/request", headers=auth, timeout=30)
        assert newest.status_code == 200 and len(newest.content) == 1000
        oldest = httpx.get(f"{api}/{ids[0]}/request", headers=auth, timeout=30)
        assert oldest.status_code == 404
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(path) as conn:
        total = conn.execute(
            "SELECT sum(coalesce(length(request_body), 0) + coalesce(length(response_body), 0)),"
            " count(*) FROM logs"
        ).fetchone()
    assert total[0] <= 5000 and total[1] == 10
