"""The config file of `cf-aig serve --config local.toml` (or `.yaml` / `.yml` / `.json`).

Every key is optional; command-line options win over the file, the file over the
environment:

```python
host = "127.0.0.1"              # --host; loopback unless told otherwise
port = 8787                     # --port
workers = 1                     # --workers: processes on the port (more needs shared stores)
account_id = "local-account"    # the account id in the printed URLs (any id is served)
token = "dev-gateway-token"     # cf-aig-authorization for gateways with authentication;
                                # else $CF_AIG_LOCAL_TOKEN, else generated and printed
management_token = "dev-admin"  # management API and /__local admin routes;
                                # else $CF_AIG_LOCAL_MANAGEMENT_TOKEN, else generated
log_path = "cf-aig-logs.sqlite" # SQLite file of the logs; default in memory
# log_store = "postgresql://cf-aig@db.internal:5432/cf_aig"  # --log-store: instead of
                                # log_path, logs shared by workers and hosts
cache_url = "redis://127.0.0.1:6379/0"   # --cache-url; default memory://
state_url = "redis://127.0.0.1:6379/0"   # --state-url: gateways, rate limits, routes and
                                         # scripts shared by every worker; default memory://
allowed_hosts = ["gw.internal"] # Host names served besides loopback (--allowed-host)
allowed_origins = []            # browser Origins served (--allowed-origin)

[gateways.default]              # the gateway object's settings, per gateway id
cache_ttl = 300

[gateways.secure]
authentication = true
rate_limiting_limit = 100
rate_limiting_interval = 60
rate_limiting_technique = "sliding"

[upstreams.openai]              # pass-through per provider slug (else the mock)
base_url = "http://127.0.0.1:11434/v1"
api_key_env = "OPENAI_API_KEY"  # or api_key = "..."; replaces the client's key
timeout_s = 600                 # per upstream request (default 600)

[[routes]]                      # dynamic routes deployed at start (cf-aig serve --routes)
file = "routes/support.json"    # a route's JSON, or a list of routes; relative to this file
gateway = "default"             # the gateway of the file's routes that name none

[[routes]]                      # or a route inline, as the API's JSON has it
name = "ab"
gateway = "secure"
elements = [
  {id = "start", type = "start", outputs = {next = {elementId = "end"}}},
  {id = "end", type = "end", outputs = {}},
]
```

A route file holds one route as the API's JSON or the dashboard's export (`{"name",
"elements"}`), or a list of them; each may carry `"gateway": "<id>"` (default
`default`, or the entry's `gateway`). A route is checked (`DynamicRoute.from_api`) and
deployed before the server accepts requests; a route that breaks a rule, or names a
gateway the server does not create, stops the start with one line naming the file, the
element and the field.

The YAML and JSON forms have the same keys (`langchain_cf_gateway/local/README.md`,
"Config file", shows both; a test loads them). Unknown keys are errors that name the key.
A file that holds a token, an upstream `api_key` or a password in `cache_url` and
is readable by group or others gets a `ConfigFileWarning`
(`chmod 600` it), the same check as the client's config file.

An upstream key is used for every request the gateway passes to that provider, whoever
sends it: a gateway that serves one beyond loopback needs `authentication = true` and
a `token`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ..core.config import warn_if_readable
from ..core.credentials import mask_url
from ..core.dynamic_routes import DynamicRoute, InvalidDynamicRouteError
from ..core.errors import ConfigError
from ..core.protocol import DEFAULT_GATEWAY_ID, LOCAL_ACCOUNT_ID
from .gateways import check_gateway_id, validate_settings
from .upstream import PassThrough

ENV_LOCAL_TOKEN: Final = "CF_AIG_LOCAL_TOKEN"
"""The local gateway's own token (not `core.config.ENV_TOKEN`, Cloudflare's gateway token)."""
ENV_MANAGEMENT_TOKEN: Final = "CF_AIG_LOCAL_MANAGEMENT_TOKEN"
DEFAULT_PORT: Final = 8787
_STRING_KEYS: Final = (
    "host",
    "account_id",
    "token",
    "management_token",
    "log_path",
    "log_store",
    "cache_url",
    "state_url",
)
"""The top-level keys whose value is a non-empty string, each set on `ServerConfig` as is."""
_TOP_KEYS: Final = frozenset(
    (
        *_STRING_KEYS,
        "port",
        "workers",
        "allowed_hosts",
        "allowed_origins",
        "gateways",
        "upstreams",
        "routes",
    )
)
ROUTE_GATEWAY_KEY: Final = "gateway"
"""The key of a route file's route (or a `[[routes]]` entry) naming its gateway."""
_UPSTREAM_KEYS: Final = frozenset(("base_url", "api_key", "api_key_env", "timeout_s"))


@dataclass
class ServerConfig:
    """What `cf-aig serve` runs with."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    workers: int = 1
    account_id: str = LOCAL_ACCOUNT_ID
    token: str | None = None
    management_token: str | None = None
    log_path: str = ":memory:"
    log_store: str | None = None
    """A log store URL (`postgresql://...`, `sqlite:///...`); instead of `log_path`."""
    cache_url: str | None = None
    state_url: str | None = None
    gateways: dict[str, dict[str, Any]] = field(default_factory=dict)
    upstreams: dict[str, PassThrough] = field(default_factory=dict)
    allowed_hosts: list[str] = field(default_factory=list)
    allowed_origins: list[str] = field(default_factory=list)
    routes: list[tuple[str, DynamicRoute]] = field(default_factory=list)
    """`(gateway id, route)` to deploy at start, from the file's `routes`."""

    def __repr__(self) -> str:  # the tokens never show
        return (
            f"ServerConfig(host={self.host!r}, port={self.port}, gateways={sorted(self.gateways)}, "
            f"upstreams={sorted(self.upstreams)})"
        )


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc.strerror}") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover - the server extra installs tomli on 3.10
                import tomli as tomllib  # type: ignore[import-not-found]
            return tomllib.loads(text)
        if suffix in (".yaml", ".yml"):
            import yaml

            return yaml.safe_load(text)
        if suffix == ".json":
            return json.loads(text)
    except Exception as exc:  # each parser has its own error class
        raise ConfigError(f"the config file {path} is not valid {suffix[1:]}: {exc}") from None
    raise ConfigError(f"the config file {path} must end in .toml, .yaml, .yml or .json")


def load_config(
    path: str | os.PathLike[str] | None, environ: Mapping[str, str] | None = None
) -> ServerConfig:
    """The server config from a file (or defaults when None), checked key by key.

    Raises:
        ConfigError: the file cannot be read or parsed, or a key or value is wrong.
    """
    env = os.environ if environ is None else environ
    data: Any = _read(Path(path)) if path else {}
    data = data or {}
    where = f"the config file {path}"
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must hold a table (mapping) of settings")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(sorted(unknown))} in {where}; known: "
            f"{', '.join(sorted(_TOP_KEYS))}"
        )
    config = ServerConfig()
    for key in _STRING_KEYS:
        if key in data:
            if not isinstance(data[key], str) or not data[key]:
                raise ConfigError(f"{key} in {where} must be a non-empty string")
            setattr(config, key, data[key])
    if "port" in data:
        port = data["port"]
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigError(f"port in {where} must be an integer 0 to 65535")
        config.port = port
    if "workers" in data:
        workers = data["workers"]
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"workers in {where} must be an integer 1 or more")
        config.workers = workers
    for key in ("allowed_hosts", "allowed_origins"):
        if key in data:
            names = data[key]
            if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
                raise ConfigError(f"{key} in {where} must be a list of non-empty strings")
            setattr(config, key, list(names))
    config.token = config.token or env.get(ENV_LOCAL_TOKEN) or None
    config.management_token = config.management_token or env.get(ENV_MANAGEMENT_TOKEN) or None
    for gateway_id, settings in (data.get("gateways") or {}).items():
        if not isinstance(settings, dict):
            raise ConfigError(f"gateways.{gateway_id} in {where} must be a table of settings")
        try:
            check_gateway_id(gateway_id)
            config.gateways[gateway_id] = validate_settings(dict(settings))
        except ValueError as exc:
            raise ConfigError(f"gateways.{gateway_id} in {where}: {exc}") from None
    for slug, upstream in (data.get("upstreams") or {}).items():
        config.upstreams[slug] = _upstream(slug, upstream, where, env)
    config.routes = _config_routes(data.get("routes"), Path(path) if path else None, where)
    check_route_gateways(config.routes, {DEFAULT_GATEWAY_ID, *config.gateways}, where)
    held = _secrets_held(data)
    if path and held:
        warn_if_readable(Path(path), " and ".join(held), stacklevel=2)
    return config


def _secrets_held(data: Mapping[str, Any]) -> list[str]:
    """What secrets the file itself holds (names of environment variables do not count)."""
    held = [f"a {key.replace('_', ' ')}" for key in ("token", "management_token") if data.get(key)]
    upstreams = data.get("upstreams") or {}
    if any(isinstance(u, dict) and u.get("api_key") for u in upstreams.values()):
        held.append("an upstream api_key")
    for key in ("cache_url", "state_url"):
        url = data.get(key)
        if isinstance(url, str) and mask_url(url) != url:
            held.append(f"a {key} password")
    return held


def _upstream(slug: str, raw: Any, where: str, env: Mapping[str, str]) -> PassThrough:
    from ..core.providers import find_provider

    if find_provider(slug) is None:
        raise ConfigError(f"upstreams.{slug} in {where}: {slug!r} is not a provider slug")
    if not isinstance(raw, dict):
        raise ConfigError(f"upstreams.{slug} in {where} must be a table with base_url")
    unknown = set(raw) - _UPSTREAM_KEYS
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(sorted(unknown))} in upstreams.{slug} of {where}; "
            f"known: {', '.join(sorted(_UPSTREAM_KEYS))}"
        )
    base_url = raw.get("base_url")
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        shown = mask_url(base_url) if isinstance(base_url, str) else type(base_url).__name__
        raise ConfigError(
            f"upstreams.{slug}.base_url in {where} must be an http(s) URL; got {shown!r}"
        )
    key = raw.get("api_key")
    if raw.get("api_key_env"):
        key = env.get(str(raw["api_key_env"]))
        if not key:
            raise ConfigError(
                f"upstreams.{slug}.api_key_env in {where} names ${raw['api_key_env']}, "
                "which is not set"
            )
    timeout = raw.get("timeout_s", 600.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ConfigError(f"upstreams.{slug}.timeout_s in {where} must be a positive number")
    return PassThrough(base_url=base_url, api_key=key, timeout_s=float(timeout))


def load_routes(
    path: str | os.PathLike[str], gateway_id: str = DEFAULT_GATEWAY_ID
) -> list[tuple[str, DynamicRoute]]:
    """The routes of a route file (`cf-aig serve --routes FILE`), checked.

    The file holds one route as the API's JSON or the dashboard's export, or a list of
    them; a route's `"gateway"` names the gateway it is deployed to
    (https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/json-configuration/).

    Args:
        path: The JSON file.
        gateway_id: The gateway of the routes that name none.

    Returns:
        `(gateway id, route)` per route, in the file's order.

    Raises:
        ConfigError: The file cannot be read or is not JSON, or a route breaks a rule (the
            one-line message names the file, the element and the field).
    """
    where = f"the route file {printable_path(path)}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"cannot read {where}: {reason}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where} is not valid JSON: {exc}") from None
    return _routes_of(data, gateway_id, where)


def check_route_gateways(
    routes: list[tuple[str, DynamicRoute]], gateway_ids: set[str], where: str
) -> None:
    """Refuse a route whose gateway the server does not create (no request could reach it).

    Args:
        routes: `(gateway id, route)` pairs.
        gateway_ids: The gateways the server creates at start.
        where: The file the routes come from, for the message.

    Raises:
        ConfigError: A route names another gateway; the message names it and the fix.
    """
    for gateway_id, route in routes:
        if gateway_id not in gateway_ids:
            raise ConfigError(
                f"{where}: route {route.name!r} is for gateway {gateway_id!r}, which the "
                f"server does not create; add [gateways.{gateway_id}] to the config file"
            )


def printable_path(path: str | os.PathLike[str]) -> str:
    """`path` on one line: control characters escaped (it is printed in errors)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in os.fspath(path))


def _routes_of(data: Any, gateway_id: str, where: str) -> list[tuple[str, DynamicRoute]]:
    items = data if isinstance(data, list) else [data]
    routes: list[tuple[str, DynamicRoute]] = []
    for index, item in enumerate(items):
        at = f"{where}, route {index}" if isinstance(data, list) else where
        if not isinstance(item, Mapping):
            raise ConfigError(f"{at}: a route is a JSON object with 'name' and 'elements'")
        owner = item.get(ROUTE_GATEWAY_KEY, gateway_id)
        if not isinstance(owner, str):
            raise ConfigError(f"{at}: '{ROUTE_GATEWAY_KEY}' must be a gateway id (a string)")
        try:
            check_gateway_id(owner)
            body = {k: v for k, v in item.items() if k != ROUTE_GATEWAY_KEY}
            route = DynamicRoute.from_api(body)
        except InvalidDynamicRouteError as exc:
            raise ConfigError(f"{at}: {printable_path(str(exc))}") from None
        except ValueError as exc:  # check_gateway_id
            raise ConfigError(f"{at}: {ROUTE_GATEWAY_KEY}: {exc}") from None
        routes.append((owner, route))
    return routes


def _config_routes(raw: Any, path: Path | None, where: str) -> list[tuple[str, DynamicRoute]]:
    """The config file's `routes`: entries with a `file`, or routes written inline.

    Raises:
        ConfigError: Not a list of tables, an unknown key, or a bad route file or route.
    """
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(f"routes in {where} must be a list of tables ([[routes]])")
    routes: list[tuple[str, DynamicRoute]] = []
    for index, entry in enumerate(raw):
        at = f"routes[{index}] in {where}"
        if not isinstance(entry, Mapping):
            raise ConfigError(f'{at} must be a table: file = "...", or name and elements')
        if "file" in entry:
            unknown = set(entry) - {"file", ROUTE_GATEWAY_KEY}
            if unknown:
                raise ConfigError(
                    f"unknown key(s) {', '.join(sorted(unknown))} in {at}; "
                    f"a route file entry has file and {ROUTE_GATEWAY_KEY}"
                )
            file, owner = entry["file"], entry.get(ROUTE_GATEWAY_KEY, DEFAULT_GATEWAY_ID)
            if not isinstance(file, str) or not file or not isinstance(owner, str):
                raise ConfigError(f"{at}: file and {ROUTE_GATEWAY_KEY} must be strings")
            base = path.parent if path is not None else Path()
            routes.extend(load_routes(base / file, owner))
        else:
            routes.extend(_routes_of(dict(entry), DEFAULT_GATEWAY_ID, at))
    return routes
