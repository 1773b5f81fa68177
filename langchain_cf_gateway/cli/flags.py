"""Messages of the library in the words of the command line: flags, not Python arguments.

The core's errors are written for Python callers: `pass account_id=...`,
`use endpoint='compat'`, `cache_ttl: must be from 60 ...`. At the terminal the user
typed `--account-id` and `--endpoint`, so `cf-aig` rewrites each message it prints
through `spelled_as_flags`, once, where it prints it (`cli.main`). The names it
rewrites come from the chosen subcommand's own parser (`command_flags`), so a name
is only ever rewritten to a flag that command has.

A name is rewritten where it stands for the argument:

- assigned, `name=VALUE`: `account_id=...` becomes `--account-id ID` (the metavar
  stands in for `...`, `{...}` or a missing value), `endpoint='compat'` becomes
  `--endpoint compat`, `skip_cache=True` becomes `--skip-cache`, and `collect_log=False`
  becomes `--no-collect-log` (a `--x/--no-x` switch). A value that is a
  Python call (`base_url=provider_base_url('x')`) is advice for Python: left alone.
- as the subject at the start of the message or of a clause after `; `, `name:`,
  `name must`, `name is`:
  `cache_ttl: must be ...` becomes `--cache-ttl: must be ...`, and a positional
  argument's name becomes its metavar (`log_id:` becomes `LOG_ID:`).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

PYTHON_NAMES: Final[Mapping[str, str]] = {
    "api_token": "token",
    "gateway_token": "token",
    "head_timeout_s": "head_timeout",
    "body_timeout_s": "body_timeout",
    "max_rows": "log_max_rows",
    "commit_timeout": "log_commit_timeout",
    "body_max_bytes": "log_body_max_bytes",
    "max_body_bytes": "log_max_body_bytes",
}
"""Python names the library's messages use for a value that a flag's `dest` names otherwise.

The management client calls the token `api_token`, the chat model `gateway_token`;
the local gateway's log store and listener take `max_rows`, `head_timeout_s`...
"""


@dataclass(frozen=True)
class Flag:
    """How the command line spells one argument."""

    spelling: str
    """`--account-id`, or the metavar of a positional argument (`LOG_ID`)."""
    metavar: str | None
    """What follows the flag (`ID`); None for a flag that takes no value."""
    negative: str | None = None
    """The `--no-x` form of a `--x/--no-x` switch (`--no-collect-log`), else None."""

    @property
    def positional(self) -> bool:
        """Whether the argument is positional (no leading `-`)."""
        return not self.spelling.startswith("-")


def command_flags(parser: argparse.ArgumentParser) -> dict[str, Flag]:
    """Every Python name of `parser`'s arguments (`dest`s and aliases), with its spelling.

    Args:
        parser: A subcommand's parser, after its arguments were added.

    Returns:
        A mapping from `account_id`, `request_timeout_ms`, `log_id`... to their `Flag`.
    """
    flags: dict[str, Flag] = {}
    # argparse has no public list of a parser's arguments; `_actions` is stable since 2.7.
    for action in parser._actions:
        if action.dest in ("help", "version", argparse.SUPPRESS):
            continue
        metavar = action.metavar if isinstance(action.metavar, str) else None
        longs = [s for s in action.option_strings if s.startswith("--")]
        if longs:
            takes_value = action.nargs != 0
            shown = (metavar or action.dest.upper()) if takes_value else None
            negative = next((s for s in longs[1:] if s.startswith("--no-")), None)
            flags[action.dest] = Flag(longs[0], shown, negative)
        elif not action.option_strings:
            flags[action.dest] = Flag(metavar or action.dest.upper(), metavar)
    for alias, dest in PYTHON_NAMES.items():
        if dest in flags:
            flags.setdefault(alias, flags[dest])
    return flags


def spelled_as_flags(message: str, flags: Mapping[str, Flag]) -> str:
    """`message` with each Python argument name of `flags` written as its flag.

    Args:
        message: A message of the library (an exception's text).
        flags: The chosen subcommand's names, from `command_flags`.

    Returns:
        The message as the command line's user reads it.
    """
    # Longest names first, so that `max_body_bytes` is never read inside
    # `log_max_body_bytes` (the look-behind also keeps it whole).
    for name in sorted(flags, key=len, reverse=True):
        flag = flags[name]
        if not flag.positional:
            message = _assigned(name).sub(_as_flag(flag), message)
        message = _subject(name).sub(flag.spelling, message)
    return message


_VALUE: Final = (
    r"""(?P<value>'[^']*'|"[^"]*"|\{\.\.\.\}|\.\.\.|[\w.@*/+-]+(?![\w(.@*/+-])|(?=[\s,;)]|$))"""
)


def _assigned(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.?&/-]){re.escape(name)}={_VALUE}")


def _subject(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?:^|(?<=; )){re.escape(name)}(?=:| must | is )")


def _as_flag(flag: Flag) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        value = match["value"]
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        elif value in ("", "...", "{...}"):
            value = flag.metavar or ""
        elif value == "True" and flag.metavar is None:
            value = ""
        elif value == "False" and flag.negative is not None:
            return flag.negative
        return f"{flag.spelling} {value}" if value else flag.spelling

    return replace
