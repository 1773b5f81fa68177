"""``cf-aig serve`` and its config file: a real process, answered over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from langchain_cf_gateway.core import ConfigError, Header
from langchain_cf_gateway.local.config import load_config
from tests.support.local_calls import chat_body, gateway_error, http

CONFIG = """
port = {port}
token = "dev-gateway-token"
management_token = "dev-admin"

[gateways.default]
cache_ttl = 300

[gateways.secure]
authentication = true
rate_limiting_limit = 100
rate_limiting_interval = 60
rate_limiting_technique = "sliding"

[upstreams.mistral]
base_url = "http://127.0.0.1:9/v1"
api_key_env = "MISTRAL_TEST_KEY"
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_with_the_config_file(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "local.toml"
    config.write_text(CONFIG.format(port=port))
    env = {**os.environ, "MISTRAL_TEST_KEY": "sk-mistral", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    process = subprocess.Popen(
        [sys.executable, "-m", "langchain_cf_gateway.cli", "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,  # uvicorn's own log lines
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.strip() == f"cf-aig local gateway listening on http://127.0.0.1:{port}"
        rest = [process.stdout.readline() for _ in range(2)]
        assert "base_url=" in rest[1]
        base = f"http://127.0.0.1:{port}/v1/acct"
        first = http.post(f"{base}/default/compat/chat/completions", json=chat_body())
        second = http.post(f"{base}/default/compat/chat/completions", json=chat_body())
        assert (first.headers[Header.CACHE_STATUS], second.headers[Header.CACHE_STATUS]) == (
            "MISS",
            "HIT",
        )
        refused = http.post(f"{base}/secure/compat/chat/completions", json=chat_body())
        assert gateway_error(refused)[:2] == (401, 2009)
        allowed = http.post(
            f"{base}/secure/compat/chat/completions",
            json=chat_body(),
            headers={Header.AUTHORIZATION: "Bearer dev-gateway-token"},
        )
        assert allowed.status_code == 200
        listed = http.get(
            f"http://127.0.0.1:{port}/client/v4/accounts/acct/ai-gateway/gateways",
            headers={"authorization": "Bearer dev-admin"},
        )
        assert sorted(g["id"] for g in listed.json()["result"]) == ["default", "secure"]
    finally:
        process.send_signal(signal.SIGTERM)
        output, errors = process.communicate(timeout=15)
    assert process.returncode == 0, errors
    everything = banner + "".join(rest) + output + errors
    for secret in ("dev-gateway-token", "dev-admin", "sk-mistral"):
        assert secret not in everything


def test_yaml_config_and_its_errors(tmp_path: Path) -> None:
    good = tmp_path / "local.yaml"
    good.write_text("port: 0\ngateways:\n  team:\n    authentication: true\n")
    config = load_config(good, environ={})
    assert config.port == 0 and config.gateways == {"team": {"authentication": True}}
    for text, needle in [
        ("prot: 1\n", "unknown key(s) prot"),
        ("gateways:\n  team:\n    cache_ttl: -5\n", "cache_ttl must be"),
        ("gateways:\n  'bad id':\n    cache_ttl: 5\n", "gateway id must be"),
        ("upstreams:\n  nope:\n    base_url: http://x\n", "not a provider slug"),
        ("upstreams:\n  openai:\n    base_url: ftp://x\n", "http(s) URL"),
        (
            "upstreams:\n  openai:\n    base_url: http://x\n    api_key_env: NOT_SET_ANYWHERE\n",
            "not set",
        ),
        ("port: [1]\n", "port"),
    ]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(ConfigError) as caught:
            load_config(bad, environ={})
        assert needle in str(caught.value), text
    ini = tmp_path / "x.ini"
    ini.write_text("")
    with pytest.raises(ConfigError, match=r"\.toml, \.yaml"):
        load_config(ini, environ={})


def test_tokens_come_from_the_environment(tmp_path: Path) -> None:
    config = load_config(
        None,
        environ={"CF_AIG_LOCAL_TOKEN": "t1", "CF_AIG_LOCAL_MANAGEMENT_TOKEN": "m1"},
    )
    assert (config.token, config.management_token) == ("t1", "m1")
    assert "t1" not in repr(config) and "m1" not in repr(config)
