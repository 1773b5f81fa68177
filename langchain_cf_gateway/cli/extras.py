"""Which optional extras of the package are installed, asked of the import system.

`importlib.util.find_spec` finds a module without importing it, so asking costs no
import of the server stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.util import find_spec
from typing import Final

EXTRAS: Final[Mapping[str, tuple[str, ...]]] = {
    "server": ("starlette", "uvicorn"),
}
"""The modules an extra's code imports at module level, by the extra's name in pyproject."""


def installed(extra: str) -> bool:
    """Whether every module that `extra` brings can be imported.

    Args:
        extra: The name of the extra, such as `server`.

    Returns:
        True when `pip install 'langchain-cf-gateway[extra]'` has been done.
    """
    return all(find_spec(module) is not None for module in EXTRAS[extra])


def install_hint(extra: str) -> str:
    """The command that installs `extra`.

    Args:
        extra: The name of the extra, such as `server`.

    Returns:
        The `pip install` command line, quoted for a shell.
    """
    return f"pip install 'langchain-cf-gateway[{extra}]'"
