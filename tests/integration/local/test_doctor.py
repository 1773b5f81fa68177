"""`cf-aig doctor` end to end against a local gateway on loopback, as a user runs it.

Every step OK and the log id it prints is the row the logs API has; a wrong gateway id, a
wrong token or a stopped server is a FAIL line with its fix and exit status 1; the request
is sent only after `--yes` or a "y" at the prompt (the gateway's log count says so); no
token ever shows on stdout or stderr.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from langchain_cf_gateway import GatewayClient
from tests.support.rawserver import free_port

if TYPE_CHECKING:
    from langchain_cf_gateway.local import LocalGateway

CLI = [sys.executable, "-m", "langchain_cf_gateway.cli", "doctor"]
WRONG_TOKEN = "wrong-token-doctor-0123456789"
PROMPT = "Send one request to openai/gpt-4o-mini through gateway 'default'? [y/N]"

pytestmark = pytest.mark.timeout(120)


def doctor(
    *argv: str, env: dict[str, str] | None = None, stdin: int | None = subprocess.DEVNULL
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *argv],
        capture_output=True,
        text=True,
        stdin=stdin,
        timeout=90,
        env={**os.environ, **(env or {})},
        check=False,
    )


def chat_requests(gateway: LocalGateway) -> list[str]:
    return [r.path for r in gateway.received if r.path.endswith("/chat/completions")]


def assert_no_secret(done: subprocess.CompletedProcess[str], *secrets: str) -> None:
    for secret in secrets:
        assert secret not in done.stdout and secret not in done.stderr


def test_every_step_passes_and_the_log_id_is_the_row_the_logs_api_has(
    gateway: LocalGateway,
) -> None:
    done = doctor("--base-url", gateway.base_url, "--token", gateway.management_token, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for n in range(1, 5):
        assert f"[{n}/4] OK" in out
    assert f"local gateway at {gateway.base_url}" in out
    assert "account id       local-account  (default: the local gateway's account)" in out
    assert "gateway id       default  (default)" in out
    assert "gateway token    set, from argument --token" in out
    assert f"base URL         {gateway.base_url}  (argument --base-url)" in out
    assert "gateway 'default' exists; authentication off, logs on" in out
    assert "HTTP 200 from openai/gpt-4o-mini" in out and "cf-aig-cache-status" in out
    [log_id] = re.findall(r"log id ([0-9a-f-]{36})", out)
    assert f"log {log_id} found after" in out
    assert [row["id"] for row in gateway.logs()] == [log_id]
    with GatewayClient(gateway.config(), api_token=gateway.management_token) as client:
        assert client.get_log(log_id).id == log_id
    assert out.rstrip().endswith("All steps passed.")
    assert_no_secret(done, gateway.management_token)


def test_json_reports_the_same_steps_for_scripts(gateway: LocalGateway) -> None:
    done = doctor(
        "--json", "--yes", env={"CLOUDFLARE_AI_GATEWAY_BASE_URL": gateway.base_url,
                                "CLOUDFLARE_API_TOKEN": gateway.management_token},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert [s["status"] for s in report["steps"]] == ["OK"] * 4
    assert report["steps"][0]["origins"]["base_url"] == (
        "environment CLOUDFLARE_AI_GATEWAY_BASE_URL"
    )
    assert report["steps"][2]["log_id"] == report["steps"][3]["log_id"]
    assert [row["id"] for row in gateway.logs()] == [report["steps"][3]["log_id"]]
    assert_no_secret(done, gateway.management_token)


def test_an_authenticated_gateway_needs_and_gets_its_token(gateway: LocalGateway) -> None:
    gateway.create_gateway("doctor-auth", authentication=True)
    argv = ("--base-url", gateway.base_url, "--gateway-id", "doctor-auth", "--yes")
    env = {"CLOUDFLARE_API_TOKEN": gateway.management_token}
    done = doctor(*argv, env=env)
    assert done.returncode == 1
    assert "[2/4] FAIL  gateway 'doctor-auth' exists; authentication on, logs on, and no gateway token is set" in done.stdout  # fmt: skip
    assert "fix: set CLOUDFLARE_AI_GATEWAY_TOKEN (or --token)" in done.stdout
    done = doctor(*argv, env={**env, "CLOUDFLARE_AI_GATEWAY_TOKEN": gateway.token})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "gateway token    set, from environment CLOUDFLARE_AI_GATEWAY_TOKEN" in done.stdout
    assert "management token set, from environment CLOUDFLARE_API_TOKEN" in done.stdout
    assert_no_secret(done, gateway.management_token, gateway.token)


def test_one_token_for_a_local_gateway_with_authentication_names_both(
    gateway: LocalGateway,
) -> None:
    gateway.create_gateway("doctor-auth-one", authentication=True)
    done = doctor(
        "--base-url", gateway.base_url, "--gateway-id", "doctor-auth-one",
        "--token", gateway.management_token, "--yes",
    )  # fmt: skip
    assert done.returncode == 1
    assert "[3/4] FAIL  HTTP 401" in done.stdout
    assert (
        "fix: set CLOUDFLARE_AI_GATEWAY_TOKEN to the gateway token `cf-aig serve` printed"
    ) in done.stdout
    assert_no_secret(done, gateway.management_token, gateway.token)


@pytest.mark.parametrize(
    ("case", "fail_line", "fix"),
    [
        ("wrong gateway id", "[2/4] FAIL  no gateway 'nope' in account local-account",
         "fix: check the gateway id (--gateway-id, CLOUDFLARE_GATEWAY_ID)"),
        ("wrong token", "[2/4] FAIL  the management API refused the token (HTTP 401)",
         "fix: use the admin token `cf-aig serve` printed: --token TOKEN or CLOUDFLARE_API_TOKEN"),
        ("stopped server", "[2/4] FAIL  cannot reach the management API at http://127.0.0.1:",
         "fix: Is the local gateway running? Start it with `cf-aig serve --port"),
    ],
)  # fmt: skip
def test_a_failure_prints_its_fix_and_exits_1(
    gateway: LocalGateway, case: str, fail_line: str, fix: str
) -> None:
    base_url, token, extra = gateway.base_url, gateway.management_token, []
    if case == "wrong gateway id":
        extra = ["--gateway-id", "nope"]
    elif case == "wrong token":
        token = WRONG_TOKEN
    else:
        base_url = f"http://127.0.0.1:{free_port()}"
    done = doctor("--base-url", base_url, "--token", token, "--yes", *extra)
    assert done.returncode == 1, done.stdout + done.stderr
    assert fail_line in done.stdout
    assert fix in done.stdout
    assert "steps failed: step 2 (gateway)" in done.stdout
    assert_no_secret(done, token)


def test_no_request_skips_steps_3_and_4(gateway: LocalGateway) -> None:
    done = doctor("--base-url", gateway.base_url, "--token", gateway.management_token,
                  "--no-request")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[3/4] SKIP  request: not sent (--no-request)" in done.stdout
    assert "[4/4] SKIP  log: no request was sent (step 3)" in done.stdout
    assert gateway.logs() == [] and not chat_requests(gateway)
    assert_no_secret(done, gateway.management_token)


def test_without_a_terminal_nor_yes_nothing_is_sent_and_it_says_yes(
    gateway: LocalGateway,
) -> None:
    done = doctor("--base-url", gateway.base_url, "--token", gateway.management_token)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[3/4] SKIP  request: not sent (no terminal to ask on; pass --yes" in done.stdout
    assert gateway.logs() == [] and not chat_requests(gateway)
    assert_no_secret(done, gateway.management_token)


@pytest.mark.parametrize(("typed", "sent"), [("n", False), ("", False), ("y", True)])
def test_the_prompt_on_a_terminal_sends_only_after_yes(
    gateway: LocalGateway, typed: str, sent: bool
) -> None:
    leader, follower = pty.openpty()
    try:
        os.write(leader, f"{typed}\n".encode())
        done = doctor("--base-url", gateway.base_url, "--token", gateway.management_token,
                      stdin=follower)  # fmt: skip
    finally:
        os.close(follower)
        os.close(leader)
    assert done.returncode == 0, done.stdout + done.stderr
    assert PROMPT in done.stderr
    assert_no_secret(done, gateway.management_token)
    assert len(gateway.logs()) == len(chat_requests(gateway)) == (1 if sent else 0)
    if not sent:
        assert "[3/4] SKIP  request: not sent (declined at the prompt)" in done.stdout
    else:
        assert "[4/4] OK" in done.stdout


@pytest.mark.parametrize(
    ("fault", "fail_line", "fix"),
    [
        ("error=7003", "HTTP 404 from openai/gpt-4o-mini~error=7003: ModelNotFoundError:",
         "fix: Check the model id (`cf-aig models` lists them)"),
        ("status=401", "HTTP 401 from openai/gpt-4o-mini~status=401: ProviderError:",
         "fix: the provider refused the request: store its key in the gateway (BYOK) or set "
         "CLOUDFLARE_AI_GATEWAY_PROVIDER_KEY"),
    ],
)  # fmt: skip
def test_a_failed_request_prints_the_typed_errors_fix(
    gateway: LocalGateway, fault: str, fail_line: str, fix: str
) -> None:
    done = doctor("--base-url", gateway.base_url, "--token", gateway.management_token, "--yes",
                  "--model", f"openai/gpt-4o-mini~{fault}")  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"[3/4] FAIL  {fail_line}" in done.stdout
    assert fix in done.stdout
    assert "[4/4] SKIP  log: not looked for, the request failed (step 3)" in done.stdout
    assert_no_secret(done, gateway.management_token)


def test_logs_off_on_the_gateway_is_the_first_fix_when_the_row_never_appears(
    gateway: LocalGateway,
) -> None:
    gateway.create_gateway("doctor-nologs", collect_logs=False)
    done = doctor("--base-url", gateway.base_url, "--token", gateway.management_token, "--yes",
                  "--gateway-id", "doctor-nologs", "--wait", "1")  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "gateway 'doctor-nologs' exists; authentication off, logs off" in done.stdout
    assert "[3/4] OK" in done.stdout
    assert "[4/4] FAIL  log" in done.stdout
    assert "fix: logging is off on this gateway: turn on logs in its settings" in done.stdout
    assert gateway.logs("doctor-nologs") == []
    assert_no_secret(done, gateway.management_token)
