"""What several subcommands share: the gateway flags, the management client, metadata pairs.

`--account-id`, `--gateway-id`, `--token` and `--base-url` are resolved as the library
resolves them (arguments > environment > config file, `GatewayConfig.resolve`); see
https://developers.cloudflare.com/ai-gateway/configuration/authentication/ for the token.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from typing import Final

import httpx

from ..core import (
    GatewayConfig,
    InvalidModelIdError,
    InvalidOptionError,
    MissingAccountIdError,
    parse_model_id,
)
from ..core.credentials import mask_urls
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
    "exactly a JSON number or true/false"
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
    """Say on stderr that the management API could not be reached.

    Args:
        client: The client whose request failed.
        exc: httpx's error; its message names the URL, never the headers.

    Returns:
        1, the exit status.
    """
    message = f"cannot reach the management API at {client.api_base}: {exc}"
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
    metadata: dict[str, str | int | float | bool] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InvalidOptionError(
                "metadata", f"write KEY=VALUE, such as user=alice; got {pair!r}"
            )
        metadata[key] = metadata_value(raw)
    return metadata


def metadata_value(raw: str) -> str | int | float | bool:
    """A number or boolean only when `raw` is exactly its JSON spelling; else the text.

    `'42'` becomes 42 and `'true'` True, but `'007'`, `'1e3'`, `'True'`, `'NaN'` stay
    strings, so nothing is silently changed.

    Args:
        raw: The text after `=`.

    Returns:
        The value to send.
    """
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(value, float) and not math.isfinite(value):
        return raw  # 'NaN' and 'Infinity' are words here, not numbers
    if isinstance(value, (bool, int, float)) and json.dumps(value) == raw:
        return value
    return raw


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
