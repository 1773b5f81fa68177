"""Where each resolved value came from: `pick_settings` (pure) and `config_origins`.

The same precedence as `GatewayConfig.resolve` (arguments > environment > config file),
table-driven; `resolve` itself keeps its values and messages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from langchain_cf_gateway.core import ConfigError, GatewayConfig
from langchain_cf_gateway.core.config import Origin, config_origins, pick_settings

FILE = Path("/home/me/.config/cf-aig/config.json")
NONE: dict[str, Any] = {"account_id": None, "gateway_id": None, "token": None, "base_url": None}


@pytest.mark.parametrize(
    ("arguments", "environ", "file", "field", "value", "origin"),
    [
        ({"account_id": "a1"}, {"CLOUDFLARE_ACCOUNT_ID": "e1"}, {}, "account_id", "a1",
         Origin("argument")),
        ({}, {"CLOUDFLARE_ACCOUNT_ID": "e1"}, {"accountId": "f1"}, "account_id", "e1",
         Origin("environment", "CLOUDFLARE_ACCOUNT_ID")),
        ({}, {}, {"accountId": "f1"}, "account_id", "f1", Origin("file", "accountId", FILE)),
        ({}, {}, {"account_id": "f1"}, "account_id", "f1", Origin("file", "account_id", FILE)),
        ({}, {}, {}, "account_id", None, None),
        ({}, {}, {}, "gateway_id", "default", Origin("default")),
        ({}, {"CLOUDFLARE_AI_GATEWAY_NAME": "g"}, {}, "gateway_id", "g",
         Origin("environment", "CLOUDFLARE_AI_GATEWAY_NAME")),
        ({}, {}, {"gatewayName": "g"}, "gateway_id", "g", Origin("file", "gatewayName", FILE)),
        ({"token": SecretStr("t0ken-value")}, {"CF_AIG_TOKEN": "x"}, {}, "token", "t0ken-value",
         Origin("argument")),
        ({}, {"CF_AIG_TOKEN": "x"}, {"token": "y"}, "token", "x",
         Origin("environment", "CF_AIG_TOKEN")),
        ({"account_id": ""}, {"CLOUDFLARE_ACCOUNT_ID": "e1"}, {}, "account_id", "e1",
         Origin("environment", "CLOUDFLARE_ACCOUNT_ID")),
        ({}, {"CLOUDFLARE_AI_GATEWAY_BASE_URL": "http://127.0.0.1:8787/v1/acc/gw"}, {},
         "gateway_id", "gw", Origin("base_url")),
        ({}, {}, {"baseUrl": "http://127.0.0.1:8787/v1/acc/gw"}, "account_id", "acc",
         Origin("base_url")),
        ({"gateway_id": "mine"}, {"CLOUDFLARE_AI_GATEWAY_BASE_URL": "http://h/v1/acc/gw"}, {},
         "gateway_id", "mine", Origin("argument")),
    ],
)  # fmt: skip
def test_each_field_comes_from_the_first_place_that_sets_it(
    arguments: dict[str, Any],
    environ: dict[str, str],
    file: dict[str, str],
    field: str,
    value: Any,
    origin: Origin | None,
) -> None:
    picked = pick_settings({**NONE, **arguments}, environ, file, FILE)
    assert picked[field].value == value
    assert picked[field].origin == origin


@pytest.mark.parametrize(
    ("origin", "text"),
    [
        (Origin("argument"), "the argument"),
        (Origin("environment", "CLOUDFLARE_ACCOUNT_ID"), "CLOUDFLARE_ACCOUNT_ID"),
        (Origin("file", "accountId", FILE), f"accountId in {FILE}"),
        (Origin("base_url"), "the base URL"),
        (Origin("default"), "the default"),
    ],
)
def test_an_origin_reads_as_the_error_messages_name_it(origin: Origin, text: str) -> None:
    assert str(origin) == text


def test_a_malformed_base_url_names_where_it_came_from() -> None:
    with pytest.raises(ConfigError, match=r"\(from CLOUDFLARE_AI_GATEWAY_BASE_URL\)"):
        pick_settings(NONE, {"CLOUDFLARE_AI_GATEWAY_BASE_URL": "ftp://x"}, {}, FILE)


def test_config_origins_reads_the_environment_and_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"accountId": "file-acct", "token": "file-token-123"}))
    path.chmod(0o600)
    environ = {"CF_AIG_CONFIG": str(path), "CLOUDFLARE_GATEWAY_ID": "gw-env"}
    origins = config_origins(base_url="http://127.0.0.1:9", environ=environ)
    assert origins == {
        "account_id": Origin("file", "accountId", path),
        "gateway_id": Origin("environment", "CLOUDFLARE_GATEWAY_ID"),
        "token": Origin("file", "token", path),
        "base_url": Origin("argument"),
    }
    # The same sources give resolve the same values.
    config = GatewayConfig.resolve(base_url="http://127.0.0.1:9", environ=environ)
    assert (config.account_id, config.gateway_id) == ("file-acct", "gw-env")


def test_config_origins_refuses_a_missing_file_it_was_pointed_at(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        config_origins(environ={"CF_AIG_CONFIG": str(tmp_path / "nope.json")})
