"""Config mistakes are loud: each names the file or field and the closest valid name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from langchain_cf_gateway import ChatCloudflareGateway, CloudflareGatewayEmbeddings
from langchain_cf_gateway.core import ConfigError, GatewayConfig, InvalidOptionError


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.mark.parametrize(
    ("key", "closest"),
    [
        ("accountID", "accountId"),
        ("acountId", "accountId"),
        ("gatewayID", "gatewayId"),
        ("baseURL", "baseUrl"),
        ("tokn", "token"),
    ],
)
def test_a_misspelled_key_in_the_config_file_names_the_file_and_the_closest_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, closest: str
) -> None:
    path = write(tmp_path / "cf.json", {key: "value-1"})
    monkeypatch.setenv("CF_AIG_CONFIG", str(path))
    with pytest.raises(ConfigError) as err:
        GatewayConfig.resolve(account_id="acct")
    message = str(err.value)
    assert repr(key) in message and str(path) in message
    assert f"did you mean {closest!r}?" in message
    assert "value-1" not in message  # a value (a token, say) is never echoed


def test_an_unknown_key_far_from_any_lists_the_keys_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "cf.json", {"accountId": "acct", "colour": "blue"})
    monkeypatch.setenv("CF_AIG_CONFIG", str(path))
    with pytest.raises(ConfigError, match=r"'colour'.*accountId, gatewayId"):
        GatewayConfig.resolve()


def test_every_documented_key_is_still_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path / "cf.json",
        {"accountId": "acct", "gatewayName": "gw", "token": "t", "baseUrl": "http://127.0.0.1:1"},
    )
    monkeypatch.setenv("CF_AIG_CONFIG", str(path))
    config = GatewayConfig.resolve()
    assert (config.account_id, config.gateway_id, config.base_url) == (
        "acct",
        "gw",
        "http://127.0.0.1:1",
    )


def test_cf_aig_config_naming_a_missing_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "config.json", {"accountId": "acct"})
    missing = tmp_path / "config.jsn"
    monkeypatch.setenv("CF_AIG_CONFIG", str(missing))
    with pytest.raises(ConfigError) as err:
        GatewayConfig.resolve(account_id="acct")
    message = str(err.value)
    assert "CF_AIG_CONFIG" in message and str(missing) in message
    assert "does not exist" in message
    assert "did you mean 'config.json'?" in message


def test_a_missing_config_file_argument_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        GatewayConfig.resolve(account_id="acct", config_file=tmp_path / "none.json")


def test_the_default_config_file_may_be_absent() -> None:
    assert GatewayConfig.resolve(account_id="acct").account_id == "acct"


@pytest.mark.parametrize("make", [ChatCloudflareGateway, CloudflareGatewayEmbeddings])
@pytest.mark.parametrize(("value", "closest"), [("nativ", "native"), ("REST", "rest")])
def test_a_misspelled_endpoint_names_the_field_and_the_closest_value(
    make: type, value: str, closest: str
) -> None:
    with pytest.raises(InvalidOptionError) as err:
        make(model="openai/gpt-4o-mini", account_id="acct", endpoint=value)
    assert err.value.field == "endpoint"
    message = str(err.value)
    assert f"got {value!r}" in message and f"did you mean {closest!r}?" in message
    assert "'compat', 'native', 'rest'" in message
    assert "validation error" not in message  # not pydantic's wrapper
