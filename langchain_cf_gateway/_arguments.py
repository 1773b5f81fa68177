"""Constructor keywords of the LangChain classes: a misnamed one is refused, named right.

`ChatOpenAI` moves a keyword it does not know into `model_kwargs`, with a warning, and
sends it in every request body: `token=` (for `gateway_token=`) put the gateway token in
the provider's request and failed only at the first call. Here, before anything is built:

- a keyword close to one of the package's own arguments, or a usual name for one
  (`token`, `api_token`, `account`, `gateway`, `options`), is a `ConfigError` naming the
  argument meant;
- a keyword that names a credential (`secret_key`) is a `ConfigError`: it would be sent;
- anything else keeps LangChain's rule (providers take parameters OpenAI's SDK lacks).

The value is never quoted.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel

from .core import ConfigError
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


def constructor_keywords(
    cls: type[BaseModel], values: dict[str, Any], renamed: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """`values` checked, with the keywords of earlier versions renamed (`renamed`).

    Args:
        cls: The class being built.
        values: Its keyword arguments.
        renamed: Earlier names and the field each is now; the new name wins when both
            are given.

    Returns:
        The keyword arguments to validate.

    Raises:
        ConfigError: A keyword close to one of the package's arguments, or naming a
            credential.
    """
    for old, new in (renamed or {}).items():
        if old in values:
            values = dict(values)
            legacy = values.pop(old)
            values.setdefault(new, legacy)
    fields = cls.model_fields
    known = set(fields) | {f.alias for f in fields.values() if f.alias}
    ours = _ours(cls)
    aliases = [f.alias for n, f in fields.items() if n in ours and f.alias]
    for key in values:
        if key in known:
            continue
        meant = USUAL_NAMES.get(key.lower())
        if meant is None or meant not in fields:
            close = difflib.get_close_matches(key, ours + aliases, n=1, cutoff=0.75)
            meant = close[0] if close else None
        if meant is not None:
            raise ConfigError(f"{cls.__name__} has no argument {key}=: did you mean {meant}=?")
        if is_credential(key):
            raise ConfigError(
                f"{cls.__name__} has no argument {key}=, and a credential under another name "
                "would be sent to the provider in the request body: pass the gateway token "
                "as gateway_token= and the provider key as api_key="
            )
    return values
