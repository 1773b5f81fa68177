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
from collections.abc import Sequence
from pathlib import Path

import psycopg
import pytest

from tests.support.postgres import PostgresServer, postgres_server
from tests.support.processes import child_env
from tests.support.rawserver import free_port

__all__ = ["postgres_server"]  # the suite's PostgreSQL fixture (skips when not installed)

PASSWORD = "s3cret-pw"
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


def test_a_worker_failing_to_start_stops_the_supervisor(tmp_path: Path) -> None:
    """The store is lost between the supervisor's check and a worker's start (the check is
    skipped in this child): each worker that fails prints the one line, no traceback, and
    uvicorn's supervisor stops instead of starting workers again (exit status 2)."""
    script = tmp_path / "serve_unchecked.py"
    script.write_text(CHECK_SKIPPED)
    port = free_port()
    unreachable = f"postgresql://cf:{PASSWORD}@127.0.0.1:{free_port()}/logs"
    status, out, err = serve_two(
        f"redis://:{PASSWORD}@127.0.0.1:{port}/0", unreachable, [str(script)]
    )
    assert status == 2, err[-3000:]
    assert "listening on" in out  # the start went as far as the workers
    line = f"cf-aig: error: cannot reach the shared state at redis://:***@127.0.0.1:{port}/0"
    failures = [text for text in err.splitlines() if text.startswith("cf-aig: error:")]
    assert 1 <= len(failures) <= 2 and all(text.startswith(line) for text in failures), err
    assert "Traceback" not in err
    assert PASSWORD not in out + err
