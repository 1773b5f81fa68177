"""`cf-aig serve --workers N` stops at start on a store it cannot use, as one worker does.

Redis unreachable, PostgreSQL unreachable, or a database at a newer schema: the one line
`cf-aig serve --workers 1` prints (the URL's password as `***`, the flag), exit status 2,
no banner, no traceback, and no worker started over and over. The bound is the child's
timeout: a supervisor that never stops is killed, with its process group, and fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.support.gateway_process import ACCOUNT
from tests.support.postgres import PostgresServer, postgres_server
from tests.support.processes import child_env
from tests.support.rawserver import free_port
from tests.support.redis_server import redis_on

__all__ = ["postgres_server"]  # the suite's PostgreSQL fixture (skips when not installed)

PASSWORD = "s3cret-pw"
BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
BOUND_S = 45
"""Seconds the child may take to stop; a spinning supervisor is killed after them."""


def serve_two(
    state_url: str, log_store: str, program: Sequence[str] = ("-m", "langchain_cf_gateway.cli")
) -> tuple[int, str, str]:
    """Run `cf-aig serve --workers 2` on the stores; its exit status, stdout and stderr."""
    proc = subprocess.Popen(
        [sys.executable, *program, "serve", "--port", "0",
         "--workers", "2", "--state-url", state_url, "--log-store", log_store],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=child_env(), start_new_session=True,
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=BOUND_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the supervisor and every worker it started
        out, err = proc.communicate()
        pytest.fail(f"still running after {BOUND_S} s; stdout:\n{out}\nstderr:\n{err[-3000:]}")
    return proc.returncode, out, err


def assert_one_line(status: int, out: str, err: str, start: str, flag: str) -> None:
    assert status == 2, err[-3000:]
    assert out == ""  # no banner, no token
    lines = err.strip().splitlines()
    assert len(lines) == 1, err[-3000:]
    assert lines[0].startswith(f"cf-aig: error: {start}"), lines[0]
    assert flag in lines[0]
    assert PASSWORD not in out + err


def test_redis_unreachable_stops_the_start() -> None:
    port = free_port()
    unreachable = f"postgresql://cf:{PASSWORD}@127.0.0.1:{free_port()}/logs"
    status, out, err = serve_two(f"redis://:{PASSWORD}@127.0.0.1:{port}/0", unreachable)
    start = f"cannot reach the shared state at redis://:***@127.0.0.1:{port}/0 (--state-url)"
    assert_one_line(status, out, err, start, "--state-url")


def test_postgres_unreachable_stops_the_start(redis_url: str) -> None:
    port = free_port()
    status, out, err = serve_two(redis_url, f"postgresql://cf:{PASSWORD}@127.0.0.1:{port}/logs")
    start = f"cannot connect to the log store postgresql://cf:***@127.0.0.1:{port}/logs ("
    assert_one_line(status, out, err, start, "--log-store")


def test_newer_schema_stops_the_start(redis_url: str, postgres_server: PostgresServer) -> None:
    url = postgres_server.new_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_version (version integer NOT NULL)")
        conn.execute("INSERT INTO schema_version (version) VALUES (99)")
    with_password = url.replace("postgres@", f"postgres:{PASSWORD}@")  # trust: not asked for
    status, out, err = serve_two(redis_url, with_password)
    shown = url.replace("postgres@", "postgres:***@")
    assert_one_line(status, out, err, f"the log store {shown} has schema version 99", "--log-store")
    assert "upgrade langchain-cf-gateway" in err
    with psycopg.connect(url) as conn:  # left as it was
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(99,)]


CHECK_SKIPPED = """
import sys
from langchain_cf_gateway.cli import main
from langchain_cf_gateway.local.server import LocalGateway
LocalGateway.check_stores = lambda self: None  # as if the store went away after the check
if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
"""


def test_a_worker_refused_for_good_stops_the_supervisor(
    tmp_path: Path, redis_url: str, postgres_server: PostgresServer
) -> None:
    """The store refuses a worker after the supervisor's check passed (the check is skipped
    in this child; the database is at a newer schema): each worker that fails prints the
    one line, no traceback, and uvicorn's supervisor stops instead of starting workers
    again (exit status 2)."""
    script = tmp_path / "serve_unchecked.py"
    script.write_text(CHECK_SKIPPED)
    url = postgres_server.new_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_version (version integer NOT NULL)")
        conn.execute("INSERT INTO schema_version (version) VALUES (99)")
    status, out, err = serve_two(redis_url, url, [str(script)])
    assert status == 2, err[-3000:]
    assert "listening on" in out  # the start went as far as the workers
    failures = [text for text in err.splitlines() if text.startswith("cf-aig: error:")]
    assert 1 <= len(failures) <= 2, err
    assert all("has schema version 99" in text and "--log-store" in text for text in failures)
    assert "Traceback" not in err


def test_a_worker_that_finds_a_store_unreachable_waits_for_it_and_serves(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """A worker started while Redis restarts (uvicorn replacing one that died; here the
    supervisor's check is skipped) says so once and serves once Redis answers: the
    deployment does not stop for a store that comes back."""
    script = tmp_path / "serve_unchecked.py"
    script.write_text(CHECK_SKIPPED)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(script), "serve", "--port", "0", "--workers", "2",
         "--state-url", f"redis://127.0.0.1:{port}/0",
         "--log-store", postgres_server.new_database()],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=child_env(), start_new_session=True,
    )  # fmt: skip
    redis = None
    seen: list[str] = []
    try:
        assert proc.stdout is not None and proc.stderr is not None
        base = proc.stdout.readline().split("listening on ")[1].split()[0]
        chat = f"{base}/v1/{ACCOUNT}/default/compat/chat/completions"
        for text in proc.stderr:  # until a worker says what it does about Redis
            seen.append(text.rstrip("\n"))
            if text.startswith(("cf-aig: waiting:", "cf-aig: error:")):
                break
        assert seen and seen[-1].startswith("cf-aig: waiting: cannot reach the shared state")
        assert proc.poll() is None  # the supervisor runs
        redis = redis_on(port)
        deadline = time.monotonic() + BOUND_S
        served = None
        while served is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                served = httpx.post(chat, json=BODY, timeout=5)
            except httpx.HTTPError:
                time.sleep(0.2)
        assert served is not None and served.status_code == 200, (proc.poll(), seen)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)
    lines = [*seen, *err.splitlines()]
    waiting = [text for text in lines if text.startswith("cf-aig: waiting:")]
    assert 1 <= len(waiting) <= 2, lines  # once per worker, not once per try
    assert not [text for text in lines if text.startswith("cf-aig: error:")]
    assert "Traceback" not in err
