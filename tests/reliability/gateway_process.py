"""The local gateway in its own process (``cf-aig serve``), for kill -9 and memory tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

TOKEN = "rel-gateway-token"
MANAGEMENT_TOKEN = "rel-management-token"
ACCOUNT = "local-account"


class GatewayProcess:
    """``cf-aig serve --port 0`` with fixed tokens; ``base_url`` once it listens."""

    def __init__(self, *args: str, log_path: str | Path | None = None) -> None:
        self.args = list(args)
        if log_path is not None:
            self.args += ["--log-path", str(log_path)]
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.output: list[str] = []

    def start(self, timeout: float = 60) -> GatewayProcess:
        env = {
            **os.environ,
            "CF_AIG_LOCAL_TOKEN": TOKEN,
            "CF_AIG_LOCAL_MANAGEMENT_TOKEN": MANAGEMENT_TOKEN,
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "PYTHONUNBUFFERED": "1",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "langchain_cf_gateway.cli", "serve", "--port", "0", *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                self.base_url = found.group(1)
                return self
        self.kill()
        raise RuntimeError("the gateway process did not start:\n" + "".join(self.output))

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def stdout(self) -> IO[str]:
        assert self.proc is not None and self.proc.stdout is not None
        return self.proc.stdout

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no flush, no goodbye."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> GatewayProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def rss_peak_kib(self) -> int:
        """VmHWM: the peak resident memory of the process so far."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise RuntimeError("no VmHWM")
