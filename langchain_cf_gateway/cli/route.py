"""`cf-aig route`: the request a call would make (URL, headers, body model); nothing is sent.

```text
cf-aig route MODEL_ID [--endpoint compat|native|rest] [--embeddings]
             [--fallback MODEL_ID ...] [--cache-ttl N] [--skip-cache] [--cache-key K]
             [--metadata KEY=VALUE ...] [--event-id ID] [--request-timeout MS]
             [--max-attempts N] [--retry-delay MS] [--backoff WORD]
             [--account-id ID] [--gateway-id ID] [--token TOKEN] [--base-url URL]
```

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
from ..core.protocol import Bounds
from ..core.routing import ENDPOINTS, Endpoint, Operation
from .arguments import METADATA_HELP, TOKEN_IN_HISTORY, add_gateway_arguments, parse_metadata

PLACEHOLDER_ACCOUNT_ID: Final = "YOUR_ACCOUNT_ID"
"""Stands in for the account id in a dry run when none is configured anywhere."""
_PLACEHOLDER_TOKEN: Final = "placeholder-token"  # printed as *** like a real one


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
    options = parser.add_argument_group("gateway options (cf-aig-* request headers)")
    options.add_argument(
        "--cache-ttl",
        type=int,
        metavar="SECONDS",
        help=f"{Bounds.CACHE_TTL_MIN_S} to {Bounds.CACHE_TTL_MAX_S}",
    )
    options.add_argument("--skip-cache", action="store_true", default=None)
    options.add_argument("--cache-key", metavar="KEY")
    options.add_argument(
        "--metadata",
        metavar="KEY=VALUE",
        nargs="+",
        action="extend",
        help=f"{METADATA_HELP} (42, 1.5, true; 007 stays a string)",
    )
    options.add_argument("--event-id", metavar="ID")
    options.add_argument("--request-timeout", type=int, metavar="MS", dest="request_timeout_ms")
    options.add_argument(
        "--max-attempts",
        type=int,
        metavar="N",
        help=f"{Bounds.MAX_ATTEMPTS_MIN} to {Bounds.MAX_ATTEMPTS_MAX}",
    )
    options.add_argument(
        "--retry-delay",
        type=int,
        metavar="MS",
        dest="retry_delay_ms",
        help=f"{Bounds.RETRY_DELAY_MIN_MS} to {Bounds.RETRY_DELAY_MAX_MS}",
    )
    options.add_argument("--backoff", choices=Bounds.BACKOFF_CHOICES)
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
            "no gateway token is configured: cf-aig-authorization is not sent, which only a "
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
    options = _options(args)
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
            *lines,
        ]
    )


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


def _options(args: argparse.Namespace) -> GatewayOptions:
    fields = {
        "cache_ttl": args.cache_ttl,
        "skip_cache": args.skip_cache,
        "cache_key": args.cache_key,
        "metadata": parse_metadata(args.metadata) if args.metadata else None,
        "event_id": args.event_id,
        "request_timeout_ms": args.request_timeout_ms,
        "max_attempts": args.max_attempts,
        "retry_delay_ms": args.retry_delay_ms,
        "backoff": args.backoff,
    }
    return GatewayOptions(**{k: v for k, v in fields.items() if v is not None})
