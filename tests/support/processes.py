"""Servers in processes of their own: a child that prints `listening on <url>` once it
accepts connections, started, read, stopped (SIGTERM, then SIGKILL) or killed outright
(SIGKILL: no shutdown hook, no flush), its CPU time and peak memory read from `/proc`
(Linux). The local gateway's is `tests.support.gateway_process.GatewayProcess`; the
benchmarks' fast server and load generator are others.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TypeVar

ROOT = Path(__file__).resolve().parents[2]
"""The repository root: `python -m tests.support...` and `python -m bench...` run from it."""
LISTENING = re.compile(r"listening on (\S+)")
_S = TypeVar("_S", bound="ServerProcess")


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment for a child, with the repository root importable."""
    env = dict(os.environ)
    env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


class ServerProcess:
    """A child that prints `listening on <url>` once ready; `base_url` is that URL.

    `launch()` starts it without waiting (start several, then wait for each);
    `start()` (or `with`) also waits until it listens. stderr goes to stdout (kept in
    `output` while waiting) unless `merge_stderr=False`, which leaves it on the
    console, as a benchmark wants for a traceback.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        merge_stderr: bool = True,
        stdin: bool = False,
    ) -> None:
        self.argv = list(argv)
        self.env = dict(env) if env is not None else child_env()
        self.cwd = cwd
        self.merge_stderr = merge_stderr
        self.stdin = stdin
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.output: list[str] = []

    def launch(self: _S) -> _S:
        """Start the child if it is not running yet; return at once."""
        if self.proc is None:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.PIPE if self.stdin else None,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT if self.merge_stderr else None,
                text=True,
            )
        return self

    def wait_ready(self: _S, timeout: float = 60) -> _S:
        """Read the child's output until it says where it listens."""
        assert self.proc is not None and self.proc.stdout is not None
        if self.base_url:
            return self
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            found = LISTENING.search(line)
            if found:
                self.base_url = found.group(1)
                return self
        self.kill()
        raise RuntimeError(f"{' '.join(self.argv)} did not start:\n" + "".join(self.output))

    def start(self: _S, timeout: float = 60) -> _S:
        """Start the child and wait until it listens."""
        return self.launch().wait_ready(timeout)

    def __enter__(self: _S) -> _S:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

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
        """SIGTERM, then SIGKILL if the child is still there after 15 s; close its pipes."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()

    def cpu_seconds(self) -> float:
        """CPU time (user + system, all threads) the child has used so far.

        CPU per request is a server's own cost, which the load other processes put on
        the machine disturbs far less than latency.
        """
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_peak_kib(self) -> int:
        """VmHWM: the peak resident memory of the child so far."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise RuntimeError("no VmHWM")
