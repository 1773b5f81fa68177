"""GatewayConfig: resolution (argument > environment > config file) and base URL joining.

tests/conftest.py clears every gateway variable and points HOME at an empty temporary
directory before each test, so ~/.config/cf-aig/config.json below is the test's own.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import pytest

from langchain_cf_gateway.core import (
    ConfigError,
    GatewayConfig,
    MissingAccountIdError,
    build_route,
    config_file_path,
    split_base_url,
)
from langchain_cf_gateway.core.config import ConfigFileWarning


def home_config() -> Path:
    return Path(os.environ["HOME"]) / ".config" / "cf-aig" / "config.json"


def write_config(path: Path, data: Any, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    path.chmod(mode)
    return path


# ------------------------------------------------------------------- base URL normalisation

H = "http://127.0.0.1:8787"
CF = "https://gateway.ai.cloudflare.com"
API = "https://api.cloudflare.com"


@pytest.mark.parametrize(
    ("given", "root", "account", "gateway"),
    [
        (H, H, None, None),
        (f"{H}/", H, None, None),
        (f"{H}//", H, None, None),
        (f"  {H}/ ", H, None, None),
        (f"{H}/v1", H, None, None),
        (f"{H}/v1/", H, None, None),
        (f"{H}/v1/chat/completions", H, None, None),
        (f"{H}/v1/embeddings", H, None, None),
        (f"{H}/compat", H, None, None),
        (f"{H}/v1/a1/g1", H, "a1", "g1"),
        (f"{H}/v1/a1/g1/", H, "a1", "g1"),
        (f"{H}/v1/a1/g1/compat", H, "a1", "g1"),
        (f"{H}/v1/a1/g1/compat/", H, "a1", "g1"),
        (f"{H}/v1/a1/g1/compat/chat/completions", H, "a1", "g1"),
        (f"{H}/v1/a1/g1/compat/chat/completions/", H, "a1", "g1"),
        (f"{H}/v1/a1/g1/compat/embeddings", H, "a1", "g1"),
        (f"{CF}/v1/a1/g1/openai", CF, "a1", "g1"),
        (f"{CF}/v1/a1/g1/openai/chat/completions", CF, "a1", "g1"),
        (f"{CF}/v1/a1/g1/workers-ai/v1/chat/completions", CF, "a1", "g1"),
        (f"{CF}/v1/a1/g1/anthropic/v1/messages", CF, "a1", "g1"),
        (f"{CF}/v1/a1/g1/custom-acme", CF, "a1", "g1"),
        # A path that is not a gateway layout is kept as the user's own prefix.
        (f"{H}/proxy", f"{H}/proxy", None, None),
        (f"{H}/proxy/v1", f"{H}/proxy", None, None),
        (f"{H}/v1/a1/g1/not-a-provider", f"{H}/v1/a1/g1/not-a-provider", None, None),
        # A pasted REST API URL: Cloudflare's API host means Cloudflare's gateway host, and
        # the account id (and a management URL's gateway id) is taken from the path.
        (API, CF, None, None),
        (f"{API}/client/v4", CF, None, None),
        (f"{API}/client/v4/", CF, None, None),
        (f"{API}/client/v4/accounts/a1", CF, "a1", None),
        (f"{API}/client/v4/accounts/a1/ai/v1", CF, "a1", None),
        (f"{API}/client/v4/accounts/a1/ai/v1/", CF, "a1", None),
        (f"{API}/client/v4/accounts/a1/ai/v1/chat/completions", CF, "a1", None),
        (f"{API}/client/v4/accounts/a1/ai/run", CF, "a1", None),
        (f"{API}/client/v4/accounts/a1/ai-gateway/gateways/g1", CF, "a1", "g1"),
        (f"{API}/client/v4/accounts/a1/ai-gateway/gateways/g1/logs", CF, "a1", "g1"),
        # The same paths on a local gateway keep its host.
        (f"{H}/client/v4", H, None, None),
        (f"{H}/client/v4/accounts/a1/ai/v1", H, "a1", None),
        (f"{H}/client/v4/accounts/a1/ai/v1/chat/completions", H, "a1", None),
    ],
)
def test_split_base_url(given: str, root: str, account: str | None, gateway: str | None) -> None:
    assert split_base_url(given) == (root, account, gateway)


BASE_URLS = [
    H,
    f"{H}/",
    f"{H}/v1",
    f"{H}/v1/",
    f"{H}/v1/chat/completions",
    f"{H}/compat",
    f"{H}/v1/acct1/default/compat",
    f"{H}/v1/acct1/default/compat/chat/completions/",
    f"{H}/v1/acct1/default/openai",
]


@pytest.mark.parametrize("base_url", BASE_URLS)
def test_routes_never_double_v1_or_chat_completions(base_url: str) -> None:
    config = GatewayConfig(account_id="acct1", base_url=base_url)
    assert config.base_url == H
    cases = {
        ("compat", "chat"): f"{H}/v1/acct1/default/compat/chat/completions",
        ("compat", "embeddings"): f"{H}/v1/acct1/default/compat/embeddings",
        ("native", "chat"): f"{H}/v1/acct1/default/openai/chat/completions",
        ("native", "embeddings"): f"{H}/v1/acct1/default/openai/embeddings",
    }
    for (endpoint, operation), url in cases.items():
        route = build_route(config, "openai/gpt-4o-mini", endpoint, operation)  # type: ignore[arg-type]
        assert route.url == url
        assert route.url.count("/v1") == 1
        assert route.url.count("chat/completions") <= 1


@pytest.mark.parametrize("base_url", BASE_URLS[6:])
def test_a_pasted_gateway_url_supplies_account_and_gateway(base_url: str) -> None:
    config = GatewayConfig.resolve(base_url=base_url)
    assert (config.account_id, config.gateway_id, config.base_url) == ("acct1", "default", H)


def test_explicit_ids_beat_the_ones_in_a_pasted_url() -> None:
    config = GatewayConfig.resolve(
        account_id="a2", gateway_id="g2", base_url=f"{H}/v1/acct1/gw1/compat"
    )
    assert config.gateway_url == f"{H}/v1/a2/g2"


@pytest.mark.parametrize("bad", ["127.0.0.1:8787", "ftp://host", "http://", "gateway"])
def test_bad_base_url(bad: str) -> None:
    with pytest.raises(ConfigError) as err:
        GatewayConfig.resolve(account_id="a", base_url=bad)
    message = str(err.value)
    assert "base_url must be an http(s) URL such as http://127.0.0.1:8787" in message
    assert "(from the argument)" in message
    assert repr(bad) in message


def test_bad_base_url_from_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_BASE_URL", "localhost:1")
    with pytest.raises(
        ConfigError, match=r"\(from CLOUDFLARE_AI_GATEWAY_BASE_URL\); got 'localhost:1'"
    ):
        GatewayConfig.resolve(account_id="a")


REST_CHAT = "https://api.cloudflare.com/client/v4/accounts/a1/ai/v1/chat/completions"
PASTED_REST_URLS = [
    (f"{API}/client/v4/accounts/a1/ai/v1", "a1"),
    (f"{API}/client/v4/accounts/a1/ai/v1/chat/completions", "a1"),
    (f"{API}/client/v4/accounts/a1", "a1"),
    (f"{API}/client/v4", None),
    (f"{API}/client/v4/", None),
    (API, None),
]


@pytest.mark.parametrize(("base_url", "account"), PASTED_REST_URLS)
def test_a_pasted_rest_api_url_is_never_doubled_into_routes(
    base_url: str, account: str | None
) -> None:
    config = GatewayConfig.resolve(
        account_id=None if account else "a1", token="t0k", base_url=base_url
    )
    assert config.base_url is None  # Cloudflare's own hosts
    assert config.account_id == "a1"
    assert config.api_base == f"{API}/client/v4"
    assert build_route(config, "openai/gpt-4o-mini", "rest").url == REST_CHAT
    assert (
        build_route(config, "openai/gpt-4o-mini").url
        == f"{CF}/v1/a1/default/compat/chat/completions"
    )
    assert build_route(config, "dynamic/support", "rest").url == REST_CHAT


def test_a_pasted_local_rest_url_keeps_the_local_host() -> None:
    config = GatewayConfig.resolve(token="t0k", base_url=f"{H}/client/v4/accounts/a1/ai/v1")
    assert (config.base_url, config.account_id) == (H, "a1")
    route = build_route(config, "openai/gpt-4o-mini", "rest")
    assert route.url == f"{H}/client/v4/accounts/a1/ai/v1/chat/completions"
    assert build_route(config, "openai/gpt-4o-mini").url == (
        f"{H}/v1/a1/default/compat/chat/completions"
    )


def test_a_pasted_management_url_supplies_the_gateway() -> None:
    config = GatewayConfig.resolve(base_url=f"{API}/client/v4/accounts/a1/ai-gateway/gateways/g1")
    assert config.gateway_url == f"{CF}/v1/a1/g1"


@pytest.mark.parametrize(
    "bad", [f"{API}/v1/a1/g1/compat", f"{API}/client/v3/accounts/a1", f"{API}/accounts/a1"]
)
def test_other_paths_on_cloudflares_api_host_name_the_fix(bad: str) -> None:
    with pytest.raises(ConfigError) as err:
        GatewayConfig.resolve(account_id="a1", base_url=bad)
    message = str(err.value)
    assert "api.cloudflare.com" in message
    assert "leave base_url unset" in message


def test_default_hosts() -> None:
    config = GatewayConfig(account_id="a")
    assert config.gateway_url == "https://gateway.ai.cloudflare.com/v1/a/default"
    assert config.api_base == "https://api.cloudflare.com/client/v4"
    local = GatewayConfig(account_id="a", base_url=H)
    assert local.api_base == f"{H}/client/v4"


# ------------------------------------------------------------------- precedence


FIELDS = {
    # field: (argument name, [env vars in priority order], [file keys in priority order])
    "account_id": ("account_id", ["CLOUDFLARE_ACCOUNT_ID"], ["accountId"]),
    "gateway_id": (
        "gateway_id",
        ["CLOUDFLARE_GATEWAY_ID", "CLOUDFLARE_AI_GATEWAY_NAME"],
        ["gatewayId", "gatewayName"],
    ),
    "token": ("token", ["CLOUDFLARE_AI_GATEWAY_TOKEN", "CF_AIG_TOKEN"], ["token"]),
    "base_url": ("base_url", ["CLOUDFLARE_AI_GATEWAY_BASE_URL"], ["baseUrl"]),
}


def _value(field: str, source: str) -> str:
    if field == "base_url":
        return {
            "arg": "http://arg.test",
            "env0": "http://env0.test",
            "env1": "http://env1.test",
        }.get(source, f"http://{source}.test")
    return f"{source}-{field.replace('_', '')}"


def _read(config: GatewayConfig, field: str) -> str | None:
    value = getattr(config, field)
    if field == "token":
        return value.get_secret_value() if value is not None else None
    return value  # type: ignore[no-any-return]


@pytest.mark.parametrize("field", list(FIELDS))
def test_argument_beats_environment_beats_file(field: str, monkeypatch: pytest.MonkeyPatch) -> None:
    arg, env_names, file_keys = FIELDS[field]
    base = {"accountId": "file-acct"} if field != "account_id" else {}
    file_data = {**base, **{key: _value(field, f"file{i}") for i, key in enumerate(file_keys)}}
    write_config(home_config(), file_data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # mode 600: no permission warning
        # Only the file.
        assert _read(GatewayConfig.resolve(), field) == _value(field, "file0")
        # Each environment variable beats the file; the first name beats its alias.
        for i, name in reversed(list(enumerate(env_names))):
            monkeypatch.setenv(name, _value(field, f"env{i}"))
            assert _read(GatewayConfig.resolve(), field) == _value(field, f"env{i}")
        # The argument beats everything.
        assert _read(GatewayConfig.resolve(**{arg: _value(field, "arg")}), field) == _value(
            field, "arg"
        )


@pytest.mark.parametrize("field", list(FIELDS))
def test_alias_alone(field: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each second name (env alias, file alias) works on its own."""
    _, env_names, file_keys = FIELDS[field]
    if len(env_names) > 1:
        monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acct")
        monkeypatch.setenv(env_names[1], _value(field, "alias"))
        assert _read(GatewayConfig.resolve(), field) == _value(field, "alias")
        monkeypatch.delenv(env_names[1])
    if len(file_keys) > 1:
        write_config(home_config(), {"accountId": "acct", file_keys[1]: _value(field, "falias")})
        assert _read(GatewayConfig.resolve(), field) == _value(field, "falias")


def test_empty_values_fall_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "")
    monkeypatch.setenv("CLOUDFLARE_GATEWAY_ID", "")
    write_config(home_config(), {"accountId": "from-file", "gatewayId": "gw-file"})
    config = GatewayConfig.resolve(account_id="", gateway_id="")
    assert (config.account_id, config.gateway_id) == ("from-file", "gw-file")


def test_defaults() -> None:
    config = GatewayConfig.resolve(account_id="acct")
    assert config.gateway_id == "default"
    assert config.token is None
    assert config.base_url is None


def test_cf_aig_config_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(home_config(), {"accountId": "home-acct"})
    other = write_config(tmp_path / "elsewhere.json", {"accountId": "other-acct"})
    monkeypatch.setenv("CF_AIG_CONFIG", str(other))
    assert config_file_path() == other
    assert GatewayConfig.resolve().account_id == "other-acct"


def test_cf_aig_config_expands_the_home_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(Path(os.environ["HOME"]) / "cf.json", {"accountId": "tilde"})
    monkeypatch.setenv("CF_AIG_CONFIG", "~/cf.json")
    assert config_file_path() == path
    assert GatewayConfig.resolve().account_id == "tilde"


def test_default_file_path() -> None:
    assert config_file_path() == home_config()


def test_explicit_environ_and_file(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c.json", {"accountId": "file-acct", "gatewayId": "file-gw"})
    config = GatewayConfig.resolve(environ={"CLOUDFLARE_GATEWAY_ID": "env-gw"}, config_file=path)
    assert (config.account_id, config.gateway_id) == ("file-acct", "env-gw")


def test_fields_resolve_independently(monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(
        home_config(),
        {"accountId": "file-acct", "gatewayId": "file-gw", "token": "file-tok", "baseUrl": H},
    )
    monkeypatch.setenv("CLOUDFLARE_GATEWAY_ID", "env-gw")
    config = GatewayConfig.resolve(token="arg-tok")
    assert config.account_id == "file-acct"
    assert config.gateway_id == "env-gw"
    assert config.token is not None and config.token.get_secret_value() == "arg-tok"
    assert config.base_url == H


# ------------------------------------------------------------------- errors


def test_missing_account_names_every_place_to_put_it() -> None:
    with pytest.raises(MissingAccountIdError) as err:
        GatewayConfig.resolve()
    message = str(err.value)
    assert isinstance(err.value, ConfigError) and isinstance(err.value, ValueError)
    assert "account_id=" in message
    assert "CLOUDFLARE_ACCOUNT_ID" in message
    assert "CF_AIG_CONFIG" in message
    assert str(home_config()) in message
    assert '"accountId"' in message


def test_missing_account_names_the_cf_aig_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path / "mine.json", {"gatewayId": "g"})
    monkeypatch.setenv("CF_AIG_CONFIG", str(path))
    with pytest.raises(MissingAccountIdError, match=str(path)):
        GatewayConfig.resolve()


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        (
            {"account_id": "a b"},
            "account_id must be 1 to 64 letters, digits, '-' or '_'; got 'a b' (from the argument)",
        ),
        ({"account_id": "-a"}, "account_id must be 1 to 64"),
        ({"account_id": "a" * 65}, "account_id must be 1 to 64"),
        ({"account_id": "a", "gateway_id": "g/x"}, "gateway_id must be 1 to 64"),
        ({"account_id": "a", "gateway_id": "g" * 65}, "gateway_id must be 1 to 64"),
        ({"account_id": "a", "token": "t\nx"}, "token must be printable ASCII on one line"),
        ({"account_id": "a", "token": "tö"}, "token must be printable ASCII on one line"),
        ({"account_id": "a", "token": "t\x01x"}, "token must be printable ASCII on one line"),
    ],
)
def test_malformed_values(kwargs: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        GatewayConfig.resolve(**kwargs)  # type: ignore[arg-type]
    assert fragment in str(err.value)
    assert not isinstance(err.value, MissingAccountIdError)


@pytest.mark.parametrize(
    ("env", "file", "origin"),
    [
        ({"CLOUDFLARE_ACCOUNT_ID": "a b"}, {}, "(from CLOUDFLARE_ACCOUNT_ID)"),
        ({}, {"accountId": "a b"}, "(from accountId in {path})"),
        (
            {"CLOUDFLARE_ACCOUNT_ID": "a", "CLOUDFLARE_AI_GATEWAY_NAME": "g g"},
            {},
            "(from CLOUDFLARE_AI_GATEWAY_NAME)",
        ),
        ({}, {"accountId": "a", "gatewayName": "g g"}, "(from gatewayName in {path})"),
        ({"CLOUDFLARE_ACCOUNT_ID": "a", "CF_AIG_TOKEN": "t\tx"}, {}, "(from CF_AIG_TOKEN)"),
        ({"CLOUDFLARE_AI_GATEWAY_BASE_URL": "http://h/v1/a%20b/gw"}, {}, "(from the base URL)"),
    ],
)
def test_malformed_values_name_where_they_came_from(
    env: dict[str, str], file: dict[str, str], origin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = write_config(home_config(), file) if file else home_config()
    with pytest.raises(ConfigError) as err:
        GatewayConfig.resolve()
    assert str(err.value).endswith(origin.format(path=path))


def test_ids_at_the_bounds() -> None:
    config = GatewayConfig.resolve(account_id="a" * 64, gateway_id="g")
    assert len(config.account_id) == 64 and config.gateway_id == "g"


def test_token_is_stripped_and_blank_means_none() -> None:
    config = GatewayConfig(account_id="a", token="  tok  ")  # type: ignore[arg-type]
    assert config.token is not None and config.token.get_secret_value() == "tok"
    assert GatewayConfig(account_id="a", token="   ").token is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "is not valid JSON"),
        ('["accountId"]', "must hold a JSON object with accountId"),
        ('"acct"', "must hold a JSON object"),
        ('{"accountId": 123}', "accountId in the config file"),
        ('{"accountId": "a", "token": true}', "token in the config file"),
    ],
)
def test_malformed_config_file(content: str, fragment: str) -> None:
    path = write_config(home_config(), content)
    with pytest.raises(ConfigError) as err:
        GatewayConfig.resolve(account_id="arg-acct")
    assert fragment in str(err.value)
    assert str(path) in str(err.value)


def test_unreadable_config_file() -> None:
    home_config().mkdir(parents=True)  # a directory where the file should be
    with pytest.raises(ConfigError, match=f"cannot read the config file {home_config()}"):
        GatewayConfig.resolve(account_id="a")


def test_bad_base_url_from_the_file_names_the_file() -> None:
    path = write_config(home_config(), {"accountId": "a", "baseUrl": "localhost:1"})
    with pytest.raises(ConfigError) as err:
        GatewayConfig.resolve()
    assert f"baseUrl in {path}" in str(err.value)


# ------------------------------------------------------------------- file permissions


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o666])
def test_warns_when_a_token_file_is_readable_by_others(mode: int) -> None:
    path = write_config(home_config(), {"accountId": "a", "token": "t"}, mode)
    with pytest.warns(ConfigFileWarning) as record:
        GatewayConfig.resolve()
    assert len(record) == 1
    message = str(record[0].message)
    assert f"{path} holds a gateway token and is readable by group or others" in message
    assert f"chmod 600 {path}" in message
    assert record[0].filename == __file__  # points at the caller, not at config.py


@pytest.mark.parametrize(
    ("data", "mode"),
    [({"accountId": "a", "token": "t"}, 0o600), ({"accountId": "a"}, 0o644)],
)
def test_no_warning_for_a_private_file_or_one_without_token(
    data: dict[str, str], mode: int
) -> None:
    write_config(home_config(), data, mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GatewayConfig.resolve()


# ------------------------------------------------------------------- the model itself


def test_config_is_frozen_and_closed() -> None:
    config = GatewayConfig(account_id="a")
    with pytest.raises(ValueError):
        config.account_id = "b"  # type: ignore[misc]
    with pytest.raises(ValueError):
        GatewayConfig(account_id="a", bogus=1)  # type: ignore[call-arg]


def test_model_copy_with_update_validates() -> None:
    config = GatewayConfig(account_id="a", token="tok")  # type: ignore[arg-type]
    local = config.model_copy(update={"base_url": f"{H}/v1/"})
    assert local.base_url == H
    assert local.gateway_url == f"{H}/v1/a/default"
    assert local.token is not None and local.token.get_secret_value() == "tok"
    assert config.model_copy() == config
    with pytest.raises(ValueError, match="gateway_id must be 1 to 64"):
        config.model_copy(update={"gateway_id": "a b"})


def test_auth_headers() -> None:
    assert GatewayConfig(account_id="a").auth_headers() == {}
    config = GatewayConfig(account_id="a", token="tok")  # type: ignore[arg-type]
    assert config.auth_headers() == {"cf-aig-authorization": "Bearer tok"}


# A token pasted with its scheme is accepted once: one leading 'Bearer ' is dropped.
# https://developers.cloudflare.com/ai-gateway/configuration/authentication/
PASTED_TOKENS = [
    ("t0k", "t0k"),
    ("Bearer t0k", "t0k"),
    ("bearer t0k", "t0k"),
    ("BEARER t0k", "t0k"),
    ("Bearer   t0k", "t0k"),
    (" Bearer t0k\n", "t0k"),
    ("Bearer Bearer t0k", "Bearer t0k"),  # once only
    ("Bearert0k", "Bearert0k"),  # no scheme: a token that starts with the letters
]


@pytest.mark.parametrize(("given", "sent"), PASTED_TOKENS)
def test_a_token_pasted_with_its_scheme_is_sent_once(given: str, sent: str) -> None:
    config = GatewayConfig(account_id="a", token=given)  # type: ignore[arg-type]
    assert config.auth_headers() == {"cf-aig-authorization": f"Bearer {sent}"}
    rest = build_route(config, "openai/gpt-4o-mini", "rest")
    assert rest.headers["Authorization"] == f"Bearer {sent}"


@pytest.mark.parametrize("env", ["CLOUDFLARE_AI_GATEWAY_TOKEN", "CF_AIG_TOKEN"])
def test_a_token_with_its_scheme_from_the_environment(
    env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(env, "Bearer t0k")
    config = GatewayConfig.resolve(account_id="a")
    assert config.auth_headers() == {"cf-aig-authorization": "Bearer t0k"}


@pytest.mark.parametrize("given", ["Bearer", "Bearer ", "bearer  "])
def test_a_scheme_without_a_token_is_refused(given: str) -> None:
    with pytest.raises(ConfigError, match="the token after 'Bearer '") as err:
        GatewayConfig.resolve(account_id="a", token=given)
    assert "(from the argument)" in str(err.value)


# ------------------------------------------- only the listed paths of Cloudflare's hosts

# README "Base URL": on api.cloudflare.com only `/client/v4`, `/client/v4/accounts/{acct}`
# and its `/ai/...` (REST API) and `/ai-gateway/...` (management API) paths are read.
OTHER_API_PATHS = [
    f"{API}/client/v4/accounts/abc123/workers/scripts",
    f"{API}/client/v4/accounts/abc123/ai-gatewayx",
    f"{API}/client/v4/accounts/abc123/aix/v1",
    f"{API}/client/v4/user/tokens/verify",
    f"{API}/client/v4/zones/z1",
    f"{API}/client/v4/accounts",
    f"{H}/client/v4/accounts/abc123/workers/scripts",
    f"{CF}/client/v4/accounts/a1/ai/v1",
]
# gateway.ai.cloudflare.com: the host, `/v1`, `/v1/{acct}/{gw}`, its `/compat` and provider paths.
OTHER_GATEWAY_PATHS = [
    f"{CF}/v1/a1/g1/not-a-provider",
    f"{CF}/v1/a1",
    f"{CF}/v2/a1/g1",
    f"{CF}/proxy",
    f"{CF}/a1/g1/compat",
]


@pytest.mark.parametrize("bad", OTHER_API_PATHS + OTHER_GATEWAY_PATHS)
def test_other_paths_on_cloudflares_hosts_are_refused_with_the_fix(bad: str) -> None:
    with pytest.raises(ConfigError) as err:
        split_base_url(bad)
    message = str(err.value)
    assert message.startswith("base_url ")
    assert "leave base_url unset" in message or "paste" in message
    with pytest.raises(ConfigError) as err:
        GatewayConfig.resolve(base_url=bad)
    message = str(err.value)
    assert "base_url" in message and "(from the argument)" in message
    assert "http(s) URL such as" not in message  # the real reason, not a scheme error


@pytest.mark.parametrize(
    ("given", "root", "account", "gateway"),
    [
        (f"{API}/client/v4/accounts/a1/ai", CF, "a1", None),
        (f"{API}/client/v4/accounts/a1/ai-gateway", CF, "a1", None),
        (f"{API}/client/v4/accounts/a1/ai-gateway/gateways", CF, "a1", None),
        (f"{API}/client/v4/accounts/a1/ai-gateway/gateways/g1/logs/l1", CF, "a1", "g1"),
        (CF, CF, None, None),
        (f"{CF}/v1", CF, None, None),
        (f"{CF}/v1/a1/g1", CF, "a1", "g1"),
        (f"{CF}/v1/a1/g1/compat/chat/completions", CF, "a1", "g1"),
    ],
)
def test_the_listed_paths_of_cloudflares_hosts_are_read(
    given: str, root: str, account: str | None, gateway: str | None
) -> None:
    assert split_base_url(given) == (root, account, gateway)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("http://127.0.0.1:9/v1/a/b?x=1", "query"),
        ("http://127.0.0.1:9/v1#frag", "fragment"),
        ("http://127.0.0.1:9/v 1", "space"),
        ("http://127.0.0.1:9/v1\x01", "control character"),
        ("http://127.0.0.1:9/caf\u00e9", "ASCII"),
    ],
)
def test_a_bad_base_url_names_the_real_reason(bad: str, reason: str) -> None:
    with pytest.raises(ConfigError) as err:
        GatewayConfig.resolve(account_id="a", base_url=bad)
    message = str(err.value)
    assert reason in message
    assert "http(s) URL such as" not in message
    assert "(from the argument)" in message
