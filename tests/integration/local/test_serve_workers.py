"""`cf-aig serve --workers N`: a real process refusing per-process stores, or serving on many.

More than one worker runs only on shared stores (`--state-url redis://...`,
`--log-store postgresql://...`); the test of that setup runs once both flags exist.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest

from langchain_cf_gateway.core import Header
from tests.support.gateway_process import ACCOUNT, MANAGEMENT_TOKEN, GatewayProcess
from tests.support.local_calls import chat_body
from tests.support.postgres import MISSING, find_binaries, start_postgres
from tests.support.processes import ServerProcess, child_env
from tests.support.supervised import log_rows, wait_for_workers, worker_pids


def serve(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "langchain_cf_gateway.cli", "serve", "--port", "0", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(),
        cwd=cwd,
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--workers", "2"],
        ["--workers", "3", "--log-path", "logs.sqlite"],
    ],
)
def test_many_workers_on_per_process_state_are_refused(argv: list[str], tmp_path: Path) -> None:
    done = serve(*argv, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert f"--workers {argv[1]} needs state the workers share: pass --state-url redis://" in line
    assert done.stdout == ""  # nothing served, no token printed
    assert not (tmp_path / "logs.sqlite").exists()


def test_workers_key_of_the_config_file_is_refused_alike(tmp_path: Path) -> None:
    config = tmp_path / "local.toml"
    config.write_text("workers = 2\n")
    done = serve("--config", str(config))
    assert done.returncode == 2
    assert "--workers 2 needs state the workers share" in done.stderr


def test_one_worker_banner_names_workers_and_stores(tmp_path: Path) -> None:
    with GatewayProcess("--workers", "1", log_path=tmp_path / "logs.sqlite") as gw:
        lines = [gw.stdout.readline() for _ in range(3)]
    assert f"  workers       1 (state memory://; logs SQLite {tmp_path / 'logs.sqlite'})\n" in lines


@pytest.fixture
def postgres_url() -> Iterator[str]:
    if find_binaries() is None:
        pytest.skip(MISSING)
    with start_postgres() as url:
        yield url


def test_two_workers_share_rate_limit_and_logs_and_survive_kill_9(
    redis_url: str, postgres_url: str
) -> None:
    limit = 20
    with GatewayProcess(
        "--workers", "2", "--state-url", redis_url, "--log-store", postgres_url
    ) as gw:
        first = wait_for_workers(gw.pid, 2)
        management = f"{gw.base_url}/client/v4/accounts/{ACCOUNT}/ai-gateway/gateways"
        auth = {"authorization": f"Bearer {MANAGEMENT_TOKEN}"}
        settings = {
            "id": "limited",
            "rate_limiting_limit": limit,
            "rate_limiting_interval": 3600,
            "rate_limiting_technique": "fixed",
        }
        assert httpx.post(management, json=settings, headers=auth).status_code == 200
        url = f"{gw.base_url}/v1/{ACCOUNT}/limited/compat/chat/completions"
        with httpx.Client(timeout=30) as client, ThreadPoolExecutor(8) as pool:
            statuses = list(
                pool.map(lambda _: client.post(url, json=chat_body()).status_code, range(3 * limit))
            )
        assert statuses.count(200) == limit and statuses.count(429) == 2 * limit

        os.kill(first[0], signal.SIGKILL)
        replaced = wait_for_workers(gw.pid, 2, other_than=first[0])
        assert first[1] in replaced  # the other worker kept serving
        default = f"{gw.base_url}/v1/{ACCOUNT}/default/compat/chat/completions"
        ids = [
            httpx.post(default, json=chat_body(), timeout=30).headers[Header.LOG_ID]
            for _ in range(20)
        ]
        rows = {row["id"] for row in log_rows(gw.base_url, ACCOUNT, "default", MANAGEMENT_TOKEN)}
        assert set(ids) <= rows
        assert worker_pids(gw.pid) == replaced


SUPERVISOR_ONLY = """
import sys
from langchain_cf_gateway.cli import main, workers
workers.check_shared = lambda *args: None  # per-process stores: the supervisor alone is tested
if __name__ == "__main__":
    sys.exit(main(["serve", "--port", "0", "--workers", "2"]))
"""


def test_supervisor_replaces_a_worker_killed_9(tmp_path: Path) -> None:
    """Two workers on one port; one killed with SIGKILL is replaced, the port keeps serving.

    The shared stores are waved through in this child only: what is tested is uvicorn's
    supervisor running `cf-aig serve`'s workers (each one's state is its own here).
    """
    script = tmp_path / "serve_two.py"
    script.write_text(SUPERVISOR_ONLY)
    env = child_env(CF_AIG_LOCAL_MANAGEMENT_TOKEN=MANAGEMENT_TOKEN, PYTHONUNBUFFERED="1")
    with ServerProcess([sys.executable, str(script)], env=env) as server:
        banner = [server.stdout.readline() for _ in range(4)]  # URLs, generated gateway token
        first = wait_for_workers(server.pid, 2)
        url = f"{server.base_url}/v1/{ACCOUNT}/default/compat/chat/completions"
        assert httpx.post(url, json=chat_body(), timeout=30).status_code == 200
        os.kill(first[0], signal.SIGKILL)
        replaced = wait_for_workers(server.pid, 2, other_than=first[0])
        assert first[1] in replaced
        statuses = [httpx.post(url, json=chat_body(), timeout=30).status_code for _ in range(20)]
        assert statuses == [200] * 20
        assert "  workers       2 (state memory://; logs memory)\n" in banner
        assert MANAGEMENT_TOKEN not in "".join(banner)  # one from the environment never shows
        server.proc.terminate()  # type: ignore[union-attr]
        assert server.proc.wait(30) == 0  # type: ignore[union-attr]
    assert all(not psutil.pid_exists(pid) for pid in replaced)
