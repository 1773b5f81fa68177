"""``cf-aig route`` and ``cf-aig demo``: what the user reads, and the exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from langchain_cf_gateway import cli
from langchain_cf_gateway.cli import Command, available_commands, extras, main

GW = "https://gateway.ai.cloudflare.com/v1/acct1/default"
NO_TOKEN_NOTE = (
    "note: no gateway token is configured: cf-aig-authorization is not sent, which only a "
    "gateway with authentication off accepts; set CLOUDFLARE_AI_GATEWAY_TOKEN or CF_AIG_TOKEN"
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_compat_route_with_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "route",
        "openai/gpt-4o-mini",
        "--account-id", "acct1",
        "--token", "secret-token",
        "--cache-ttl", "3600",
        "--skip-cache",
        "--cache-key", "k1",
        "--metadata", "team=search", "user=42",
        "--metadata", "beta=true",
        "--event-id", "evt-1",
        "--request-timeout", "5000",
        "--max-attempts", "3",
        "--retry-delay", "500",
        "--backoff", "linear",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out == (
        f"POST {GW}/compat/chat/completions\n"
        "headers:\n"
        "  cf-aig-authorization: Bearer ***\n"
        "  cf-aig-cache-ttl: 3600\n"
        "  cf-aig-skip-cache: true\n"
        "  cf-aig-cache-key: k1\n"
        '  cf-aig-metadata: {"team":"search","user":42,"beta":true}\n'
        "  cf-aig-event-id: evt-1\n"
        "  cf-aig-request-timeout: 5000\n"
        "  cf-aig-max-attempts: 3\n"
        "  cf-aig-retry-delay: 500\n"
        "  cf-aig-backoff: linear\n"
        "body model: openai/gpt-4o-mini\n"
    )


def test_native_route_without_token(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "route", "xai/grok-4", "--endpoint", "native", "--account-id", "acct1"
    )
    assert code == 0
    assert out == (
        f"POST {GW}/grok/v1/chat/completions\n"
        "headers: (none)\n"
        "body model: grok-4\n"
        f"{NO_TOKEN_NOTE}\n"
    )


def test_rest_route(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "route", "xai/grok-4", "--endpoint", "rest",
        "--account-id", "acct1", "--gateway-id", "prod", "--token", "t0k",
    )  # fmt: skip
    assert code == 0
    assert out == (
        "POST https://api.cloudflare.com/client/v4/accounts/acct1/ai/v1/chat/completions\n"
        "headers:\n"
        "  Authorization: Bearer ***\n"
        "  cf-aig-gateway-id: prod\n"
        "body model: xai/grok-4\n"
    )


def test_dynamic_route_on_rest(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "route", "dynamic/support", "--endpoint", "rest",
        "--account-id", "acct1", "--gateway-id", "prod", "--token", "t0k",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out == (
        "POST https://api.cloudflare.com/client/v4/accounts/acct1/ai/v1/chat/completions\n"
        "headers:\n"
        "  Authorization: Bearer ***\n"
        "  cf-aig-gateway-id: prod\n"
        "body model: dynamic/support\n"
    )


def test_auto_router(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "route", "cloudflare/auto", "--account-id", "acct1", "--token", "t0k"
    )
    assert (code, err) == (0, "")
    assert out == (
        f"POST {GW}/compat/chat/completions\n"
        "headers:\n"
        "  cf-aig-authorization: Bearer ***\n"
        "body model: cloudflare/auto\n"
        "response headers the Auto Router adds:\n"
        "  cf-aig-routed-model -> response_metadata['gateway']['routed_model']\n"
        "  cf-aig-routing-reason -> response_metadata['gateway']['routing_reason']\n"
        "  cf-aig-routing-decision-id -> response_metadata['gateway']['routing_decision_id']\n"
    )


def test_token_pasted_with_its_scheme(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "route", "openai/x", "--account-id", "acct1", "--token", "Bearer t0k"
    )
    assert code == 0
    assert "  cf-aig-authorization: Bearer ***\n" in out
    assert "t0k" not in out


def test_pasted_rest_api_url(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "route", "openai/x", "--endpoint", "rest", "--token", "t0k",
        "--base-url", "https://api.cloudflare.com/client/v4/accounts/acct1/ai/v1",
    )  # fmt: skip
    assert code == 0
    assert out.startswith(
        "POST https://api.cloudflare.com/client/v4/accounts/acct1/ai/v1/chat/completions\n"
    )


def test_rest_route_without_token_uses_a_labelled_placeholder(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(
        capsys, "route", "openai/gpt-4o", "--endpoint", "rest", "--account-id", "acct1"
    )
    assert code == 0
    assert "  Authorization: Bearer ***\n" in out
    assert "note: the REST API needs a token; a placeholder stands in for it\n" in out


def test_embeddings_route(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "route", "@cf/baai/bge-base-en-v1.5", "--embeddings", "--endpoint", "native",
        "--account-id", "acct1",
    )  # fmt: skip
    assert code == 0
    assert out.startswith(f"POST {GW}/workers-ai/v1/embeddings\n")
    assert "body model: @cf/baai/bge-base-en-v1.5\n" in out


def test_fallback_prints_the_universal_body(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "route", "openai/gpt-4o-mini",
        "--fallback", "anthropic/claude-sonnet-4-5", "@cf/meta/llama-3.1-8b-instruct",
        "--cache-ttl", "60", "--max-attempts", "2",
        "--account-id", "acct1", "--token", "t0k",
    )  # fmt: skip
    assert code == 0
    head, _, body = out.partition("carries your messages):\n")
    assert head == (
        f"POST {GW}\n"
        "headers:\n"
        "  cf-aig-authorization: Bearer ***\n"
        "body (universal endpoint: one step per model, tried in order; each query also "
    )
    step_headers = {"content-type": "application/json", "cf-aig-cache-ttl": "60"}
    assert json.loads(body) == [
        {
            "provider": "compat",
            "endpoint": "chat/completions",
            "headers": step_headers,
            "config": {"maxAttempts": 2},
            "query": {"model": model},
        }
        for model in (
            "openai/gpt-4o-mini",
            "anthropic/claude-sonnet-4-5",
            "workers-ai/@cf/meta/llama-3.1-8b-instruct",
        )
    ]


def test_metadata_values(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "route", "openai/gpt-4o", "--account-id", "a",
        "--metadata", "n=42", "f=1.5", "t=true", "z=007", "w=NaN",
    )  # fmt: skip
    assert code == 0
    assert '  cf-aig-metadata: {"n":42,"f":1.5,"t":true,"z":"007","w":"NaN"}\n' in out


# ------------------------------------------------------------------- configuration


def test_placeholder_account_when_none_is_configured(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "route", "openai/gpt-4o-mini")
    assert (code, err) == (0, "")
    home_file = Path(os.environ["HOME"]) / ".config" / "cf-aig" / "config.json"
    assert out == (
        "POST https://gateway.ai.cloudflare.com/v1/YOUR_ACCOUNT_ID/default/compat/chat/completions\n"
        "headers: (none)\n"
        "body model: openai/gpt-4o-mini\n"
        "note: no account id is configured: YOUR_ACCOUNT_ID is a placeholder; pass "
        f"--account-id, set CLOUDFLARE_ACCOUNT_ID, or write accountId to {home_file}\n"
        f"{NO_TOKEN_NOTE}\n"
    )


def test_same_resolution_as_the_library(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"accountId": "file-acct", "gatewayName": "file-gw"}))
    monkeypatch.setenv("CF_AIG_CONFIG", str(path))
    monkeypatch.setenv("CF_AIG_TOKEN", "env-token")
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_BASE_URL", "http://127.0.0.1:8787/v1/")
    code, out, _ = run(capsys, "route", "openai/gpt-4o-mini")
    assert code == 0
    assert out == (
        "POST http://127.0.0.1:8787/v1/file-acct/file-gw/compat/chat/completions\n"
        "headers:\n"
        "  cf-aig-authorization: Bearer ***\n"
        "body model: openai/gpt-4o-mini\n"
    )
    code, out, _ = run(capsys, "route", "openai/gpt-4o-mini", "--gateway-id", "arg-gw")
    assert out.startswith("POST http://127.0.0.1:8787/v1/file-acct/arg-gw/compat/")


def test_pasted_gateway_url_supplies_the_account(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "route", "openai/gpt-4o", "--base-url",
        "https://gateway.ai.cloudflare.com/v1/acct9/gw9/compat/chat/completions",
    )  # fmt: skip
    assert code == 0
    assert out.startswith(
        "POST https://gateway.ai.cloudflare.com/v1/acct9/gw9/compat/chat/completions\n"
    )
    assert "YOUR_ACCOUNT_ID" not in out


# ------------------------------------------------------------------- bad input: status 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["route", "gpt-4o"], "cf-aig: error: model id 'gpt-4o' needs a provider"),
        (["route", "acme/x"], "cf-aig: error: unknown provider 'acme'"),
        (["route", "openai:gpt-4o-mini"], "did you mean 'openai/gpt-4o-mini'?"),
        (["route", "claude-3-5-haiku"], "did you mean 'anthropic/claude-3-5-haiku'?"),
        (["route", "opnai/gpt-4o"], "did you mean 'openai'"),
        (["route", "cloudflare/llama"], "'cloudflare/auto' for Cloudflare's Auto Router"),
        (["route", "cloudflare/auto", "--endpoint", "rest"], "served by --endpoint compat"),
        (["route", "anthropic/claude", "--endpoint", "native"], "use --endpoint compat"),
        (
            ["route", "openai/x", "--cache-ttl", "59"],
            "cf-aig: error: --cache-ttl: must be from 60 to 2592000",
        ),
        (
            ["route", "openai/x", "--max-attempts", "6"],
            "--max-attempts: must be from 1 to 5; got 6",
        ),
        (
            ["route", "openai/x", "--retry-delay", "5001"],
            "--retry-delay: must be from 0 to 5000 ms",
        ),
        (["route", "openai/x", "--metadata", "novalue"], "metadata: write KEY=VALUE"),
        (["route", "openai/x", "--metadata", "=v"], "metadata: write KEY=VALUE"),
        (["route", "openai/x", "--metadata", "cf.user=1"], "reserved by Cloudflare"),
        (["route", "openai/x", "--metadata", *[f"k{i}=1" for i in range(6)]], "at most 5 entries"),
        (["route", "openai/x", "--cache-key", " k"], "--cache-key: must be printable ASCII"),
        (
            ["route", "openai/x", "--fallback", "groq/y", "--endpoint", "rest"],
            "--fallback: chains run on",
        ),
        (["route", "openai/x", "--account-id", "bad id"], "--account-id must be 1 to 64"),
        (
            ["route", "openai/x", "--base-url", "localhost:8787"],
            "--base-url must be an http(s) URL",
        ),
        (
            ["route", "openai/x", "--cache-ttl", "soon"],
            "--cache-ttl: invalid int value: 'soon'",
        ),
        (["route", "openai/x", "--endpoint", "universal"], "--endpoint: invalid choice"),
        (["route", "openai/x", "--backoff", "random"], "--backoff: invalid choice"),
        (["route"], "the following arguments are required: MODEL_ID"),
        (["nonsense"], "COMMAND: invalid choice: 'nonsense'"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert out == ""


def test_malformed_account_in_env_is_an_error_not_a_placeholder(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "my account")
    code, out, err = run(capsys, "route", "openai/x")
    assert code == 2 and out == ""
    assert "--account-id must be 1 to 64 letters" in err
    assert "(from CLOUDFLARE_ACCOUNT_ID)" in err


def test_malformed_config_file_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(os.environ["HOME"]) / ".config" / "cf-aig" / "config.json"
    path.parent.mkdir(parents=True)
    path.write_text("{oops")
    code, _, err = run(capsys, "route", "openai/x")
    assert code == 2
    assert f"cf-aig: error: the config file {path} is not valid JSON" in err


def test_console_script_exit_status_and_no_traceback() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "CF_AIG_"))}
    done = subprocess.run(
        [sys.executable, "-m", "langchain_cf_gateway.cli", "route", "openai/x", "--cache-ttl", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("cf-aig: error: --cache-ttl: must be from 60 to 2592000 seconds")
    assert "Traceback" not in done.stderr


# ------------------------------------------------------------------- help, table, demo


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "route" in out and "demo" in out
    code, out, _ = run(capsys, "route", "--help")
    assert code == 0
    for flag in (
        "--endpoint",
        "--fallback",
        "--cache-ttl",
        "--metadata",
        "--account-id",
        "--base-url",
    ):
        assert flag in out
    code, out, _ = run(capsys, "--version")
    assert (code, out) == (0, "cf-aig 0.1.0\n")


def test_only_installed_commands_are_listed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    table = {**cli.COMMANDS, "logs": Command("langchain_cf_gateway.no_such_module", "not here")}
    monkeypatch.setattr(cli, "COMMANDS", table)
    commands = available_commands()
    assert "logs" not in commands
    assert {"route", "demo"} <= set(commands)
    code, _, err = run(capsys, "logs")
    assert code == 2 and "invalid choice: 'logs'" in err


def test_serve_is_listed_exactly_when_the_server_extra_is_installed() -> None:
    server_extra = all(find_spec(module) is not None for module in extras.EXTRAS["server"])
    assert ("serve" in available_commands()) == server_extra


def test_without_the_server_extra_serve_names_the_extra_to_install(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    found = extras.find_spec

    def no_uvicorn(name: str, package: str | None = None) -> object:
        return None if name == "uvicorn" else found(name, package)

    monkeypatch.setattr(extras, "find_spec", no_uvicorn)
    assert "serve" not in available_commands()
    assert {"route", "logs", "feedback", "demo"} <= set(available_commands())
    code, out, err = run(capsys, "serve", "--port", "0")
    assert (code, out) == (2, "")
    assert err == (
        "cf-aig: error: 'cf-aig serve' needs the server extra: "
        "pip install 'langchain-cf-gateway[server]'\n"
    )
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "serve needs the server extra: pip install 'langchain-cf-gateway[server]'" in out


def test_demo_help(capsys: pytest.CaptureFixture[str]) -> None:
    # The demo runs end to end (on the local gateway) in tests/integration/observability/test_demo.py.
    code, out, _ = run(capsys, "demo", "--help")
    assert code == 0
    assert "--local" in out and "local gateway" in out
