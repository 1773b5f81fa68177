"""The state every worker of one local gateway shares, chosen by `--state-url`.

- `base`: the interface (`SharedState`, `Routes`, `Scripts`) and `SharedStateUnavailable`;
- `memory`: `memory://` (the default), the state of this process only;
- `redis_state`: `redis://host:port/db`, the state of every worker and host using that
  Redis (keys under `cf-aig:state:`), with its Lua scripts in `lua`;
- `codec`: the JSON of records in Redis.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...core.credentials import mask_url
from ...core.protocol import DEFAULT_GATEWAY_ID
from ..clock import Clock
from ..gateways import GatewayRegistry
from ..route_store import RouteStore
from ..scripts import ScriptBook
from .base import STATE_PREFIX, Routes, Scripts, SharedState, SharedStateUnavailable
from .memory import MemorySharedState

__all__ = [
    "STATE_PREFIX",
    "MemorySharedState",
    "Routes",
    "Scripts",
    "SharedState",
    "SharedStateUnavailable",
    "open_shared_state",
]


def open_shared_state(
    url: str | None,
    clock: Clock,
    gateways: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    check: bool = True,
) -> SharedState:
    """The shared state of `--state-url`: None or `memory://` in this process, `redis://` Redis.

    Args:
        url: `memory://` (or None) or `redis://host:port/db` (`rediss://`, `unix://`).
        clock: the gateway's clock.
        gateways: the gateways at start, id -> settings (`default`'s included).
        check: ping Redis now, so that an unreachable one stops the start.

    Returns:
        The shared state; Redis's creates the start-up gateways in `SharedState.start`.

    Raises:
        ValueError: an unsupported scheme (naming `--state-url`).
        ConfigError: Redis does not answer (`redis_state.check_reachable`).
    """
    start = dict(gateways or {})
    named = start.pop(DEFAULT_GATEWAY_ID, None)  # None: the config file does not name it
    default = None if named is None else dict(named)
    if not url or url.startswith("memory:"):
        registry = GatewayRegistry(clock, default or {})
        for gateway_id, settings in start.items():
            registry.create(gateway_id, **settings)
        return MemorySharedState(registry, RouteStore(clock), ScriptBook())
    if url.startswith(("redis://", "rediss://", "unix://")):
        from .redis_state import RedisSharedState, check_reachable  # redis only when asked

        if check:
            check_reachable(url)
        return RedisSharedState(url, clock, default, start)
    raise ValueError(
        f"--state-url must be memory:// or redis://host:port/db; got {mask_url(url)!r}"
    )
