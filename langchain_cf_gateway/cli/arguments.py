"""What several subcommands share: the gateway flags, the management client, metadata pairs.

`--account-id`, `--gateway-id`, `--token` and `--base-url` are resolved as the library
resolves them (arguments > environment > config file, `GatewayConfig.resolve`); see
https://developers.cloudflare.com/ai-gateway/configuration/authentication/ for the token.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import types
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal, Union, get_args, get_origin

import httpx

from ..core import (
    GatewayConfig,
    GatewayOptions,
    InvalidModelIdError,
    InvalidOptionError,
    MissingAccountIdError,
    parse_model_id,
)
from ..core.connection import GatewayConnectionError
from ..core.credentials import mask_urls
from ..core.options import AUTO_ROUTER_PROVIDERS
from ..core.protocol import LOCAL_ACCOUNT_ID, Bounds
from ..management import ENV_API_TOKEN, GatewayClient

GATEWAY_GROUP: Final = "gateway (default: environment, then the config file; see the README)"
"""The title of the gateway flags in `--help`."""
TOKEN_IN_HISTORY: Final = (
    "prefer the environment: a token on the command line lands in shell history"
)
MANAGEMENT_TOKEN_HELP: Final = (
    f"a Cloudflare API token with 'AI Gateway Read' (default: {ENV_API_TOKEN}, then the "
    f"gateway token); {TOKEN_IN_HISTORY}"
)
METADATA_HELP: Final = (
    f"at most {Bounds.METADATA_MAX_ENTRIES} entries; VALUE is a string unless it is "
    "true/false or a plainly written number that reads back the same: 42, -7, 1.5 are "
    "numbers; 007, -0, 1.50, 1E5 and integers beyond 2^53 stay strings"
)


def add_gateway_arguments(parser: argparse.ArgumentParser, *, token_help: str) -> None:
    """Add `--account-id`, `--gateway-id`, `--token` and `--base-url` to `parser`.

    Args:
        parser: The subcommand's parser.
        token_help: What the token is for, in that subcommand's `--help`.
    """
    group = parser.add_argument_group(GATEWAY_GROUP)
    group.add_argument("--account-id", metavar="ID")
    group.add_argument("--gateway-id", metavar="ID")
    group.add_argument("--token", metavar="TOKEN", help=token_help)
    group.add_argument("--base-url", metavar="URL", help="another host, e.g. a local gateway")


def client_from_args(args: argparse.Namespace) -> GatewayClient:
    """A management client for the gateway that the gateway flags name.

    Against a base URL (a local gateway) no account id is needed: the local gateway's
    own default stands in, when the `server` extra that defines it is installed.

    Args:
        args: Parsed flags of `add_gateway_arguments`.

    Returns:
        An unopened `GatewayClient`; `--token` wins over the environment.

    Raises:
        MissingAccountIdError: No account id anywhere, and no base URL.
    """
    settings = {"gateway_id": args.gateway_id, "token": args.token, "base_url": args.base_url}
    try:
        config = GatewayConfig.resolve(account_id=args.account_id, **settings)
    except MissingAccountIdError:
        # A local gateway (a base URL) serves any account id: use the one it prints.
        config = GatewayConfig.resolve(account_id=LOCAL_ACCOUNT_ID, **settings)
        if config.base_url is None:
            raise
    return GatewayClient(config, api_token=args.token)


def unreachable(client: GatewayClient, exc: httpx.HTTPError) -> int:
    """Say on stderr that the management API (or the gateway) could not be reached.

    Args:
        client: The client whose request failed.
        exc: httpx's error; its message names the URL, never the headers.

    Returns:
        1, the exit status.
    """
    if isinstance(exc, GatewayConnectionError):  # already says where and what to do
        text = str(exc).replace("`base_url`", "--base-url")
        print(f"cf-aig: {mask_urls(text)}", file=sys.stderr)
        return 1
    try:
        url = str(exc.request.url.copy_with(query=None))
    except RuntimeError:  # an error raised before a request was made
        url = client.api_base
    # `cf-aig models` reads the gateway's /compat/models; logs and feedback the API.
    what = "the management API" if url.startswith(client.api_base) else "the gateway"
    message = f"cannot reach {what} at {url}: {exc}"
    print(
        f"cf-aig: {mask_urls(message)}. "  # a password in --base-url never shows
        "Check --base-url / CLOUDFLARE_AI_GATEWAY_BASE_URL and the network",
        file=sys.stderr,
    )
    return 1


def parse_metadata(pairs: Sequence[str]) -> dict[str, str | int | float | bool]:
    """`KEY=VALUE` pairs as a metadata dict.

    Args:
        pairs: The values of `--metadata`.

    Returns:
        The dict; each value as `metadata_value` reads it.

    Raises:
        InvalidOptionError: A pair without `=` or without a key.
    """
    return parse_pairs("metadata", pairs, metadata_value)


def parse_pairs(
    field: str, pairs: Sequence[str], value: Callable[[str], Any], example: str = "user=alice"
) -> dict[str, Any]:
    """`KEY=VALUE` pairs of the option `field` as a dict.

    Args:
        field: The option's name, for the error (`cli.flags` spells it as the flag).
        pairs: The values given on the command line.
        value: Reads the text after `=` (`metadata_value`, `float`).
        example: A pair shown in the error.

    Returns:
        The dict, in the order given; a repeated key keeps its last value.

    Raises:
        InvalidOptionError: A pair without `=` or without a key, or a value `value` refuses.
    """
    parsed: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InvalidOptionError(field, f"write KEY=VALUE, such as {example}; got {pair!r}")
        try:
            parsed[key] = value(raw)
        except ValueError:
            raise InvalidOptionError(
                field, f"the value of {key!r} must be a number; got {raw!r}"
            ) from None
    return parsed


# A plainly written number: an optional '-', digits without a leading zero, a fraction.
_PLAIN_NUMBER: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
# The integers every JSON consumer keeps exactly (https://www.rfc-editor.org/rfc/rfc8259#section-6).
_EXACT_INT_MAX: Final = 2**53 - 1


def metadata_value(raw: str) -> str | int | float | bool:
    """A number or boolean only when `raw` is written plainly and reads back the same; else the text.

    `'42'`, `'-7'`, `'1.5'` become numbers and `'true'` True; `'007'`, `'-0'`, `'1.50'`,
    `'1E5'`/`'1e3'` (exponents), `'True'`, `'NaN'` and integers beyond 2^53 - 1 (which
    JSON consumers round) stay strings, so nothing is silently changed.

    Args:
        raw: The text after `=`.

    Returns:
        The value to send.
    """
    if raw in ("true", "false"):
        return raw == "true"
    if not _PLAIN_NUMBER.fullmatch(raw):
        return raw
    value = json.loads(raw)
    if isinstance(value, int) and abs(value) > _EXACT_INT_MAX:
        return raw
    if isinstance(value, float) and not math.isfinite(value):
        return raw
    return value if json.dumps(value) == raw else raw


def model_id(text: str) -> str:
    """An argparse `type`: a model id of the grammar `parse_model_id` accepts.

    Args:
        text: The value on the command line.

    Returns:
        `text`, unchanged.

    Raises:
        argparse.ArgumentTypeError: Not a model id (argparse prints the reason, status 2).
    """
    try:
        parse_model_id(text)
    except InvalidModelIdError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


# ---------------------------------------------------------------------- gateway options

OPTIONS_GROUP: Final = "gateway options (cf-aig-* request headers)"
"""The title of the `GatewayOptions` flags in `--help`."""

_FLAG_STYLE: Final[dict[str, dict[str, str]]] = {
    "cache_ttl": {
        "metavar": "SECONDS",
        "help": f"{Bounds.CACHE_TTL_MIN_S} to {Bounds.CACHE_TTL_MAX_S}",
    },
    "cache_key": {"metavar": "KEY"},
    "metadata": {"help": METADATA_HELP},
    "event_id": {"metavar": "ID"},
    "request_timeout_ms": {"flag": "--request-timeout", "metavar": "MS"},
    "max_attempts": {
        "metavar": "N",
        "help": f"{Bounds.MAX_ATTEMPTS_MIN} to {Bounds.MAX_ATTEMPTS_MAX}",
    },
    "retry_delay_ms": {
        "flag": "--retry-delay",
        "metavar": "MS",
        "help": f"{Bounds.RETRY_DELAY_MIN_MS} to {Bounds.RETRY_DELAY_MAX_MS}",
    },
    "custom_cost": {"help": "per_token_in=N per_token_out=N (USD per token), or total_cost=N"},
    "byok_alias": {"metavar": "ALIAS"},
    "allowed_models": {
        "metavar": "MODEL_ID",
        "help": "the Auto Router's pool; '*' is a whole path segment (anthropic/*)",
    },
    "allowed_providers": {"metavar": "PROVIDER", "help": ", ".join(AUTO_ROUTER_PROVIDERS)},
    "session_id": {"metavar": "ID"},
    "turn_id": {"metavar": "ID"},
}
"""Spelling, metavar and help where a flag's differ from what its field's type gives."""


def add_option_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one flag per `GatewayOptions` field to `parser`, read from the model's fields.

    The field's type gives the flag's form: an int takes an int, a `Literal` its
    choices, a list several values (`--allowed-models a b`, or the flag repeated), a dict
    `KEY=VALUE` pairs; a bool is a switch, `--x/--no-x` where `False` also sends a header
    (`--no-collect-log`). The `dest` is the field's name, so `cli.flags` spells the
    options' errors as these flags.

    Args:
        parser: The subcommand's parser.
    """
    group = parser.add_argument_group(OPTIONS_GROUP)
    for name, field in GatewayOptions.model_fields.items():
        style = dict(_FLAG_STYLE.get(name, {}))
        flag = style.pop("flag", "--" + name.replace("_", "-"))
        kind = _inner(field.annotation)
        extra: dict[str, Any] = {"dest": name, **style}
        extra.setdefault("help", _field_help(field.description))
        if kind is bool:
            sends_false = not GatewayOptions(**{name: False}).is_empty()
            action = argparse.BooleanOptionalAction if sends_false else "store_true"
            group.add_argument(flag, action=action, default=None, dest=name, help=extra.get("help"))
            continue
        if get_origin(kind) is Literal:
            extra["choices"] = get_args(kind)
        elif get_origin(kind) is list:
            extra.update(nargs="+", action="extend")
        elif get_origin(kind) is dict:
            extra.update(nargs="+", action="extend")
            extra.setdefault("metavar", "KEY=VALUE")
        elif kind is int:
            extra["type"] = int
        group.add_argument(flag, **extra)


def _field_help(description: str | None) -> str | None:
    """A field's docstring as one line of `--help` (argparse reads `%` as a format)."""
    if not description:
        return None
    return " ".join(description.split()).replace("`", "").replace("%", "%%")


def options_from_args(args: argparse.Namespace) -> GatewayOptions:
    """The `GatewayOptions` of the flags `add_option_arguments` added.

    Args:
        args: The parsed command line.

    Returns:
        The options of the flags given; a flag not given leaves its field unset.

    Raises:
        InvalidOptionError: A value out of bounds, or a `KEY=VALUE` pair that is not one
            (the error names the field; `cli.main` spells it as the flag).
    """
    given: dict[str, Any] = {}
    for name, field in GatewayOptions.model_fields.items():
        value = getattr(args, name, None)
        if value is None:
            continue
        kind = _inner(field.annotation)
        if get_origin(kind) is dict:
            reads_float = get_args(kind)[1] is float
            value = (
                parse_pairs(name, value, float, "per_token_in=1e-06")
                if reads_float
                else parse_pairs(name, value, metadata_value)
            )
        given[name] = value
    return GatewayOptions(**given)


def _inner(annotation: Any) -> Any:
    """`X` of `X | None`; any other annotation as it is."""
    if get_origin(annotation) in (types.UnionType, Union):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(inner) == 1:
            return inner[0]
    return annotation
