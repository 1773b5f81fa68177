"""The management API (spec section 8) and the local admin routes.

Management API, under ``/client/v4/accounts/{account_id}/ai-gateway/``, with
``Authorization: Bearer <management token>`` and Cloudflare's v4 envelope
``{success, errors, messages, result, result_info}``:

=========================================  =======================================================
``GET, POST gateways``                     list (``page``, ``per_page``, ``search``); create (``id``
                                           and the settings of section 8)
``GET, PUT, DELETE gateways/{gw}``         read, update (the fields given), delete
``GET, DELETE gateways/{gw}/logs``         list (``filters`` JSON array of ``{key, operator,
                                           value}``, the deprecated one-field parameters,
                                           ``search``, ``start_date``, ``end_date``, ``min_*`` /
                                           ``max_*``, ``order_by``, ``order_by_direction``,
                                           ``page``, ``per_page``); delete (same filters, ``limit``)
``GET, PATCH, DELETE gateways/{gw}/logs/{id}``  read; set ``feedback`` / ``score`` / ``metadata``
``GET gateways/{gw}/logs/{id}/request``    the stored request body, as it was sent
``GET gateways/{gw}/logs/{id}/response``   the stored response body (SSE text for streams)
=========================================  =======================================================

Choices where Cloudflare documents nothing: errors carry core's :class:`ApiErrorCode`
(401/10000 for a missing or wrong token, 400/7001 for a bad body or query, 404/7002 for
an unknown gateway or log, 409/7004 for a gateway id that exists). ``per_page`` defaults
to 20 and goes up to 1000; the logs list is newest first unless ``order_by_direction``
says otherwise; ``search`` matches id, provider, model, path, event id and metadata.
The gateway token is not a management token: only ``management_token`` is accepted.

Admin routes of the local gateway (same bearer token), for scripting the mock from
outside Python (``cf-aig serve``)::

    POST   /__local/scripts   {"text", "tool_calls", "fault", "model", "provider", "times"}
    GET    /__local/scripts   the scripts not used up yet
    DELETE /__local/scripts   forget every script
    POST   /__local/reset     forget requests, scripts, cache entries and logs
    POST   /__local/clock     {"advance": seconds}: move the server's clock forward
    GET    /__local/received  the requests received, bodies as text
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.protocol import API_ERROR_STATUS, ApiErrorCode, Bounds, LogsApi
from .gateways import GatewaySettings, check_gateway_id
from .logstore import LogQueryError, LogStore
from .pipeline import redact
from .scripts import make_script

if TYPE_CHECKING:
    from .app import GatewayApp

PER_PAGE_DEFAULT: Final = 20
PER_PAGE_MAX: Final = 1000
_ONE_FIELD_FILTERS: Final = (
    "cached",
    "success",
    "provider",
    "model",
    "model_type",
    "feedback",
    "event_id",
    "request_content_type",
    "response_content_type",
)
_RANGE_FIELDS: Final = ("cost", "duration", "tokens_in", "tokens_out", "total_tokens")
JSON_TYPE: Final = "application/json"


class ApiError(Exception):
    def __init__(self, code: ApiErrorCode, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


def envelope(
    result: Any, result_info: Mapping[str, Any] | None = None, status: int = 200
) -> Response:
    body: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info is not None:
        body["result_info"] = dict(result_info)
    return Response(json.dumps(body, separators=(",", ":")), status, media_type=JSON_TYPE)


def api_error(err: ApiError) -> Response:
    body = {
        "success": False,
        "errors": [{"code": int(err.code), "message": err.message}],
        "messages": [],
        "result": None,
    }
    return Response(
        json.dumps(body, separators=(",", ":")), API_ERROR_STATUS[err.code], media_type=JSON_TYPE
    )


def _int_param(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ApiError(ApiErrorCode.INVALID_REQUEST, f"{name} must be an integer {low} to {high}")
    return value


def _query_bool(raw: str) -> Any:
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(raw)
    except ValueError:
        return raw


class Management:
    """Handlers of the management API and the admin routes."""

    def __init__(self, app: GatewayApp) -> None:
        self.app = app

    @property
    def logs(self) -> LogStore:
        return self.app.logs

    def routes(self) -> list[Route]:
        base = "/client/v4/accounts/{account_id}/ai-gateway/gateways"
        return [
            Route(base, self.gateways, methods=["GET", "POST"]),
            Route(base + "/{gateway_id}", self.gateway, methods=["GET", "PUT", "DELETE"]),
            Route(base + "/{gateway_id}/logs", self.log_list, methods=["GET", "DELETE"]),
            Route(
                base + "/{gateway_id}/logs/{log_id}", self.log, methods=["GET", "PATCH", "DELETE"]
            ),
            Route(base + "/{gateway_id}/logs/{log_id}/{part}", self.log_body, methods=["GET"]),
            Route("/__local/scripts", self.admin_scripts, methods=["GET", "POST", "DELETE"]),
            Route("/__local/reset", self.admin_reset, methods=["POST"]),
            Route("/__local/clock", self.admin_clock, methods=["POST"]),
            Route("/__local/received", self.admin_received, methods=["GET"]),
        ]

    # ------------------------------------------------------------------ common

    async def _enter(self, request: Request) -> tuple[Mapping[str, str], bytes]:
        headers, body = await self.app.read(request)
        if not self.app.management_token_matches(headers.get("authorization")):
            raise ApiError(ApiErrorCode.AUTHENTICATION, "Authentication error")
        self.app.keep(request, headers, body)  # only once authenticated
        return headers, body

    @staticmethod
    def _json(body: bytes) -> Any:
        try:
            return json.loads(body) if body else {}
        except ValueError:
            raise ApiError(ApiErrorCode.INVALID_REQUEST, "the body is not valid JSON") from None

    def _gateway_or_404(self, gateway_id: str) -> GatewaySettings:
        gateway = self.app.registry.get(gateway_id)
        if gateway is None:
            raise ApiError(ApiErrorCode.NOT_FOUND, f"gateway {gateway_id!r} not found")
        return gateway

    def _gateway_dict(self, gateway: GatewaySettings, account_id: str) -> dict[str, Any]:
        data = gateway.as_dict()
        data["account_id"] = account_id
        data["account_tag"] = account_id
        return data

    # ------------------------------------------------------------------ gateways

    async def gateways(self, request: Request) -> Response:
        try:
            _, body = await self._enter(request)
            account = request.path_params["account_id"]
            if request.method == "POST":
                data = self._json(body)
                if not isinstance(data, dict):
                    raise ApiError(ApiErrorCode.INVALID_REQUEST, "the body must be a JSON object")
                settings = dict(data)
                gateway_id = settings.pop("id", None)
                try:
                    check_gateway_id(gateway_id)
                    if self.app.registry.get(gateway_id) is not None:
                        raise ApiError(
                            ApiErrorCode.ALREADY_EXISTS, f"a gateway {gateway_id!r} already exists"
                        )
                    gateway = self.app.registry.create(gateway_id, **settings)
                except ValueError as exc:
                    raise ApiError(ApiErrorCode.INVALID_REQUEST, str(exc)) from None
                return envelope(self._gateway_dict(gateway, account))
            params = request.query_params
            page = _int_param(params, "page", 1, 1, 1_000_000)
            per_page = _int_param(params, "per_page", PER_PAGE_DEFAULT, 1, PER_PAGE_MAX)
            search = params.get("search", "").lower()
            found = [g for g in self.app.registry.list() if search in g.id.lower()]
            chunk = found[(page - 1) * per_page : page * per_page]
            info = {
                "page": page,
                "per_page": per_page,
                "count": len(chunk),
                "total_count": len(found),
            }
            return envelope([self._gateway_dict(g, account) for g in chunk], info)
        except ApiError as err:
            return api_error(err)

    async def gateway(self, request: Request) -> Response:
        try:
            _, body = await self._enter(request)
            account = request.path_params["account_id"]
            gateway_id = request.path_params["gateway_id"]
            gateway = self._gateway_or_404(gateway_id)
            if request.method == "PUT":
                data = self._json(body)
                if not isinstance(data, dict):
                    raise ApiError(ApiErrorCode.INVALID_REQUEST, "the body must be a JSON object")
                try:
                    updated = self.app.registry.update(gateway_id, **data)
                except ValueError as exc:
                    raise ApiError(ApiErrorCode.INVALID_REQUEST, str(exc)) from None
                if updated is None:
                    raise ApiError(ApiErrorCode.NOT_FOUND, f"gateway {gateway_id!r} not found")
                gateway = updated
            elif request.method == "DELETE":
                self.app.registry.delete(gateway_id)
            return envelope(self._gateway_dict(gateway, account))
        except ApiError as err:
            return api_error(err)

    # ------------------------------------------------------------------ logs

    def _filters(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        filters: list[dict[str, Any]] = []
        raw = params.get("filters")
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                raise ApiError(
                    ApiErrorCode.INVALID_REQUEST,
                    "filters must be a JSON array of {key, operator, value}",
                ) from None
            if isinstance(parsed, dict):
                parsed = [parsed]
            if not isinstance(parsed, list) or not all(isinstance(f, dict) for f in parsed):
                raise ApiError(
                    ApiErrorCode.INVALID_REQUEST,
                    "filters must be a JSON array of {key, operator, value}",
                )
            filters.extend(parsed)
        for key in _ONE_FIELD_FILTERS:
            if key in params:
                filters.append({"key": key, "operator": "eq", "value": [_query_bool(params[key])]})
        for name in _RANGE_FIELDS:
            key = "tokens" if name == "total_tokens" else name
            for bound, op in (("min_", "gte"), ("max_", "lte")):
                if bound + name in params:
                    try:
                        value = float(params[bound + name])
                    except ValueError:
                        raise ApiError(
                            ApiErrorCode.INVALID_REQUEST, f"{bound}{name} must be a number"
                        ) from None
                    filters.append(
                        {"key": key, "operator": op, "value": [value], "_internal": True}
                    )
        if "start_date" in params:
            filters.append(
                {
                    "key": "created_at",
                    "operator": "gte",
                    "value": [params["start_date"]],
                    "_internal": True,
                }
            )
        if "end_date" in params:
            filters.append(
                {
                    "key": "created_at",
                    "operator": "lte",
                    "value": [params["end_date"]],
                    "_internal": True,
                }
            )
        if params.get("search"):
            filters.append(
                {
                    "key": "_search",
                    "operator": "contains",
                    "value": [params["search"]],
                    "_internal": True,
                }
            )
        return filters

    async def log_list(self, request: Request) -> Response:
        try:
            await self._enter(request)
            gateway = self._gateway_or_404(request.path_params["gateway_id"])
            params = request.query_params
            filters = self._filters(params)
            order_by = params.get("order_by", "created_at")
            direction = params.get("order_by_direction", "desc")
            try:
                if request.method == "DELETE":
                    limit = params.get("limit")
                    count = await self.logs.arun(
                        LogStore.delete(
                            gateway.id,
                            filters=filters,
                            limit=int(limit) if limit else None,
                            order_by=order_by,
                            direction=direction,
                        )
                    )
                    return envelope({"success": True, "deleted": count})
                page = _int_param(params, "page", 1, 1, 1_000_000)
                per_page = _int_param(params, "per_page", PER_PAGE_DEFAULT, 1, PER_PAGE_MAX)
                rows, info = await self.logs.arun(
                    LogStore.select(
                        gateway.id,
                        filters=filters,
                        order_by=order_by,
                        direction=direction,
                        page=page,
                        per_page=per_page,
                        with_stats=True,
                    )
                )
            except (LogQueryError, ValueError) as exc:
                raise ApiError(ApiErrorCode.INVALID_REQUEST, str(exc)) from None
            return envelope(rows, {"page": page, "per_page": per_page, "count": len(rows), **info})
        except ApiError as err:
            return api_error(err)

    async def log(self, request: Request) -> Response:
        try:
            _, body = await self._enter(request)
            gateway = self._gateway_or_404(request.path_params["gateway_id"])
            log_id = request.path_params["log_id"]
            if request.method == "PATCH":
                changes = self._log_changes(self._json(body))
                row = await self.logs.arun(LogStore.patch(gateway.id, log_id, changes))
            elif request.method == "DELETE":
                row = await self.logs.arun(LogStore.get(gateway.id, log_id))
                if row is not None:
                    await self.logs.arun(LogStore.delete(gateway.id, log_id=log_id))
            else:
                row = await self.logs.arun(LogStore.get(gateway.id, log_id))
            if row is None:
                raise ApiError(ApiErrorCode.NOT_FOUND, f"log {log_id!r} not found")
            return envelope(row)
        except ApiError as err:
            return api_error(err)

    @staticmethod
    def _log_changes(data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or not data:
            raise ApiError(
                ApiErrorCode.INVALID_REQUEST, "give at least one of feedback, score, metadata"
            )
        changes: dict[str, Any] = {}
        for key, value in data.items():
            if key == "feedback":
                if value is not None and (
                    isinstance(value, bool) or value not in (*LogsApi.FEEDBACK_VALUES, 0)
                ):
                    raise ApiError(ApiErrorCode.INVALID_REQUEST, "feedback must be 1, -1 or 0")
            elif key == "score":
                if value is not None and (
                    isinstance(value, bool)
                    or not isinstance(value, (int, float))
                    or not LogsApi.SCORE_MIN <= value <= LogsApi.SCORE_MAX
                ):
                    raise ApiError(
                        ApiErrorCode.INVALID_REQUEST,
                        f"score must be a number {LogsApi.SCORE_MIN} to {LogsApi.SCORE_MAX}",
                    )
            elif key == "metadata":
                if value is not None and (
                    not isinstance(value, dict)
                    or len(value) > Bounds.METADATA_MAX_ENTRIES
                    or any(v is None or isinstance(v, (dict, list)) for v in value.values())
                ):
                    raise ApiError(
                        ApiErrorCode.INVALID_REQUEST,
                        f"metadata must be an object of at most {Bounds.METADATA_MAX_ENTRIES} "
                        "string, number or boolean values",
                    )
            else:
                raise ApiError(
                    ApiErrorCode.INVALID_REQUEST,
                    f"unknown field {key!r}: a log takes feedback, score and metadata",
                )
            changes[key] = value
        return changes

    async def log_body(self, request: Request) -> Response:
        try:
            await self._enter(request)
            gateway = self._gateway_or_404(request.path_params["gateway_id"])
            part = request.path_params["part"]
            log_id = request.path_params["log_id"]
            if part not in ("request", "response"):
                raise ApiError(
                    ApiErrorCode.NOT_FOUND, f"no route {part!r}: use request or response"
                )
            exists, content = await self.logs.arun(LogStore.body(gateway.id, log_id, part))
            if not exists:
                raise ApiError(ApiErrorCode.NOT_FOUND, f"log {log_id!r} not found")
            if content is None:
                raise ApiError(
                    ApiErrorCode.NOT_FOUND,
                    f"log {log_id!r} has no stored {part} body (cf-aig-collect-log-payload: false)",
                )
            row = await self.logs.arun(LogStore.get(gateway.id, log_id))
            key = "request_content_type" if part == "request" else "response_content_type"
            media = (row or {}).get(key) or JSON_TYPE
            return Response(content, 200, media_type=media)
        except ApiError as err:
            return api_error(err)

    # ------------------------------------------------------------------ admin

    async def admin_scripts(self, request: Request) -> Response:
        try:
            _, body = await self._enter(request)
            scripts = self.app.scripts
            if request.method == "POST":
                data = self._json(body)
                items = data if isinstance(data, list) else [data]
                added = []
                for item in items:
                    if not isinstance(item, dict):
                        raise ApiError(ApiErrorCode.INVALID_REQUEST, "a script is a JSON object")
                    try:
                        script = make_script(
                            item.get("text"),
                            tool_calls=item.get("tool_calls"),
                            fault=item.get("fault"),
                            model=item.get("model"),
                            provider=item.get("provider"),
                            times=item.get("times", 1),
                        )
                    except (TypeError, ValueError) as exc:
                        raise ApiError(ApiErrorCode.INVALID_REQUEST, str(exc)) from None
                    added.append(scripts.add(script).as_dict())
                return envelope(added if isinstance(data, list) else added[0])
            if request.method == "DELETE":
                scripts.clear()
            return envelope([s.as_dict() for s in scripts.pending()])
        except ApiError as err:
            return api_error(err)

    async def admin_reset(self, request: Request) -> Response:
        try:
            await self._enter(request)
            await self.app.reset()
            return envelope({"reset": True})
        except ApiError as err:
            return api_error(err)

    async def admin_clock(self, request: Request) -> Response:
        try:
            _, body = await self._enter(request)
            data = self._json(body)
            seconds = data.get("advance") if isinstance(data, dict) else None
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
                raise ApiError(
                    ApiErrorCode.INVALID_REQUEST, 'give {"advance": seconds} with seconds >= 0'
                )
            self.app.clock.advance(float(seconds))
            return envelope({"now": self.app.clock.iso(), "offset": self.app.clock.offset})
        except ApiError as err:
            return api_error(err)

    async def admin_received(self, request: Request) -> Response:
        try:
            await self._enter(request)
            items = [
                {
                    "method": r.method,
                    "path": r.path,
                    "query": r.query,
                    "headers": redact(r.headers),
                    "body": _redacted_body(r.body),
                }
                for r in list(self.app.received)
            ]
            return envelope(items)
        except ApiError as err:
            return api_error(err)


def _redacted_body(body: bytes) -> str:
    """A received body as text; a universal request's step headers (provider keys) redacted.

    The universal endpoint carries each step's ``authorization`` inside the JSON array
    (spec section 1a), where the request-head redaction does not reach.
    """
    text = body.decode("utf-8", "replace")
    if not body.lstrip().startswith(b"["):
        return text
    try:
        steps = json.loads(body)
    except ValueError:
        return text
    if not isinstance(steps, list):
        return text
    for step in steps:
        headers = step.get("headers") if isinstance(step, dict) else None
        if isinstance(headers, dict):
            lowered = {str(k).lower(): v for k, v in headers.items()}
            step["headers"] = redact(lowered)
    return json.dumps(steps, separators=(",", ":"))


def management_routes(app: GatewayApp) -> list[Route]:
    return Management(app).routes()
