"""`cf-aig doctor --yes` against Cloudflare itself (the live tier).

Skips, saying so, unless `CLOUDFLARE_ACCOUNT_ID` and a gateway token were set when pytest
started (`live_config` in tests/conftest.py). The token also reads the logs API unless
`CLOUDFLARE_API_TOKEN` was set; it never shows in the output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from langchain_cf_gateway.core import GatewayConfig
from tests.support.live import _LIVE

pytestmark = pytest.mark.live


@pytest.mark.timeout(180)
def test_doctor_against_the_real_gateway(live_config: GatewayConfig, tmp_path: Path) -> None:
    assert live_config.token is not None
    token = live_config.token.get_secret_value()
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "CLOUDFLARE_ACCOUNT_ID": live_config.account_id,
        "CLOUDFLARE_GATEWAY_ID": live_config.gateway_id,
        "CLOUDFLARE_AI_GATEWAY_TOKEN": token,
    }
    secrets = [token]
    for name in ("CLOUDFLARE_API_TOKEN", "CLOUDFLARE_AI_GATEWAY_PROVIDER_KEY"):
        if value := _LIVE.get(name):
            env[name] = value
            secrets.append(value)
    done = subprocess.run(
        [sys.executable, "-m", "langchain_cf_gateway.cli", "doctor", "--yes", "--json",
         "--wait", "90"],
        capture_output=True, text=True, env=env, timeout=170, check=False,
    )  # fmt: skip
    for secret in secrets:
        assert secret not in done.stdout + done.stderr
    report = json.loads(done.stdout)
    steps = {step["name"]: step for step in report["steps"]}
    assert steps["config"]["status"] == "OK"
    assert steps["config"]["origins"]["account_id"] == "environment CLOUDFLARE_ACCOUNT_ID"
    assert steps["config"]["local"] is False
    assert report["exit_status"] == 0, json.dumps(report, indent=2)
    assert steps["log"]["log_id"] == steps["request"]["log_id"]
