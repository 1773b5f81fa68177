"""Child processes the benchmarks run against: the fast server and the load generator,
each a `tests.support.processes.ServerProcess` (as are the ASGI floor and the local
gateway, `tests.support.gateway_process.GatewayProcess`), started on a free loopback port
and stopped afterwards."""

from __future__ import annotations

import json
import os
import ssl
import sys
import urllib.request
from typing import Any

from tests.support.processes import ROOT, ServerProcess


class LoadGenerator(ServerProcess):
    """:mod:`bench.loadgen` kept running: one interpreter start-up for all the runs."""

    def __init__(self) -> None:
        super().__init__(
            [sys.executable, "-m", "bench.loadgen", "--serve"],
            cwd=ROOT,
            merge_stderr=False,
            stdin=True,
        )

    def run(self, *argv: str) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(list(argv)) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the load generator died; see its traceback above")
        result: dict[str, Any] = json.loads(line)
        return result


class FastServer(ServerProcess):
    """:mod:`bench.fastserver` in its own process."""

    def __init__(self, tls: tuple[str, str] | None = None) -> None:
        """`tls`: a certificate and key file to serve HTTPS with (`stats` then needs
        `SSL_CERT_FILE` naming the certificate)."""
        argv = [sys.executable, "-m", "bench.fastserver", *(("--tls", *tls) if tls else ())]
        super().__init__(argv, cwd=ROOT, merge_stderr=False)

    def stats(self) -> dict[str, Any]:
        context = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE"))
        with urllib.request.urlopen(f"{self.base_url}/stats", timeout=10, context=context) as resp:
            data: dict[str, Any] = json.loads(resp.read())
        return data
