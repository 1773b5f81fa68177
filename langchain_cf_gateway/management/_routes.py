"""The dynamic-routing calls, without I/O: each request built as a `Call`, each response read.

Paths, methods and bodies are those of Cloudflare's API as the `cloudflare` SDK sends
them (`cloudflare/resources/ai_gateway/dynamic_routing.py`):
https://developers.cloudflare.com/api/resources/ai_gateway/subresources/dynamic_routing/

Four of its responses are not the v4 envelope: the lists of routes, versions and
deployments come as `{"success", "data": {...}}` and a rename as `{"success", "route"}`
(the SDK reads them without unwrapping `result`). Those calls are `raw` and their parsers
take either form, so a server that wraps them in the envelope is read as well.

`_deploy_steps` is the one description of `deploy`: a generator that yields each `Call`
and receives its result, driven by the sync and the async client alike.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, Final

from pydantic import ValidationError

from ..core.dynamic_routes import DynamicRoute
from ..core.errors import GatewayNotFoundError, InvalidResponseError
from ._base import Call, GatewayClientBase, HttpClientT
from ._query import path_id, positive
from .models import ResultInfo
from .route_models import DeployedRoute, RouteDeployment, RouteRecord, RouteVersion

ROUTES_PAGE_SIZE: Final = 50
"""Routes asked for per page when a route is looked up by name."""


class RouteNotFoundError(GatewayNotFoundError):
    """No route (or version) with that id on that gateway (HTTP 404)."""

    hint = "Check the route id and the gateway id (`cf-aig routes list` lists the routes)"


class RouteCalls(GatewayClientBase[HttpClientT]):
    """The dynamic-routing calls both clients share; no I/O."""

    def _routes_url(self, gateway_id: str | None, *parts: str) -> str:
        return self._url("gateways", self._gateway(gateway_id), "routes", *parts)

    def _route_call(
        self,
        method: str,
        gateway_id: str | None,
        route_id: str | None,
        parse: Callable[[Any, ResultInfo], Any],
        *tail: str,
        body: Any = None,
        params: dict[str, Any] | None = None,
        raw: bool = False,
    ) -> Call[Any]:
        gateway = self._gateway(gateway_id)
        parts = [] if route_id is None else [path_id("route_id", route_id), *tail]
        request = self._request(method, self._routes_url(gateway, *parts), body=body, params=params)
        subject = (
            f"gateway {gateway!r}"
            if route_id is None
            else (f"route {route_id!r} on gateway {gateway!r}")
        )
        return Call(request, parse, RouteNotFoundError, raw=raw, subject=subject)

    def _list_routes_call(
        self, page: int, size: int, gateway_id: str | None
    ) -> Call[list[RouteRecord]]:
        params = {"page": positive("page", page), "per_page": positive("per_page", size)}
        return self._route_call(
            "GET", gateway_id, None, _listing("routes", RouteRecord), params=params, raw=True
        )

    def _get_route_call(self, route_id: str, gateway_id: str | None) -> Call[RouteRecord]:
        return self._route_call("GET", gateway_id, route_id, _one(RouteRecord))

    def _create_route_call(self, route: DynamicRoute, gateway_id: str | None) -> Call[RouteRecord]:
        body = route.to_api()
        body = {"elements": body["elements"], "name": body["name"]}
        return self._route_call("POST", gateway_id, None, _one(RouteRecord), body=body)

    def _update_route_call(
        self, route_id: str, name: str, gateway_id: str | None
    ) -> Call[RouteRecord]:
        return self._route_call(
            "PATCH", gateway_id, route_id, _renamed, body={"name": name}, raw=True
        )

    def _delete_route_call(self, route_id: str, gateway_id: str | None) -> Call[RouteRecord]:
        return self._route_call("DELETE", gateway_id, route_id, _one(RouteRecord))

    def _create_version_call(
        self, route_id: str, route: DynamicRoute, comment: str | None, gateway_id: str | None
    ) -> Call[RouteRecord]:
        body: dict[str, Any] = {"elements": route.to_api()["elements"]}
        if comment is not None:
            body["comment"] = comment
        return self._route_call(
            "POST", gateway_id, route_id, _one(RouteRecord), "versions", body=body
        )

    def _list_versions_call(
        self, route_id: str, gateway_id: str | None
    ) -> Call[list[RouteVersion]]:
        parse = _listing("versions", RouteVersion)
        return self._route_call("GET", gateway_id, route_id, parse, "versions", raw=True)

    def _get_version_call(
        self, route_id: str, version_id: str, gateway_id: str | None
    ) -> Call[RouteVersion]:
        version = path_id("version_id", version_id)
        return self._route_call(
            "GET", gateway_id, route_id, _one(RouteVersion), "versions", version
        )

    def _create_deployment_call(
        self, route_id: str, version_id: str, comment: str | None, gateway_id: str | None
    ) -> Call[RouteRecord]:
        body: dict[str, Any] = {"version_id": path_id("version_id", version_id)}
        if comment is not None:
            body["comment"] = comment
        return self._route_call(
            "POST", gateway_id, route_id, _one(RouteRecord), "deployments", body=body
        )

    def _list_deployments_call(
        self, route_id: str, gateway_id: str | None
    ) -> Call[list[RouteDeployment]]:
        parse = _listing("deployments", RouteDeployment)
        return self._route_call("GET", gateway_id, route_id, parse, "deployments", raw=True)

    # ------------------------------------------------------------------ composed

    def _find_steps(
        self, name: str, gateway_id: str | None
    ) -> Generator[Call[Any], Any, RouteRecord | None]:
        """The route named `name` on the gateway, reading page after page; None if none."""
        page = 1
        while True:
            rows: list[RouteRecord] = yield self._list_routes_call(
                page, ROUTES_PAGE_SIZE, gateway_id
            )
            for row in rows:
                if row.name == name:
                    return row
            if len(rows) < ROUTES_PAGE_SIZE:
                return None
            page += 1

    def _deploy_steps(
        self, route: DynamicRoute, comment: str | None, gateway_id: str | None
    ) -> Generator[Call[Any], Any, DeployedRoute]:
        """Create the route (or a version of it), deploy that version, read the deployment.

        Each step is yielded as a `Call` and sent back its result. The version a
        `POST .../versions` made is its response's `version_id` when it has one (the
        local gateway's does); the SDK's `DynamicRoutingCreateVersionResponse` is the
        route without it, and then the version is the newest of the versions list.

        Raises:
            InvalidResponseError: The route lists no version after one was created.
        """
        route.to_api()  # checked before anything is sent
        existing = yield from self._find_steps(route.name, gateway_id)
        version_id: str | None = None
        if existing is None:
            record: RouteRecord = yield self._create_route_call(route, gateway_id)
            version_id = record.version.version_id if record.version else None
        else:
            record = yield self._create_version_call(existing.id, route, comment, gateway_id)
            made = (record.model_extra or {}).get("version_id")
            version_id = made if isinstance(made, str) and made else None
        if version_id is None:
            versions: list[RouteVersion] = yield self._list_versions_call(record.id, gateway_id)
            if not versions:
                raise InvalidResponseError(
                    f"route {record.id!r} lists no version after one was created",
                    status_code=200,
                )
            version_id = max(versions, key=lambda v: v.created_at or "").version_id
        deployed: RouteRecord = yield self._create_deployment_call(
            record.id, version_id, comment, gateway_id
        )
        deployments: list[RouteDeployment] = yield self._list_deployments_call(
            record.id, gateway_id
        )
        mine = [d for d in deployments if d.version_id == version_id]
        return DeployedRoute(
            route=deployed,
            version_id=version_id,
            deployment=max(mine, key=lambda d: d.created_at or "") if mine else None,
            created=existing is None,
        )


# --------------------------------------------------------------------------- parsing


def _invalid(what: str, exc: Exception | None = None) -> InvalidResponseError:
    reason = f": {type(exc).__name__}" if exc is not None else ""
    return InvalidResponseError(
        f"the management API responded with a body that is not {what}{reason}", status_code=200
    )


def _check_success(body: Any) -> None:
    """A 2xx whose body says `"success": false` is no result (the SDK would read none)."""
    if isinstance(body, dict) and body.get("success") is False:
        error = _invalid('a success ("success" is false)')
        raise error


def _one(model: type[Any]) -> Callable[[Any, ResultInfo], Any]:
    """The parser of an envelope's `result`: one `model`."""

    def parse(result: Any, info: ResultInfo) -> Any:
        return model.model_validate(result)

    return parse


def _listing(key: str, model: type[Any]) -> Callable[[Any, ResultInfo], list[Any]]:
    """The parser of a list: `{"data": {key: [...]}}`, or the same inside the envelope."""

    def parse(body: Any, info: ResultInfo) -> list[Any]:
        _check_success(body)
        data = body.get("data", body.get("result")) if isinstance(body, dict) else None
        if isinstance(data, dict) and isinstance(data.get("data"), dict):
            data = data["data"]  # {"result": {"data": {...}}}
        rows = data.get(key) if isinstance(data, dict) else data
        if not isinstance(rows, list):
            raise _invalid(f"a list of {key}")
        try:
            return [model.model_validate(row) for row in rows]
        except ValidationError as exc:
            raise _invalid(f"a list of {key}", exc) from None

    return parse


def _renamed(body: Any, info: ResultInfo) -> RouteRecord:
    """The parser of a rename: `{"route": {...}}`, or the route inside the envelope."""
    _check_success(body)
    result = body.get("result", body) if isinstance(body, dict) else None
    if isinstance(result, dict) and isinstance(result.get("route"), dict):
        result = result["route"]
    try:
        return RouteRecord.model_validate(result)
    except ValidationError as exc:
        error = _invalid("a route", exc)
    raise error from None
