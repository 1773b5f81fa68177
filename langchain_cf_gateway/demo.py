"""``cf-aig demo`` (``make demo``), interim: ``cf-aig route`` on a handful of model ids.

Until the local gateway and the chat model land, the demo shows how model ids become
requests (compat, native and REST endpoints, a dynamic route, a Workers AI model, an
embeddings route and a fallback chain) without sending anything. The gateway resolves
as everywhere else; with nothing configured, placeholders stand in and a note says so.
"""

from __future__ import annotations

import argparse
import shlex
from typing import Final

from . import dry_run

ROUTE_COMMANDS: Final = (
    "openai/gpt-4o-mini --cache-ttl 3600 --metadata team=search user=42",
    "groq/llama-3.1-8b-instant --endpoint native",
    "anthropic/claude-sonnet-4-5 --endpoint rest --max-attempts 3",
    "dynamic/support --metadata plan=free",
    "@cf/meta/llama-3.1-8b-instruct",
    "openai/text-embedding-3-small --embeddings --endpoint native",
    "openai/gpt-4o-mini --fallback anthropic/claude-sonnet-4-5 "
    "workers-ai/@cf/meta/llama-3.1-8b-instruct --request-timeout 10000 --max-attempts 2",
)
"""The ``cf-aig route`` command lines the demo runs, each printed before its output."""


def configure(parser: argparse.ArgumentParser) -> None:
    """``cf-aig demo`` takes no arguments: the gateway comes from the environment or file."""
    parser.description = (
        "Dry-run `cf-aig route` on model ids covering compat, native, REST, a dynamic "
        "route, Workers AI, embeddings and a fallback chain. Nothing is sent."
    )


def run(args: argparse.Namespace) -> int:
    """Print each route of :data:`ROUTE_COMMANDS` under one resolved gateway."""
    config, notes = dry_run.resolve_config()
    for note in notes:
        print(f"note: {note}")
    route_parser = argparse.ArgumentParser(prog="cf-aig route")
    dry_run.configure(route_parser)
    for line in ROUTE_COMMANDS:
        print(f"\n$ cf-aig route {line}")
        print(dry_run.show(route_parser.parse_args(shlex.split(line)), config))
    return 0
