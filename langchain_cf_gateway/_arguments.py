"""Keywords of the integrations: a misnamed one is refused, naming the one meant.

`ChatOpenAI` moves a keyword it does not know into `model_kwargs`, with a warning, and
sends it in every request body: `token=` (for `gateway_token=`) put the gateway token in
the provider's request and failed only at the first call. Here, before anything is built:

- a keyword close to one of the package's own arguments, or a usual name for one
  (`token`, `api_token`, `account`, `gateway`, `options`), is a `ConfigError` naming the
  argument meant;
- a gateway option given as a keyword (`cache_ttl=`) names `gateway_options=`;
- a keyword that names a credential (`secret_key`) is a `ConfigError`: it would be sent;
- anything else keeps LangChain's rule (providers take parameters OpenAI's SDK lacks).

The value is never quoted. The LiteLLM provider refuses its call keywords by the same rule.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from typing import Any, Final

from pydantic import BaseModel

from .core import ConfigError, GatewayOptions
from .core.credentials import is_credential

USUAL_NAMES: Final = {
    "token": "gateway_token",
    "api_token": "gateway_token",
    "cf_aig_token": "gateway_token",
    "account": "account_id",
    "gateway": "gateway_id",
    "gateway_name": "gateway_id",
    "options": "gateway_options",
}
"""Names people reach for, and the argument each means."""


def _ours(cls: type[BaseModel]) -> list[str]:
    """The argument names the package's classes declare (not LangChain's or OpenAI's)."""
    names: list[str] = []
    for owner in cls.__mro__:
        if owner.__module__.startswith("langchain_cf_gateway"):
            names += [n for n in vars(owner).get("__annotations__", {}) if n in cls.model_fields]
    return names


def misnamed(key: str, ours: Collection[str], owner: str) -> str | None:
    """Why `key` is refused as a keyword of `owner`, naming the fix; None when it is not.

    Args:
        key: A keyword that `owner` does not take.
        ours: The package's own keywords of `owner` (matched for a did-you-mean).
        owner: What takes the keywords, for the message (`ChatCloudflareGateway`).

    Returns:
        The message, which never quotes the value; or None for a keyword that may go on
        to the provider (neither near one of ours, a gateway option, nor a credential).
    """
    meant = USUAL_NAMES.get(key.lower())
    if meant is None or meant not in ours:
        close = difflib.get_close_matches(key, list(ours), n=1, cutoff=0.75)
        meant = close[0] if close else None
    if meant is not None:
        return f"{owner} has no argument {key}=: did you mean {meant}=?"
    if key in GatewayOptions.model_fields and "gateway_options" in ours:
        return (
            f"{owner} has no argument {key}=: it is a gateway option, "
            f"did you mean gateway_options={{{key!r}: ...}}?"
        )
    if is_credential(key):
        return (
            f"{owner} has no argument {key}=, and a credential under another name would be "
            "sent to the provider in the request body: pass the gateway token as "
            "gateway_token= and the provider key as api_key="
        )
    return None


def constructor_keywords(
    cls: type[BaseModel], values: dict[str, Any], renamed: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """`values` checked (`misnamed`), with the keywords of earlier versions renamed.

    Args:
        cls: The class being built.
        values: Its keyword arguments.
        renamed: Earlier names and the field each is now; the new name wins when both
            are given.

    Returns:
        The keyword arguments to validate.

    Raises:
        ConfigError: A keyword close to one of the package's arguments, a gateway option,
            or a credential's name.
    """
    for old, new in (renamed or {}).items():
        if old in values:
            values = dict(values)
            legacy = values.pop(old)
            values.setdefault(new, legacy)
    fields = cls.model_fields
    known = set(fields) | {f.alias for f in fields.values() if f.alias}
    ours = _ours(cls)
    ours += [f.alias for n, f in fields.items() if n in ours and f.alias]
    for key in values:
        if key not in known and (reason := misnamed(key, ours, cls.__name__)) is not None:
            raise ConfigError(reason)
    return values
