"""`cf-aig feedback LOG_ID`: human feedback, a score and metadata on one log.

Sent through Cloudflare's management API:
https://developers.cloudflare.com/api/resources/ai_gateway/

```text
cf-aig feedback LOG_ID [--feedback 1|-1] [--score 0..100] [--metadata KEY=VALUE ...]
                       [--account-id ID] [--gateway-id ID] [--token TOKEN] [--base-url URL]
```

Sends `PATCH .../gateways/{gateway}/logs/{LOG_ID}`; the token needs 'AI Gateway Edit'.
"""

from __future__ import annotations

import argparse

import httpx

from ..core.protocol import LogsApi
from .arguments import (
    MANAGEMENT_TOKEN_HELP,
    METADATA_HELP,
    add_gateway_arguments,
    client_from_args,
    parse_metadata,
    unreachable,
)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of `cf-aig feedback` to `parser`.

    Args:
        parser: The subcommand's parser.
    """
    parser.description = "Send feedback, a score or metadata for one gateway log."
    parser.add_argument("log_id", metavar="LOG_ID", help="the cf-aig-log-id of the request")
    parser.add_argument(
        "--feedback",
        type=int,
        choices=LogsApi.FEEDBACK_VALUES,
        help="1 (thumbs up) or -1 (thumbs down)",
    )
    parser.add_argument(
        "--score",
        type=float,
        metavar="N",
        help=f"{LogsApi.SCORE_MIN} to {LogsApi.SCORE_MAX}",
    )
    parser.add_argument(
        "--metadata",
        metavar="KEY=VALUE",
        nargs="+",
        action="extend",
        help=METADATA_HELP,
    )
    add_gateway_arguments(parser, token_help=MANAGEMENT_TOKEN_HELP)


def run(args: argparse.Namespace) -> int:
    """Send the feedback, score and metadata for the log, and say what was sent.

    Args:
        args: The parsed command line.

    Returns:
        0 when sent; 1 when the management API cannot be reached.
    """
    metadata = parse_metadata(args.metadata) if args.metadata else None
    score: float | None = args.score
    if score is not None and score.is_integer():
        score = int(score)  # 95, not 95.0, on the wire
    with client_from_args(args) as client:
        try:
            client.update_log(args.log_id, feedback=args.feedback, score=score, metadata=metadata)
        except httpx.HTTPError as exc:
            return unreachable(client, exc)
    sent = []
    if args.feedback is not None:
        sent.append(f"feedback {args.feedback:+d}")
    if score is not None:
        sent.append(f"score {score}")
    if metadata:
        sent.append("metadata " + ", ".join(f"{k}={v}" for k, v in metadata.items()))
    print(f"Sent {'; '.join(sent)} for log {args.log_id} in gateway {client.config.gateway_id!r}")
    return 0
