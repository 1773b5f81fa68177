"""The dynamic routes of each local gateway: which route serves `dynamic/<name>`.

A route belongs to the gateway it was created on, and a request is served by the
route's deployed version
(https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/usage/). The
routes are checked `DynamicRoute`s (`core.dynamic_routes`), the same the client builds.
"""

from __future__ import annotations

import threading

from ..core.dynamic_routes import DynamicRoute


class RouteStore:
    """Dynamic routes by gateway id and route name; safe to use from several threads."""

    def __init__(self) -> None:
        self._deployed: dict[tuple[str, str], DynamicRoute] = {}
        self._lock = threading.Lock()

    def deploy(self, gateway_id: str, route: DynamicRoute) -> None:
        """Make `route` the one that serves `dynamic/<route.name>` on `gateway_id`.

        Args:
            gateway_id: the gateway that owns the route.
            route: the route, already checked.
        """
        with self._lock:
            self._deployed[(gateway_id, route.name)] = route

    def active(self, gateway_id: str, name: str) -> DynamicRoute | None:
        """The deployed route that serves `dynamic/<name>` on `gateway_id`, or None.

        Args:
            gateway_id: the gateway the request resolves against.
            name: the route name, after `dynamic/`.

        Returns:
            The route, or None when the gateway owns no deployed route by that name.
        """
        with self._lock:
            return self._deployed.get((gateway_id, name))

    def clear(self) -> None:
        """Forget every route (`LocalGateway.reset`)."""
        with self._lock:
            self._deployed.clear()
