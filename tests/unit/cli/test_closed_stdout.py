"""Every `cf-aig` command exits quietly when its stdout is closed (`cf-aig ... | head`).

https://docs.python.org/3/library/signal.html#note-on-sigpipe
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from langchain_cf_gateway.core.dynamic_routes import DynamicRoute


def _closed_stdout(*argv: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "CF_AIG_"))}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the command writes anything
    try:
        return subprocess.run(
            [sys.executable, "-m", "langchain_cf_gateway.cli", *argv],
            stdout=write,
            stderr=subprocess.PIPE,
            env=env,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write)


@pytest.mark.parametrize("json_output", [False, True], ids=["table", "json"])
def test_routes_test_into_a_closed_pipe_has_no_traceback(tmp_path: Path, json_output: bool) -> None:
    path = tmp_path / "route.json"
    route = DynamicRoute.split({"openai/gpt-4o-mini": 80, "anthropic/claude-3-5-haiku": 20})
    path.write_text(json.dumps(route.to_api()))
    done = _closed_stdout("routes", "test", str(path), "--n", "20", *(["--json"] * json_output))
    assert b"Traceback" not in done.stderr
    assert b"BrokenPipeError" not in done.stderr
    assert done.stderr == b""
    assert done.returncode == 1


def test_help_into_a_closed_pipe_has_no_traceback() -> None:
    # argparse itself ignores a failed write of the help; the exit is quiet either way.
    done = _closed_stdout("--help")
    assert done.stderr == b""
    assert done.returncode in (0, 1)
