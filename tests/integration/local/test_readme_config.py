"""The config file examples of langchain_cf_gateway/local/README.md load as they are shown."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import pytest

import langchain_cf_gateway.local
from langchain_cf_gateway.core.config import ConfigFileWarning
from langchain_cf_gateway.local.config import ServerConfig, load_config

README = Path(langchain_cf_gateway.local.__file__).with_name("README.md")
ENV = {"OPENAI_API_KEY": "sk-from-the-environment"}


def block(language: str) -> str:
    section = README.read_text().split("## Config file", 1)[1].split("\n## ", 1)[0]
    [text] = re.findall(rf"```{language}\n(.*?)```", section, re.S)
    return text


def load(tmp_path: Path, language: str, suffix: str, mode: int = 0o600) -> ServerConfig:
    path = tmp_path / f"local.{suffix}"
    path.write_text(block(language))
    os.chmod(path, mode)
    return load_config(path, environ=ENV)


@pytest.mark.parametrize(("language", "suffix"), [("toml", "toml"), ("yaml", "yaml")])
def test_the_readme_config_example_loads(tmp_path: Path, language: str, suffix: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigFileWarning)  # mode 600: no warning
        config = load(tmp_path, language, suffix)
    assert (config.host, config.port, config.account_id) == ("127.0.0.1", 8787, "acct")
    assert (config.token, config.management_token) == ("dev-gateway-token", "dev-admin")
    assert config.log_path == "cf-aig-logs.sqlite"
    assert config.cache_url == "redis://127.0.0.1:6379/0"
    assert config.allowed_hosts == ["gw.internal"]
    assert config.allowed_origins == ["https://app.example"]
    assert config.gateways["default"] == {"cache_ttl": 300, "authentication": True}
    assert config.gateways["secure"]["rate_limiting_technique"] == "sliding"
    assert config.upstreams["openai"].api_key == ENV["OPENAI_API_KEY"]
    anthropic = config.upstreams["anthropic"]
    assert (anthropic.api_key, anthropic.timeout_s) == ("sk-ant-replace-me", 120.0)
    [(gateway_id, route)] = config.routes
    assert (gateway_id, route.name, len(route.elements)) == ("secure", "ab", 5)


def test_the_toml_and_yaml_examples_say_the_same(tmp_path: Path) -> None:
    toml, yaml = load(tmp_path, "toml", "toml"), load(tmp_path, "yaml", "yaml")
    assert vars(toml) == vars(yaml)


def test_the_readme_config_example_readable_by_others_warns(tmp_path: Path) -> None:
    with pytest.warns(ConfigFileWarning, match="chmod 600"):
        load(tmp_path, "toml", "toml", mode=0o644)
