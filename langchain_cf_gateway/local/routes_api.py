"""The dynamic-routing management API: routes, versions and deployments of a gateway.

Cloudflare's paths, methods and response shapes, as its Python SDK
(`cloudflare/resources/ai_gateway/dynamic_routing.py`,
`cloudflare/types/ai_gateway/dynamic_routing_*.py`) and the API reference
(https://developers.cloudflare.com/api/resources/ai_gateway/subresources/dynamic_routing/)
declare them, under `/client/v4/accounts/{account_id}/ai-gateway/gateways/{gw}/`, with the
management API's bearer token (`management`):

| route | what it does | response |
| --- | --- | --- |
| `POST routes` | create (`name`, `elements`): version 1, deployed | route in `result` |
| `GET routes` | list (`page`, `per_page`) | `{"success", "data": {"routes", ...}}` |
| `GET routes/{id}` | read: the deployed version's elements | route in `result` |
| `PATCH routes/{id}` | rename (`name`) | `{"success", "route"}` |
| `DELETE routes/{id}` | delete | route in `result` |
| `POST routes/{id}/versions` | save a version (`elements`, `comment`), not deployed | version in `result` |
| `GET routes/{id}/versions` | list | `{"success", "data": {"versions", ...}}` |
| `GET routes/{id}/versions/{version_id}` | read | version in `result` |
| `POST routes/{id}/deployments` | deploy (`version_id`, `comment`) | route in `result` |
| `GET routes/{id}/deployments` | list | `{"success", "data": {"deployments", ...}}` |

The lists and the rename are not in the v4 `result` envelope: the schema declares their
bodies as shown (the SDK parses them whole). Errors are v4 error responses: 400/7001
for a bad body, query or route (the message names the element and field, from
`DynamicRoute.from_api`), 404/7002 for an unknown gateway, route or version, 409/7004
for a name another route of the gateway has.

Choices where Cloudflare documents nothing: the lists are newest first unless
`order_by_direction=asc` (`order_by`: `created_at`, or for routes also `modified_at` and
`name`); a version's `data` is its elements as JSON text (`{"elements": [...]}`); the
create-version response is the new version as `GET versions/{version_id}` shows it
(the schema's fields and `version_id`, `active`, `data`), plus `version`, the version
object as the lists show it. A version's or deployment's `comment` (in the Go SDK's
types, not the Python SDK's) is kept and shown when given.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.dynamic_routes import DynamicRoute, InvalidDynamicRouteError
from ..core.protocol import ApiErrorCode
from .management import JSON_TYPE, ApiError, Management, _v4_errors, envelope, int_param
from .route_store import (
    RouteDeployment,
    RouteLookupError,
    RouteNameTaken,
    RouteVersion,
    StoredRoute,
)

PER_PAGE_DEFAULT: Final = 20
PER_PAGE_MAX: Final = 1000
ORDER_ROUTES: Final = ("created_at", "modified_at", "name")
ORDER_HISTORY: Final = ("created_at",)
"""What the versions and deployments lists can be ordered by."""


class RoutesApi:
    """Handlers of the dynamic-routing API over the gateway's `RouteStore`.

    Authentication, the request record and the gateway lookup are the management API's
    own (`Management`), so the two cannot differ.
    """

    def __init__(self, management: Management) -> None:
        self.management = management
        self.store = management.state.shared.routes

    def routes(self) -> list[Route]:
        """The Starlette routes of the dynamic-routing API."""
        base = "/client/v4/accounts/{account_id}/ai-gateway/gateways/{gateway_id}/routes"
        return [
            Route(base, _v4_errors(self.route_list), methods=["GET", "POST"]),
            Route(base + "/{route_id}", _v4_errors(self.route), methods=["GET", "PATCH", "DELETE"]),
            Route(
                base + "/{route_id}/versions", _v4_errors(self.versions), methods=["GET", "POST"]
            ),
            Route(
                base + "/{route_id}/versions/{version_id}",
                _v4_errors(self.version),
                methods=["GET"],
            ),
            Route(
                base + "/{route_id}/deployments",
                _v4_errors(self.deployments),
                methods=["GET", "POST"],
            ),
        ]

    # ------------------------------------------------------------------ handlers

    async def route_list(self, request: Request) -> Response:
        """List a gateway's routes (paged) or create one, deployed at once.

        Raises:
            ApiError: a refused request (sent as a v4 error response).
        """
        body, gateway_id = await self._enter(request)
        account = request.path_params["account_id"]
        if request.method == "POST":
            data = _object(body, ("name", "elements"))
            route = _checked({"name": data.get("name"), "elements": data.get("elements")})
            try:
                stored = await self.store.create(gateway_id, route)
            except RouteNameTaken as exc:
                raise ApiError(ApiErrorCode.ALREADY_EXISTS, str(exc)) from None
            return envelope(route_view(stored, account))
        query = _list_query(request.query_params, ORDER_ROUTES)
        routes = _ordered(await self.store.routes_of(gateway_id), query)
        return _data("routes", [route_view(r, account) for r in routes], query)

    async def route(self, request: Request) -> Response:
        """Read, rename or delete one route.

        Raises:
            ApiError: a refused request (sent as a v4 error response).
        """
        body, gateway_id = await self._enter(request)
        account = request.path_params["account_id"]
        route_id = request.path_params["route_id"]
        with _not_found():
            if request.method == "PATCH":
                data = _object(body, ("name",))
                stored = await self.store.get(gateway_id, route_id)
                name = data.get("name")
                # The name is checked as a route's name is checked when the route is built.
                _checked({"name": name, "elements": _elements(stored.deployed)})
                try:
                    stored = await self.store.rename(gateway_id, route_id, str(name))
                except RouteNameTaken as exc:
                    raise ApiError(ApiErrorCode.ALREADY_EXISTS, str(exc)) from None
                return _bare({"route": route_view(stored, account)})
            if request.method == "DELETE":
                return envelope(route_view(await self.store.delete(gateway_id, route_id), account))
            return envelope(route_view(await self.store.get(gateway_id, route_id), account))

    async def versions(self, request: Request) -> Response:
        """List a route's versions or save a new one (not deployed).

        Raises:
            ApiError: a refused request (sent as a v4 error response).
        """
        body, gateway_id = await self._enter(request)
        route_id = request.path_params["route_id"]
        with _not_found():
            stored = await self.store.get(gateway_id, route_id)
            if request.method == "POST":
                data = _object(body, ("elements", "comment"))
                route = _checked({"name": stored.name, "elements": data.get("elements")})
                comment = _comment(data)
                stored = await self.store.add_version(gateway_id, route_id, route, comment)
                version = stored.versions[-1]
                return envelope(
                    {**version_view(stored, version), "version": _version(stored, version)}
                )
        query = _list_query(request.query_params, ORDER_HISTORY)
        versions = _ordered(list(stored.versions), query)
        return _data("versions", [_version(stored, v) for v in versions], query)

    async def version(self, request: Request) -> Response:
        """Read one version of a route.

        Raises:
            ApiError: a refused request (sent as a v4 error response).
        """
        _, gateway_id = await self._enter(request)
        route_id = request.path_params["route_id"]
        version_id = request.path_params["version_id"]
        with _not_found():
            stored = await self.store.get(gateway_id, route_id)
        version = stored.version(version_id)
        if version is None:
            raise ApiError(
                ApiErrorCode.NOT_FOUND, f"route {route_id!r} has no version {version_id!r}"
            )
        return envelope(version_view(stored, version))

    async def deployments(self, request: Request) -> Response:
        """List a route's deployments or deploy a version (it serves from now on).

        Raises:
            ApiError: a refused request (sent as a v4 error response).
        """
        body, gateway_id = await self._enter(request)
        account = request.path_params["account_id"]
        route_id = request.path_params["route_id"]
        with _not_found():
            stored = await self.store.get(gateway_id, route_id)
            if request.method == "POST":
                data = _object(body, ("version_id", "comment"))
                version_id = data.get("version_id")
                if not isinstance(version_id, str) or not version_id:
                    raise ApiError(
                        ApiErrorCode.INVALID_REQUEST,
                        'give the version to deploy: {"version_id": "..."} '
                        "(GET .../versions lists them)",
                    )
                comment = _comment(data)
                stored = await self.store.deploy_version(gateway_id, route_id, version_id, comment)
                return envelope(route_view(stored, account))
        query = _list_query(request.query_params, ORDER_HISTORY)
        deployments = _ordered(list(stored.deployments), query)
        return _data("deployments", [_deployment(d) for d in deployments], query)

    # ------------------------------------------------------------------ common

    async def _enter(self, request: Request) -> tuple[bytes, str]:
        """Authenticate (`Management`), read the body and check the gateway exists.

        Returns:
            The body and the gateway id.
        """
        _, body = await self.management._enter(request)
        gateway = await self.management._gateway_or_404(request.path_params["gateway_id"])
        return body, gateway.id


@contextmanager
def _not_found() -> Iterator[None]:
    """Turns the store's `RouteLookupError` into the v4 404 (code 7002).

    Raises:
        ApiError: the store found no route or version by the ids given.
    """
    try:
        yield
    except RouteLookupError as exc:
        raise ApiError(ApiErrorCode.NOT_FOUND, str(exc)) from None


# ---------------------------------------------------------------------- request parsing


def _object(body: bytes, fields: tuple[str, ...]) -> dict[str, Any]:
    """The JSON object of a body, with only `fields` in it.

    Raises:
        ApiError: not a JSON object, or a field not in `fields` (400, code 7001).
    """
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        raise ApiError(ApiErrorCode.INVALID_REQUEST, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(ApiErrorCode.INVALID_REQUEST, "the body must be a JSON object")
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ApiError(
            ApiErrorCode.INVALID_REQUEST,
            f"unknown field {unknown[0]!r}: the body takes {', '.join(fields)}",
        )
    return data


def _comment(data: Mapping[str, Any]) -> str | None:
    """The optional `comment` of a version or a deployment (the Go SDK's types carry one).

    Raises:
        ApiError: a comment that is not a string (400, code 7001).
    """
    comment = data.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise ApiError(ApiErrorCode.INVALID_REQUEST, "comment must be a string")
    return comment


def _checked(data: Mapping[str, Any]) -> DynamicRoute:
    """The route of a create or a version, checked as the client checks it.

    Raises:
        ApiError: a broken rule (400, code 7001), naming the element and the field.
    """
    if not isinstance(data.get("name"), str):
        raise ApiError(ApiErrorCode.INVALID_REQUEST, "name: give the route's name, a string")
    try:
        return DynamicRoute.from_api(data)
    except InvalidDynamicRouteError as exc:
        raise ApiError(ApiErrorCode.INVALID_REQUEST, f"invalid route: {exc}") from None


class _ListQuery:
    def __init__(self, page: int, per_page: int, order_by: str, direction: str) -> None:
        self.page = page
        self.per_page = per_page
        self.order_by = order_by
        self.direction = direction


def _list_query(params: Mapping[str, str], order_fields: tuple[str, ...]) -> _ListQuery:
    """`page`, `per_page`, `order_by`, `order_by_direction` of a list; others are a 400.

    Raises:
        ApiError: an unknown parameter or a value out of range (400, code 7001).
    """
    allowed = ("page", "per_page", "order_by", "order_by_direction")
    for name in params:
        if name not in allowed:
            raise ApiError(
                ApiErrorCode.INVALID_REQUEST,
                f"unknown query parameter {name!r}: a list takes {', '.join(allowed)}",
            )
    page = int_param(params, "page", 1, 1, 1_000_000)
    per_page = int_param(params, "per_page", PER_PAGE_DEFAULT, 1, PER_PAGE_MAX)
    order_by = params.get("order_by", "created_at")
    if order_by not in order_fields:
        raise ApiError(
            ApiErrorCode.INVALID_REQUEST, f"order_by must be one of {', '.join(order_fields)}"
        )
    direction = params.get("order_by_direction", "desc")
    if direction not in ("asc", "desc"):
        raise ApiError(ApiErrorCode.INVALID_REQUEST, "order_by_direction must be asc or desc")
    return _ListQuery(page, per_page, order_by, direction)


def _ordered(items: list[Any], query: _ListQuery) -> list[Any]:
    """One page of `items` (stored oldest first), ordered as the query asks."""
    if query.order_by != "created_at":
        items = sorted(items, key=lambda item: getattr(item, query.order_by))
    if query.direction == "desc":
        items = items[::-1]
    return items[(query.page - 1) * query.per_page : query.page * query.per_page]


# ---------------------------------------------------------------------- response shapes


def _bare(body: Mapping[str, Any]) -> Response:
    """A 200 whose body is `{"success": true, ...}` outside the v4 `result` envelope."""
    content = json.dumps({"success": True, **body}, separators=(",", ":"))
    return Response(content, 200, media_type=JSON_TYPE)


def _data(key: str, items: list[dict[str, Any]], query: _ListQuery) -> Response:
    """A list's body: `{"success", "data": {key, "page", "per_page", "order_by", ...}}`."""
    return _bare(
        {
            "data": {
                key: items,
                "page": query.page,
                "per_page": query.per_page,
                "order_by": query.order_by,
                "order_by_direction": query.direction,
            }
        }
    )


def _elements(version: RouteVersion) -> list[dict[str, Any]]:
    elements: list[dict[str, Any]] = version.route.to_api()["elements"]
    return elements


def _deployment(deployment: RouteDeployment) -> dict[str, Any]:
    view = {
        "deployment_id": deployment.deployment_id,
        "version_id": deployment.version_id,
        "created_at": deployment.created_at,
    }
    if deployment.comment is not None:
        view["comment"] = deployment.comment
    return view


def _version(stored: StoredRoute, version: RouteVersion) -> dict[str, Any]:
    active = version.version_id == stored.deployed.version_id
    view: dict[str, Any] = {
        "version_id": version.version_id,
        "active": "true" if active else "false",  # a string in the schema
        "created_at": version.created_at,
        "data": json.dumps({"elements": _elements(version)}, separators=(",", ":")),
        "is_valid": True,  # every stored version passed `DynamicRoute.from_api`
    }
    if version.comment is not None:
        view["comment"] = version.comment
    return view


def route_view(stored: StoredRoute, account_id: str) -> dict[str, Any]:
    """A route as the API shows it: the deployed version's elements, version, deployment.

    Args:
        stored: the route.
        account_id: the account of the request path (`account_tag`).

    Returns:
        `{"id", "account_tag", "gateway_id", "name", "created_at", "modified_at",
        "elements", "version", "deployment"}`.
    """
    deployed = stored.deployed
    return {
        "id": stored.id,
        "account_tag": account_id,
        "gateway_id": stored.gateway_id,
        "name": stored.name,
        "created_at": stored.created_at,
        "modified_at": stored.modified_at,
        "elements": _elements(deployed),
        "version": _version(stored, deployed),
        "deployment": _deployment(stored.deployments[-1]),
    }


def version_view(stored: StoredRoute, version: RouteVersion) -> dict[str, Any]:
    """A version as `GET .../versions/{version_id}` shows it.

    Args:
        stored: the route.
        version: one of its versions.

    Returns:
        `{"id" (the route's), "gateway_id", "name", "modified_at", "elements",
        "version_id", "active", "created_at", "data", "is_valid"}`.
    """
    return {
        "id": stored.id,
        "gateway_id": stored.gateway_id,
        "name": stored.name,
        "modified_at": stored.modified_at,
        "elements": _elements(version),
        **_version(stored, version),
    }
