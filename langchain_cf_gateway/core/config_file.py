"""The config file of `GatewayConfig.resolve`: where it is, reading it, checking its keys.

The file is `$CF_AIG_CONFIG`, else `~/.config/cf-aig/config.json`: a JSON object of strings
with the keys `CONFIG_FILE_KEYS`. A key it does not read is refused, naming the closest one;
a file holding a token that others can read gets a `ConfigFileWarning` (`warn_if_readable`,
shared with `cf-aig serve --config` and the local gateway's log store).
"""

from __future__ import annotations

import difflib
import json
import os
import stat
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigError

ENV_CONFIG_FILE = "CF_AIG_CONFIG"
DEFAULT_CONFIG_FILE = Path("~/.config/cf-aig/config.json")
# The keys a config file may hold: the documented camelCase ones first, then their aliases.
CONFIG_FILE_KEYS = (
    "accountId",
    "gatewayId",
    "gatewayName",
    "token",
    "baseUrl",
    "account_id",
    "gateway_id",
    "base_url",
)
_DOCUMENTED_KEYS = CONFIG_FILE_KEYS[:5]


class ConfigFileWarning(UserWarning):
    """A config file holding a token can be read by other users."""


def config_file_path(environ: Mapping[str, str] | None = None) -> Path:
    """The config file read by `GatewayConfig.resolve`: `$CF_AIG_CONFIG`, else the default.

    Args:
        environ: The environment to read; `os.environ` when None.

    Returns:
        The path, `~` expanded (the file need not exist).
    """
    env = os.environ if environ is None else environ
    raw = env.get(ENV_CONFIG_FILE)
    return Path(raw).expanduser() if raw else DEFAULT_CONFIG_FILE.expanduser()


def _closest(word: str, names: tuple[str, ...]) -> str | None:
    """The name in `names` closest to `word`, case aside; None when none is close."""
    by_folded = {name.casefold(): name for name in names}
    close = difflib.get_close_matches(word.casefold(), list(by_folded), n=1, cutoff=0.6)
    return by_folded[close[0]] if close else None


def _missing_file(path: Path, named_by: str) -> str:
    """The message for a config file that `named_by` names and that does not exist."""
    hint = f"create it, or unset {ENV_CONFIG_FILE}" if named_by == ENV_CONFIG_FILE else "create it"
    try:
        siblings = tuple(entry.name for entry in path.parent.iterdir() if entry.is_file())
    except OSError:
        siblings = ()
    if close := _closest(path.name, siblings):
        hint = f"did you mean {close!r}? ({hint})"
    return f"the config file {path} named by {named_by} does not exist; {hint}"


def _check_keys(data: Mapping[str, Any], path: Path) -> None:
    """Refuse a key the config file does not read, naming the closest one (never a value).

    Raises:
        ConfigError: A key of `data` is not one of `CONFIG_FILE_KEYS`.
    """
    for key in data:
        if key in CONFIG_FILE_KEYS:
            continue
        close = _closest(str(key), CONFIG_FILE_KEYS)
        hint = (
            f"did you mean {close!r}?"
            if close
            else f"the keys read are {', '.join(_DOCUMENTED_KEYS)}"
        )
        raise ConfigError(f"the config file {path} has an unknown key {key!r}; {hint}")


def read_config_file(path: Path, *, named_by: str | None = None) -> dict[str, Any]:
    """The config file's object; `{}` for an absent default file.

    Raises:
        ConfigError: The file cannot be read, is not a JSON object of strings, holds an
            unknown key, or is absent although `named_by` (`CF_AIG_CONFIG`, `config_file=`)
            names it.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if named_by:
            raise ConfigError(_missing_file(path, named_by)) from None
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"the config file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"the config file {path} must hold a JSON object with accountId")
    _check_keys(data, path)
    for key, value in data.items():
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{key} in the config file {path} must be a string")
    if data.get("token"):
        # The warning points at the caller of `resolve` (or `config_origins`): via `_picked`.
        warn_if_readable(path, "a gateway token", stacklevel=4)
    return data


def warn_if_readable(path: Path, holds: str, *, stacklevel: int = 2) -> None:
    """Warn (`ConfigFileWarning`) if `path`, which holds `holds`, is readable by others.

    One check for every config file that can hold a secret: the client's and
    `cf-aig serve --config`. `stacklevel` 1 points the warning at the caller of
    this function, 2 at its caller, and so on.
    """
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        warnings.warn(
            f"{path} holds {holds} and is readable by group or others; run: chmod 600 {path}",
            ConfigFileWarning,
            stacklevel=stacklevel + 1,
        )
