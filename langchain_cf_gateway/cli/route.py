"""`cf-aig route`: the request a call would make (URL, headers, body model); nothing is sent.

```text
cf-aig route MODEL_ID [--endpoint compat|native|rest] [--embeddings]
             [--fallback MODEL_ID ...] [one flag per GatewayOptions field ...]
             [--account-id ID] [--gateway-id ID] [--token TOKEN] [--base-url URL]
```

The option flags come from `GatewayOptions`' fields (`cli.arguments.add_option_arguments`):
`--cache-ttl SECONDS`, `--skip-cache`, `--metadata KEY=VALUE ...`, `--collect-log/--no-collect-log`,
`--allowed-models MODEL_ID ...`, `--custom-cost KEY=VALUE ...` and so on, each printed as
the `cf-aig-*` header it sends. For `cloudflare/auto` the printout also names the response
headers the Auto Router adds and the `response_metadata["gateway"]` key each one fills.

The gateway is resolved exactly as the library resolves it (arguments > environment >
config file, `GatewayConfig.resolve`). What is not configured anywhere is shown as
a placeholder and named in a `note:` line, so the dry run also works on a machine with
no Cloudflare set-up: the account id becomes `YOUR_ACCOUNT_ID`; on `--endpoint rest`,
which cannot go without a token, a placeholder token stands in. A value that is given but
malformed (an account id with a space, a TTL of 10 s, an unknown provider) is an error,
exit status 2. Tokens, and any credential header, are printed as `***`; a password in
the URL (`http://user:pw@host`) as `user:***`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pydantic import SecretStr

from ..core import (
    GatewayConfig,
    GatewayOptions,
    InvalidOptionError,
    MissingAccountIdError,
    Step,
    build_route,
    build_universal,
    config_file_path,
)
from ..core.config import ENV_ACCOUNT_ID, ENV_TOKEN
from ..core.credentials import is_credential, mask_url
from ..core.info import GatewayInfo
from ..core.protocol import Header
from ..core.providers import AUTO_ROUTER
from ..core.routing import ENDPOINTS, Endpoint, Operation
from .arguments import (
    TOKEN_IN_HISTORY,
    add_gateway_arguments,
    add_option_arguments,
    options_from_args,
)

PLACEHOLDER_ACCOUNT_ID: Final = "YOUR_ACCOUNT_ID"
"""Stands in for the account id in a dry run when none is configured anywhere."""
_NO_GATEWAY_TOKEN: Final = "no gateway token is configured"
_PLACEHOLDER_TOKEN: Final = "placeholder-token"  # printed as *** like a real one
AUTO_ROUTER_RESPONSE_HEADERS: Final = (
    Header.ROUTED_MODEL,
    Header.ROUTING_REASON,
    Header.ROUTING_DECISION_ID,
)
"""What the Auto Router adds to its response
(https://developers.cloudflare.com/ai-gateway/features/auto-router/)."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of `cf-aig route` to `parser`.

    Args:
        parser: The subcommand's parser.
    """
    parser.description = (
        "Print the URL, the headers (tokens as ***) and the body model that a call to "
        "MODEL_ID would use. Nothing is sent."
    )
    parser.epilog = (
        "model ids: {provider}/{model} (openai/gpt-4o-mini, google/gemini-2.5-flash), "
        "workers-ai/@cf/... or @cf/..., dynamic/{route}, cloudflare/auto (Cloudflare's Auto "
        "Router, compat only), custom-{slug}/{model}. "
        f"Missing account id: shown as {PLACEHOLDER_ACCOUNT_ID} with a note."
    )
    parser.add_argument("model", metavar="MODEL_ID", help="e.g. openai/gpt-4o-mini")
    parser.add_argument(
        "--endpoint",
        choices=ENDPOINTS,
        default="compat",
        help="compat (default): /compat/chat/completions; native: the provider's own "
        "OpenAI-compatible path; rest: api.cloudflare.com /ai/v1/chat/completions "
        "(provider models and dynamic/{route})",
    )
    parser.add_argument(
        "--embeddings", action="store_true", help="the embeddings route instead of chat"
    )
    parser.add_argument(
        "--fallback",
        metavar="MODEL_ID",
        nargs="+",
        action="extend",
        default=[],
        help="models to try in order after MODEL_ID: prints the universal-endpoint body",
    )
    add_option_arguments(parser)
    add_gateway_arguments(parser, token_help=TOKEN_IN_HISTORY)


def run(args: argparse.Namespace) -> int:
    """Resolve the gateway, print the route and the notes.

    Args:
        args: The parsed command line.

    Returns:
        0, the exit status; bad input raises instead (`cli.main` reports it, status 2).
    """
    config, notes = resolve_config(
        account_id=args.account_id,
        gateway_id=args.gateway_id,
        token=args.token,
        base_url=args.base_url,
    )
    if args.endpoint == "rest" and not args.fallback:
        # The REST API takes `Authorization`, never cf-aig-authorization: `show` notes its
        # placeholder token instead.
        notes = [note for note in notes if not note.startswith(_NO_GATEWAY_TOKEN)]
    print(show(args, config))
    for note in notes:
        print(f"note: {note}")
    return 0


def resolve_config(
    account_id: str | None = None,
    gateway_id: str | None = None,
    token: str | None = None,
    base_url: str | None = None,
) -> tuple[GatewayConfig, list[str]]:
    """The library's resolution, with a placeholder account id if none is configured.

    Args:
        account_id: `--account-id`, or None for the environment and the config file.
        gateway_id: `--gateway-id`, likewise.
        token: `--token`, likewise.
        base_url: `--base-url`, likewise.

    Returns:
        The config, and the notes that say what was left out.
    """
    given: dict[str, Any] = {
        "account_id": account_id,
        "gateway_id": gateway_id,
        "token": token,
        "base_url": base_url,
    }
    notes: list[str] = []
    try:
        config = GatewayConfig.resolve(**given)
    except MissingAccountIdError:
        config = GatewayConfig.resolve(**{**given, "account_id": PLACEHOLDER_ACCOUNT_ID})
        notes.append(
            f"no account id is configured: {PLACEHOLDER_ACCOUNT_ID} is a placeholder; pass "
            f"--account-id, set {ENV_ACCOUNT_ID}, or write accountId to {config_file_path()}"
        )
    if config.token is None:
        notes.append(
            f"{_NO_GATEWAY_TOKEN}: cf-aig-authorization is not sent, which only a "
            f"gateway with authentication off accepts; set {' or '.join(ENV_TOKEN)}"
        )
    return config, notes


def show(args: argparse.Namespace, config: GatewayConfig) -> str:
    """The printout of one `cf-aig route` command line under `config`.

    Args:
        args: The parsed command line.
        config: The resolved gateway.

    Returns:
        The request line, the headers (credentials as `***`) and the body model; with
        `--fallback`, the universal endpoint's body.
    """
    options = options_from_args(args)
    operation: Operation = "embeddings" if args.embeddings else "chat"
    endpoint: Endpoint = args.endpoint
    if args.fallback:
        return _show_universal(config, [args.model, *args.fallback], endpoint, operation, options)
    lines: list[str] = []
    if endpoint == "rest" and config.token is None:
        config = config.model_copy(update={"token": SecretStr(_PLACEHOLDER_TOKEN)})
        lines.append("note: the REST API needs a token; a placeholder stands in for it")
    route = build_route(config, args.model, endpoint, operation)
    headers = {**route.headers, **options.to_headers()}
    return "\n".join(
        [
            f"POST {mask_url(route.url)}",
            *_header_lines(headers, config),
            f"body model: {route.body_model}",
            *(_auto_router_lines() if route.body_model == AUTO_ROUTER else []),
            *lines,
        ]
    )


def _auto_router_lines() -> list[str]:
    """Where the Auto Router's response headers land, as `GatewayInfo` reads them."""
    lines = ["response headers the Auto Router adds:"]
    for header in AUTO_ROUTER_RESPONSE_HEADERS:
        read = GatewayInfo.from_headers({header: "x"}).as_dict()
        for key in (key for key, value in read.items() if value is not None):
            # `response_metadata["gateway"]` of the chat model; LiteLLM's is the same dict.
            lines.append(f"  {header} -> response_metadata['gateway']['{key}']")
    return lines


def _show_universal(
    config: GatewayConfig,
    models: Sequence[str],
    endpoint: Endpoint,
    operation: Operation,
    options: GatewayOptions,
) -> str:
    if endpoint == "rest":
        raise InvalidOptionError(
            "--fallback", "chains run on the gateway's universal endpoint: use --endpoint compat"
        )
    steps = [Step(model, options=options, endpoint=endpoint) for model in models]
    universal = build_universal(config, steps, operation=operation)
    # One step per line: still valid JSON, and the chain reads top to bottom.
    steps_json = ",\n".join(f"  {json.dumps(step)}" for step in universal.body({}))
    return "\n".join(
        [
            f"POST {mask_url(universal.url)}",
            *_header_lines(universal.headers, config),
            "body (universal endpoint: one step per model, tried in order; each query also "
            "carries your messages):",
            f"[\n{steps_json}\n]",
        ]
    )


def _header_lines(headers: Mapping[str, str], config: GatewayConfig) -> list[str]:
    secret = config.token.get_secret_value() if config.token else None
    lines = ["headers:" if headers else "headers: (none)"]
    for name, value in headers.items():
        if secret and value == f"Bearer {secret}":
            value = "Bearer ***"
        elif (secret and secret in value) or is_credential(name):
            value = "***"
        lines.append(f"  {name}: {value}")
    return lines
