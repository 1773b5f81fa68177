"""The live tier: the package against Cloudflare itself.

Each test skips, saying so, unless `CLOUDFLARE_ACCOUNT_ID` and a gateway token
(`CLOUDFLARE_AI_GATEWAY_TOKEN` or `CF_AIG_TOKEN`) were set when pytest started (see
`live_config` in tests/conftest.py). Nothing here runs in CI without them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from langchain_cf_gateway import GatewayClient, LogPage
from langchain_cf_gateway.core import GatewayConfig

CF_AIG = Path(sys.executable).with_name("cf-aig")
SECTIONS = (
    "[1/8] LangChain chain: prompt | ChatCloudflareGateway | StrOutputParser",
    "[2/8] Stream",
    "[3/8] Agent (create_agent): a tool call, then a response from its result",
    "[4/8] Fallback chain: openai/gpt-4o-mini -> anthropic/claude-3-5-haiku",
)

pytestmark = pytest.mark.live


@pytest.mark.timeout(180)
def test_demo_against_the_real_gateway(live_config: GatewayConfig, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "CLOUDFLARE_ACCOUNT_ID": live_config.account_id,
        "CLOUDFLARE_GATEWAY_ID": live_config.gateway_id,
        "CLOUDFLARE_AI_GATEWAY_TOKEN": live_config.token.get_secret_value()  # type: ignore[union-attr]
        if live_config.token
        else "",
    }
    done = subprocess.run(
        [str(CF_AIG), "demo"], capture_output=True, text=True, env=env, timeout=150, check=False
    )
    assert "of account" in done.stdout and "on Cloudflare" in done.stdout
    for section in SECTIONS:
        assert section in done.stdout
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.timeout(60)
def test_the_logs_api_lists_a_page_of_this_gateway(live_config: GatewayConfig) -> None:
    with GatewayClient(live_config) as client:
        page = client.list_logs(per_page=5)
    assert isinstance(page, LogPage)
    assert len(page.result) <= 5
    assert page.result_info.per_page in (None, 5)
