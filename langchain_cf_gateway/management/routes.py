"""The dynamic-routing methods of `GatewayClient` and `AsyncGatewayClient`.

https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/
https://developers.cloudflare.com/api/resources/ai_gateway/subresources/dynamic_routing/

```python
route = DynamicRoute.split({"openai/gpt-4o-mini": 80, "anthropic/claude-3-5-haiku": 20},
                           name="support")
deployed = client.deploy(route, comment="80/20")   # create (or a new version), deploy
[r.name for r in client.list_routes()]
client.get_route(deployed.route.id).route         # the elements, as a DynamicRoute
```

Every request is built and every response read by `RouteCalls` (`_routes.py`); the
two classes here only send them, as `GatewayClient` and `AsyncGatewayClient` do.
Errors are the clients' (see `GatewayClient`); a 404 raises `RouteNotFoundError`
naming the route id and the gateway. Writes are never sent twice.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import httpx

from ..core.dynamic_routes import DynamicRoute
from ._base import Call, T
from ._routes import RouteCalls
from .route_models import DeployedRoute, RouteDeployment, RouteRecord, RouteVersion


class RouteMethods(RouteCalls[httpx.Client]):
    """`GatewayClient`'s dynamic-routing calls (see the module's docstring).

    Each method takes `gateway_id` (by default the configured gateway) and raises
    `InvalidOptionError` or `InvalidDynamicRouteError` before anything is sent,
    `RouteNotFoundError` on a 404, another `GatewayError` on any other error response
    or a timeout, and httpx's `TransportError` when no response came at all.
    """

    def _run(self, call: Call[T]) -> T:
        raise NotImplementedError

    def _drive(self, steps: Generator[Call[Any], Any, T]) -> T:
        try:
            call = next(steps)
            while True:
                call = steps.send(self._run(call))
        except StopIteration as done:
            result: T = done.value
            return result

    def list_routes(
        self, *, page: int = 1, per_page: int = 20, gateway_id: str | None = None
    ) -> list[RouteRecord]:
        """One page of the gateway's routes (`GET .../routes`).

        Returns:
            The routes, each with its elements, version and deployment.
        """
        return self._run(self._list_routes_call(page, per_page, gateway_id))

    def find_route(self, name: str, *, gateway_id: str | None = None) -> RouteRecord | None:
        """The route named `name` (the `<name>` of `dynamic/<name>`), reading every page.

        Returns:
            The route, or None when the gateway has none of that name.
        """
        return self._drive(self._find_steps(name, gateway_id))

    def get_route(self, route_id: str, *, gateway_id: str | None = None) -> RouteRecord:
        """One route, with its elements, active version and deployment."""
        return self._run(self._get_route_call(route_id, gateway_id))

    def create_route(self, route: DynamicRoute, *, gateway_id: str | None = None) -> RouteRecord:
        """Create `route` on the gateway (`POST .../routes` with its name and elements)."""
        return self._run(self._create_route_call(route, gateway_id))

    def update_route(
        self, route_id: str, *, name: str, gateway_id: str | None = None
    ) -> RouteRecord:
        """Rename a route; its behaviour changes only with a new version, deployed."""
        return self._run(self._update_route_call(route_id, name, gateway_id))

    def delete_route(self, route_id: str, *, gateway_id: str | None = None) -> RouteRecord:
        """Delete a route; returns it as it was."""
        return self._run(self._delete_route_call(route_id, gateway_id))

    def create_route_version(
        self,
        route_id: str,
        route: DynamicRoute,
        *,
        comment: str | None = None,
        gateway_id: str | None = None,
    ) -> RouteRecord:
        """Save `route`'s elements as a new version; it serves nothing until deployed.

        Args:
            route_id: The route's id.
            route: The elements to save (its name is not sent).
            comment: A note kept with the version (sent only when given).
            gateway_id: The gateway; by default the configured one.

        Returns:
            The route (Cloudflare's response names no version: `list_route_versions`).
        """
        return self._run(self._create_version_call(route_id, route, comment, gateway_id))

    def list_route_versions(
        self, route_id: str, *, gateway_id: str | None = None
    ) -> list[RouteVersion]:
        """The saved versions of a route; `is_active` marks the one serving traffic."""
        return self._run(self._list_versions_call(route_id, gateway_id))

    def get_route_version(
        self, route_id: str, version_id: str, *, gateway_id: str | None = None
    ) -> RouteVersion:
        """One version, with its elements (`version.route()` reads them)."""
        return self._run(self._get_version_call(route_id, version_id, gateway_id))

    def create_route_deployment(
        self,
        route_id: str,
        version_id: str,
        *,
        comment: str | None = None,
        gateway_id: str | None = None,
    ) -> RouteRecord:
        """Deploy a saved version (an earlier one to roll back); returns the route."""
        return self._run(self._create_deployment_call(route_id, version_id, comment, gateway_id))

    def list_route_deployments(
        self, route_id: str, *, gateway_id: str | None = None
    ) -> list[RouteDeployment]:
        """The deployment history of a route."""
        return self._run(self._list_deployments_call(route_id, gateway_id))

    def deploy(
        self, route: DynamicRoute, *, comment: str | None = None, gateway_id: str | None = None
    ) -> DeployedRoute:
        """Put `route` in service: create it, or a new version of the route of its name.

        Args:
            route: The route; `route.name` finds the route on the gateway.
            comment: A note kept with the version and the deployment.
            gateway_id: The gateway; by default the configured one.

        Returns:
            The route, the version deployed and the deployment.
        """
        return self._drive(self._deploy_steps(route, comment, gateway_id))


class AsyncRouteMethods(RouteCalls[httpx.AsyncClient]):
    """`AsyncGatewayClient`'s dynamic-routing calls: `RouteMethods`, awaited."""

    async def _run(self, call: Call[T]) -> T:
        raise NotImplementedError

    async def _drive(self, steps: Generator[Call[Any], Any, T]) -> T:
        try:
            call = next(steps)
            while True:
                call = steps.send(await self._run(call))
        except StopIteration as done:
            result: T = done.value
            return result

    async def list_routes(
        self, *, page: int = 1, per_page: int = 20, gateway_id: str | None = None
    ) -> list[RouteRecord]:
        """One page of the gateway's routes (see `RouteMethods.list_routes`)."""
        return await self._run(self._list_routes_call(page, per_page, gateway_id))

    async def find_route(self, name: str, *, gateway_id: str | None = None) -> RouteRecord | None:
        """The route named `name`, or None (see `RouteMethods.find_route`)."""
        return await self._drive(self._find_steps(name, gateway_id))

    async def get_route(self, route_id: str, *, gateway_id: str | None = None) -> RouteRecord:
        """One route (see `RouteMethods.get_route`)."""
        return await self._run(self._get_route_call(route_id, gateway_id))

    async def create_route(
        self, route: DynamicRoute, *, gateway_id: str | None = None
    ) -> RouteRecord:
        """Create `route` (see `RouteMethods.create_route`)."""
        return await self._run(self._create_route_call(route, gateway_id))

    async def update_route(
        self, route_id: str, *, name: str, gateway_id: str | None = None
    ) -> RouteRecord:
        """Rename a route (see `RouteMethods.update_route`)."""
        return await self._run(self._update_route_call(route_id, name, gateway_id))

    async def delete_route(self, route_id: str, *, gateway_id: str | None = None) -> RouteRecord:
        """Delete a route (see `RouteMethods.delete_route`)."""
        return await self._run(self._delete_route_call(route_id, gateway_id))

    async def create_route_version(
        self,
        route_id: str,
        route: DynamicRoute,
        *,
        comment: str | None = None,
        gateway_id: str | None = None,
    ) -> RouteRecord:
        """Save a new version (see `RouteMethods.create_route_version`)."""
        return await self._run(self._create_version_call(route_id, route, comment, gateway_id))

    async def list_route_versions(
        self, route_id: str, *, gateway_id: str | None = None
    ) -> list[RouteVersion]:
        """The saved versions (see `RouteMethods.list_route_versions`)."""
        return await self._run(self._list_versions_call(route_id, gateway_id))

    async def get_route_version(
        self, route_id: str, version_id: str, *, gateway_id: str | None = None
    ) -> RouteVersion:
        """One version (see `RouteMethods.get_route_version`)."""
        return await self._run(self._get_version_call(route_id, version_id, gateway_id))

    async def create_route_deployment(
        self,
        route_id: str,
        version_id: str,
        *,
        comment: str | None = None,
        gateway_id: str | None = None,
    ) -> RouteRecord:
        """Deploy a saved version (see `RouteMethods.create_route_deployment`)."""
        return await self._run(
            self._create_deployment_call(route_id, version_id, comment, gateway_id)
        )

    async def list_route_deployments(
        self, route_id: str, *, gateway_id: str | None = None
    ) -> list[RouteDeployment]:
        """The deployment history (see `RouteMethods.list_route_deployments`)."""
        return await self._run(self._list_deployments_call(route_id, gateway_id))

    async def deploy(
        self, route: DynamicRoute, *, comment: str | None = None, gateway_id: str | None = None
    ) -> DeployedRoute:
        """Put `route` in service (see `RouteMethods.deploy`)."""
        return await self._drive(self._deploy_steps(route, comment, gateway_id))
