"""The three gateways of the peers benchmark, one worker process each, on loopback.

- ours: `cf-aig serve`, its `openai` provider passed through to the fast server (as in
  `bench.local_gateway`), on the compat route; and, where `cf-aig serve --workers` exists,
  the same with `--workers 2`;
- LiteLLM's proxy: `litellm --config` (one worker, a master key), its model an
  `openai/...` deployment whose `api_base` is the fast server; an in-memory cache
  (`cache_params.type: local`, `mode: default_off`: only requests that opt in with
  `"cache": {"use-cache": true}` use it, https://docs.litellm.ai/docs/proxy/caching);
- Portkey's open-source gateway (`@portkey-ai/gateway`, pinned in `package.json` and
  `package-lock.json` here, installed with `npm ci` into `node_modules/`), run with Node,
  told the upstream per request by `x-portkey-provider: openai` and
  `x-portkey-custom-host` (https://portkey.ai/docs/product/ai-gateway/universal-api).

Portkey's cache is asked for with `x-portkey-config: {"cache": {"mode": "simple"}}`; its
Node build (`build/start-server.js` of 1.15.2) sets no `getFromCache` function, so every
response reaches the upstream (the cache row says so).

Every gateway receives the same request body. A gateway that cannot run here keeps its
place with `why` saying why, and its rows are reported with that reason.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from langchain_cf_gateway.core import Header
from tests.support.gateway_process import ACCOUNT, GatewayProcess
from tests.support.processes import ROOT, ServerProcess, child_env
from tests.support.rawserver import free_port

HERE = Path(__file__).resolve().parent
PORTKEY_SERVER = HERE / "node_modules" / "@portkey-ai" / "gateway" / "build" / "start-server.js"
LITELLM_CLI = Path(sys.executable).with_name("litellm")
MASTER_KEY = "sk-bench-master-key"
UPSTREAM_KEY = "sk-bench-upstream-key"
START_TIMEOUT_S = 180.0

OURS = "ours"
LITELLM = "LiteLLM proxy"
PORTKEY = "Portkey gateway"
WORKERS = "ours --workers 2"
SHARED_ONE = "ours, 1 worker on Redis + PostgreSQL"
"""The baseline of `--workers 2`: the same shared stores, one process."""


class PeerProcess(ServerProcess):
    """A server that does not print `listening on`: ready when `health` responds 200.

    Its output goes to a log file (an access log on a pipe nobody reads would block it).
    """

    def __init__(self, argv: Sequence[str], port: int, health: str, **kwargs: object) -> None:
        super().__init__(argv, merge_stderr=True, **kwargs)  # type: ignore[arg-type]
        self.port = port
        self.health = health
        self.home = Path(tempfile.mkdtemp(prefix="bench-peer-"))
        self.log = self.home / "server.log"

    def launch(self) -> PeerProcess:
        if self.proc is None:
            with self.log.open("w") as out:
                self.proc = subprocess.Popen(
                    self.argv,
                    cwd=self.cwd or self.home,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> PeerProcess:
        assert self.proc is not None
        url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + timeout
        while not self.base_url:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"did not start: {self.tail()}")
            try:
                with urllib.request.urlopen(url + self.health, timeout=1) as resp:
                    if resp.status == 200:
                        self.base_url = url
            except OSError:
                time.sleep(0.2)
        return self

    def tail(self) -> str:
        lines = self.log.read_text(errors="replace").strip().splitlines()
        return " / ".join(lines[-3:])[-400:] or "no output"

    def first_error(self) -> str:
        """The first line of its log that mentions an error ("" if none)."""
        for line in self.log.read_text(errors="replace").splitlines():
            if "error" in line.lower():
                return line.strip()[:300]
        return ""

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.home, ignore_errors=True)


@dataclass
class Gateway:
    """One gateway under test: where to send the shared request, and how it caches."""

    name: str
    process: ServerProcess | None = None
    path: str = "/v1/chat/completions"
    headers: dict[str, str] = field(default_factory=dict)
    cache_headers: dict[str, str] = field(default_factory=dict)
    cache_body: dict[str, object] = field(default_factory=dict)
    why: str | None = None
    """Why it did not run here (then `process` is None)."""
    known: str = ""
    """A known fault of this version, stated where its figures show it."""

    @property
    def url(self) -> str:
        assert self.process is not None
        return self.process.base_url + self.path

    def ready(self) -> Gateway:
        """Wait for the started process; on failure keep the reason and stop it."""
        if self.process is not None:
            try:
                self.process.wait_ready(START_TIMEOUT_S)
            except RuntimeError as exc:
                self.why = f"{self.name} {exc}"
                self.process.stop()
                self.process = None
        return self


def has_workers_flag() -> bool:
    """Whether this `cf-aig serve` has `--workers` (another change adds it)."""
    out = subprocess.run(
        [sys.executable, "-m", "langchain_cf_gateway.cli", "serve", "--help"],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return "--workers" in out.stdout


def ours(upstream: str, *args: str, name: str | None = None) -> Gateway:
    process = GatewayProcess(*args, upstreams={"openai": upstream}, merge_stderr=False).launch()
    return Gateway(
        name or (WORKERS if args else OURS),
        process,
        path=f"/v1/{ACCOUNT}/default/compat/chat/completions",
        cache_headers={Header.CACHE_TTL: "3600"},
    )


def litellm(upstream: str) -> Gateway:
    if not LITELLM_CLI.exists():
        return Gateway(LITELLM, why="the `litellm` CLI is not installed (the dev extra has it)")
    port = free_port()
    process = PeerProcess(
        [str(LITELLM_CLI), "--config", "config.json", "--host", "127.0.0.1", "--port", str(port)],
        port,
        "/health/liveliness",
    )
    config = {
        "model_list": [
            {
                "model_name": "openai/gpt-4o-mini",
                "litellm_params": {
                    "model": "openai/gpt-4o-mini",
                    "api_base": upstream,
                    "api_key": UPSTREAM_KEY,
                },
            }
        ],
        "litellm_settings": {
            "cache": True,
            "cache_params": {"type": "local", "mode": "default_off"},
        },
        "general_settings": {"master_key": MASTER_KEY},
    }
    # YAML is a superset of JSON: `litellm --config` reads this file as it is.
    (process.home / "config.json").write_text(json.dumps(config))
    env = {
        k: v
        for k, v in child_env().items()
        if not k.startswith(("CLOUDFLARE_", "CF_AIG", "OPENAI_", "ANTHROPIC_"))
    }
    process.env = {**env, "HOME": str(process.home), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return Gateway(
        LITELLM,
        process.launch(),
        headers={"authorization": f"Bearer {MASTER_KEY}"},
        cache_body={"cache": {"use-cache": True}},
    )


def install_portkey() -> str | None:
    """`npm ci` into `bench/peers/node_modules` unless it is there; why it failed, if it did."""
    if PORTKEY_SERVER.exists():
        return None
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed (Portkey's gateway is an npm package run with Node)"
    try:
        out = subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=600,
        )
    except subprocess.TimeoutExpired:
        return "`npm ci` in bench/peers did not finish in 600 s"
    if out.returncode != 0 or not PORTKEY_SERVER.exists():
        return f"`npm ci` in bench/peers failed: {out.stderr.strip()[-300:]}"
    return None


def portkey(upstream: str) -> Gateway:
    node = shutil.which("node")
    if node is None:
        return Gateway(PORTKEY, why="node is not installed (Portkey's gateway runs on Node)")
    why = install_portkey()
    if why is not None:
        return Gateway(PORTKEY, why=why)
    port = free_port()
    process = PeerProcess(
        [
            node,
            "--import",
            (HERE / "loopback.mjs").as_uri(),
            str(PORTKEY_SERVER),
            f"--port={port}",
            "--headless",
        ],
        port,
        "/",
        env=dict(os.environ),
    )
    return Gateway(
        PORTKEY,
        process.launch(),
        headers={
            "x-portkey-provider": "openai",
            "x-portkey-custom-host": upstream,
            "authorization": f"Bearer {UPSTREAM_KEY}",
        },
        # The simple cache of its config; the Node build may install no cache behind it.
        cache_headers={"x-portkey-config": json.dumps({"cache": {"mode": "simple"}})},
        known=(
            "on Node its streamed responses fail with `TypeError: immutable` in "
            "`responseService.updateHeaders` (https://github.com/Portkey-AI/gateway/issues/1550;"
            " pinning @hono/node-server 1.14.2, the workaround of issue 1389, does not help)"
        ),
    )


def shared_stores(stack: ExitStack) -> tuple[str, ...]:
    """`--state-url` and `--log-store` of a Redis and a PostgreSQL started for the run
    (more than one worker needs stores they share), stopped with `stack`.

    Raises:
        RuntimeError: redis-server or PostgreSQL is not installed.
    """
    from tests.support.postgres import start_postgres
    from tests.support.redis_server import start_redis

    return (
        "--state-url",
        stack.enter_context(start_redis()),
        "--log-store",
        stack.enter_context(start_postgres()),
    )
