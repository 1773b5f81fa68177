"""The management API and the local admin routes.

The management API is Cloudflare's: https://developers.cloudflare.com/api/resources/ai_gateway/

Management API, under `/client/v4/accounts/{account_id}/ai-gateway/`, with
`Authorization: Bearer <management token>` and Cloudflare's v4 envelope
`{success, errors, messages, result, result_info}`:

| route | what it does |
| --- | --- |
| `GET, POST gateways` | list (`page`, `per_page`, `search`); create (`id` and the gateway's settings) |
| `GET, PUT, DELETE gateways/{gw}` | read, replace (a setting left out takes its default, as at Cloudflare), delete |
| `GET, DELETE gateways/{gw}/logs` | list; delete (their parameters below) |
| `GET, PATCH, DELETE gateways/{gw}/logs/{id}` | read; set `feedback` (-1 to 1) / `score` / `metadata` |
| `GET gateways/{gw}/logs/{id}/request` | the stored request body, as it was sent |
| `GET gateways/{gw}/logs/{id}/response` | the stored response body (SSE text for streams) |

The logs list takes `filters` (a JSON array, or the SDK's dotted form), the deprecated
one-field parameters, `search`, `start_date`, `end_date`, `min_*` / `max_*`,
`order_by`, `order_by_direction`, `page` and `per_page`; the delete takes `filters`,
`limit`, `order_by` and `order_by_direction` (see `log_query`). Anything else is a 400.

Choices where Cloudflare documents nothing: errors carry core's `ApiErrorCode`
(401/10000 for a missing or wrong token, 400/7001 for a bad body or query, 404/7002 for
an unknown gateway or log, 409/7004 for a gateway id that exists). The logs list is newest
first unless `order_by_direction` (or the deprecated `direction`) says otherwise;
`search` matches id, provider, model, path, event id and metadata. A log is returned
typed as the schema declares it (`wire_log`).
The gateway token is not a management token: only `management_token` is accepted.

Admin routes of the local gateway (same bearer token), for scripting the mock from
outside Python (`cf-aig serve`):

```text
POST   /__local/scripts   {"text", "tool_calls", "fault", "model", "provider", "times"}
GET    /__local/scripts   the scripts not used up yet
DELETE /__local/scripts   forget every script
POST   /__local/reset     forget requests, scripts, cache entries and logs
POST   /__local/clock     {"advance": seconds}: move the server's clock forward
GET    /__local/received  the requests received, bodies as text
```
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.credentials import (
    REDACTED,
    credential_values,
    is_credential,
    redact_body_text,
    redact_query_values,
    scrub,
)
from ..core.protocol import API_ERROR_STATUS, ApiErrorCode, Bounds, LogsApi
from .gateways import GatewayExists, GatewayRecord, check_gateway_id
from .inbound import head, read_body
from .log_query import parse_delete_query, parse_list_query
from .logstore import LogQueryError, LogStoreUnavailable, wire_log
from .pipeline import redact
from .scripts import make_script
from .state import GatewayState, ReceivedRequest

PER_PAGE_DEFAULT: Final = 20
PER_PAGE_MAX: Final = 1000
"""Of the gateways list; the logs list takes at most `LogsApi.PER_PAGE_MAX`."""
JSON_TYPE: Final = "application/json"


class ApiError(Exception):
    """A management API error: its code and message (a v4 envelope with `success: false`)."""

    def __init__(self, code: ApiErrorCode, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


def envelope(
    result: Any, result_info: Mapping[str, Any] | None = None, status: int = 200
) -> Response:
    """A 200 (or `status`) response in Cloudflare's v4 envelope."""
    body: dict[str, Any] = {"success": True, "errors": [], "messages": [], "result": result}
    if result_info is not None:
        body["result_info"] = dict(result_info)
    return Response(json.dumps(body, separators=(",", ":")), status, media_type=JSON_TYPE)


def api_error(err: ApiError) -> Response:
    """The error response of `err` in the v4 envelope."""
    body = {
        "success": False,
        "errors": [{"code": int(err.code), "message": err.message}],
        "messages": [],
        # An object, as the 4XX responses of the AI Gateway routes are declared in the schema.
        "result": {},
    }
    return Response(
        json.dumps(body, separators=(",", ":")), API_ERROR_STATUS[err.code], media_type=JSON_TYPE
    )


Handler = Callable[[Request], Awaitable[Response]]


def _v4_errors(handler: Handler) -> Handler:
    """`handler` with its `ApiError` sent as a v4 error response: one boundary for all routes.

    Args:
        handler: a route handler that raises `ApiError` for a refused request.

    Returns:
        The handler as Starlette calls it.
    """

    async def handle(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as err:
            return api_error(err)

    return handle


def store_unavailable(exc: LogStoreUnavailable, method: str) -> Response:
    """503, code 2503, in the v4 envelope: the log store cannot be used now (locked, lost).

    A `GET` says the store cannot be read; any other method that it cannot be written,
    and that nothing was changed.
    """
    if method == "GET":
        message = f"the log store cannot be read now ({exc}); try again"
    else:
        message = f"the log store cannot be written now ({exc}); nothing was changed, try again"
    return api_error(ApiError(ApiErrorCode.LOG_STORE_UNAVAILABLE, message))


def int_param(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within `low` to `high`, or `default` when absent.

    Raises:
        ApiError: not an integer in range (400, code 7001).
    """
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


class Management:
    """Handlers of the management API and the admin routes."""

    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self.logs = state.logs

    def routes(self) -> list[Route]:
        """The Starlette routes of the management API and of the admin routes."""
        base = "/client/v4/accounts/{account_id}/ai-gateway/gateways"
        return [
            Route(base, _v4_errors(self.gateways), methods=["GET", "POST"]),
            Route(
                base + "/{gateway_id}", _v4_errors(self.gateway), methods=["GET", "PUT", "DELETE"]
            ),
            Route(
                base + "/{gateway_id}/logs", _v4_errors(self.log_list), methods=["GET", "DELETE"]
            ),
            Route(
                base + "/{gateway_id}/logs/{log_id}",
                _v4_errors(self.log),
                methods=["GET", "PATCH", "DELETE"],
            ),
            Route(
                base + "/{gateway_id}/logs/{log_id}/{part}",
                _v4_errors(self.log_body),
                methods=["GET"],
            ),
            Route(
                "/__local/scripts",
                _v4_errors(self.admin_scripts),
                methods=["GET", "POST", "DELETE"],
            ),
            Route("/__local/reset", _v4_errors(self.admin_reset), methods=["POST"]),
            Route("/__local/clock", _v4_errors(self.admin_clock), methods=["POST"]),
            Route("/__local/received", _v4_errors(self.admin_received), methods=["GET"]),
        ]

    # ------------------------------------------------------------------ common

    async def _enter(self, request: Request) -> tuple[Mapping[str, str], bytes]:
        headers = head(request)  # the token is checked before the body is read
        if not self.state.management_token_matches(headers.get("authorization")):
            raise ApiError(ApiErrorCode.AUTHENTICATION, "Authentication error")
        body = await read_body(request)
        self.state.keep(request, headers, body)  # only once authenticated
        return headers, body

    @staticmethod
    def _json(body: bytes) -> Any:
        try:
            return json.loads(body) if body else {}
        except ValueError:
            raise ApiError(ApiErrorCode.INVALID_REQUEST, "the body is not valid JSON") from None

    async def _gateway_or_404(self, gateway_id: str) -> GatewayRecord:
        gateway = await self.state.shared.gateway(gateway_id)
        if gateway is None:
            raise ApiError(ApiErrorCode.NOT_FOUND, f"gateway {gateway_id!r} not found")
        return gateway

    def _gateway_dict(self, gateway: GatewayRecord, account_id: str) -> dict[str, Any]:
        data = gateway.as_dict()
        data["account_id"] = account_id
        data["account_tag"] = account_id
        return data

    # ------------------------------------------------------------------ gateways

    async def gateways(self, request: Request) -> Response:
        """List gateways (paged, searched) or create one.

        Raises:
            ApiError: a refused request (sent as a v4 error response by `_v4_errors`).
        """
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
                # Checked before the settings, so that a taken id is a 409 whatever the
                # body; the create checks again, atomically, for a create racing this one.
                if await self.state.shared.gateway(gateway_id) is not None:
                    raise ApiError(ApiErrorCode.ALREADY_EXISTS, str(GatewayExists(gateway_id)))
                gateway = await self.state.shared.create_gateway(gateway_id, settings)
            except GatewayExists as exc:  # another create of this id came first, since the check
                raise ApiError(ApiErrorCode.ALREADY_EXISTS, str(exc)) from None
            except ValueError as exc:
                raise ApiError(ApiErrorCode.INVALID_REQUEST, str(exc)) from None
            return envelope(self._gateway_dict(gateway, account))
        params = request.query_params
        page = int_param(params, "page", 1, 1, 1_000_000)
        per_page = int_param(params, "per_page", PER_PAGE_DEFAULT, 1, PER_PAGE_MAX)
        search = params.get("search", "").lower()
        found = [g for g in await self.state.shared.gateways() if search in g.id.lower()]
        chunk = found[(page - 1) * per_page : page * per_page]
        info = {
            "page": page,
            "per_page": per_page,
            "count": len(chunk),
            "total_count": len(found),
        }
        return envelope([self._gateway_dict(g, account) for g in chunk], info)

    async def gateway(self, request: Request) -> Response:
        """Read, replace or delete one gateway.

        Raises:
            ApiError: a refused request (sent as a v4 error response by `_v4_errors`).
        """
        _, body = await self._enter(request)
        account = request.path_params["account_id"]
        gateway_id = request.path_params["gateway_id"]
        gateway = await self._gateway_or_404(gateway_id)
        if request.method == "PUT":
            data = self._json(body)
            if not isinstance(data, dict):
                raise ApiError(ApiErrorCode.INVALID_REQUEST, "the body must be a JSON object")
            try:
                updated = await self.state.shared.replace_gateway(gateway_id, data)
            except ValueError as exc:
                raise ApiError(ApiErrorCode.INVALID_REQUEST, str(exc)) from None
            if updated is None:
                raise ApiError(ApiErrorCode.NOT_FOUND, f"gateway {gateway_id!r} not found")
            gateway = updated
        elif request.method == "DELETE":
            deleted = await self.state.shared.delete_gateway(gateway_id)
            if deleted is None:  # another request (or worker) deleted it since the check
                raise ApiError(ApiErrorCode.NOT_FOUND, f"gateway {gateway_id!r} not found")
            # Its routes go with it: a gateway created again with this id starts with none.
            await self.state.shared.routes.delete_gateway(gateway_id)
            gateway = deleted
        return envelope(self._gateway_dict(gateway, account))

    # ------------------------------------------------------------------ logs

    async def log_list(self, request: Request) -> Response:
        """List or delete logs; any parameter not understood is a 400, never "all logs".

        The query is parsed by `log_query` (both filter encodings, the schema's bounds).

        Raises:
            ApiError: a refused request (sent as a v4 error response by `_v4_errors`).
        """
        try:
            await self._enter(request)
            gateway = await self._gateway_or_404(request.path_params["gateway_id"])
            items = request.query_params.multi_items()
            try:
                if request.method == "DELETE":
                    query = parse_delete_query(items)
                    count = await self.logs.arun(
                        self.logs.delete(
                            gateway.id,
                            filters=query.filters,
                            limit=query.limit,
                            order_by=query.order_by,
                            direction=query.direction,
                        )
                    )
                    return envelope({"success": True, "deleted": count})
                query = parse_list_query(items)
                rows, info = await self.logs.arun(
                    self.logs.select(
                        gateway.id,
                        filters=query.filters,
                        order_by=query.order_by,
                        direction=query.direction,
                        page=query.page,
                        per_page=query.per_page,
                        with_stats=True,
                    )
                )
            except (LogQueryError, ValueError) as exc:
                raise ApiError(ApiErrorCode.INVALID_REQUEST, str(exc)) from None
            totals = {k: (0 if v is None else v) for k, v in info.items()}
            return envelope(
                [wire_log(row) for row in rows],
                {"page": query.page, "per_page": query.per_page, "count": len(rows), **totals},
            )
        except LogStoreUnavailable as exc:
            return store_unavailable(exc, request.method)

    async def log(self, request: Request) -> Response:
        """Read, patch (feedback, score, metadata) or delete one log.

        Raises:
            ApiError: a refused request (sent as a v4 error response by `_v4_errors`).
        """
        try:
            _, body = await self._enter(request)
            gateway = await self._gateway_or_404(request.path_params["gateway_id"])
            log_id = request.path_params["log_id"]
            if request.method == "PATCH":
                changes = self._log_changes(self._json(body))
                row = await self.logs.arun(self.logs.patch(gateway.id, log_id, changes))
            elif request.method == "DELETE":
                row = await self.logs.arun(self.logs.get(gateway.id, log_id))
                if row is not None:
                    await self.logs.arun(self.logs.delete(gateway.id, log_id=log_id))
            else:
                row = await self.logs.arun(self.logs.get(gateway.id, log_id))
            if row is None:
                raise ApiError(ApiErrorCode.NOT_FOUND, f"log {log_id!r} not found")
            return envelope(wire_log(row))
        except LogStoreUnavailable as exc:
            return store_unavailable(exc, request.method)

    @staticmethod
    def _log_changes(data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or not data:
            raise ApiError(
                ApiErrorCode.INVALID_REQUEST, "give at least one of feedback, score, metadata"
            )
        changes: dict[str, Any] = {}
        for key, value in data.items():
            if key == "feedback":
                # A number from -1 to 1 (log_edit_params.py types it a float), not only +-1.
                if value is not None and (
                    isinstance(value, bool)
                    or not isinstance(value, (int, float))
                    or not LogsApi.FEEDBACK_MIN <= value <= LogsApi.FEEDBACK_MAX
                ):
                    raise ApiError(
                        ApiErrorCode.INVALID_REQUEST,
                        f"feedback must be a number {LogsApi.FEEDBACK_MIN} to "
                        f"{LogsApi.FEEDBACK_MAX} (1 thumbs up, -1 thumbs down)",
                    )
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
        """The stored request or response body of one log.

        Raises:
            ApiError: a refused request (sent as a v4 error response by `_v4_errors`).
        """
        try:
            await self._enter(request)
            gateway = await self._gateway_or_404(request.path_params["gateway_id"])
            part = request.path_params["part"]
            log_id = request.path_params["log_id"]
            if part not in ("request", "response"):
                raise ApiError(
                    ApiErrorCode.NOT_FOUND, f"no route {part!r}: use request or response"
                )
            exists, content = await self.logs.arun(self.logs.body(gateway.id, log_id, part))
            if not exists:
                raise ApiError(ApiErrorCode.NOT_FOUND, f"log {log_id!r} not found")
            row = await self.logs.arun(self.logs.get(gateway.id, log_id))
            if content is None:
                why = (
                    "dropped to keep the stored bodies under cf-aig serve --log-max-body-bytes"
                    if (row or {}).get("bodies_dropped")
                    else "cf-aig-collect-log-payload: false"
                )
                raise ApiError(
                    ApiErrorCode.NOT_FOUND, f"log {log_id!r} has no stored {part} body ({why})"
                )
            key = "request_content_type" if part == "request" else "response_content_type"
            media = (row or {}).get(key) or JSON_TYPE
            return Response(content, 200, media_type=media)
        except LogStoreUnavailable as exc:
            return store_unavailable(exc, request.method)

    # ------------------------------------------------------------------ admin

    async def admin_scripts(self, request: Request) -> Response:
        """Add scripts, list the pending ones, or forget them all.

        Raises:
            ApiError: a refused request (sent as a v4 error response by `_v4_errors`).
        """
        _, body = await self._enter(request)
        scripts = self.state.shared.scripts
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
                added.append((await scripts.add(script)).as_dict())
            return envelope(added if isinstance(data, list) else added[0])
        if request.method == "DELETE":
            await scripts.clear()
        return envelope([s.as_dict() for s in await scripts.pending()])

    async def admin_reset(self, request: Request) -> Response:
        """Forget requests, scripts, cache entries and logs."""
        await self._enter(request)
        await self.state.reset()
        return envelope({"reset": True})

    async def admin_clock(self, request: Request) -> Response:
        """Move the server's clock forward.

        Raises:
            ApiError: a refused request (sent as a v4 error response by `_v4_errors`).
        """
        _, body = await self._enter(request)
        data = self._json(body)
        seconds = data.get("advance") if isinstance(data, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ApiError(
                ApiErrorCode.INVALID_REQUEST, 'give {"advance": seconds} with seconds >= 0'
            )
        self.state.clock.advance(float(seconds))
        return envelope({"now": self.state.clock.iso(), "offset": self.state.clock.offset})

    async def admin_received(self, request: Request) -> Response:
        """The requests received, credentials hidden."""
        await self._enter(request)
        withheld = self.state.secrets.values
        return envelope([received_view(r, withheld) for r in list(self.state.received)])


def received_view(received: ReceivedRequest, withheld: Collection[str] = ()) -> dict[str, Any]:
    """One received request as `GET /__local/received` shows it: no credential in clear.

    Credentials are found by name in the head, the query and every `headers` object of
    a JSON body in any encoding (a universal body, an array or a single step, UTF-8 with
    a BOM, UTF-16); their values, and the gateway's own tokens, are then hidden
    wherever else they appear (the path, the rest of the body). A query string written
    inside a value (a step's `endpoint`, a URL in a prompt, a header or a query value)
    has its credential values redacted too.
    """
    secrets = credential_values(received.headers, received.query_string) | set(withheld)
    return {
        "method": received.method,
        "path": scrub(received.path, secrets),
        "query": {
            k: (REDACTED if is_credential(k) else redact_query_values(scrub(v, secrets)))
            for k, v in received.query.items()
        },
        "headers": redact(received.headers, secrets),
        "body": redact_body_text(received.body, secrets),
    }
