"""The dynamic routes of each local gateway: routes, their versions and deployments.

A route belongs to the gateway it was created on, keeps every version saved for it and
every deployment made of it; a request for `dynamic/<name>` is served by the version
deployed last
(https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/usage/). The
versions are checked `DynamicRoute`s (`core.dynamic_routes`), the same the client
builds. The management API over this store is `routes_api`; the executor only asks
`active(gateway_id, name)`.

Ids (route, version, deployment) are UUIDv7 of the gateway's clock and timestamps its
ISO 8601 time: Cloudflare's API types both as plain strings
(`cloudflare/types/ai_gateway/dynamic_routing_get_response.py`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..core.dynamic_routes import DynamicRoute
from .clock import Clock


class RouteLookupError(LookupError):
    """No route (or no version of it) by that id on that gateway; the message names it."""


class RouteNameTaken(ValueError):
    """Another route of the gateway already has that name (`dynamic/<name>` names one)."""


@dataclass(frozen=True)
class RouteVersion:
    """One saved version of a route: its checked elements."""

    version_id: str
    created_at: str
    route: DynamicRoute
    """The version as a route (its name is the route's when the version was saved)."""
    comment: str | None = None


@dataclass(frozen=True)
class RouteDeployment:
    """One deployment: which version was made the serving one, and when."""

    deployment_id: str
    version_id: str
    created_at: str
    comment: str | None = None


@dataclass(frozen=True)
class StoredRoute:
    """A route of one gateway, with all its versions and deployments (oldest first)."""

    id: str
    gateway_id: str
    name: str
    created_at: str
    modified_at: str
    versions: tuple[RouteVersion, ...]
    deployments: tuple[RouteDeployment, ...]

    @property
    def deployed(self) -> RouteVersion:
        """The version deployed last: the one that serves `dynamic/<name>`."""
        version_id = self.deployments[-1].version_id
        return next(v for v in self.versions if v.version_id == version_id)

    def version(self, version_id: str) -> RouteVersion | None:
        """The version of this id, or None.

        Args:
            version_id: a version id of this route.

        Returns:
            The version, or None when the route has none by that id.
        """
        return next((v for v in self.versions if v.version_id == version_id), None)

    def serving(self) -> DynamicRoute:
        """The deployed version as the executor runs it, under the route's current name."""
        route = self.deployed.route
        return route if route.name == self.name else route.model_copy(update={"name": self.name})


class RouteStore:
    """Dynamic routes by gateway id; safe to use from several threads.

    Every change replaces a frozen `StoredRoute` under one lock, so a reader always sees
    a whole route.
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        """Stamps ids and times: the gateway's clock (`GatewayState` passes it)."""
        self._routes: dict[str, dict[str, StoredRoute]] = {}
        """Gateway id -> route id -> route."""
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ executor

    def deploy(self, gateway_id: str, route: DynamicRoute) -> None:
        """Make `route` the one that serves `dynamic/<route.name>` on `gateway_id`.

        Saves it as a new version of the gateway's route of that name (a new route with
        one version when there is none) and deploys that version.

        Args:
            gateway_id: the gateway that owns the route.
            route: the route, already checked.
        """
        with self._lock:
            existing = self._by_name(gateway_id, route.name)
            if existing is None:
                self._add(gateway_id, route)
            else:
                stored = self._add_version(existing, route)
                self._deploy(stored, stored.versions[-1].version_id)

    def active(self, gateway_id: str, name: str) -> DynamicRoute | None:
        """The deployed route that serves `dynamic/<name>` on `gateway_id`, or None.

        Args:
            gateway_id: the gateway the request resolves against.
            name: the route name, after `dynamic/`.

        Returns:
            The route, or None when the gateway owns no deployed route by that name.
        """
        with self._lock:
            stored = self._by_name(gateway_id, name)
            return None if stored is None else stored.serving()

    def delete_gateway(self, gateway_id: str) -> None:
        """Forget every route of a deleted gateway: one created again with its id has none.

        Args:
            gateway_id: the deleted gateway.
        """
        with self._lock:
            self._routes.pop(gateway_id, None)

    def load(self, routes: Iterable[StoredRoute]) -> None:
        """Hold these routes as they are (a shared state reads them in from Redis).

        Args:
            routes: stored routes, each kept under its gateway and id.
        """
        with self._lock:
            for stored in routes:
                self._put(stored)

    def clear(self) -> None:
        """Forget every route (`LocalGateway.reset`)."""
        with self._lock:
            self._routes.clear()

    # ------------------------------------------------------------------ management API

    def create(self, gateway_id: str, route: DynamicRoute) -> StoredRoute:
        """A new route from its first version, deployed at once (as Cloudflare's create).

        Args:
            gateway_id: the gateway that owns it.
            route: its first version, checked.

        Returns:
            The stored route, with one version and one deployment.

        Raises:
            RouteNameTaken: the gateway has a route of that name.
        """
        with self._lock:
            if self._by_name(gateway_id, route.name) is not None:
                raise RouteNameTaken(
                    f"gateway {gateway_id!r} has a route named {route.name!r}: "
                    "add a version to it, or choose another name"
                )
            return self._add(gateway_id, route)

    def routes_of(self, gateway_id: str) -> list[StoredRoute]:
        """The routes of a gateway, oldest first.

        Args:
            gateway_id: the gateway.

        Returns:
            Its routes (an empty list for a gateway with none).
        """
        with self._lock:
            return list(self._routes.get(gateway_id, {}).values())

    def get(self, gateway_id: str, route_id: str) -> StoredRoute:
        """One route of a gateway.

        Args:
            gateway_id: the gateway.
            route_id: the route's id.

        Returns:
            The route.

        Raises:
            RouteLookupError: the gateway has no route of that id.
        """
        with self._lock:
            return self._get(gateway_id, route_id)

    def rename(self, gateway_id: str, route_id: str, name: str) -> StoredRoute:
        """Give a route another name; its versions and deployments stay.

        Args:
            gateway_id: the gateway.
            route_id: the route's id.
            name: the new name (checked by the caller).

        Returns:
            The renamed route.

        Raises:
            RouteNameTaken: another route of the gateway has that name.
        """
        with self._lock:
            stored = self._get(gateway_id, route_id)
            other = self._by_name(gateway_id, name)
            if other is not None and other.id != route_id:
                raise RouteNameTaken(
                    f"gateway {gateway_id!r} has another route named {name!r}: choose another name"
                )
            return self._put(replace(stored, name=name, modified_at=self.clock.iso()))

    def delete(self, gateway_id: str, route_id: str) -> StoredRoute:
        """Remove a route: `dynamic/<name>` is served by nothing from now on.

        Args:
            gateway_id: the gateway.
            route_id: the route's id.

        Returns:
            The route as it was.

        Raises:
            RouteLookupError: the gateway has no route of that id.
        """
        with self._lock:
            stored = self._get(gateway_id, route_id)
            del self._routes[gateway_id][route_id]
            return stored

    def add_version(
        self, gateway_id: str, route_id: str, route: DynamicRoute, comment: str | None = None
    ) -> StoredRoute:
        """Save a new version of a route; it serves nothing until it is deployed.

        Args:
            gateway_id: the gateway.
            route_id: the route's id.
            route: the version, checked.
            comment: the version's comment, if any.

        Returns:
            The route; the new version is its last.

        Raises:
            RouteLookupError: the gateway has no route of that id.
        """
        with self._lock:
            return self._add_version(self._get(gateway_id, route_id), route, comment)

    def deploy_version(
        self, gateway_id: str, route_id: str, version_id: str, comment: str | None = None
    ) -> StoredRoute:
        """Deploy a saved version (an earlier one to roll back): it serves from now on.

        Args:
            gateway_id: the gateway.
            route_id: the route's id.
            version_id: the version to deploy.
            comment: the deployment's comment, if any.

        Returns:
            The route; the new deployment is its last.

        Raises:
            RouteLookupError: no route, or no version of it, by those ids.
        """
        with self._lock:
            stored = self._get(gateway_id, route_id)
            if stored.version(version_id) is None:
                raise RouteLookupError(f"route {route_id!r} has no version {version_id!r}")
            return self._deploy(stored, version_id, comment)

    # ------------------------------------------------------------------ under the lock

    def _by_name(self, gateway_id: str, name: str) -> StoredRoute | None:
        routes = self._routes.get(gateway_id, {}).values()
        return next((r for r in routes if r.name == name), None)

    def _get(self, gateway_id: str, route_id: str) -> StoredRoute:
        stored = self._routes.get(gateway_id, {}).get(route_id)
        if stored is None:
            raise RouteLookupError(f"gateway {gateway_id!r} has no route {route_id!r}")
        return stored

    def _put(self, stored: StoredRoute) -> StoredRoute:
        self._routes.setdefault(stored.gateway_id, {})[stored.id] = stored
        return stored

    def _add(self, gateway_id: str, route: DynamicRoute) -> StoredRoute:
        now = self.clock.iso()
        stored = StoredRoute(
            id=self.clock.uuid7(),
            gateway_id=gateway_id,
            name=route.name,
            created_at=now,
            modified_at=now,
            versions=(),
            deployments=(),
        )
        # One time for the route, its first version and its deployment (as one call).
        stored = self._add_version(stored, route, now=now)
        return self._deploy(stored, stored.versions[-1].version_id, now=now)

    def _add_version(
        self,
        stored: StoredRoute,
        route: DynamicRoute,
        comment: str | None = None,
        now: str | None = None,
    ) -> StoredRoute:
        now = now or self.clock.iso()
        version = RouteVersion(self.clock.uuid7(), now, route, comment)
        return self._put(replace(stored, versions=(*stored.versions, version), modified_at=now))

    def _deploy(
        self,
        stored: StoredRoute,
        version_id: str,
        comment: str | None = None,
        now: str | None = None,
    ) -> StoredRoute:
        now = now or self.clock.iso()
        deployment = RouteDeployment(self.clock.uuid7(), version_id, now, comment)
        return self._put(
            replace(stored, deployments=(*stored.deployments, deployment), modified_at=now)
        )
