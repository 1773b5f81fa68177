"""The shared state's interface: what every worker of one gateway must see alike.

A local gateway run as several processes (`cf-aig serve --workers N`, or several hosts
behind one load balancer) behaves as one gateway when they share this state: the gateway
settings, the rate-limit counters, the dynamic routes and the scripts. `memory` keeps it
in the process (one worker); `redis_state` keeps it in Redis, under `STATE_PREFIX`.
The server only calls the interface below, and asks for the state by URL
(`open_shared_state`, `--state-url`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol, TypeVar

from ...core.dynamic_routes import DynamicRoute
from ...core.errors import ConfigError
from ...core.protocol import ErrorCode
from ..gateways import GatewayRecord
from ..request_error import GatewayRequestError
from ..route_store import RouteStore, StoredRoute
from ..scripts import Script

T = TypeVar("T")

STATE_PREFIX: Final = "cf-aig:state:"
"""The prefix of every Redis key of the shared state."""


class StoreUnreachable(ConfigError):
    """A store (`--state-url`, `--log-store`) did not answer at start.

    A connection refused or timed out, not a refusal such as a wrong password or a newer
    schema. A worker started in place of one that died waits for it instead of stopping
    `cf-aig serve`.
    """


class SharedStateUnavailable(GatewayRequestError):
    """The shared state cannot be reached: the request gets HTTP 503, code 2504."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(ErrorCode.STATE_STORE_UNAVAILABLE, message)


class Scripts(Protocol):
    """The scripted responses and faults (`scripts`), each use counted across workers."""

    async def add(self, script: Script) -> Script:
        """Queue a script; returns it."""
        ...

    async def take(self, provider: str, model: str, *, policy: bool = False) -> Script | None:
        """The first live script matching, with one use consumed, or None.

        With `policy`, only a script whose fault is a `policy=` is taken (a first match
        without one leaves None), as `ScriptBook.take_policy`.
        """
        ...

    async def pending(self) -> list[Script]:
        """The scripts not used up yet, in order."""
        ...

    async def clear(self) -> None:
        """Forget every script."""
        ...


class Counters(Protocol):
    """The counters of dynamic routes' limiter elements (`dynamic_exec.limiter`), shared.

    A key names one counter (gateway, route, element, key value); `technique` is `fixed`
    (also None) or `sliding`, as `LimitCounters`.
    """

    async def admit(
        self, key: str, technique: str | None, window_s: float, now: float, limit: float
    ) -> bool:
        """Count one request if fewer than `limit` were counted (a count limiter)."""
        ...

    async def spent(self, key: str, technique: str | None, window_s: float, now: float) -> float:
        """What was counted under `key` in its current window (a cost limiter's spend)."""
        ...

    async def add(
        self, key: str, technique: str | None, window_s: float, now: float, amount: float
    ) -> None:
        """Add `amount` (a response's cost) to the counter."""
        ...


class Routes(ABC):
    """The dynamic routes of every gateway: `RouteStore`'s methods, awaited.

    Each method runs the `RouteStore` method of that name on the gateway's routes, as one
    atomic change (`_apply`); a backend decides where the routes live.
    """

    @abstractmethod
    async def _apply(self, gateway_id: str, change: Callable[[RouteStore], T], write: bool) -> T:
        """Run `change` on a store holding the gateway's routes; save them when `write`."""

    @abstractmethod
    async def delete_gateway(self, gateway_id: str) -> None:
        """Forget every route of a deleted gateway."""

    @abstractmethod
    async def clear(self) -> None:
        """Forget every route of every gateway."""

    async def active(self, gateway_id: str, name: str) -> DynamicRoute | None:
        """The deployed route serving `dynamic/<name>` on the gateway (`RouteStore.active`)."""
        return await self._apply(gateway_id, lambda s: s.active(gateway_id, name), False)

    async def deploy(self, gateway_id: str, route: DynamicRoute) -> None:
        """Save and deploy `route` as the gateway's route of its name (`RouteStore.deploy`)."""
        await self._apply(gateway_id, lambda s: s.deploy(gateway_id, route), True)

    async def create(self, gateway_id: str, route: DynamicRoute) -> StoredRoute:
        """A new route, deployed at once (`RouteStore.create`; raises `RouteNameTaken`)."""
        return await self._apply(gateway_id, lambda s: s.create(gateway_id, route), True)

    async def routes_of(self, gateway_id: str) -> list[StoredRoute]:
        """The gateway's routes, oldest first (`RouteStore.routes_of`)."""
        return await self._apply(gateway_id, lambda s: s.routes_of(gateway_id), False)

    async def get(self, gateway_id: str, route_id: str) -> StoredRoute:
        """One route (`RouteStore.get`; raises `RouteLookupError`)."""
        return await self._apply(gateway_id, lambda s: s.get(gateway_id, route_id), False)

    async def rename(self, gateway_id: str, route_id: str, name: str) -> StoredRoute:
        """Rename a route (`RouteStore.rename`; raises `RouteNameTaken`)."""
        return await self._apply(gateway_id, lambda s: s.rename(gateway_id, route_id, name), True)

    async def delete(self, gateway_id: str, route_id: str) -> StoredRoute:
        """Remove a route (`RouteStore.delete`; raises `RouteLookupError`)."""
        return await self._apply(gateway_id, lambda s: s.delete(gateway_id, route_id), True)

    async def add_version(
        self, gateway_id: str, route_id: str, route: DynamicRoute, comment: str | None = None
    ) -> StoredRoute:
        """Save a new version (`RouteStore.add_version`; raises `RouteLookupError`)."""
        return await self._apply(
            gateway_id, lambda s: s.add_version(gateway_id, route_id, route, comment), True
        )

    async def deploy_version(
        self, gateway_id: str, route_id: str, version_id: str, comment: str | None = None
    ) -> StoredRoute:
        """Deploy a saved version (`RouteStore.deploy_version`; raises `RouteLookupError`)."""
        return await self._apply(
            gateway_id, lambda s: s.deploy_version(gateway_id, route_id, version_id, comment), True
        )


class SharedState(Protocol):
    """The state every worker of one gateway shares (see the module docstring).

    Every method may raise `SharedStateUnavailable` when the store cannot be reached.
    """

    @property
    def url(self) -> str:
        """The `--state-url` it was opened with (`memory://` or `redis://...`)."""
        ...

    @property
    def routes(self) -> Routes:
        """The dynamic routes, with their versions and deployments."""
        ...

    @property
    def scripts(self) -> Scripts:
        """The scripted responses and faults."""
        ...

    @property
    def counters(self) -> Counters | None:
        """The limiter elements' counters; None: each process counts its own (in memory)."""
        ...

    async def start(self, routes: tuple[tuple[str, DynamicRoute], ...]) -> None:
        """Make the start-up gateways and routes exist (again and again: idempotent).

        A start-up gateway the state holds already keeps its settings, unless the ones it
        was given at start changed since it was made from them: then they replace its own.

        Args:
            routes: `(gateway id, route)` to serve; deployed unless already serving.
        """
        ...

    async def gateway(self, gateway_id: str) -> GatewayRecord | None:
        """The gateway of this id, as it is now, or None."""
        ...

    async def gateways(self) -> list[GatewayRecord]:
        """Every gateway, in creation order."""
        ...

    async def create_gateway(self, gateway_id: str, settings: Mapping[str, Any]) -> GatewayRecord:
        """A new gateway; ValueError when the id is taken or a setting is out of bounds."""
        ...

    async def replace_gateway(
        self, gateway_id: str, settings: Mapping[str, Any]
    ) -> GatewayRecord | None:
        """`PUT gateways/{id}` (`GatewayRegistry.replace`); None when there is none."""
        ...

    async def delete_gateway(self, gateway_id: str) -> GatewayRecord | None:
        """Remove a gateway (its routes stay: `routes.delete_gateway`); the removed one."""
        ...

    async def admit(self, gateway: GatewayRecord, now: float) -> bool:
        """Count one request against the gateway's rate limit; False when over it.

        https://developers.cloudflare.com/ai-gateway/features/rate-limiting/
        """
        ...

    async def reset(self) -> None:
        """Scripts, routes and rate-limit counters forgotten; `default` as at start."""
        ...

    async def close(self) -> None:
        """Release the connections."""
        ...
