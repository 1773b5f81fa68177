"""The local gateway: Cloudflare AI Gateway's protocol on loopback (extra `server`).

Import it on demand; `import langchain_cf_gateway` never loads it. Importing this
package loads nothing of the server stack either (starlette, uvicorn, aiohttp): each
name below is imported when it is first used (PEP 562), so that the CLI can find the
package with `importlib.util.find_spec` without importing it.

Modules: `server` (`LocalGateway`), `state` (`GatewayState`: what both route sets
share), `app` (the Starlette application), `gateway_routes` (provider, universal and
REST routes), `resolve` (path to provider call), `respond` (responses and log rows),
`inbound` (request head and body bounds), `pipeline` (options, cache, retries),
`mock` and `mock_formats` (the mock model), `faults` (fault grammar), `scripts`,
`cache`, `logstore` (the log store package), `log_query`, `gateways`, `upstream`
(mock or pass-through) and `connections` (its HTTP client), `management`, `config`
(the config file of `cf-aig serve`), `edge` (what a request must be before it
is forwarded) and `listener` (Host, Origin, connection and request-head bounds).
README.md in this directory has the curl examples.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .clock import Clock
    from .faults import Fault
    from .gateways import GatewayRecord
    from .mock import EMBEDDING_DIMENSIONS, count_tokens, embedding_vector
    from .scripts import Script
    from .server import LocalGateway
    from .state import ReceivedRequest
    from .upstream import PassThrough

_MODULES: dict[str, str] = {
    "EMBEDDING_DIMENSIONS": "mock",
    "Clock": "clock",
    "Fault": "faults",
    "GatewayRecord": "gateways",
    "LocalGateway": "server",
    "PassThrough": "upstream",
    "ReceivedRequest": "state",
    "Script": "scripts",
    "count_tokens": "mock",
    "embedding_vector": "mock",
}
__all__ = [
    "EMBEDDING_DIMENSIONS",
    "Clock",
    "Fault",
    "GatewayRecord",
    "LocalGateway",
    "PassThrough",
    "ReceivedRequest",
    "Script",
    "count_tokens",
    "embedding_vector",
]


def __getattr__(name: str) -> Any:
    """Import an exported name on first use (PEP 562).

    Args:
        name: the attribute asked for.

    Returns:
        The exported object.

    Raises:
        AttributeError: `name` is not exported here.
    """
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The exported names, as `dir()` shows them.

    Returns:
        The names of `__all__`.
    """
    return list(__all__)
