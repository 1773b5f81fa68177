"""Where a gateway is: account, gateway id, token and host, resolved in one place.

Precedence, field by field: explicit arguments > environment > config file.

| field | argument | environment | config file |
|---|---|---|---|
| account id | `account_id` | `CLOUDFLARE_ACCOUNT_ID` | `accountId` |
| gateway id | `gateway_id` (`default`) | `CLOUDFLARE_GATEWAY_ID`, `CLOUDFLARE_AI_GATEWAY_NAME` | `gatewayId`, `gatewayName` |
| token | `token` | `CLOUDFLARE_AI_GATEWAY_TOKEN`, `CF_AIG_TOKEN` | `token` |
| host | `base_url` | `CLOUDFLARE_AI_GATEWAY_BASE_URL` | `baseUrl` |

The file is `$CF_AIG_CONFIG`, else `~/.config/cf-aig/config.json` (read by `core.config_file`).
The default file may be absent; a file named by `CF_AIG_CONFIG` (or `config_file=`) must
exist, and a key the table does not list (`accountID`, say) is refused, naming the closest key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from .config_file import CONFIG_FILE_KEYS as CONFIG_FILE_KEYS
from .config_file import DEFAULT_CONFIG_FILE as DEFAULT_CONFIG_FILE
from .config_file import ENV_CONFIG_FILE as ENV_CONFIG_FILE
from .config_file import ConfigFileWarning as ConfigFileWarning
from .config_file import config_file_path as config_file_path
from .config_file import read_config_file
from .config_file import warn_if_readable as warn_if_readable
from .credentials import mask_url
from .errors import ConfigError, MissingAccountIdError
from .protocol import (
    CLOUDFLARE_API_BASE,
    CLOUDFLARE_GATEWAY_HOST,
    DEFAULT_GATEWAY_ID,
    Bounds,
    Header,
)
from .providers import find_provider

ENV_ACCOUNT_ID = "CLOUDFLARE_ACCOUNT_ID"
ENV_GATEWAY_ID = ("CLOUDFLARE_GATEWAY_ID", "CLOUDFLARE_AI_GATEWAY_NAME")
ENV_TOKEN = ("CLOUDFLARE_AI_GATEWAY_TOKEN", "CF_AIG_TOKEN")
ENV_BASE_URL = "CLOUDFLARE_AI_GATEWAY_BASE_URL"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
# A full gateway URL pasted as base URL: .../v1/{account}/{gateway}[/compat][/chat/completions],
# or a provider URL as the dashboard shows it: .../v1/{account}/{gateway}/{provider}[/...].
_GATEWAY_PATH = re.compile(
    r"/v1/(?P<account>[^/]+)/(?P<gateway>[^/]+)(?:/(?P<provider>[^/]+)(?:/.*)?)?$"
)
# A REST or management API URL pasted as base URL: .../client/v4[/accounts/{account}[/ai/...
# or /ai-gateway/...]], with the gateway id of a management URL (.../ai-gateway/gateways/{gw}).
_API_PATH = re.compile(
    r"/client/v4(?:/accounts/(?P<account>[^/]+)"
    r"(?:/ai(?:/.*)?|/ai-gateway(?:/gateways(?:/(?P<gateway>[^/]+)(?:/.*)?)?)?)?)?$"
)
# Any other path under /client/v4 is an API URL we do not read (another product's).
_OTHER_API_PATH = re.compile(r"/client/v4(?:/.*)?$")
_API_HOST = CLOUDFLARE_API_BASE.removesuffix("/client/v4")
_API_NETLOC = urlsplit(_API_HOST).netloc
_GATEWAY_NETLOC = urlsplit(CLOUDFLARE_GATEWAY_HOST).netloc
_FIX = (
    "leave base_url unset for Cloudflare (it builds the REST API and gateway URLs itself), "
    "or paste the gateway URL https://gateway.ai.cloudflare.com/v1/{account}/{gateway}"
)
# One scheme pasted with the token ("Bearer t0k"): we add the scheme ourselves.
_SCHEME = re.compile(r"^bearer(?:\s+|$)", re.IGNORECASE)


def _refusal(reason: str, url: str) -> str:
    """The message refusing base URL `url`: `base_url {reason}; got '{masked url}'`."""
    return f"base_url {reason}; got {mask_url(url)!r}"


def split_base_url(url: str) -> tuple[str, str | None, str | None]:
    """(host root, account id, gateway id) of a user-given base URL.

    Whatever the user pasted (a host, `.../v1`, `.../v1/{acct}/{gw}/compat`, a provider
    URL `.../v1/{acct}/{gw}/openai`, with or without trailing slashes or
    `/chat/completions`), we keep the host root and build every path ourselves, so
    `/v1` and `/chat/completions` are never doubled.

    A REST API URL (`.../client/v4`, `.../client/v4/accounts/{acct}/ai/v1`, or a
    management URL `.../accounts/{acct}/ai-gateway/gateways/{gw}`) is reduced the same
    way; on Cloudflare's API host (https://developers.cloudflare.com/ai-gateway/usage/rest-api/)
    the host root is Cloudflare's gateway host, which `GatewayConfig` treats as no base URL.

    Only the paths the README lists are read on Cloudflare's hosts: on
    `api.cloudflare.com`, `/client/v4`, `/client/v4/accounts/{acct}` and its `/ai/...` and
    `/ai-gateway/...` paths; on `gateway.ai.cloudflare.com`, the host, `/v1`,
    `/v1/{acct}/{gw}`, its `/compat` and provider paths. Another `/client/v4` path is refused
    on any host (another Cloudflare product's API).

    Raises:
        ConfigError: `url` is not an http(s) URL; holds a space, a control character, a
            character that is not ASCII, a query or a fragment; or is another path on
            Cloudflare's hosts (the message names the fix).
    """
    root = url.strip().rstrip("/")
    if not re.match(r"^https?://[^/\s]+", root):
        raise ConfigError(_refusal("must be an http(s) URL such as http://127.0.0.1:8787", url))
    # Every route is built by appending to it: a control character, a space, or a query or
    # fragment would break each URL (or move our path into the query) at request time.
    for bad, reason in (
        (not root.isascii(), "must be ASCII (percent-encode other characters)"),
        (not root.isprintable(), "must not hold a control character"),
        (" " in root, "must not hold a space"),
        ("?" in root, "must not have a query string ('?...'): every path is built from it"),
        ("#" in root, "must not have a fragment ('#...')"),
    ):
        if bad:
            raise ConfigError(_refusal(reason, url))
    for suffix in ("/chat/completions", "/embeddings", "/models", "/compat"):
        if root.endswith(suffix):
            root = root[: -len(suffix)].rstrip("/")
    netloc = urlsplit(root).netloc.lower()
    account = gateway = None
    api = _API_PATH.search(root)
    if api:
        root, account, gateway = root[: api.start()], api["account"], api["gateway"]
    elif _OTHER_API_PATH.search(root):
        raise ConfigError(
            _refusal(
                "is a Cloudflare API path that is not the AI Gateway's (read: /client/v4, "
                "/client/v4/accounts/{account}, .../ai/..., .../ai-gateway/...): " + _FIX,
                url,
            )
        )
    if netloc == _API_NETLOC:
        if urlsplit(root).path:
            raise ConfigError(
                _refusal(f"is on Cloudflare's API host api.cloudflare.com: {_FIX}", url)
            )
        return CLOUDFLARE_GATEWAY_HOST, account, gateway
    if api and netloc == _GATEWAY_NETLOC:
        raise ConfigError(
            _refusal(
                "is an API path on the gateway host gateway.ai.cloudflare.com "
                f"(the API is on https://api.cloudflare.com/client/v4): {_FIX}",
                url,
            )
        )
    if api:
        return root.rstrip("/"), account, gateway
    match = _GATEWAY_PATH.search(root)
    if match and match["provider"] and find_provider(match["provider"]) is None:
        match = None  # not a gateway layout we know: keep the path as the user gave it
    if match:
        account, gateway = match["account"], match["gateway"]
        root = root[: match.start()]
    elif root.endswith("/v1"):
        root = root[:-3]
    root = root.rstrip("/")
    if netloc == _GATEWAY_NETLOC and urlsplit(root).path:
        raise ConfigError(
            _refusal(
                "is not a gateway URL of gateway.ai.cloudflare.com (read: the host, /v1, "
                "/v1/{account}/{gateway}, its /compat and provider paths): " + _FIX,
                url,
            )
        )
    return root, account, gateway


class GatewayConfig(BaseModel):
    """One gateway: account, gateway id, the gateway token and the host to reach it on."""

    # hide_input_in_errors: a rejected token (a stray newline) must not be echoed back.
    # defer_build: the validators are built on first use, not at import.
    model_config = ConfigDict(
        frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True
    )

    account_id: str
    gateway_id: str = DEFAULT_GATEWAY_ID
    token: SecretStr | None = None
    """Cloudflare API token, sent as `cf-aig-authorization: Bearer ...`."""
    base_url: str | None = None
    """Another host for everything (the local gateway); None means Cloudflare's."""

    @field_validator("account_id", "gateway_id")
    @classmethod
    def _check_id(cls, value: str, info: Any) -> str:
        value = value.strip()
        if not _ID.match(value) or len(value) > Bounds.GATEWAY_ID_MAX_CHARS:
            raise ValueError(
                f"{info.field_name} must be 1 to {Bounds.GATEWAY_ID_MAX_CHARS} letters, digits, "
                f"'-' or '_'; got {value!r}"
            )
        return value

    @field_validator("token")
    @classmethod
    def _check_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value().strip()
        if not raw:
            return None
        if scheme := _SCHEME.match(raw):  # pasted with its scheme: accepted once
            raw = raw[scheme.end() :]
            if not raw:
                raise ValueError("token must be the token after 'Bearer ', not the scheme alone")
        if not (raw.isascii() and raw.isprintable()):  # CR, LF, tab, NUL: a paste error
            raise ValueError(
                "token must be printable ASCII on one line (check for a stray newline)"
            )
        return SecretStr(raw)

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        root = split_base_url(value)[0] if value else None
        # Cloudflare's own gateway host is the default: None keeps `api_base` on its API host.
        return None if root == CLOUDFLARE_GATEWAY_HOST else root

    @property
    def gateway_host(self) -> str:
        """The host root of the gateway: `base_url`, else `https://gateway.ai.cloudflare.com`."""
        return self.base_url or CLOUDFLARE_GATEWAY_HOST

    @property
    def api_base(self) -> str:
        """Cloudflare's v4 API root (REST inference and management), or the local one."""
        return f"{self.base_url}/client/v4" if self.base_url else CLOUDFLARE_API_BASE

    @property
    def gateway_url(self) -> str:
        """`{host}/v1/{account}/{gateway}`: the universal endpoint, and the root of all routes."""
        return f"{self.gateway_host}/v1/{self.account_id}/{self.gateway_id}"

    def model_copy(
        self, *, update: Mapping[str, Any] | None = None, deep: bool = False
    ) -> GatewayConfig:
        """A copy; with `update`, validated like a new config (ids checked, base URL split).

        Pydantic's own `model_copy(update=...)` skips validation: a pasted
        `.../v1` base URL would then be doubled in every route.
        """
        if not update:
            return super().model_copy(deep=deep)
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        return type(self)(**{**fields, **update})

    def auth_headers(self) -> dict[str, str]:
        """`cf-aig-authorization` when a token is set.

        https://developers.cloudflare.com/ai-gateway/configuration/authentication/
        """
        if self.token is None:
            return {}
        return {Header.AUTHORIZATION: f"Bearer {self.token.get_secret_value()}"}

    @classmethod
    def resolve(
        cls,
        account_id: str | None = None,
        gateway_id: str | None = None,
        token: str | SecretStr | None = None,
        base_url: str | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        config_file: str | os.PathLike[str] | None = None,
    ) -> GatewayConfig:
        """Arguments > environment > config file, field by field.

        Args:
            account_id: The Cloudflare account id.
            gateway_id: The gateway id (`default` when nothing sets it).
            token: The gateway token of an authenticated gateway.
            base_url: Another host for the gateway (a local gateway, say).
            environ: The environment to read; `os.environ` when None.
            config_file: The config file to read; `config_file_path(environ)` when None.

        Returns:
            The resolved, validated config.

        Raises:
            MissingAccountIdError: No account id in the arguments, environment or file.
            ConfigError: A value is malformed (the message names where it came from); the
                file named by `CF_AIG_CONFIG` or `config_file` does not exist; or the file
                holds a key it does not read (the message names the closest one).
        """
        arguments = {"account_id": account_id, "gateway_id": gateway_id, "token": token}
        picked, path = _picked({**arguments, "base_url": base_url}, environ, config_file)
        # Where each value came from, for error messages (a default is never malformed).
        origin = {
            field: str(setting.origin)
            for field, setting in picked.items()
            if setting.origin is not None and setting.origin.source != "default"
        }
        account, gateway = picked["account_id"].value, picked["gateway_id"].value
        secret, url = picked["token"].value, picked["base_url"].value
        if not account:
            raise MissingAccountIdError(
                "No Cloudflare account id: pass account_id=..., set "
                f'{ENV_ACCOUNT_ID}, or write {{"accountId": "..."}} to {path} '
                f"(or to the file named by {ENV_CONFIG_FILE})"
            )
        try:
            return cls(
                account_id=str(account),
                gateway_id=str(gateway),
                token=SecretStr(str(secret)) if secret else None,
                base_url=str(url) if url else None,
            )
        except ValueError as exc:  # pydantic's ValidationError; never echo the token back
            raise ConfigError(_first_error(exc, origin)) from None


OriginSource = Literal["argument", "environment", "file", "base_url", "default"]


@dataclass(frozen=True)
class Origin:
    """Where one value of a resolved `GatewayConfig` came from.

    `str(origin)` is the wording of the error messages: `the argument`,
    `CLOUDFLARE_ACCOUNT_ID`, `accountId in /home/me/.config/cf-aig/config.json`,
    `the base URL`, `the default`.
    """

    source: OriginSource
    name: str | None = None
    """The environment variable, or the config file's key."""
    path: Path | None = None
    """The config file, for `source == "file"`."""

    def __str__(self) -> str:
        """The origin as error messages name it."""
        if self.source == "environment":
            return str(self.name)
        if self.source == "file":
            return f"{self.name} in {self.path}"
        return {"argument": "the argument", "base_url": "the base URL"}.get(
            self.source, "the default"
        )


class Setting(NamedTuple):
    """One field's value as resolved, and where it came from (None: set nowhere)."""

    value: Any
    origin: Origin | None


# field -> (environment variables, config file keys), in order of precedence.
_SOURCES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "base_url": ((ENV_BASE_URL,), ("baseUrl", "base_url")),
    "account_id": ((ENV_ACCOUNT_ID,), ("accountId", "account_id")),
    "gateway_id": (ENV_GATEWAY_ID, ("gatewayId", "gatewayName", "gateway_id")),
    "token": (ENV_TOKEN, ("token",)),
}


def pick_settings(
    arguments: Mapping[str, Any],
    environ: Mapping[str, str],
    file: Mapping[str, Any],
    path: Path,
) -> dict[str, Setting]:
    """Each field's value and origin: arguments > environment > config file (pure).

    The rule `GatewayConfig.resolve` follows, field by field (see the module's table). An
    account or gateway id missing everywhere is read from a gateway URL given as base URL;
    a gateway id found nowhere is `default`. Values are not validated here.

    Args:
        arguments: `account_id`, `gateway_id`, `token`, `base_url` as passed (None: not given).
        environ: The environment.
        file: The config file's object (`{}` when there is none).
        path: The config file's path, for the origins.

    Returns:
        `account_id`, `gateway_id`, `token` and `base_url`, each a `Setting`.

    Raises:
        ConfigError: The base URL is malformed (the message names where it came from).
    """
    picked: dict[str, Setting] = {}
    for field, (env_names, file_keys) in _SOURCES.items():
        arg = arguments.get(field)
        if isinstance(arg, SecretStr):
            arg = arg.get_secret_value()
        setting = Setting(None, None)
        if arg not in (None, ""):
            setting = Setting(arg, Origin("argument"))
        elif name := next((n for n in env_names if environ.get(n)), None):
            setting = Setting(environ[name], Origin("environment", name))
        elif key := next((k for k in file_keys if file.get(k)), None):
            setting = Setting(file[key], Origin("file", key, path))
        picked[field] = setting
    url = picked["base_url"]
    if url.value:
        try:
            _, url_account, url_gateway = split_base_url(str(url.value))
        except ConfigError as exc:
            head, sep, tail = str(exc).partition("; got ")
            raise ConfigError(f"{head} (from {url.origin}){sep}{tail}") from None
        for field, found in (("account_id", url_account), ("gateway_id", url_gateway)):
            if found and not picked[field].value:
                picked[field] = Setting(found, Origin("base_url"))
    if not picked["gateway_id"].value:
        picked["gateway_id"] = Setting(DEFAULT_GATEWAY_ID, Origin("default"))
    return picked


def config_origins(
    account_id: str | None = None,
    gateway_id: str | None = None,
    token: str | SecretStr | None = None,
    base_url: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    config_file: str | os.PathLike[str] | None = None,
) -> dict[str, Origin | None]:
    """Where `GatewayConfig.resolve` with these arguments takes each field from.

    Args:
        account_id: The account id argument.
        gateway_id: The gateway id argument.
        token: The gateway token argument.
        base_url: The base URL argument.
        environ: The environment to read; `os.environ` when None.
        config_file: The config file to read; `config_file_path(environ)` when None.

    Returns:
        `account_id`, `gateway_id`, `token`, `base_url` -> their `Origin`, or None
        for a field set nowhere.

    Raises:
        ConfigError: The config file is missing although named, unreadable or malformed,
            or the base URL is malformed.
    """
    arguments = {"account_id": account_id, "gateway_id": gateway_id, "token": token}
    picked, _ = _picked({**arguments, "base_url": base_url}, environ, config_file)
    return {field: setting.origin for field, setting in picked.items()}


def _picked(
    arguments: Mapping[str, Any],
    environ: Mapping[str, str] | None,
    config_file: str | os.PathLike[str] | None,
) -> tuple[dict[str, Setting], Path]:
    """`pick_settings` over the environment and the config file, and the file's path.

    Raises:
        ConfigError: As `read_config_file` and `pick_settings` raise it.
    """
    env = os.environ if environ is None else environ
    path = Path(config_file).expanduser() if config_file else config_file_path(env)
    named_by = (
        "config_file=" if config_file else ENV_CONFIG_FILE if env.get(ENV_CONFIG_FILE) else None
    )
    file = read_config_file(path, named_by=named_by)
    return pick_settings(arguments, env, file, path), path


def _first_error(exc: ValueError, origin: Mapping[str, str]) -> str:
    """The first validation message, naming where the bad value came from."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    first = errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    message = str(first.get("msg", "")).removeprefix("Value error, ")
    if not message.startswith(where):
        message = f"{where}: {message}"
    return f"{message} (from {origin[where]})" if where in origin else message
