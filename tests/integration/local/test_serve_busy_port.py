"""`cf-aig serve` on a port in use: one line naming the port and the fix, exit status 2."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def serve(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "langchain_cf_gateway.cli", "serve", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    )


def assert_one_line_naming_the_fix(done: subprocess.CompletedProcess[str], port: int) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("cf-aig: error: ")
    assert f"127.0.0.1:{port} is already in use" in line
    assert "--port 0" in line and "stop what uses it" in line
    assert done.stdout == ""  # no banner for a gateway that is not listening


def test_a_busy_port_is_one_line_with_the_fix(busy_port: int) -> None:
    assert_one_line_naming_the_fix(serve("--port", str(busy_port)), busy_port)


def test_a_busy_port_from_the_config_file_names_it_too(busy_port: int, tmp_path: Path) -> None:
    config = tmp_path / "local.toml"
    config.write_text(f"port = {busy_port}\n")
    done = serve("--config", str(config))
    assert_one_line_naming_the_fix(done, busy_port)
    assert "port in" in done.stderr and str(config) in done.stderr
