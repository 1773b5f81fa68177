"""The values of the dynamic-routing API: a route as stored, its versions and deployments.

The shapes are those of Cloudflare's API, as the `cloudflare` SDK reads them
(`cloudflare/types/ai_gateway/dynamic_routing_*_response.py`):
https://developers.cloudflare.com/api/resources/ai_gateway/subresources/dynamic_routing/
A route's graph is read as a `DynamicRoute` (`RouteRecord.route`, `RouteVersion.route`);
every field the API adds later is kept (`extra="allow"`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..core.dynamic_routes import DynamicRoute, InvalidDynamicRouteError
from ..core.errors import InvalidResponseError

_KEEP = ConfigDict(extra="allow", frozen=True)


class RouteVersion(BaseModel):
    """One saved version of a route; `active` is the API's string `"true"` or `"false"`."""

    model_config = _KEEP

    version_id: str
    active: str = "false"
    """`"true"` for the version that serves traffic (a string in the API, not a boolean)."""
    created_at: str | None = None
    data: str | None = None
    """The route's JSON, as a string."""
    comment: str | None = None
    elements: list[dict[str, Any]] | None = None
    """The elements, when the response lists them (`get_version` does)."""
    name: str | None = None

    @property
    def is_active(self) -> bool:
        """Whether this version serves traffic."""
        return self.active == "true"

    def route(self, name: str | None = None) -> DynamicRoute:
        """The version's graph as a `DynamicRoute`.

        Args:
            name: The route's name, when the version does not carry it.

        Returns:
            The checked route.

        Raises:
            InvalidResponseError: Neither `elements` nor `data` is a route this package reads.
        """
        source: Any = (
            {"name": self.name or name, "elements": self.elements}
            if self.elements is not None
            else self.data
        )
        return _route_of(source, name or self.name, f"version {self.version_id!r}")


class RouteDeployment(BaseModel):
    """One deployment: which version was put in service, and when."""

    model_config = _KEEP

    deployment_id: str
    version_id: str
    created_at: str | None = None
    comment: str | None = None


class RouteRecord(BaseModel):
    """A route as the API stores it: its id, name, elements and current version."""

    model_config = _KEEP

    id: str
    name: str
    gateway_id: str | None = None
    created_at: str | None = None
    modified_at: str | None = None
    elements: list[dict[str, Any]] = Field(default_factory=list)
    """The elements as the API sent them (see `route`)."""
    version: RouteVersion | None = None
    deployment: RouteDeployment | None = None
    """The deployment serving traffic, if any."""

    @property
    def route(self) -> DynamicRoute:
        """The elements as a checked `DynamicRoute` (with this record's id and name).

        Raises:
            InvalidResponseError: The elements are not a route this package reads.
        """
        body = {"id": self.id, "name": self.name, "elements": self.elements}
        return _route_of(body, self.name, f"route {self.id!r}")


class DeployedRoute(BaseModel):
    """What `deploy` did: the route, the version it deployed and the deployment."""

    model_config = ConfigDict(frozen=True)

    route: RouteRecord
    version_id: str
    deployment: RouteDeployment | None
    """The deployment as `list_route_deployments` shows it (None if it is not listed)."""
    created: bool
    """True when the route was new on the gateway, False when a version was added."""


def _route_of(source: Any, name: str | None, what: str) -> DynamicRoute:
    """`DynamicRoute.from_api(source)`, a failure being the server's.

    Raises:
        InvalidResponseError: `source` is not a route this package reads.
    """
    try:
        return DynamicRoute.from_api(source, name=name)
    except InvalidDynamicRouteError as exc:
        raise InvalidResponseError(
            f"the management API's {what} is not a route this package reads: {exc}",
            status_code=200,
        ) from exc
