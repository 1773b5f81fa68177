"""Bad command lines: one line on stderr naming the flag and the fix, exit 2, no usage block.

The README's promise for `cf-aig` ("2 bad input (usage, config, model id, option), one line
on stderr, no traceback"), held for argparse's own errors in every subcommand, and the
`note:` lines of `cf-aig route` fit the endpoint.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from langchain_cf_gateway.cli import main


@pytest.fixture(autouse=True)
def _no_gateway_configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "CLOUDFLARE_ACCOUNT_ID",
        "CLOUDFLARE_API_TOKEN",
        "CLOUDFLARE_AI_GATEWAY_TOKEN",
        "CF_AIG_TOKEN",
        "CLOUDFLARE_AI_GATEWAY_BASE_URL",
        "CLOUDFLARE_GATEWAY_ID",
        "CLOUDFLARE_AI_GATEWAY_NAME",
    ):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "none.json").write_text("{}")  # an empty config file: nothing read
    monkeypatch.setenv("CF_AIG_CONFIG", str(tmp_path / "none.json"))


@pytest.mark.parametrize(
    ("argv", "flag", "help_of"),
    [
        (["route", "openai/x", "--request-timeout", "1.5"], "--request-timeout", "route"),
        (["route", "cloudflare/auto", "--allowed-providers"], "--allowed-providers", "route"),
        (["route", "openai/x", "--endpoint", "universal"], "--endpoint", "route"),
        (["route"], "MODEL_ID", "route"),
        (["route", "openai/x", "--no-such-flag"], "--no-such-flag", "route"),
        (["serve", "--port", "http"], "--port", "serve"),
        (["serve", "--host"], "--host", "serve"),
        (["logs", "--limit", "many"], "--limit", "logs"),
        (["logs", "--provider"], "--provider", "logs"),
        (["feedback", "log1", "--score", "high"], "--score", "feedback"),
        (["models", "--provider"], "--provider", "models"),
        (["demo", "--model"], "--model", "demo"),
        (["nonsense"], "COMMAND", None),
        ([], "COMMAND", None),
    ],
)
def test_an_argparse_error_is_one_line_naming_the_flag_and_the_fix(
    capsys: pytest.CaptureFixture[str], argv: list[str], flag: str, help_of: str | None
) -> None:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "usage:" not in err
    assert flag in err
    prog = f"cf-aig {help_of}" if help_of else "cf-aig"
    assert err.startswith(f"{prog}: error: "), err
    assert err.rstrip().endswith(f"(see {prog} --help)"), err


def test_route_rest_notes_fit_the_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "dynamic/support", "--endpoint", "rest"]) == 0
    out = capsys.readouterr().out
    assert "placeholder" in out
    assert "the REST API needs a token" in out
    assert "cf-aig-authorization" not in out  # the REST API takes Authorization, not this


def test_route_compat_still_notes_the_missing_gateway_token(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["route", "dynamic/support"]) == 0
    out = capsys.readouterr().out
    assert "no gateway token is configured: cf-aig-authorization is not sent" in out
