"""Child processes the benchmarks run against: the fast server, the local gateway, the
load generator. Each is started on a free loopback port and stopped afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
_S = TypeVar("_S", bound="ChildServer")


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


class ChildServer:
    """A ``python -m <module>`` child that prints ``listening on <url>`` once ready."""

    def __init__(self, module: str, *args: str) -> None:
        self.argv = [sys.executable, "-m", module, *args]
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self: _S) -> _S:
        """Start the process without waiting for it: start several, then enter each."""
        if self.proc is None:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=ROOT,
                env=child_env(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=None,
                text=True,
            )
        return self

    def __enter__(self: _S) -> _S:
        self.start()
        assert self.proc is not None and self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"{' '.join(self.argv)} did not start: {line!r}")
        self.url = line.split("listening on ", 1)[1].strip()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def cpu_seconds(self) -> float:
        """CPU time (user + system, all threads) the child has used so far; Linux only.

        CPU per request is the gateway's own cost, which the load other processes put on
        the machine disturbs far less than latency.
        """
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe:
                pipe.close()
        self.proc = None


class LoadGenerator(ChildServer):
    """:mod:`bench.loadgen` kept running: one interpreter start-up for all the runs."""

    def __init__(self) -> None:
        super().__init__("bench.loadgen", "--serve")

    def run(self, *argv: str) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(list(argv)) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the load generator died; see its traceback above")
        result: dict[str, Any] = json.loads(line)
        return result


class FastServer(ChildServer):
    """:mod:`bench.fastserver` in its own process."""

    def __init__(self) -> None:
        super().__init__("bench.fastserver")

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/stats", timeout=10) as resp:
            data: dict[str, Any] = json.loads(resp.read())
        return data
