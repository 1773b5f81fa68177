"""The gateway token and provider keys never show: repr, str, dumps, exceptions, logs, CLI output.

A unique token is planted, everything a user can print or log is produced, and the text
is scanned for it.
"""

from __future__ import annotations

import json
import logging
import pickle
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from langchain_cf_gateway.cli import main
from langchain_cf_gateway.core import (
    GatewayConfig,
    GatewayOptions,
    Step,
    build_route,
    build_universal,
    error_from_response,
    parse_model_id,
)


@pytest.fixture
def token() -> str:
    return f"tok-{uuid.uuid4().hex}"


@pytest.fixture
def provider_key() -> str:
    return f"pk-{uuid.uuid4().hex}"


@pytest.fixture(autouse=True)
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog


def scan(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text


def logged(caplog: pytest.LogCaptureFixture) -> str:
    return caplog.text + "".join(repr(r.args) + str(r.msg) for r in caplog.records)


def test_config(token: str, caplog: pytest.LogCaptureFixture) -> None:
    config = GatewayConfig(account_id="acct", token=token)  # type: ignore[arg-type]
    assert config.token is not None and config.token.get_secret_value() == token  # planted
    for text in (
        repr(config),
        str(config),
        str(config.model_dump()),
        json.dumps(config.model_dump(mode="json")),
        config.model_dump_json(),
        repr(config.token),
        str(config.token),
        f"{config}",
    ):
        scan(text, token)
    assert config.model_dump(mode="json")["token"] == "**********"
    scan(logged(caplog), token)


def test_resolved_from_env_and_file(
    token: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"accountId": "acct", "token": token}))
    path.chmod(0o644)
    monkeypatch.setenv("CF_AIG_CONFIG", str(path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        config = GatewayConfig.resolve()
        monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_TOKEN", token)
        from_env = GatewayConfig.resolve(account_id="a")
    assert caught, "the permission warning is expected here"
    scan("".join(str(w.message) for w in caught), token)
    scan(repr(config) + repr(from_env), token)
    scan(logged(caplog), token)


@pytest.mark.parametrize("suffix", ["\n", "\r\nX-Injected: 1", "\0"])
def test_rejected_token_is_not_echoed(
    token: str, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = token + suffix + "tail"
    with pytest.raises(ValueError) as direct:
        GatewayConfig(account_id="acct", token=bad)  # type: ignore[arg-type]
    scan(str(direct.value) + repr(direct.value), token)
    with pytest.raises(ValueError) as resolved:
        GatewayConfig.resolve(account_id="acct", token=bad)
    scan(str(resolved.value) + repr(resolved.value), token)
    if "\0" in bad:
        return  # the environment cannot hold a NUL
    monkeypatch.setenv("CF_AIG_TOKEN", bad)
    with pytest.raises(ValueError) as from_env:
        GatewayConfig.resolve(account_id="acct")
    scan(str(from_env.value), token)


def test_other_validation_errors_do_not_echo_the_token(token: str) -> None:
    with pytest.raises(ValueError) as err:
        GatewayConfig(account_id="bad id", token=token, bogus=token)  # type: ignore[arg-type, call-arg]
    scan(str(err.value) + repr(err.value), token)


def test_routes(token: str, provider_key: str, caplog: pytest.LogCaptureFixture) -> None:
    config = GatewayConfig(account_id="acct", token=token)  # type: ignore[arg-type]
    routes = [
        build_route(config, "openai/gpt-4o-mini"),
        build_route(config, "groq/llama-3.1-8b-instant", "native"),
        build_route(config, "anthropic/claude-sonnet-4-5", "rest"),
    ]
    for route in routes:
        assert token in "".join(route.headers.values())  # the route does carry it
        scan(repr(route) + str(route), token)
    step = Step("openai/gpt-4o", GatewayOptions(cache_ttl=60), headers={"x-api-key": provider_key})
    scan(repr(step), provider_key)
    universal = build_universal(
        config, [step, Step("groq/llama-3.1-8b-instant")], provider_key=provider_key
    )
    scan(repr(universal) + str(universal), token, provider_key)
    scan(repr(parse_model_id("openai/gpt-4o")), token)
    scan(logged(caplog), token, provider_key)


def test_gateway_errors(token: str) -> None:
    err = error_from_response(
        401, {"cf-aig-log-id": "l"}, b'{"internalCode":2009,"message":"Unauthorized"}'
    )
    scan(str(err) + repr(err) + str(pickle.loads(pickle.dumps(err))), token)


def test_cli_output_and_logs(
    token: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs = [
        ["route", "openai/gpt-4o-mini", "--account-id", "a", "--token", token],
        [
            "route",
            "anthropic/claude-sonnet-4-5",
            "--endpoint",
            "rest",
            "--account-id",
            "a",
            "--token",
            token,
        ],
        [
            "route",
            "openai/gpt-4o",
            "--fallback",
            "groq/llama-3.1-8b-instant",
            "--account-id",
            "a",
            "--token",
            token,
        ],
        ["route", "openai/gpt 4o", "--account-id", "a", "--token", token],  # an error
        ["route", "openai/gpt-4o", "--account-id", "a", "--token", token + "\n"],  # a bad token
    ]
    for argv in runs:
        main(argv)
    # cf-aig demo with credentials set calls the real gateway; its token hygiene is
    # tested on the local gateway in tests/integration/observability/test_demo.py.
    out, err = capsys.readouterr()
    assert "Bearer ***" in out
    scan(out + err, token)
    scan(logged(caplog), token)
