"""The local gateway in its own process (`cf-aig serve`), for kill -9 and memory tests,
clients nobody here wrote, and the benchmarks' load from another process."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .processes import ServerProcess, child_env

TOKEN = "rel-gateway-token"
MANAGEMENT_TOKEN = "rel-management-token"
ACCOUNT = "local-account"

# What `uvloop=True` runs instead of `python -m langchain_cf_gateway.cli`: the same CLI, its
# event loops made by uvloop (what `uvicorn.run` does when uvloop is installed).
_ON_UVLOOP = (
    "import asyncio, runpy, uvloop; asyncio.set_event_loop_policy(uvloop.EventLoopPolicy()); "
    "runpy.run_module('langchain_cf_gateway.cli', run_name='__main__', alter_sys=True)"
)


class GatewayProcess(ServerProcess):
    """`cf-aig serve --port 0 [args]` with fixed tokens (`TOKEN`, `MANAGEMENT_TOKEN`).

    Args:
        *args: more `cf-aig serve` arguments.
        log_path: the SQLite file of the logs (`--log-path`); default in memory.
        upstreams: provider slug -> base URL to pass it through to, written to a config
            file of the process's own (`--config`).
        gateways: gateway id -> its settings (`[gateways.<id>]`), in that config file too.
        uvloop: run the process's event loops on uvloop (an experiment of the benchmarks).
        merge_stderr: as for `ServerProcess`.
    """

    def __init__(
        self,
        *args: str,
        log_path: str | Path | None = None,
        upstreams: Mapping[str, str] | None = None,
        gateways: Mapping[str, Mapping[str, Any]] | None = None,
        uvloop: bool = False,
        merge_stderr: bool = True,
    ) -> None:
        extra = list(args)
        if log_path is not None:
            extra += ["--log-path", str(log_path)]
        self._config_dir: str | None = None
        if upstreams or gateways:
            self._config_dir = tempfile.mkdtemp(prefix="cf-aig-serve-")
            config = Path(self._config_dir) / "local.json"
            targets = {slug: {"base_url": url} for slug, url in (upstreams or {}).items()}
            config.write_text(json.dumps({"upstreams": targets, "gateways": dict(gateways or {})}))
            config.chmod(0o600)
            extra += ["--config", str(config)]
        run = ["-c", _ON_UVLOOP] if uvloop else ["-m", "langchain_cf_gateway.cli"]
        super().__init__(
            [sys.executable, *run, "serve", "--port", "0", *extra],
            env=child_env(
                CF_AIG_LOCAL_TOKEN=TOKEN,
                CF_AIG_LOCAL_MANAGEMENT_TOKEN=MANAGEMENT_TOKEN,
                LITELLM_LOCAL_MODEL_COST_MAP="True",
                PYTHONUNBUFFERED="1",
            ),
            merge_stderr=merge_stderr,
        )

    @property
    def gateway_url(self) -> str:
        """The `default` gateway's URL (`.../compat/chat/completions` for OpenAI clients)."""
        return f"{self.base_url}/v1/{ACCOUNT}/default"

    def stop(self) -> None:
        super().stop()
        if self._config_dir is not None:
            shutil.rmtree(self._config_dir, ignore_errors=True)
