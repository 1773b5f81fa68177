"""`cf-aig models`: the model ids a gateway serves, in the form the chat model takes.

Read from the gateway's `GET .../compat/models` with the gateway token
(https://developers.cloudflare.com/ai-gateway/usage/chat-completion/):

```text
cf-aig models [--provider P] [--json]
              [--account-id ID] [--gateway-id ID] [--token TOKEN] [--base-url URL]
```

One id per line (`openai/gpt-4o-mini`), or a JSON array with `--json`.
"""

from __future__ import annotations

import argparse
import json

import httpx

from .arguments import add_gateway_arguments, client_from_args, unreachable


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of `cf-aig models` to `parser`.

    Args:
        parser: The subcommand's parser.
    """
    parser.description = "List the model ids the gateway serves (its /compat/models)."
    parser.add_argument(
        "--provider", metavar="P", help="only this provider's models (openai, anthropic...)"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON array")
    add_gateway_arguments(
        parser,
        token_help="the gateway token (authenticated gateways); env CLOUDFLARE_AI_GATEWAY_TOKEN",
    )


def run(args: argparse.Namespace) -> int:
    """Print the gateway's model ids.

    Args:
        args: The parsed command line.

    Returns:
        0 when listed; 1 when the gateway cannot be reached.
    """
    with client_from_args(args) as client:
        try:
            ids = client.list_models(provider=args.provider)
        except httpx.HTTPError as exc:
            return unreachable(client, exc)
    print(json.dumps(ids) if args.json else "\n".join(ids))
    return 0
