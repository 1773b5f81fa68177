"""Issue 11, item 2: no request, upstream or disk fault stops the log store.

Each trigger seen (a lone surrogate in a model, a step endpoint or metadata; a non-finite
custom cost; an upstream's ``usage.prompt_tokens`` of 10**30; another process holding the
database locked; a full disk) is sent as a user or an upstream would send it. Every test
then checks what a user sees: the answer (never a hang: every HTTP call has a timeout),
the 503 in the gateway's error shape while a file store cannot commit, the rows in the
logs API afterwards (strict JSON), and the operator's one warning per outage.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.local import LocalGateway, PassThrough
from langchain_cf_gateway.local.logstore import LogStore
from tests.support.gateway_process import ACCOUNT, MANAGEMENT_TOKEN, GatewayProcess
from tests.support.local_calls import HELLO, chat_body, compat, management
from tests.support.rawserver import Act, MisbehavingServer, completion

from .logstore_helpers import (
    assert_store_unavailable,
    database_locked,
    every_row,
    log_id,
    logged_rows,
)

http = httpx.Client(timeout=20)
STORE_LOGGER = "langchain_cf_gateway.local.logstore"


@pytest.fixture(scope="module")
def upstream() -> Iterator[MisbehavingServer]:
    """A pass-through upstream that answers every request properly."""
    with MisbehavingServer() as server:
        server.echo = True
        yield server


@pytest.fixture(params=["file", "memory"])
def gateway(
    request: pytest.FixtureRequest, tmp_path: Path, upstream: MisbehavingServer
) -> Iterator[LocalGateway]:
    """A gateway with its log store in a file (answers wait for the commit) or in memory,
    ``mistral`` forwarded to a real upstream (its model names reach the log as sent), the
    other providers answered by the mock."""
    path = str(tmp_path / "logs.sqlite") if request.param == "file" else ":memory:"
    targets = {"mistral": PassThrough(f"{upstream.base_url}/v1")}
    with LocalGateway(log_path=path, upstreams=targets) as gw:
        yield gw


def _raw_post(gw: LocalGateway, path: str, text: str, **headers: str) -> httpx.Response:
    """POST a JSON text as is (so that escapes such as \\ud800 reach the gateway verbatim)."""
    return http.post(
        f"{gw.base_url}/v1/{gw.account_id}/default{path}",
        content=text.encode(),
        headers={"content-type": "application/json", **headers},
    )


def _assert_clean(row: dict[str, Any]) -> None:
    """No value of a stored row is unstorable (strict_json already refused the rest)."""
    for value in row.values():
        if isinstance(value, float):
            assert math.isfinite(value), row
        if isinstance(value, int) and not isinstance(value, bool):
            assert -(2**63) <= value < 2**63, row


def _then_logging_still_works(gw: LocalGateway, *earlier: str) -> dict[str, dict[str, Any]]:
    """A normal request after the fault is answered and logged, with the earlier rows."""
    answer = compat(gw, chat_body())
    assert answer.status_code == 200, answer.text
    rows = logged_rows(gw)
    assert log_id(answer) in rows
    for earlier_id in earlier:
        assert earlier_id in rows, f"the row of {earlier_id} is missing"
        _assert_clean(rows[earlier_id])
    return rows


BAD_REQUESTS = {
    "surrogate in a step endpoint": (
        "",
        '[{"provider":"openai","endpoint":"\\ud800","query":{}}]',
        {},
    ),
    "surrogate in a compat model": (
        "/compat/chat/completions",
        '{"model":"mistral/\\ud800","messages":[{"role":"user","content":"hi"}]}',
        {},
    ),
    "surrogate in metadata": (
        "/compat/chat/completions",
        json.dumps(chat_body()),
        {Header.METADATA: '{"user":"\\udfff"}'},
    ),
    "non-finite custom cost": (
        "/compat/chat/completions",
        json.dumps(chat_body()),
        {Header.CUSTOM_COST: '{"total_cost":1e309}'},
    ),
}


@pytest.mark.parametrize("trigger", list(BAD_REQUESTS))
def test_a_bad_value_in_a_request_never_stops_the_log_store(
    gateway: LocalGateway, trigger: str
) -> None:
    path, text, headers = BAD_REQUESTS[trigger]
    bad = _raw_post(gateway, path, text, **headers)
    assert bad.status_code < 500 or bad.status_code == 502, bad.text
    rows = _then_logging_still_works(gateway, log_id(bad))
    bad_row = rows[log_id(bad)]
    assert bad_row["success"] is False or "surrogate" not in trigger, bad_row


@pytest.mark.parametrize("path", [None, "file"])
def test_the_store_itself_sanitises_every_value_that_reaches_it(
    tmp_path: Path, path: str | None
) -> None:
    """Behind the edge's checks, the store still cleans what an upstream or a bug hands it."""
    store = LogStore(str(tmp_path / "logs.sqlite")) if path else LogStore()
    try:
        bad = {
            "id": "bad",
            "gateway_id": "default",
            "created_at": "2026-11-30T00:00:00.000Z",
            "model": "m\ud800",
            "path": "openai/\udfff",
            "tokens_in": 10**30,
            "tokens_out": -(2**63) - 1,
            "cost": float("nan"),
            "duration": float("inf"),
            "metadata": {"user\ud800": "\udfff", "n": 10**30},
        }
        store.add(bad, b"request", b"response")
        store.add({"id": "next", "gateway_id": "default", "created_at": "2026-11-30"})
        got = store.run(LogStore.get("default", "bad"))
        following = store.run(LogStore.get("default", "next"))
    finally:
        store.close()
    assert got is not None and following is not None
    assert got["model"] == "m\ufffd" and got["path"] == "openai/\ufffd"
    assert got["tokens_in"] is None and got["tokens_out"] is None
    assert got["cost"] is None or math.isfinite(got["cost"])
    strict = json.dumps(got, allow_nan=False)  # the logs API emits strict JSON
    strict.encode("utf-8")  # and no lone surrogate
    assert "\ufffd" in json.dumps(got["metadata"], ensure_ascii=False)


def test_a_huge_usage_count_from_an_upstream_never_stops_the_log_store(tmp_path: Path) -> None:
    huge = json.loads(completion())
    huge["usage"] = {"prompt_tokens": 10**30, "completion_tokens": 2, "total_tokens": 10**30}
    with MisbehavingServer() as upstream:
        upstream.then(Act(200, {"content-type": "application/json"}, json.dumps(huge).encode()))
        targets = {"openai": PassThrough(f"{upstream.base_url}/v1")}
        with LocalGateway(log_path=str(tmp_path / "logs.sqlite"), upstreams=targets) as gw:
            answer = compat(gw, chat_body())
            assert answer.status_code == 200, answer.text
            assert answer.json()["usage"]["prompt_tokens"] == 10**30  # the client gets it all
            upstream.echo = True
            rows = _then_logging_still_works(gw, log_id(answer))
    row = rows[log_id(answer)]
    # Beyond SQLite's signed 64 bits: stored as unknown rather than wrapped or clamped.
    assert (row["tokens_in"], row["tokens_out"], row["status_code"]) == (None, 2, 200)


@pytest.fixture
def store_warnings(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger=STORE_LOGGER)
    return caplog


def _outage_lines(caplog: pytest.LogCaptureFixture) -> tuple[list[str], list[str]]:
    messages = [r.getMessage() for r in caplog.records if r.name == STORE_LOGGER]
    return (
        [m for m in messages if "cannot write" in m],
        [m for m in messages if "again after" in m],
    )


def test_a_locked_database_gets_503_not_a_hang_and_logging_recovers(
    tmp_path: Path, store_warnings: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "logs.sqlite"
    with LocalGateway(log_path=str(db), log_commit_timeout=1.0) as gw:
        before = compat(gw, chat_body())
        assert before.status_code == 200
        with database_locked(db):
            during = [compat(gw, chat_body()) for _ in range(3)]
            for answer in during:
                assert_store_unavailable(answer)
            # Reads keep working on what is committed while the writes wait.
            assert log_id(before) in logged_rows(gw)
        after = compat(gw, chat_body())
        assert after.status_code == 200, after.text
        rows = logged_rows(gw)
    assert rows[log_id(after)]["status_code"] == 200
    for answer in during:  # written once the lock went, with the answer the client got
        row = rows[log_id(answer)]
        assert (row["status_code"], row["success"]) == (503, False)
    started, ended = _outage_lines(store_warnings)
    assert len(started) == 1, started  # once per outage, not per request
    assert len(ended) == 1, ended


def test_a_stream_is_cut_not_hung_while_the_database_is_locked(tmp_path: Path) -> None:
    db = tmp_path / "logs.sqlite"
    with LocalGateway(log_path=str(db), log_commit_timeout=1.0) as gw:
        url = f"{gw.base_url}/v1/{gw.account_id}/default/compat/chat/completions"
        with database_locked(db):
            received = b""
            with (
                pytest.raises(httpx.HTTPError),  # the stream never completes as if logged
                http.stream("POST", url, json=chat_body(stream=True)) as answer,
            ):
                for piece in answer.iter_bytes():
                    received += piece
            assert b"[DONE]" not in received
        after = compat(gw, chat_body())
        assert after.status_code == 200
        assert log_id(after) in logged_rows(gw)


def test_a_full_disk_gets_503_and_recovers_when_space_is_freed(
    tmp_path: Path, store_warnings: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "logs.sqlite"
    big = chat_body(messages=[{"role": "user", "content": "x" * 60_000}])
    # A bound shorter than the test client's 10 s read timeout (the default is 10 s too).
    with LocalGateway(log_path=str(db), log_commit_timeout=3) as gw:
        for _ in range(3):
            assert compat(gw, big).status_code == 200
        store: LogStore = gw._state.logs  # type: ignore[union-attr]
        # The file may not grow: SQLite answers SQLITE_FULL, as on a full disk.
        pages = store.run(lambda conn: conn.execute("PRAGMA page_count").fetchone()[0])
        store.run(lambda conn: conn.execute(f"PRAGMA max_page_count = {pages}").fetchone())
        full = compat(gw, big)
        assert_store_unavailable(full)
        # The operator frees space by deleting logs through the API: that still works.
        deleted = management(gw, "DELETE", "gateways/default/logs")
        assert deleted.status_code == 200, deleted.text
        after = compat(gw, big)
        assert after.status_code == 200, after.text
        rows = logged_rows(gw)
    assert rows[log_id(after)]["status_code"] == 200
    assert rows[log_id(full)]["status_code"] == 503
    started, ended = _outage_lines(store_warnings)
    assert len(started) == 1 and "full" in started[0], started
    assert len(ended) == 1, ended


def test_the_writer_is_restarted_after_an_unexpected_failure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger=STORE_LOGGER)
    with LocalGateway(log_path=str(tmp_path / "logs.sqlite")) as gw:
        store: LogStore = gw._state.logs  # type: ignore[union-attr]
        store._queue.put(object())  # a bug's worth of garbage in the writer's queue
        answer = compat(gw, chat_body())
        assert answer.status_code == 200, answer.text
        assert log_id(answer) in logged_rows(gw)
        assert store.restarts == 1
    [failure] = [r for r in caplog.records if r.name == STORE_LOGGER]
    assert "restart" in failure.getMessage() and failure.exc_info is not None


# --------------------------------------------------------------------------- cf-aig serve


def _process_rows(gw: GatewayProcess) -> dict[str, dict[str, Any]]:
    return every_row(
        lambda number: http.get(
            f"{gw.base_url}/client/v4/accounts/{ACCOUNT}/ai-gateway/gateways/default/logs"
            f"?per_page=50&page={number}",
            headers={"authorization": f"Bearer {MANAGEMENT_TOKEN}"},
        )
    )


def test_cf_aig_serve_survives_a_database_locked_for_8_seconds(tmp_path: Path) -> None:
    """The issue's trigger as reported: ``cf-aig serve --log-path`` and another process.

    Within the default bound (10 s) a request waits out the lock and is answered; past
    it (``--log-commit-timeout``), the 503 is tested in-process above.
    """
    db = tmp_path / "logs.sqlite"
    gw = GatewayProcess(log_path=db).start()
    try:
        url = f"{gw.base_url}/v1/{ACCOUNT}/default/compat/chat/completions"
        body = {"model": "openai/gpt-4o-mini", "messages": HELLO}
        assert http.post(url, json=body).status_code == 200
        with database_locked(db) as holder:
            release = threading.Timer(8, holder.execute, ("ROLLBACK",))
            release.start()
            time.sleep(2)
            during = http.post(url, json=body)  # waits out the rest of the lock
            release.join()
        assert during.status_code == 200, during.text
        after = http.post(url, json=body)
        assert after.status_code == 200, after.text
        rows = _process_rows(gw)
        assert rows[log_id(during)]["status_code"] == 200
        assert rows[log_id(after)]["status_code"] == 200
        later = [http.post(url, json=body) for _ in range(3)]
        assert [r.status_code for r in later] == [200, 200, 200]
        assert all(log_id(r) in _process_rows(gw) for r in later)
    finally:
        assert gw.proc is not None
        gw.proc.terminate()
        output = "".join(gw.output) + gw.stdout.read()
        gw.stop()
    assert output.count("cannot write") == 1, output  # the operator's line, once
    assert "database is locked" in output
    assert output.count("again after") == 1, output


def test_concurrent_requests_during_a_lock_all_get_an_answer(tmp_path: Path) -> None:
    db = tmp_path / "logs.sqlite"
    with LocalGateway(log_path=str(db), log_commit_timeout=1.0) as gw:
        answers: list[httpx.Response] = []

        def one() -> None:
            answers.append(compat(gw, chat_body()))

        with database_locked(db):
            threads = [threading.Thread(target=one) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
        assert len(answers) == 8
        for answer in answers:
            assert_store_unavailable(answer)
        after = compat(gw, chat_body())  # answered once its row is committed, with theirs
        assert after.status_code == 200, after.text
        rows = logged_rows(gw)
    assert all(rows[log_id(a)]["status_code"] == 503 for a in answers)
