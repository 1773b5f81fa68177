"""``cf-aig demo`` (``make demo``) end to end: the report, exit status 0, nothing left running."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from langchain_cf_gateway.cli import main
from langchain_cf_gateway.local import LocalGateway

SECTIONS = (
    "[1/8] LangChain chain: prompt | ChatCloudflareGateway | StrOutputParser",
    "[2/8] Stream",
    "[3/8] Agent (create_agent): a tool call, then a response from its result",
    "[4/8] Fallback chain: openai/gpt-4o-mini -> anthropic/claude-3-5-haiku",
    "[5/8] LiteLLM completion through the cloudflare-ai-gateway provider",
    "[6/8] Usage tracker (gateway_usage)",
    "[7/8] Logs API",
    "[8/8] Feedback",
)
CF_AIG = Path(sys.executable).with_name("cf-aig")


def _port(out: str) -> int:
    match = re.search(r"Embedded local gateway on http://127\.0\.0\.1:(\d+) ", out)
    assert match, out
    return int(match[1])


def _closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def assert_full_report(out: str) -> None:
    positions = [out.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    assert out.count("      ok (") == 8 and "FAILED" not in out
    assert re.search(r"run 1: MISS +\d+ ms  log [0-9a-f-]{36}", out)
    assert re.search(r"run 2: HIT +\d+ ms  log [0-9a-f-]{36}", out)
    assert re.search(r"\d+ chunks, first after \d+ ms", out)
    assert "the model called get_weather({'city': 'Paris'})" in out
    assert "the tool returned 'Sunny and 21 degrees in Paris'" in out
    assert "the agent's response: 'Based on get_weather: Sunny and 21 degrees in Paris'" in out
    assert "step 0 openai/gpt-4o-mini: failed" in out
    assert "step 1 anthropic/claude-3-5-haiku: response" in out
    assert "Gateway calls: 7 (cache hits 1, misses 6, fallbacks 1, errors 0)" in out
    # the logs table: eight rows (the agent's two calls and the fallback's failed first
    # step included), one HIT
    assert "8 log rows for this run; 1 failed" in out
    assert len(re.findall(r"^ +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  [0-9a-f-]{36} ", out, re.M)) == 8
    first_log = re.search(r"run 1: MISS +\d+ ms  log ([0-9a-f-]{36})", out)
    assert first_log
    assert f"sent feedback +1, score 95 for log {first_log[1]}" in out
    assert "the logs API now shows feedback 1, score 95" in out
    assert "All 8 steps worked in" in out


@pytest.mark.timeout(180)
def test_make_demo_runs_end_to_end_and_leaves_nothing_running(tmp_path: Path) -> None:
    token = "demo-secret-token-0123456789"
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        # credentials are set, but --local keeps the demo on the embedded gateway
        "CLOUDFLARE_ACCOUNT_ID": "acct-demo",
        "CLOUDFLARE_AI_GATEWAY_TOKEN": token,
    }
    done = subprocess.run(
        [str(CF_AIG), "demo", "--local"],
        capture_output=True,
        text=True,
        env=env,
        timeout=150,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert_full_report(done.stdout)
    assert token not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    port = _port(done.stdout)
    assert f"Local gateway stopped; port {port} closed." in done.stdout
    assert _closed(port)


@pytest.mark.timeout(120)
def test_on_a_configured_gateway_the_logs_show_the_run(
    gateway: LocalGateway, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With credentials set the demo uses that gateway: here a local one, as `cf-aig serve`
    runs it, scripted through its admin route. Run in-process: no thread may be left."""
    for name, value in {
        "CLOUDFLARE_ACCOUNT_ID": gateway.account_id,
        "CLOUDFLARE_AI_GATEWAY_BASE_URL": gateway.base_url,
        "CLOUDFLARE_AI_GATEWAY_TOKEN": gateway.token,
        "CLOUDFLARE_API_TOKEN": gateway.management_token,
    }.items():
        monkeypatch.setenv(name, value)
    before = {t.ident for t in threading.enumerate()}
    assert main(["demo"]) == 0
    out, err = capsys.readouterr()
    assert f"Gateway 'default' of account {gateway.account_id} on {gateway.base_url}" in out
    assert_full_report(out)
    assert "Traceback" not in err
    for secret in (gateway.token, gateway.management_token):
        assert secret not in out + err
    rows = gateway.logs("default")
    assert len(rows) == 8 and sum(1 for r in rows if r["cached"]) == 1
    rated = [r for r in rows if r["feedback"] is not None]
    assert len(rated) == 1 and (rated[0]["feedback"], rated[0]["score"]) == (1, 95)
    assert f"for log {rated[0]['id']}" in out
    left = [t for t in threading.enumerate() if t.ident not in before]
    # LiteLLM's process-wide logging pool may start on its first call; ours are all gone.
    assert [t.name for t in left if not t.name.startswith("litellm-")] == []


@pytest.mark.timeout(120)
def test_a_failed_step_is_reported_the_others_run_and_the_exit_status_is_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--local", "--fallback-model", "nosuchprovider/model"]) == 1
    out, _ = capsys.readouterr()
    step4 = out[out.index("[4/8]") : out.index("[5/8]")]
    assert "FAILED: InvalidModelIdError: unknown provider 'nosuchprovider'" in step4
    assert out.count("      ok (") == 7  # every other step still ran
    assert out.rstrip().endswith(
        "1 of 8 steps failed: Fallback chain: openai/gpt-4o-mini -> nosuchprovider/model"
    )
    assert _closed(_port(out))


@pytest.mark.timeout(120)
def test_without_langchain_the_agent_step_runs_the_same_loop_by_hand(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`langchain` is not a dependency of the package: without it, step 3 runs the agent
    loop with `bind_tools` and reports the same tool call and response."""
    monkeypatch.setitem(sys.modules, "langchain.agents", None)  # import raises ImportError
    assert main(["demo", "--local"]) == 0
    out, _ = capsys.readouterr()
    assert_full_report(out)
