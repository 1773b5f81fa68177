"""`cf-aig doctor`'s report: step lines, origins in flag words, exit status, JSON; and the
runs that need no gateway (a missing configuration, bad flags), each without a token shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from langchain_cf_gateway.cli import main
from langchain_cf_gateway.cli.doctor_report import (
    StepResult,
    conclusion,
    describe_origin,
    exit_status,
    format_step,
    report_json,
)
from langchain_cf_gateway.core.config import Origin

TOKEN = "doctor-secret-token-0123456789"
FILE = Path("/home/me/.config/cf-aig/config.json")


@pytest.mark.parametrize(
    ("origin", "flag", "text"),
    [
        (Origin("argument"), "--account-id", "argument --account-id"),
        (Origin("environment", "CLOUDFLARE_ACCOUNT_ID"), "--account-id",
         "environment CLOUDFLARE_ACCOUNT_ID"),
        (Origin("file", "accountId", FILE), "--account-id", f"file {FILE} key accountId"),
        (Origin("base_url"), "--gateway-id", "the gateway URL given as base URL"),
        (Origin("default"), "--gateway-id", "default"),
        (None, "--token", "not set"),
    ],
)  # fmt: skip
def test_an_origin_is_said_in_the_words_of_the_command_line(
    origin: Origin | None, flag: str, text: str
) -> None:
    assert describe_origin(origin, flag) == text


@pytest.mark.parametrize(
    ("step", "lines"),
    [
        (
            StepResult("gateway", "OK", "gateway 'default' exists", details=["a  b"]),
            ["[2/4] OK    gateway 'default' exists", "        a  b"],
        ),
        (
            StepResult("gateway", "FAIL", "refused (HTTP 401)", fix="use another token"),
            ["[2/4] FAIL  refused (HTTP 401)", "        fix: use another token"],
        ),
        (
            StepResult("gateway", "SKIP", "not sent", fix="never shown for a skip"),
            ["[2/4] SKIP  not sent"],
        ),
    ],
)
def test_a_step_is_one_line_with_its_status_and_a_failure_its_fix(
    step: StepResult, lines: list[str]
) -> None:
    assert format_step(2, step) == lines


def test_exit_status_conclusion_and_json() -> None:
    ok = StepResult("config", "OK", "fine", data={"gateway_id": "default"})
    skip = StepResult("request", "SKIP", "not sent")
    fail = StepResult("log", "FAIL", "no row", fix="turn logs on")
    assert exit_status([ok, skip]) == 0
    assert exit_status([ok, fail]) == 1
    assert conclusion([ok, ok]) == "All steps passed."
    assert conclusion([ok, skip]) == "No step failed (1 skipped)."
    assert conclusion([ok, skip, fail]) == "1 of 3 steps failed: step 3 (log)."
    report = report_json([ok, fail])
    assert report["ok"] is False and report["exit_status"] == 1
    assert report["steps"][0] == {
        "number": 1,
        "name": "config",
        "status": "OK",
        "summary": "fine",
        "fix": None,
        "details": [],
        "gateway_id": "default",
    }
    assert report["steps"][1]["fix"] == "turn logs on"
    json.dumps(report)  # serialisable as it is


@pytest.fixture
def no_gateway(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    config = tmp_path / "config.json"
    config.write_text("{}")
    monkeypatch.setenv("CF_AIG_CONFIG", str(config))
    return config


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_no_account_id_fails_step_1_with_the_fix_and_skips_the_rest(
    no_gateway: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    json_flag: list[str],
) -> None:
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_TOKEN", TOKEN)
    assert main(["doctor", "--yes", *json_flag]) == 1
    out, err = capsys.readouterr()
    assert TOKEN not in out + err
    if json_flag:
        steps = json.loads(out)["steps"]
        assert [s["status"] for s in steps] == ["FAIL", "SKIP", "SKIP", "SKIP"]
        assert "--account-id" in steps[0]["fix"]
        return
    assert "[1/4] FAIL  configuration: No Cloudflare account id: pass --account-id ID" in out
    assert f'fix: pass --account-id, set CLOUDFLARE_ACCOUNT_ID, or write {{"accountId": "..."}} to {no_gateway}' in out  # fmt: skip
    assert "[2/4] SKIP  gateway: no configuration (step 1)" in out
    assert "[3/4] SKIP" in out and "[4/4] SKIP" in out
    assert out.rstrip().endswith("1 of 4 steps failed: step 1 (config).")


def test_a_malformed_token_fails_step_1_without_showing_it(
    no_gateway: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acct")
    monkeypatch.setenv("CF_AIG_TOKEN", TOKEN + "\n" + TOKEN)
    assert main(["doctor", "--no-request"]) == 1
    out, err = capsys.readouterr()
    assert "[1/4] FAIL" in out and "(from CF_AIG_TOKEN)" in out
    assert TOKEN not in out + err


@pytest.mark.parametrize(
    "argv",
    [
        ["doctor", "--wait", "-1"],
        ["doctor", "--wait", "soon"],
        ["doctor", "--yes", "--no-request"],
        ["doctor", "--model", "gpt-4o-mini"],
        ["doctor", "--unknown"],
    ],
)
def test_bad_flags_exit_2_in_one_line(
    no_gateway: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--token", TOKEN]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("cf-aig doctor: error:") or err.startswith("cf-aig: error: --wait")
    assert TOKEN not in err


def test_a_token_in_the_config_file_is_not_shown_when_step_1_fails(
    no_gateway: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    no_gateway.write_text(json.dumps({"accountId": "not an id", "token": TOKEN}))
    no_gateway.chmod(0o600)
    assert main(["doctor", "--yes", "--json"]) == 1
    out, err = capsys.readouterr()
    [config] = [s for s in json.loads(out)["steps"] if s["name"] == "config"]
    assert config["status"] == "FAIL"
    assert f"(from accountId in {no_gateway})" in config["summary"]
    assert TOKEN not in out + err


@pytest.mark.parametrize(
    ("url", "fix"),
    [
        ("http://127.0.0.1:8788/v1/a/default/compat/chat/completions",
         "Is the local gateway running? Start it with `cf-aig serve --port 8788`, or check "
         "`base_url` / CLOUDFLARE_AI_GATEWAY_BASE_URL."),
        ("https://gateway.ai.cloudflare.com/v1/a/default/compat/chat/completions",
         "Check the network and any proxy settings (HTTPS_PROXY)."),
    ],
)  # fmt: skip
def test_the_connection_fix_is_the_last_sentence_of_the_connection_message(
    url: str, fix: str
) -> None:
    from langchain_cf_gateway.core.connection import connection_fix, connection_message

    assert connection_fix(url) == fix
    assert connection_message(url, "[Errno 111] Connection refused") == (
        f"cannot reach the gateway at {url} ([Errno 111] Connection refused). {fix}"
    )


def test_a_refused_connection_is_the_url_tried_then_the_fix_in_flag_words() -> None:
    import httpx

    from langchain_cf_gateway.cli.doctor_report import unreachable_step

    request = httpx.Request("GET", "http://user:pw@127.0.0.1:8799/client/v4/accounts/a")
    step = unreachable_step("gateway", httpx.ConnectError("[Errno 111] refused", request=request))
    assert (step.status, step.data) == ("FAIL", {"reachable": False})
    assert step.summary == (
        "cannot reach the management API at http://user:***@127.0.0.1:8799/client/v4/accounts/a "
        "([Errno 111] refused)."
    )
    assert step.fix == (
        "Is the local gateway running? Start it with `cf-aig serve --port 8799`, or check "
        "--base-url / CLOUDFLARE_AI_GATEWAY_BASE_URL"
    )
    timeout = unreachable_step("request", httpx.ReadTimeout("timed out", request=request))
    assert timeout.summary.startswith("no response from http://user:***@127.0.0.1:8799/")
    assert "pw" not in timeout.summary
