"""The LiteLLM proxy as a subprocess, with ``litellm_config/config.yaml``, on a free port.

Importing ``litellm.proxy`` takes most of its start-up (tens of seconds on a loaded
machine), so the conftest starts it in the background as soon as collection shows a
proxy test will run, against a local gateway of its own, and the tests wait for it.
That gateway serves `dynamic/support` (`cf-support`) with the shipped route
``litellm_config/routes/support.json``, as ``cf-aig serve --routes`` would.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from langchain_cf_gateway.local import LocalGateway
from langchain_cf_gateway.local.config import load_routes
from tests.support.rawserver import free_port

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "litellm_config" / "config.yaml"
SUPPORT_ROUTE = ROOT / "litellm_config" / "routes" / "support.json"
LITELLM_CLI = Path(sys.executable).with_name("litellm")
PROVIDER_KEY = "sk-proxy-provider-key"
WORKERS_AI_KEY = "cf-workers-ai-key"
START_TIMEOUT_S = 240.0


class ProxyProcess:
    """A running ``litellm --config litellm_config/config.yaml`` and the gateway it uses."""

    def __init__(self) -> None:
        # Deployed at start and again by every `reset()`.
        self.gateway = LocalGateway(routes=load_routes(SUPPORT_ROUTE)).start()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.master_key = "sk-" + secrets.token_hex(16)
        self.home = Path(tempfile.mkdtemp(prefix="litellm-proxy-"))
        self.startup_s: float | None = None
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CLOUDFLARE_", "CF_AIG", "OPENAI_", "ANTHROPIC_"))
        }
        gw = self.gateway
        env.update(
            HOME=str(self.home),
            LITELLM_LOCAL_MODEL_COST_MAP="True",
            LITELLM_MASTER_KEY=self.master_key,
            # What config.yaml leaves to the environment: the handler reads these.
            CLOUDFLARE_ACCOUNT_ID=gw.account_id,
            CLOUDFLARE_GATEWAY_ID=gw.gateway_id,
            CLOUDFLARE_AI_GATEWAY_TOKEN=gw.token,
            CLOUDFLARE_AI_GATEWAY_BASE_URL=gw.base_url,
            OPENAI_API_KEY=PROVIDER_KEY,
            CLOUDFLARE_API_TOKEN=WORKERS_AI_KEY,
        )
        self._log = (self.home / "proxy.log").open("w")
        self._started = time.monotonic()
        self.process = subprocess.Popen(
            [
                str(LITELLM_CLI),
                "--config",
                str(CONFIG),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=env,
            cwd=str(self.home),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self) -> float:
        """Block until `/health/liveliness` responds 200; the seconds since the process started."""
        if self.startup_s is not None:
            return self.startup_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the proxy exited with {self.process.returncode}:\n{self.tail()}"
                )
            if time.monotonic() - self._started > START_TIMEOUT_S:
                raise RuntimeError(
                    f"the proxy did not start in {START_TIMEOUT_S} s:\n{self.tail()}"
                )
            try:
                if httpx.get(f"{self.url}/health/liveliness", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.startup_s = time.monotonic() - self._started
        return self.startup_s

    def tail(self) -> str:
        return (self.home / "proxy.log").read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
        self._log.close()
        self.gateway.stop()
        shutil.rmtree(self.home, ignore_errors=True)
