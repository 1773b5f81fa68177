"""Every subcommand reports errors in its own flags, never in Python's `name=` spelling.

The core's messages are written for Python callers (`pass account_id=...`,
`use endpoint='compat'`, `cache_ttl: must be ...`); at the terminal they name the flag
the user typed. One boundary (`cli.main`) rewrites them, so each subcommand is checked
here through `main`, as a user runs it. Socket-free: every error is found before a
request is sent or a port is bound.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from langchain_cf_gateway.cli import extras, main

# `account_id=...`, `endpoint='compat'`, `cache_ttl: must`, `head_timeout_s must`
PYTHON_SPELLING = re.compile(
    r"(?<![\w/.-])(?:[a-z]+(?:_[a-z]+)+(?:=|:| must )|[a-z]+(?:_[a-z]+)*=['\"])"
)


@pytest.fixture(autouse=True)
def _no_gateway_configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "CLOUDFLARE_ACCOUNT_ID",
        "CLOUDFLARE_API_TOKEN",
        "CLOUDFLARE_AI_GATEWAY_TOKEN",
        "CF_AIG_TOKEN",
        "CLOUDFLARE_AI_GATEWAY_BASE_URL",
        "CLOUDFLARE_GATEWAY_ID",
        "CLOUDFLARE_AI_GATEWAY_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "none.json").write_text("{}")  # an empty config file: nothing read
    monkeypatch.setenv("CF_AIG_CONFIG", str(tmp_path / "none.json"))


def cf_aig(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    return code, err


def assert_in_flags(err: str, *expected: str) -> None:
    for text in expected:
        assert text in err, err
    assert PYTHON_SPELLING.search(err) is None, err


GATEWAY = ("--account-id", "acct", "--token", "t0k")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["route", "openai/x", "--cache-ttl", "59"],
            ["cf-aig: error: --cache-ttl: must be from 60", "use --skip-cache"],
        ),
        (["route", "anthropic/claude", "--endpoint", "native"], ["use --endpoint compat for"]),
        (["route", "dynamic/support", "--endpoint", "native"], ["served by --endpoint compat"]),
        (["route", "openai/x", "--account-id", "bad id"], ["--account-id must be 1 to 64"]),
        (["route", "openai/x", "--gateway-id", "a/b"], ["--gateway-id must be 1 to 64"]),
        (["route", "openai/x", "--base-url", "localhost:8787"], ["--base-url must be an http"]),
        (["route", "openai/x", "--request-timeout", "0"], ["--request-timeout: must be"]),
        (["route", "openai/x", "--retry-delay", "5001"], ["--retry-delay: must be from 0"]),
        (["route", "openai/x", "--event-id", " e"], ["--event-id: must be printable"]),
    ],
)
def test_route(capsys: pytest.CaptureFixture[str], argv: list[str], expected: list[str]) -> None:
    code, err = cf_aig(capsys, *argv)
    assert code == 2
    assert_in_flags(err, *expected)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["logs"], ["No Cloudflare account id: pass --account-id ID, set CLOUDFLARE_ACCOUNT_ID"]),
        (["logs", "--account-id", "acct"], ["needs a Cloudflare API token: pass --token TOKEN"]),
        (["logs", *GATEWAY, "--gateway-id", "a b"], ["--gateway-id must be 1 to 64"]),
        (["logs", *GATEWAY, "--limit", "0"], ["--limit: must be 1 or more"]),
    ],
)
def test_logs(capsys: pytest.CaptureFixture[str], argv: list[str], expected: list[str]) -> None:
    code, err = cf_aig(capsys, *argv)
    assert code == 2
    assert_in_flags(err, *expected)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["feedback", "L1"], ["pass --account-id ID"]),
        (
            ["feedback", "L1", *GATEWAY],
            ["--feedback: give at least one of --feedback 1/-1, --score 0..100 or --metadata"],
        ),
        (["feedback", "L1", *GATEWAY, "--score", "150"], ["--score: must be a number from 0"]),
        (["feedback", "bad id", *GATEWAY, "--score", "5"], ["LOG_ID: must be 1 to 128"]),
        (["feedback", "L1", *GATEWAY, "--metadata", "cf.x=1"], ["--metadata: keys starting"]),
    ],
)
def test_feedback(capsys: pytest.CaptureFixture[str], argv: list[str], expected: list[str]) -> None:
    code, err = cf_aig(capsys, *argv)
    assert code == 2
    assert_in_flags(err, *expected)


@pytest.mark.skipif(not extras.installed("server"), reason="cf-aig serve needs the server extra")
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--head-timeout", "0"], ["--head-timeout must be a positive number"]),
        (["--body-timeout", "-1"], ["--body-timeout must be a positive number"]),
        (["--max-head-bytes", "10"], ["--max-head-bytes must be an integer of at least"]),
        # the log store's bounds, checked as it opens (a traceback before)
        (["--log-max-rows", "-1"], ["--log-max-rows must be 0 (keep every row) or more"]),
        (["--log-commit-timeout", "0"], ["--log-commit-timeout must be a positive number"]),
        (["--log-max-body-bytes", "-1"], ["--log-max-body-bytes must be 0 (no bound)"]),
        # an OverflowError from bind() before
        (["--port", "70000"], ["--port: must be 0 (any free port) to 65535"]),
    ],
)
def test_serve(capsys: pytest.CaptureFixture[str], argv: list[str], expected: list[str]) -> None:
    code, err = cf_aig(capsys, "serve", *(["--port", "0"] if "--port" not in argv else []), *argv)
    assert code == 2
    assert_in_flags(err, *expected)


def test_demo(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Credentials set: the demo would use that gateway (no local one is started).
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acct")
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_TOKEN", "t0k")
    code, err = cf_aig(capsys, "demo", "--model", "gpt-4o")
    assert code == 2
    assert_in_flags(err, "--model: model id 'gpt-4o' needs a provider")
