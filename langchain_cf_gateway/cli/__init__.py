"""The `cf-aig` command: one entry point, each subcommand loaded only when it is chosen.

A subcommand is a module with `configure(parser)` and `run(args) -> int`, named in
`COMMANDS`:

- `route` (`cli.route`): the request a call would make; nothing is sent;
- `serve` (`cli.serve`): the local gateway (needs the `server` extra);
- `logs` (`cli.logs`) and `feedback` (`cli.feedback`): Cloudflare's logs API;
- `demo` (`cli.demo`): the package end to end (`make demo`);
- `doctor` (`cli.doctor`): the set-up checked step by step, each failure with its fix.

Only the chosen module is imported, so `cf-aig --help` and `cf-aig route` load neither
the server nor LiteLLM. A command whose extra is not installed is not listed; choosing
it says which extra to install.

Errors are reported in the words of the command line, flags rather than Python
arguments (`cli.flags`), on stderr, without a traceback. Exit status: 0 done; 1 the
gateway's response was an error, or it could not be reached; 2 bad input (usage,
config, model id, option); 130 interrupted. A closed stdout (`cf-aig ... | head`) ends
the command quietly with 1, as Python's recipe does:
https://docs.python.org/3/library/signal.html#note-on-sigpipe
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec
from typing import Final, NoReturn, Protocol, cast

from ..core import GatewayError, GatewayInputError
from . import extras
from .flags import Flag, command_flags, spelled_as_flags

PROG: Final = "cf-aig"


class CommandModule(Protocol):
    """What a subcommand module provides."""

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the subcommand's arguments to `parser`."""

    def run(self, args: argparse.Namespace) -> int:
        """Run the subcommand; return its exit status."""


class Parser(argparse.ArgumentParser):
    """An `ArgumentParser` whose usage errors are one line naming the flag and the fix.

    `cf-aig route: error: --request-timeout: invalid int value: '1.5' (see cf-aig route
    --help)` on stderr, exit status 2, instead of argparse's usage block. Subparsers are of
    this class too (argparse makes them of their parent's class).
    """

    help_prog: str | None = None
    """Whose `--help` the message points to, when not this parser's (a chosen command's)."""

    def error(self, message: str) -> NoReturn:
        """Print `message` as one line on stderr and exit with status 2.

        Args:
            message: argparse's message (`argument --flag: ...`).
        """
        prog = self.help_prog or self.prog
        self.exit(2, f"{prog}: error: {message.removeprefix('argument ')} (see {prog} --help)\n")


@dataclass(frozen=True)
class Command:
    """One row of the command table: the module that implements it, and its one-line help."""

    module: str
    help: str
    extra: str | None = None
    """The optional extra (`pyproject.toml`) the module needs, if any."""


COMMANDS: Final[dict[str, Command]] = {
    "route": Command(
        "langchain_cf_gateway.cli.route",
        "print the URL, headers and body model a call would use (sends nothing)",
    ),
    "serve": Command("langchain_cf_gateway.cli.serve", "run the local gateway", extra="server"),
    "demo": Command("langchain_cf_gateway.cli.demo", "the demo that `make demo` runs"),
    "logs": Command("langchain_cf_gateway.cli.logs", "list the gateway's logs as a table"),
    "feedback": Command("langchain_cf_gateway.cli.feedback", "send feedback or a score for a log"),
    "models": Command("langchain_cf_gateway.cli.models", "list the model ids the gateway serves"),
    "routes": Command("langchain_cf_gateway.cli.routes", "list, show, diff, deploy dynamic routes"),
    "doctor": Command(
        "langchain_cf_gateway.cli.doctor",
        "check the configuration, the gateway, one request and its log, with the fix",
    ),
}


def available_commands() -> dict[str, Command]:
    """The rows of `COMMANDS` whose module and extra are installed.

    Returns:
        The commands `cf-aig` lists, by name.
    """
    return {name: cmd for name, cmd in COMMANDS.items() if installed(cmd)}


def installed(command: Command) -> bool:
    """Whether `command` can run: its module is found, and so is its extra.

    `importlib.util.find_spec` looks the modules up without importing them.

    Args:
        command: A row of `COMMANDS`.

    Returns:
        True when both are installed.
    """
    try:
        found = find_spec(command.module) is not None
    except ModuleNotFoundError:  # a parent package that is not there
        return False
    return found and (command.extra is None or extras.installed(command.extra))


def build_parser(chosen: str | None = None) -> argparse.ArgumentParser:
    """The `cf-aig` parser; only the `chosen` subcommand's module is imported.

    Args:
        chosen: The subcommand on the command line, if any.

    Returns:
        The parser. Parsed, a chosen command's namespace holds `run` and
        `parameter_flags` (its Python names and their flags, for `cli.flags`).
    """
    from .. import __version__

    missing = sorted(
        {c.extra for c in COMMANDS.values() if c.extra and not extras.installed(c.extra)}
    )
    parser = Parser(
        prog=PROG,
        description="Cloudflare AI Gateway for LangChain and LiteLLM.",
        epilog="; ".join(
            f"{', '.join(n for n, c in COMMANDS.items() if c.extra == extra)} {_needs(extra)}"
            for extra in missing
        )
        or None,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    if chosen in available_commands():
        # An unknown flag after the command is reported by this parser: point to the
        # command's own help.
        parser.help_prog = f"{PROG} {chosen}"
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, command in available_commands().items():
        sub = commands.add_parser(name, help=command.help, description=command.help)
        if name == chosen:
            module = cast(CommandModule, import_module(command.module))
            module.configure(sub)
            sub.set_defaults(run=module.run, parameter_flags=command_flags(sub))
    return parser


def _needs(extra: str) -> str:
    return f"needs the {extra} extra: {extras.install_hint(extra)}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run `cf-aig`.

    Args:
        argv: The arguments after the program name (default: `sys.argv[1:]`).

    Returns:
        The exit status (see the module's docstring).
    """
    try:
        code = _run(argv)
        sys.stdout.flush()  # a closed pipe shows here, not at exit as a traceback
    except BrokenPipeError:
        _discard_stdout()
        return 1
    return code


def _discard_stdout() -> None:
    """Point stdout at `os.devnull`, so the interpreter's last flush at exit is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # a stdout without a file descriptor (a test's capture)
        pass


def _in_cli_words(message: str, flags: Mapping[str, Flag]) -> str:
    """`message` with flags for Python arguments, and a flag's value from the command line."""
    return spelled_as_flags(message, flags).replace(
        "(from the argument)", "(from the command line)"
    )


def _run(argv: Sequence[str] | None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    # No top-level option takes a value, so the first bare word is the command.
    chosen = next((a for a in arguments if not a.startswith("-")), None)
    command = COMMANDS.get(chosen or "")
    if command is not None and command.extra and not installed(command):
        print(f"{PROG}: error: '{PROG} {chosen}' {_needs(command.extra)}", file=sys.stderr)
        return 2
    flags: Mapping[str, Flag] = {}
    try:
        args = build_parser(chosen).parse_args(arguments)
        flags = args.parameter_flags
        return int(args.run(args))
    except SystemExit as exc:  # argparse: --help, --version (0) and usage errors (2)
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    except GatewayInputError as exc:
        print(f"{PROG}: error: {_in_cli_words(str(exc), flags)}", file=sys.stderr)
        return 2
    except GatewayError as exc:
        print(f"{PROG}: {_in_cli_words(str(exc), flags)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
