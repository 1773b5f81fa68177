"""Issue 11, item 5 and the URL/config items: credentials are redacted by what they are.

A credential is found by its name (any auth header, ``x-auth-token``, ``openai-api-key``,
``cookie``...; a query key such as ``key`` or ``password``) wherever it appears: the
request head, the query string, a universal step's headers inside the body whatever the
body's shape or encoding. Its value is then hidden in every surface: ``/__local/received``,
log rows (``request_head``), stored request and response bodies, CLI output, warnings.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import stat
import subprocess
import sys
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from langchain_cf_gateway.cli import main
from langchain_cf_gateway.core import Header
from langchain_cf_gateway.core.config import ConfigFileWarning
from langchain_cf_gateway.local import LocalGateway, PassThrough
from langchain_cf_gateway.local.config import load_config

from .creds_helpers import RecordingUpstream

HELLO = [{"role": "user", "content": "Hello there"}]
http = httpx.Client(timeout=30)
CREDENTIAL_HEADERS = [
    "authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "x-auth-token",
    "openai-api-key",
    "proxy-authorization",
    "cookie",
]


def secret(label: str) -> str:
    return f"sekrit-{label}-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def gw(upstream: RecordingUpstream) -> Iterator[LocalGateway]:
    targets = {s: PassThrough(base_url=upstream.base_url) for s in ("openai", "google-ai-studio")}
    with LocalGateway(upstreams=targets) as gateway:
        yield gateway


def received_view(gw: LocalGateway) -> str:
    response = http.get(
        f"{gw.base_url}/__local/received",
        headers={"authorization": f"Bearer {gw.management_token}"},
    )
    assert response.status_code == 200
    return response.text


def logged_view(gw: LocalGateway) -> str:
    """Every log row, and every stored request and response body, as the logs API shows them."""
    base = f"{gw.base_url}/client/v4/accounts/{gw.account_id}/ai-gateway/gateways/default/logs"
    auth = {"authorization": f"Bearer {gw.management_token}"}
    rows = http.get(base, headers=auth).json()["result"]
    parts = [json.dumps(rows)]
    for row in rows:
        parts.append(http.get(f"{base}/{row['id']}", headers=auth).text)
        for part in ("request", "response"):
            parts.append(http.get(f"{base}/{row['id']}/{part}", headers=auth).text)
    return "\n".join(parts)


def step(headers: dict[str, str]) -> dict[str, Any]:
    return {
        "provider": "openai",
        "endpoint": "chat/completions",
        "headers": headers,
        "query": {"model": "gpt-4o-mini", "messages": HELLO},
    }


def _bodies(headers: dict[str, str]) -> dict[str, bytes]:
    array = json.dumps([step(headers)])
    single = json.dumps(step(headers))
    return {
        "array": array.encode(),
        "single-object": single.encode(),
        "utf-8-bom": b"\xef\xbb\xbf" + array.encode(),
        "utf-16": array.encode("utf-16"),
        "utf-16-single": single.encode("utf-16"),
        "nested-case": json.dumps([step({k.upper(): v for k, v in headers.items()})]).encode(),
    }


@pytest.mark.parametrize("shape", list(_bodies({})))
def test_universal_step_headers_are_redacted_whatever_the_body_shape(
    gw: LocalGateway, shape: str
) -> None:
    gw.reset()
    secrets = {name: secret(name) for name in CREDENTIAL_HEADERS}
    body = _bodies(secrets)[shape]
    response = http.post(gw.gateway_url, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    for view in (received_view(gw), logged_view(gw)):
        for name, value in secrets.items():
            assert value not in view, f"{name} shown in clear ({shape})"
    assert "[REDACTED]" in received_view(gw)


def test_request_head_credentials_are_redacted_in_received_and_logs(gw: LocalGateway) -> None:
    gw.reset()
    secrets = {name: secret(name) for name in CREDENTIAL_HEADERS}
    response = http.post(
        f"{gw.gateway_url}/compat/chat/completions",
        json={"model": "openai/gpt-4o-mini", "messages": HELLO},
        headers=secrets,
    )
    assert response.status_code == 200, response.text
    views = received_view(gw), logged_view(gw)
    for view in views:
        for name, value in secrets.items():
            assert value not in view, f"{name} shown in clear"
    [row] = gw.logs()
    assert {row["request_head"][name] for name in CREDENTIAL_HEADERS} == {"[REDACTED]"}


def test_query_credentials_are_redacted(gw: LocalGateway) -> None:
    gw.reset()
    key, password = secret("key"), secret("password")
    response = http.post(
        f"{gw.gateway_url}/google-ai-studio/v1/models/gemini-2.0-flash:generateContent",
        params={"key": key, "password": password, "alt": "json"},
        json={"contents": [{"parts": [{"text": "hi"}]}]},
    )
    assert response.status_code == 200, response.text
    view = received_view(gw)
    assert key not in view and password not in view
    [item] = [i for i in json.loads(view)["result"] if i["path"].endswith(":generateContent")]
    assert item["query"] == {"key": "[REDACTED]", "password": "[REDACTED]", "alt": "json"}
    assert key not in logged_view(gw) and password not in logged_view(gw)


def test_stored_bodies_never_hold_a_credential_the_upstream_echoed(gw: LocalGateway) -> None:
    gw.reset()
    key, token = secret("provider"), secret("auth-token")
    response = http.post(
        f"{gw.gateway_url}/openai/echo",
        json={"model": "gpt-4o-mini", "messages": HELLO},
        headers={"authorization": f"Bearer {key}", "x-auth-token": token},
    )
    assert response.status_code == 200 and key in response.text  # the client sees its answer
    logged = logged_view(gw)
    assert key not in logged and token not in logged
    assert "[REDACTED]" in logged


def test_cli_route_masks_a_password_in_the_base_url(capsys: pytest.CaptureFixture[str]) -> None:
    password = secret("url-password")
    status = main(
        [
            "route",
            "openai/gpt-4o-mini",
            "--account-id",
            "acct",
            "--base-url",
            f"http://alice:{password}@127.0.0.1:9",
        ]
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    assert password not in out + err
    assert "alice:***@127.0.0.1:9" in out


@pytest.mark.parametrize(
    "url",
    [
        "redis://:{pw}@127.0.0.1:9/0",
        "redis://bob:{pw}@127.0.0.1:9/0",
        "redis://127.0.0.1:9/0?password={pw}",
        "redis://127.0.0.1:9/0?socket_timeout=1&password={pw}",
    ],
)
def test_redis_url_is_masked_in_warnings(url: str, caplog: pytest.LogCaptureFixture) -> None:
    password = secret("redis")
    caplog.set_level(logging.WARNING)
    with LocalGateway(cache_url=url.format(pw=password)) as gateway:
        response = http.post(
            f"{gateway.gateway_url}/compat/chat/completions",
            json={"model": "openai/gpt-4o-mini", "messages": HELLO},
            headers={Header.CACHE_TTL: "60"},
        )
        assert response.status_code == 200
    warned = [r.getMessage() for r in caplog.records if "Redis" in r.getMessage()]
    assert warned, "the outage was not reported"
    assert all(password not in w for w in warned)
    assert password not in caplog.text


def _write(path: Path, text: str, mode: int) -> Path:
    path.write_text(text)
    os.chmod(path, mode)
    return path


@pytest.mark.parametrize(
    "text",
    [
        'token = "dev-gateway-token"\n',
        'management_token = "dev-admin"\n',
        '[upstreams.openai]\nbase_url = "http://127.0.0.1:9/v1"\napi_key = "sk-x"\n',
        'cache_url = "redis://:pw@127.0.0.1:9/0"\n',
    ],
)
def test_serve_config_readable_by_others_with_secrets_warns(tmp_path: Path, text: str) -> None:
    loose = _write(tmp_path / "local.toml", text, 0o644)
    with pytest.warns(ConfigFileWarning, match="chmod 600"):
        load_config(loose)
    tight = _write(tmp_path / "tight.toml", text, stat.S_IRUSR | stat.S_IWUSR)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigFileWarning)
        load_config(tight)


def test_serve_config_without_secrets_does_not_warn(tmp_path: Path) -> None:
    loose = _write(
        tmp_path / "local.toml", "port = 8787\n[gateways.default]\ncache_ttl = 60\n", 0o644
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigFileWarning)
        load_config(loose)


def test_serve_command_warns_about_a_readable_config(tmp_path: Path) -> None:
    token = secret("serve-token")
    config = _write(tmp_path / "local.toml", f'port = 0\ntoken = "{token}"\n', 0o644)
    process = subprocess.Popen(
        [sys.executable, "-m", "langchain_cf_gateway.cli", "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.startswith("cf-aig local gateway listening on"), banner
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert f"chmod 600 {config}" in err
    assert token not in banner + out + err


def test_unreachable_upstream_error_masks_the_url_password() -> None:
    password = secret("upstream-pw")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    target = PassThrough(base_url=f"http://alice:{password}@127.0.0.1:{port}/v1", timeout_s=5)
    with LocalGateway(upstreams={"openai": target}) as gateway:
        response = http.post(
            f"{gateway.gateway_url}/compat/chat/completions",
            json={"model": "openai/gpt-4o-mini", "messages": HELLO},
        )
        assert response.status_code == 502, response.text
        assert "upstream unreachable" in response.text
        assert password not in response.text
        assert password not in json.dumps(gateway.logs())


def test_a_credential_copied_into_another_header_is_hidden_in_logs(gw: LocalGateway) -> None:
    gw.reset()
    key = secret("copied")
    response = http.post(
        f"{gw.gateway_url}/compat/chat/completions",
        json={"model": "openai/gpt-4o-mini", "messages": HELLO},
        headers={"authorization": f"Bearer {key}", "x-trace-note": f"sent with {key}"},
    )
    assert response.status_code == 200, response.text
    [row] = gw.logs()
    assert row["request_head"]["x-trace-note"] == "sent with [REDACTED]"
    assert key not in received_view(gw) and key not in logged_view(gw)


def test_a_key_in_the_body_is_hidden_in_received_and_stored_bodies(gw: LocalGateway) -> None:
    gw.reset()
    key = secret("body-key")
    response = http.post(
        f"{gw.gateway_url}/openai/chat/completions",
        json={"model": "gpt-4o-mini", "messages": HELLO, "api_key": key},
    )
    assert response.status_code == 200, response.text
    assert key not in received_view(gw) and key not in logged_view(gw)


def test_a_form_body_credential_is_hidden_in_received(gw: LocalGateway) -> None:
    gw.reset()
    key, password = secret("form-key"), secret("form-pw")
    http.post(
        f"{gw.gateway_url}/openai/echo",
        content=f"key={key}&password={password}&n=1",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    view = received_view(gw)
    assert "n=1" in view  # the request was recorded
    assert key not in view and password not in view


def test_cli_logs_masks_a_password_in_the_base_url(capsys: pytest.CaptureFixture[str]) -> None:
    password = secret("logs-url-password")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    status = main(["logs", "--base-url", f"http://alice:{password}@127.0.0.1:{port}"])
    out, err = capsys.readouterr()
    assert status == 1 and "cannot reach" in err
    assert password not in out + err


@pytest.mark.parametrize("bad", ["http://alice:{pw}@host x", "http://alice:{pw}@host/v1?x=1"])
def test_a_rejected_base_url_is_echoed_without_its_password(bad: str) -> None:
    from langchain_cf_gateway.core import ConfigError, GatewayConfig

    password = secret("bad-url")
    with pytest.raises((ConfigError, ValueError)) as err:
        GatewayConfig.resolve(account_id="acct", base_url=bad.format(pw=password))
    assert password not in str(err.value)
    assert "alice:***@host" in str(err.value)
