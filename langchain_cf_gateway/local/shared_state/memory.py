"""`memory://`: the shared state in this process (one worker), as the gateway always kept it.

The gateways are a `GatewayRegistry`, the routes a `RouteStore` and the scripts a
`ScriptBook`; their locks make every change atomic between the server's event loop and
the thread of a `LocalGateway` test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ...core.dynamic_routes import DynamicRoute
from ..gateways import GatewayRecord, GatewayRegistry
from ..route_store import RouteStore
from ..scripts import Script, ScriptBook
from .base import Routes

T = TypeVar("T")


class MemoryRoutes(Routes):
    """`Routes` over one `RouteStore` of this process."""

    def __init__(self, store: RouteStore) -> None:
        self.store = store

    async def _apply(self, gateway_id: str, change: Callable[[RouteStore], T], write: bool) -> T:
        return change(self.store)

    async def delete_gateway(self, gateway_id: str) -> None:
        """Forget every route of a deleted gateway."""
        self.store.delete_gateway(gateway_id)

    async def clear(self) -> None:
        """Forget every route of every gateway."""
        self.store.clear()


class MemoryScripts:
    """`Scripts` over one `ScriptBook` of this process."""

    def __init__(self, book: ScriptBook) -> None:
        self.book = book

    async def add(self, script: Script) -> Script:
        """Queue a script; returns it."""
        return self.book.add(script)

    async def take(self, provider: str, model: str, *, policy: bool = False) -> Script | None:
        """The first live script matching, with one use consumed, or None."""
        if policy:
            return self.book.take_policy(provider, model)
        return self.book.take(provider, model)

    async def pending(self) -> list[Script]:
        """The scripts not used up yet, in order."""
        return self.book.pending()

    async def clear(self) -> None:
        """Forget every script."""
        self.book.clear()


class MemorySharedState:
    """`memory://`: gateways, counters, routes and scripts of this process only.

    Args:
        registry: the gateways (their records hold their rate-limit counters).
        routes: the dynamic routes.
        scripts: the scripts.
    """

    url = "memory://"
    counters = None
    """The walker of dynamic routes keeps its own counters, per deployed route."""

    def __init__(self, registry: GatewayRegistry, routes: RouteStore, scripts: ScriptBook) -> None:
        self.registry = registry
        self.routes = MemoryRoutes(routes)
        self.scripts = MemoryScripts(scripts)

    def __repr__(self) -> str:
        return "MemorySharedState()"

    async def start(self, routes: tuple[tuple[str, DynamicRoute], ...]) -> None:
        """Deploy the start-up routes not serving yet (the gateways exist already)."""
        store = self.routes.store
        for gateway_id, route in routes:
            if store.active(gateway_id, route.name) != route:
                store.deploy(gateway_id, route)

    async def gateway(self, gateway_id: str) -> GatewayRecord | None:
        """The gateway of this id, or None."""
        return self.registry.get(gateway_id)

    async def gateways(self) -> list[GatewayRecord]:
        """Every gateway, in creation order."""
        return self.registry.list()

    async def create_gateway(self, gateway_id: str, settings: Mapping[str, Any]) -> GatewayRecord:
        """A new gateway (`GatewayRegistry.create`).

        Raises:
            ValueError: the id is taken or a setting is out of bounds.
        """
        return self.registry.create(gateway_id, **settings)

    async def replace_gateway(
        self, gateway_id: str, settings: Mapping[str, Any]
    ) -> GatewayRecord | None:
        """`GatewayRegistry.replace`; None when there is no such gateway."""
        return self.registry.replace(gateway_id, **settings)

    async def delete_gateway(self, gateway_id: str) -> GatewayRecord | None:
        """`GatewayRegistry.delete`: the removed gateway, or None."""
        return self.registry.delete(gateway_id)

    async def admit(self, gateway: GatewayRecord, now: float) -> bool:
        """Count one request against the gateway's rate limit (`GatewayRecord.admit`)."""
        return gateway.admit(now)

    async def reset(self) -> None:
        """Scripts and routes forgotten, counters reset, `default` as at start."""
        self.scripts.book.clear()
        self.routes.store.clear()
        self.registry.restore_default()
        for gateway in self.registry.list():
            gateway.reset_rate_limit()

    async def close(self) -> None:
        """Nothing to release."""
