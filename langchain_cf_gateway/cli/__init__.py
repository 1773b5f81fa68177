"""The `cf-aig` command: one entry point, each subcommand loaded only when it is chosen.

A subcommand is a module with `configure(parser)` and `run(args) -> int`, named in
`COMMANDS`. Only the chosen one is imported, so `cf-aig --help` and
`cf-aig route` load neither the server nor LiteLLM. A command is listed only when its
module is installed.

Exit status: 0 done; 1 the gateway answered with an error; 2 bad input (usage, config,
model id, option), reported on stderr without a traceback; 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Final, Protocol, cast

from ..core import GatewayError, GatewayInputError

PROG: Final = "cf-aig"


class CommandModule(Protocol):
    """What a subcommand module provides."""

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


@dataclass(frozen=True)
class Command:
    """One row of the command table: the module that implements it, and its one-line help."""

    module: str
    help: str


COMMANDS: Final[dict[str, Command]] = {
    "route": Command(
        "langchain_cf_gateway.cli.route",
        "print the URL, headers and body model a call would use (sends nothing)",
    ),
    "serve": Command("langchain_cf_gateway.cli.serve", "run the local gateway"),
    "demo": Command("langchain_cf_gateway.cli.demo", "the demo that `make demo` runs"),
    "logs": Command("langchain_cf_gateway.cli.logs", "list the gateway's logs as a table"),
    "feedback": Command("langchain_cf_gateway.cli.feedback", "send feedback or a score for a log"),
}


def available_commands() -> dict[str, Command]:
    """The rows of `COMMANDS` whose module is installed."""
    return {name: cmd for name, cmd in COMMANDS.items() if _installed(cmd.module)}


def _installed(module: str) -> bool:
    # importlib.util.find_spec on a dotted name imports the parent packages (the local
    # gateway's package pulls in the server), so look for the file instead.
    package, _, rest = module.partition(".")
    if package != __package__.partition(".")[0]:
        return False
    base = Path(__file__).parent.parent.joinpath(*rest.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The `cf-aig` parser; only the `chosen` subcommand's module is imported."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Cloudflare AI Gateway for LangChain and LiteLLM.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in available_commands().items():
        sub = commands.add_parser(name, help=command.help, description=command.help)
        if name == chosen:
            module = cast(CommandModule, import_module(command.module))
            module.configure(sub)
            sub.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `cf-aig` with `argv` (default: `sys.argv[1:]`); return the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    # No top-level option takes a value, so the first bare word is the command.
    chosen = next((a for a in arguments if not a.startswith("-")), None)
    try:
        args = build_parser(chosen).parse_args(arguments)
        return int(args.run(args))
    except SystemExit as exc:  # argparse: --help, --version (0) and usage errors (2)
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    except GatewayInputError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except GatewayError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

