"""The Starlette application: Cloudflare AI Gateway's routes on one local server.

Routes (https://developers.cloudflare.com/ai-gateway/usage/providers/),
under `/v1/{account_id}/{gateway_id}/`:

- `compat/chat/completions`, `compat/embeddings`, `compat/models` (model
  `{provider}/{model}`);
- `{slug}/{path}` for every provider of core's table: the OpenAI-style chat and
  embeddings paths of the table (`openai/chat/completions`,
  `workers-ai/v1/chat/completions`, `mistral/v1/embeddings`...),
  `anthropic/v1/messages` in Anthropic's schema, `workers-ai/@cf/{model}` in Workers
  AI's own schema (`{"result": {"response"}}`), `.../models`; the native APIs and
  endpoint forms of `native_routes` (OpenAI Responses, Anthropic count_tokens,
  Gemini); any other path is forwarded to a pass-through upstream, or answered 404 by the
  mock in its provider's error shape;
- `POST /v1/{account_id}/{gateway_id}` with a JSON array of steps: the universal
  endpoint (https://developers.cloudflare.com/ai-gateway/usage/universal/),
  see `GatewayApp.universal`;
- `POST /client/v4/accounts/{account_id}/ai/v1/chat/completions`: the REST API shape,
  with `Authorization: Bearer <token>` (always required) and `cf-aig-gateway-id`;
- the management API and the admin routes: `management`.

Choices where Cloudflare's docs are silent (these are the local gateway's choices):

- `compat/embeddings` and `compat/models` are served (docs do not say); the models
  list names one `{compat prefix}/mock` per compat provider. `compat/responses` and
  dynamic routes (`dynamic/{route}`) are not: 400 with code 7001 / 2008.
- Compat model prefixes are the slugs and the aliases of core's provider table, so both
  `perplexity/` and `perplexity-ai/`, `grok/` and `xai/` work (the docs name both).
- Log `metadata` is returned as a JSON object (the API schema says string).

- Authentication reads only `cf-aig-authorization: Bearer <token>`; a
  provider `Authorization` header never stands in for it
  (https://developers.cloudflare.com/ai-gateway/configuration/authentication/). Every
  route (provider, universal, REST, management, admin) decides the gateway and the
  token from the request head, before reading the body: a refused request is answered
  at once, with no `100 Continue` first and nothing of its body read.
- Gateway-made errors (2001, 2008, 2009, 2003, 7001, 2005) use core's body shape
  (Cloudflare documents it only in part, with the guardrail codes:
  https://developers.cloudflare.com/ai-gateway/features/guardrails/set-up-guardrail/).
  Requests rejected before authentication (2001, 2009) are neither logged nor kept in
  `GatewayApp.received`; later ones are logged, with `success: false`.
- After authentication and before any upstream call, the request is held to the
  edge's rules (`edge`: header syntax of step headers and config, upstream paths
  without dot segments, strict and bounded JSON); a breach is a logged 400 naming the
  field. `Host`/`Origin` and the transport bounds come first (`listener`).
  404 and 405 outside the routes use the gateway error shape too.
- A request body over 25 MB (the cacheable limit of
  https://developers.cloudflare.com/ai-gateway/reference/limits/; Cloudflare states no
  request limit) is refused with HTTP 413 and the gateway error shape (code 7001,
  `httpCode` 413) as soon as the limit is passed, without reading the rest; not logged.
- Every answer carries `cf-aig-log-id` (UUIDv7), `cf-aig-request-id` (the log id for
  single-step requests, its own UUIDv7 on the universal endpoint) and
  `cf-aig-event-id` (the client's, else the request id); universal answers add
  `cf-aig-step`.
- Universal steps fall back on any answer that is not 2xx, on a timeout, and on an
  unreachable upstream; each tried step is one log row with its `step` index; the
  answer is the first 2xx step, else the last step's error.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import Future
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Final
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ..core.protocol import (
    DEFAULT_GATEWAY_ID,
    ERROR_STATUS,
    Bounds,
    ErrorCode,
    Header,
    gateway_error_body,
)
from ..core.providers import COMPAT, CUSTOM_PREFIX, PROVIDERS, WORKERS_AI, Provider, find_provider
from . import edge
from .cache import ResponseCache
from .clock import Clock
from .faults import split_model
from .gateways import GatewayRegistry, GatewaySettings
from .listener import HostGuard, HostPolicy
from .logstore import LogStore, LogStoreUnavailable
from .native_routes import native_endpoint
from .pipeline import (
    GatewayRequestError,
    GatewaySecrets,
    Outcome,
    RequestOptions,
    execute,
    redact,
    scrub_stored,
)
from .scripts import ScriptBook
from .upstream import JSON, ProviderCall, Upstreams, models_list

_COMPAT_OPS: Final = {"chat/completions": "chat", "embeddings": "embeddings", "models": "models"}
_REST_PROVIDERS: Final[dict[str, Provider]] = {p.rest_prefix: p for p in PROVIDERS if p.rest_prefix}
_JSON_HEADERS: Final = {"content-type": JSON}
_log = logging.getLogger(__name__)


class _AnyPath(Convertor[str]):
    """Starlette's `path` convertor, but matching CR and LF too (`.` does not), so
    that a gateway path holding them reaches `edge.upstream_path` (a logged 400)
    instead of falling through to a 404.
    """

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("gateway_path", _AnyPath())


async def _not_routed(request: Request, exc: Exception) -> Response:
    """404 and 405 outside the gateway's routes, in the gateway error shape."""
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    text = "Not found: no route of the local gateway has this path"
    if status == 405:
        text = f"Method not allowed: this route does not take {request.method}"
    body = gateway_error_body(ErrorCode.INVALID_REQUEST, f"Invalid request: {text}")
    body["httpCode"] = status
    return Response(_dumps(body), status, _JSON_HEADERS)


MAX_BODY_BYTES: Final = Bounds.CACHEABLE_BODY_MAX_BYTES
"""Largest request body the local gateway reads (25 MB, the cacheable limit).

https://developers.cloudflare.com/ai-gateway/reference/limits/
"""


class BodyLimit:
    """ASGI wrapper: a body over `MAX_BODY_BYTES` gets 413 without being kept.

    A declared `content-length` over the limit is answered before the body is read; a
    chunked body is counted as the application reads it and refused as soon as it
    passes the limit (the application then sees a disconnect). Nothing is read here
    before the application asks for it, so a route can refuse a request from its head
    (authentication) without a byte of the body being read. A 413 goes out with
    `connection: close`; `listener.EdgeProtocol` then drops what the client
    still sends before closing.

    A client that disconnects before its body is complete ends its request quietly (one
    debug line): Starlette raises `ClientDisconnect`, which would otherwise be logged
    with a full traceback by the server.
    """

    def __init__(self, app: Any, clock: Clock) -> None:
        self.app = app
        self._clock = clock

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)  # .routes, .state... of the Starlette app inside

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = chunked = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        try:
            if length is not None:
                if length.isdigit() and int(length) > MAX_BODY_BYTES:
                    await self._refuse(send)
                else:
                    await self.app(scope, receive, send)
            elif chunked:
                await self._counted(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        except ClientDisconnect:
            _log.debug(
                "client disconnected before its request body was complete: %s %s",
                scope.get("method"),
                edge.printable(scope.get("path", ""))[:200],
            )

    async def _counted(self, scope: Any, receive: Any, send: Any) -> None:
        size = 0
        started = refused = False

        async def counted_receive() -> Any:
            nonlocal size, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            size += len(message.get("body", b""))
            if size > MAX_BODY_BYTES and not started:
                refused = True
                await self._refuse(send)
                return {"type": "http.disconnect"}
            return message

        async def watched_send(message: Any) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out instead
            started = True
            await send(message)

        await self.app(scope, counted_receive, watched_send)

    async def _refuse(self, send: Any) -> None:
        body = gateway_error_body(
            ErrorCode.INVALID_REQUEST,
            f"Invalid request: the body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB",
        )
        body["httpCode"] = 413
        payload = json.dumps(body, separators=(",", ":")).encode()
        log_id = self._clock.uuid7().encode()
        headers = [
            (b"content-type", JSON.encode()),
            (b"content-length", str(len(payload)).encode()),
            (b"connection", b"close"),
            (Header.LOG_ID.encode(), log_id),
            (Header.REQUEST_ID.encode(), log_id),
            (Header.EVENT_ID.encode(), log_id),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """A request as the local gateway received it."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    """Lowercase names; values as sent (credentials included: this is the test's view)."""
    body: bytes

    @property
    def query(self) -> dict[str, str]:
        """The query parameters (the last value of a repeated name)."""
        return dict(parse_qsl(self.query_string, keep_blank_values=True))

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None when it is empty or not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass(slots=True)
class _Ids:
    log_id: str
    request_id: str
    event_id: str

    def headers(self) -> dict[str, str]:
        return {
            Header.LOG_ID: self.log_id,
            Header.REQUEST_ID: self.request_id,
            Header.EVENT_ID: self.event_id,
        }


@dataclass(slots=True)
class _Attempted:
    """One provider call made for a request (one universal step, or the only one)."""

    call: ProviderCall | None
    opts: RequestOptions | None
    outcome: Outcome | None
    error: GatewayRequestError | None
    started: float
    step: int | None
    log_id: str
    provider: str | None = None
    model: str | None = None
    path: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _error_response(err: GatewayRequestError, headers: Mapping[str, str]) -> Response:
    body = json.dumps(gateway_error_body(err.code, err.message), separators=(",", ":"))
    return Response(body, ERROR_STATUS[err.code], {**headers, **_JSON_HEADERS})


class GatewayApp:
    """The state of one local gateway and the ASGI app that serves it."""

    def __init__(
        self,
        *,
        clock: Clock,
        registry: GatewayRegistry,
        scripts: ScriptBook,
        cache: ResponseCache,
        logs: LogStore,
        upstreams: Upstreams,
        token: str | None,
        management_token: str | None,
        account_id: str = "local",
        received_max: int = 100_000,
        received_max_bytes: int = 64 * 1024 * 1024,
        hosts: HostPolicy | None = None,
    ) -> None:
        self.clock = clock
        self.registry = registry
        self.scripts = scripts
        self.cache = cache
        self.logs = logs
        self.upstreams = upstreams
        self.account_id = account_id
        self._token = f"Bearer {token}".encode() if token else None
        self._management_token = f"Bearer {management_token}".encode() if management_token else None
        self.secrets = GatewaySecrets.of(token, management_token)
        self.received: deque[ReceivedRequest] = deque()
        """Authenticated requests, newest last; at most `received_max` of them and
        `received_max_bytes` of bodies and headers (the oldest go first)."""
        self._received_max = received_max
        self._received_max_bytes = received_max_bytes
        self._received_bytes = 0
        starlette = Starlette(
            routes=self._routes(),
            lifespan=self._lifespan,
            exception_handlers={404: _not_routed, 405: _not_routed},
        )
        # No 307 to the path without its trailing slash: the redirect would be answered
        # before authentication; a path without a route gets the gateway's 404 instead.
        starlette.router.redirect_slashes = False
        self.app = HostGuard(BodyLimit(starlette, self.clock), hosts or HostPolicy())

    def _routes(self) -> list[Route]:
        from .management import management_routes

        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return [
            Route("/v1/{account_id}/{gateway_id}", self.universal, methods=["POST"]),
            Route("/v1/{account_id}/{gateway_id}/", self.universal, methods=["POST"]),
            Route(
                "/v1/{account_id}/{gateway_id}/{path:gateway_path}",
                self.provider_route,
                methods=methods,
            ),
            Route(
                "/client/v4/accounts/{account_id}/ai/v1/chat/completions",
                self.rest_chat,
                methods=["POST"],
            ),
            *management_routes(self),
        ]

    @asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        yield
        await self.upstreams.close()
        await self.cache.close()

    async def reset(self) -> None:
        """Forget requests, scripts, cache entries and log rows; restore `default`.

        Other gateways are kept (with their rate-limit counters reset); `default` gets
        its start-up settings back, so that a test changing it does not leak into the next.
        """
        self.received.clear()
        self._received_bytes = 0
        self.scripts.clear()
        await self.cache.clear()
        await self.logs.arun(LogStore.delete(None))
        self.registry.restore_default()
        for gateway in self.registry.list():
            gateway.reset_rate_limit()
        self.clock.offset = 0.0

    # ------------------------------------------------------------------ shared steps

    @staticmethod
    def head(request: Request) -> dict[str, str]:
        """The request's headers (lowercase names), from its head: no body byte is read.

        Every route decides the gateway and the authentication from these before it
        reads the body (`body`), so that a refused request is answered at once,
        with no `100 Continue` first and nothing of its body read or kept.
        """
        return {k.decode("latin-1"): v.decode("latin-1") for k, v in request.scope["headers"]}

    @staticmethod
    async def body(request: Request) -> bytes:
        """The request body (at most `MAX_BODY_BYTES`: `BodyLimit` sees to it)."""
        return await _read_body(request)

    def keep(self, request: Request, headers: dict[str, str], body: bytes) -> None:
        """Append an authenticated request to `received`, within its bounds.

        Only requests that passed authentication are kept, so that a client without
        the token cannot make the gateway hold anything.
        """
        scope = request.scope
        size = len(body) + sum(len(k) + len(v) for k, v in headers.items())
        self.received.append(
            ReceivedRequest(
                scope["method"],
                scope["path"],
                scope["query_string"].decode("latin-1"),
                headers,
                body,
            )
        )
        self._received_bytes += size
        while self.received and (
            len(self.received) > self._received_max
            or self._received_bytes > self._received_max_bytes
        ):
            old = self.received.popleft()
            self._received_bytes -= len(old.body) + sum(
                len(k) + len(v) for k, v in old.headers.items()
            )

    def new_ids(self, headers: Mapping[str, str]) -> _Ids:
        log_id = self.clock.uuid7()
        event_id = headers.get(Header.EVENT_ID)
        return _Ids(log_id, log_id, event_id if event_id and edge.echoable(event_id) else log_id)

    def gateway(self, gateway_id: str) -> GatewaySettings:
        gateway = self.registry.get(gateway_id)
        if gateway is None:
            raise GatewayRequestError(ErrorCode.GATEWAY_NOT_FOUND)
        return gateway

    def authenticate(self, gateway: GatewaySettings, headers: Mapping[str, str]) -> None:
        """`cf-aig-authorization` against the token, in constant time.

        https://developers.cloudflare.com/ai-gateway/configuration/authentication/
        """
        if gateway.authentication and not self.token_matches(headers.get(Header.AUTHORIZATION)):
            raise GatewayRequestError(ErrorCode.UNAUTHORIZED)

    def token_matches(self, value: str | None) -> bool:
        expected = self._token
        given = (value or "").encode("latin-1", "replace")
        # compare_digest on unequal lengths still takes time independent of the content
        return expected is not None and hmac.compare_digest(given, expected)

    def management_token_matches(self, value: str | None) -> bool:
        expected = self._management_token
        given = (value or "").encode("latin-1", "replace")
        return expected is not None and hmac.compare_digest(given, expected)

    def admit(self, gateway: GatewaySettings) -> None:
        if not gateway.admit(self.clock()):
            raise GatewayRequestError(ErrorCode.RATE_LIMITED)

    # ------------------------------------------------------------------ resolving calls

    def resolve(
        self,
        path: str,
        method: str,
        headers: Mapping[str, str],
        body: bytes,
        query_string: str = "",
    ) -> ProviderCall:
        """The provider call of a gateway path (after `/{gateway_id}/`)."""
        head, _, rest = path.partition("/")
        if head == COMPAT:
            return self._resolve_compat(rest, method, headers, body)
        provider = find_provider(head)
        if provider is None or (provider.slug != head and not head.startswith(CUSTOM_PREFIX)):
            raise GatewayRequestError(ErrorCode.INVALID_PROVIDER)
        parsed = _json_body(body) if body else None
        endpoint = native_endpoint(provider.slug, rest, method)  # the forms clients send
        rest = endpoint.path
        operation = "other"
        if endpoint.operation is not None:
            operation = endpoint.operation
        elif rest == provider.chat_path:
            operation = "chat"
        elif rest == provider.embeddings_path:
            operation = "embeddings"
        elif provider.slug == "anthropic" and rest == provider.native_path:
            operation = "messages"
        elif (rest == "models" or rest.endswith("/models")) and method == "GET":
            operation = "models"
        elif provider.slug == WORKERS_AI and rest.startswith(("@cf/", "@hf/")):
            # Workers AI's own schema: the model is the path
            # (https://developers.cloudflare.com/ai-gateway/usage/providers/workersai/)
            operation = "run"
        model, fault = "", None
        raw = body
        if operation == "run":
            model, fault = _split_fault(rest)
        elif endpoint.model is not None:
            model, fault = _split_fault(endpoint.model)
        elif isinstance(parsed, dict) and isinstance(parsed.get("model"), str):
            model, fault = _split_fault(parsed["model"])
            if fault is not None:
                parsed = {**parsed, "model": model}
                raw = _dumps(parsed)
        elif operation in ("chat", "embeddings", "messages", "responses", "count_tokens"):
            raise GatewayRequestError(
                ErrorCode.INVALID_REQUEST, "Invalid request: the body needs a 'model' string"
            )
        body_dict = parsed if isinstance(parsed, dict) else None
        return ProviderCall(
            provider=provider,
            operation=operation,  # type: ignore[arg-type]
            path=rest,
            model=model,
            fault=fault,
            body=body_dict,
            raw_body=raw,
            headers=headers,
            stream=bool(body_dict and body_dict.get("stream"))
            if endpoint.stream is None
            else endpoint.stream,
            log_path=path,
            query_string=query_string,
            method=method,
        )

    def _resolve_compat(
        self, rest: str, method: str, headers: Mapping[str, str], body: bytes
    ) -> ProviderCall:
        operation = _COMPAT_OPS.get(rest)
        if operation is None or operation == "models":
            raise GatewayRequestError(
                ErrorCode.INVALID_REQUEST,
                "Invalid request: compat serves chat/completions, embeddings and models",
            )
        parsed = _json_body(body)
        if not isinstance(parsed, dict) or not isinstance(parsed.get("model"), str):
            raise GatewayRequestError(
                ErrorCode.INVALID_REQUEST,
                "Invalid request: the body needs a 'model' such as 'openai/gpt-4o-mini'",
            )
        provider, model_text = _compat_provider(parsed["model"])
        model, fault = _split_fault(model_text)
        path = provider.chat_path if operation == "chat" else provider.embeddings_path
        upstream_body = {**parsed, "model": model}
        raw = _dumps(upstream_body) if provider.slug in self.upstreams.passthrough.targets else body
        return ProviderCall(
            provider=provider,
            operation=operation,  # type: ignore[arg-type]
            path=path or rest,
            model=model,
            fault=fault,
            body=upstream_body,
            raw_body=raw,
            headers=headers,
            stream=bool(parsed.get("stream")),
            log_path=f"{COMPAT}/{rest}",
            method=method,
        )

    # ------------------------------------------------------------------ handlers

    async def provider_route(self, request: Request) -> Response:
        """Compat and provider-native routes."""
        headers = self.head(request)
        ids = self.new_ids(headers)
        params = request.path_params
        path: str = params["path"]
        try:
            gateway = self.gateway(params["gateway_id"])
            self.authenticate(gateway, headers)
        except GatewayRequestError as err:
            return _error_response(err, ids.headers())
        body = await self.body(request)
        started = time.perf_counter()
        self.keep(request, headers, body)
        try:
            edge.upstream_path(path, "the path")
            edge.query_string(request.scope["query_string"])
            edge.request_headers(headers)
        except edge.EdgeError as err:
            refused = _Attempted(
                None, None, None, err, started, None, ids.log_id, path=edge.printable(path)
            )
            return await self._answer(gateway, ids, headers, body, [refused], universal=False)
        if path == f"{COMPAT}/models":
            return Response(_dumps(models_list(None)), 200, {**ids.headers(), **_JSON_HEADERS})
        attempted = await self._attempt(
            gateway,
            path,
            request.method,
            headers,
            body,
            request.scope["query_string"].decode("latin-1"),
            started,
            None,
            ids.log_id,
        )
        return await self._answer(gateway, ids, headers, body, [attempted], universal=False)

    async def rest_chat(self, request: Request) -> Response:
        """`/client/v4/accounts/{acct}/ai/v1/chat/completions`: the REST API.

        https://developers.cloudflare.com/ai-gateway/usage/rest-api/
        """
        headers = self.head(request)
        ids = self.new_ids(headers)
        try:
            gateway = self.gateway(headers.get(Header.GATEWAY_ID) or DEFAULT_GATEWAY_ID)
            if not self.token_matches(headers.get("authorization")):
                raise GatewayRequestError(ErrorCode.UNAUTHORIZED)
        except GatewayRequestError as err:
            return _error_response(err, ids.headers())
        body = await self.body(request)
        started = time.perf_counter()
        self.keep(request, headers, body)
        rest_path = "ai/v1/chat/completions"
        try:
            edge.request_headers(headers)
            parsed = edge.parse_json(body)
        except edge.NotJson:
            parsed = None
        except edge.EdgeError as err:
            refused = _Attempted(None, None, None, err, started, None, ids.log_id, path=rest_path)
            return await self._answer(gateway, ids, headers, body, [refused], universal=False)
        model = parsed.get("model") if isinstance(parsed, dict) else None
        if isinstance(model, str):
            prefix, sep, rest = model.partition("/")
            provider = _REST_PROVIDERS.get(prefix) if sep else None
            if model.startswith("@cf/"):
                provider, rest = find_provider(WORKERS_AI), model
            if provider is not None:
                # Served as a compat call; the log row keeps the REST path.
                compat_body = _dumps({**(parsed or {}), "model": f"{provider.slug}/{rest}"})
                attempted = await self._attempt(
                    gateway,
                    f"{COMPAT}/chat/completions",
                    "POST",
                    headers,
                    compat_body,
                    "",
                    started,
                    None,
                    ids.log_id,
                    log_path="ai/v1/chat/completions",
                )
                return await self._answer(gateway, ids, headers, body, [attempted], universal=False)
        invalid = GatewayRequestError(ErrorCode.INVALID_PROVIDER)
        attempted = _Attempted(
            None, None, None, invalid, started, None, ids.log_id, path="ai/v1/chat/completions"
        )
        return await self._answer(gateway, ids, headers, body, [attempted], universal=False)

    async def universal(self, request: Request) -> Response:
        """The universal endpoint: steps in order, fallback on error or timeout.

        https://developers.cloudflare.com/ai-gateway/usage/universal/

        Every step is checked (headers, config, provider, endpoint) before the first is
        sent: a bad one refuses the whole request with 400 naming the field.
        """
        headers = self.head(request)
        ids = self.new_ids(headers)
        ids.request_id = self.clock.uuid7()
        if not edge.echoable(headers.get(Header.EVENT_ID)):
            ids.event_id = ids.request_id
        try:
            gateway = self.gateway(request.path_params["gateway_id"])
            self.authenticate(gateway, headers)
        except GatewayRequestError as err:
            return _error_response(err, ids.headers())
        body = await self.body(request)
        started = time.perf_counter()
        self.keep(request, headers, body)
        try:
            edge.request_headers(headers)
            steps = edge.parse_json(body, "steps")
        except edge.NotJson:
            steps = None
        except edge.EdgeError as err:
            refused = _Attempted(None, None, None, err, started, None, ids.log_id)
            return await self._answer(gateway, ids, headers, body, [refused], universal=True)
        if isinstance(steps, dict):
            steps = [steps]
        if not isinstance(steps, list) or not steps or not all(isinstance(s, dict) for s in steps):
            malformed = GatewayRequestError(
                ErrorCode.INVALID_REQUEST,
                "Invalid request: the universal endpoint takes a JSON array of steps "
                "{provider, endpoint, headers, config, query}",
            )
            attempted = _Attempted(None, None, None, malformed, started, None, ids.log_id)
            return await self._answer(gateway, ids, headers, body, [attempted], universal=True)
        if len(steps) > Bounds.UNIVERSAL_STEPS_MAX:
            too_many = edge.EdgeError(
                f"the universal endpoint takes at most {Bounds.UNIVERSAL_STEPS_MAX} steps; "
                f"got {len(steps)}"
            )
            refused = _Attempted(None, None, None, too_many, started, None, ids.log_id)
            return await self._answer(gateway, ids, headers, body, [refused], universal=True)
        checked: list[tuple[str, str, str, dict[str, str], dict[str, Any] | None]] = []
        for index, step in enumerate(steps):
            where = f"steps[{index}]"
            provider = step.get("provider", "")
            endpoint = step.get("endpoint", "")
            try:
                for name, value in (("provider", provider), ("endpoint", endpoint)):
                    if not isinstance(value, str):
                        raise edge.EdgeError(f"{where}.{name} must be a string")
                provider = edge.upstream_path(provider, f"{where}.provider")
                # An endpoint may carry its query (Gemini's "...:streamGenerateContent?alt=sse").
                endpoint, _, step_query = endpoint.lstrip("/").partition("?")
                endpoint = edge.upstream_path(endpoint, f"{where}.endpoint")
                edge.query_string(step_query.encode("utf-8", "surrogatepass"), f"{where}.endpoint")
                step_headers = edge.step_headers(step.get("headers"), f"{where}.headers")
                config = edge.step_config(step.get("config"), f"{where}.config")
            except edge.EdgeError as err:
                refused = _Attempted(
                    None,
                    None,
                    None,
                    err,
                    started,
                    index,
                    ids.log_id,
                    path=edge.printable(f"{provider}/{endpoint}"),
                )
                return await self._answer(gateway, ids, headers, body, [refused], universal=True)
            checked.append((provider, endpoint, step_query, step_headers, config))
        tried: list[_Attempted] = []
        for index, (step, (provider, endpoint, step_query, step_headers, config)) in enumerate(
            zip(steps, checked, strict=True)
        ):
            step_started = time.perf_counter()
            # step headers > request headers:
            # https://developers.cloudflare.com/ai-gateway/usage/universal/
            merged = {**headers, **step_headers}
            query = step.get("query")
            step_body = _dumps(query) if query is not None else b""
            log_id = ids.log_id if index == 0 else self.clock.uuid7()
            attempted = await self._attempt(
                gateway,
                f"{provider}/{endpoint}",
                "POST",
                merged,
                step_body,
                step_query,
                step_started,
                index,
                log_id,
                config=config,
                last_step=index == len(steps) - 1,
            )
            tried.append(attempted)
            outcome = attempted.outcome
            if outcome is not None and outcome.reply.ok:
                break
            if attempted.error is not None and attempted.error.code in (ErrorCode.RATE_LIMITED,):
                # a gateway rate limit is not a step failure: no fallback
                # (https://developers.cloudflare.com/ai-gateway/features/rate-limiting/)
                break
        ids.log_id = tried[-1].log_id
        return await self._answer(gateway, ids, headers, body, tried, universal=True)

    async def _attempt(
        self,
        gateway: GatewaySettings,
        path: str,
        method: str,
        headers: Mapping[str, str],
        body: bytes,
        query_string: str,
        started: float,
        step: int | None,
        log_id: str,
        *,
        config: Mapping[str, Any] | None = None,
        last_step: bool = True,
        log_path: str | None = None,
    ) -> _Attempted:
        attempted = _Attempted(None, None, None, None, started, step, log_id, path=log_path or path)
        try:
            if step is None or step == 0:
                self.admit(gateway)
            call = self.resolve(path, method, headers, body, query_string)
            attempted.call, attempted.provider, attempted.model = (
                call,
                call.provider.slug,
                call.model,
            )
            if log_path:
                call.log_path = log_path
            opts = RequestOptions.parse(headers, gateway, config)
            attempted.opts = opts
            attempted.outcome = await execute(
                call,
                opts,
                gateway,
                self.upstreams,
                self.cache,
                self.clock(),
                body,
                timeout_every_attempt=not last_step,
                secrets=self.secrets,
            )
        except GatewayRequestError as err:
            attempted.error = err
            if attempted.opts is None:
                try:
                    attempted.opts = RequestOptions.parse(headers, gateway)
                except GatewayRequestError:
                    attempted.opts = None
        return attempted

    # ------------------------------------------------------------------ answers and logs

    async def _answer(
        self,
        gateway: GatewaySettings,
        ids: _Ids,
        headers: Mapping[str, str],
        body: bytes,
        tried: list[_Attempted],
        *,
        universal: bool,
    ) -> Response:
        final = tried[-1]
        out_headers = ids.headers()
        if universal and final.step is not None:
            out_headers[Header.STEP] = str(final.step)
        acks = [self._log_done(gateway, ids, earlier, None) for earlier in tried[:-1]]
        outcome = final.outcome
        if outcome is None:
            err = final.error or GatewayRequestError(ErrorCode.PROVIDER_FAILED)
            response = _error_response(err, out_headers)
            acks.append(self._log_done(gateway, ids, final, response))
            if not await _committed(self.logs, acks):
                return _log_store_unavailable(out_headers)
            return response
        if outcome.cache_status is not None:
            out_headers[Header.CACHE_STATUS] = outcome.cache_status
        reply = outcome.reply
        if reply.chunks is None:
            response = _BytesResponse(reply.body, reply.status, out_headers, reply.content_type)
            acks.append(self._log_done(gateway, ids, final, response))
            if not await _committed(self.logs, acks):
                return _log_store_unavailable(out_headers)
            return response
        if not await _committed(self.logs, acks):
            return _log_store_unavailable(out_headers)
        return StreamingResponse(
            self._relay(gateway, ids, final, out_headers),
            reply.status,
            out_headers,
            media_type=reply.content_type,
        )

    async def _relay(
        self, gateway: GatewaySettings, ids: _Ids, attempted: _Attempted, headers: dict[str, str]
    ) -> AsyncIterator[bytes]:
        """The stream, one chunk behind, so that the row is queued before the last bytes go."""
        assert attempted.outcome is not None and attempted.outcome.reply.chunks is not None
        reply = attempted.outcome.reply
        keep = attempted.opts is not None and attempted.opts.collect_payload
        collected: list[bytes] = []
        held: bytes | None = None
        chunks = reply.chunks
        try:
            async for chunk in chunks:  # type: ignore[union-attr]
                if keep:
                    collected.append(chunk)
                if held is not None:
                    yield held
                held = chunk
        except Exception:  # the upstream broke off (a disconnect fault, a dropped upstream)
            attempted.extra["broken"] = True
            ack = self._log_done(
                gateway, ids, attempted, None, stream_body=b"".join(collected), status=reply.status
            )
            await _committed(self.logs, [ack])
            if held is not None:
                yield held
            raise
        except BaseException:  # the client went away: log what was sent, then stop
            attempted.extra["broken"] = True
            self._log_done(  # no waiting for the commit: the client is gone
                gateway, ids, attempted, None, stream_body=b"".join(collected), status=reply.status
            )
            raise
        finally:
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()
        ack = self._log_done(
            gateway, ids, attempted, None, stream_body=b"".join(collected), status=reply.status
        )
        if not await _committed(self.logs, [ack]):
            # The head went out long ago: cutting the stream short is the only honest answer.
            raise LogStoreUnavailable(f"log row {attempted.log_id} not committed in time")
        if held is not None:
            yield held

    def _log_done(
        self,
        gateway: GatewaySettings,
        ids: _Ids,
        attempted: _Attempted,
        response: Response | None,
        *,
        stream_body: bytes | None = None,
        status: int | None = None,
    ) -> Future[None] | None:
        """Queue the log row of one attempted call (unless logging is off for it).

        Returns the store's commit future for a durable (file) store, else None.
        """
        opts = attempted.opts
        collect = opts.collect_log if opts is not None else gateway.collect_logs
        if not collect:
            return None
        outcome = attempted.outcome
        call = attempted.call
        reply = outcome.reply if outcome is not None else None
        if isinstance(response, _BytesResponse):
            status_code = response.status_code
            response_body: bytes | None = response.payload
            response_type = response.content_type
        elif response is not None:
            status_code = response.status_code
            response_body = bytes(response.body)
            response_type = response.headers.get("content-type", JSON)
        elif reply is not None:
            status_code = status if status is not None else reply.status
            response_body = stream_body if stream_body is not None else reply.body
            response_type = reply.content_type
        else:
            err = attempted.error or GatewayRequestError(ErrorCode.PROVIDER_FAILED)
            status_code = ERROR_STATUS[err.code]
            response_body = _dumps(gateway_error_body(err.code, err.message))
            response_type = JSON
        broken = bool(attempted.extra.get("broken"))
        success = 200 <= status_code < 300 and not broken
        tokens_in = reply.tokens_in if reply is not None else None
        tokens_out = reply.tokens_out if reply is not None else None
        cached = outcome is not None and outcome.cache_status == "HIT"
        payload = opts.collect_payload if opts is not None else True
        request_headers = dict(call.headers) if call is not None else {}
        request_body = call.raw_body if call is not None else b""
        response_head = {"content-type": response_type}
        if attempted.step is not None:
            response_head[Header.STEP] = str(attempted.step)
        row: dict[str, Any] = {
            "id": attempted.log_id,
            "created_at": _iso(self.clock()),
            "gateway_id": gateway.id,
            "provider": attempted.provider,
            "model": attempted.model or None,
            "model_type": call.model_type if call is not None else None,
            "path": attempted.path,
            "request_type": "stream" if call is not None and call.stream else "http",
            "success": success,
            "status_code": status_code,
            "cached": cached,
            "tokens_in": tokens_in,
            "tokens_out": tokens_out,
            "cost": 0.0 if cached or opts is None else opts.cost(tokens_in, tokens_out),
            "custom_cost": bool(opts is not None and opts.custom_cost),
            "duration": int((time.perf_counter() - attempted.started) * 1000),
            "metadata": opts.metadata if opts is not None else None,
            "event_id": ids.event_id,
            "request_id": ids.request_id,
            "step": attempted.step if attempted.step is not None else 0,
            "attempts": outcome.attempts if outcome is not None else 0,
            "feedback": None,
            "score": None,
            "request_content_type": request_headers.get("content-type"),
            "response_content_type": response_type,
            "request_size": len(request_body),
            "response_size": len(response_body or b""),
            "request_head": redact(request_headers, self.secrets.values),
            "request_head_complete": True,
            "response_head": response_head,
            "response_head_complete": True,
            "authentication": gateway.authentication,
            "wholesale": False,
            "byok": False,
            "payload": payload,
        }
        retention = None
        if gateway.log_management:
            retention = (gateway.log_management, gateway.log_management_strategy or "DELETE_OLDEST")
        if payload:
            request_body = scrub_stored(call, request_body, self.secrets.values) or b""
            response_body = scrub_stored(call, response_body, self.secrets.values)
            return self.logs.add(row, request_body, response_body, retention)
        return self.logs.add(row, retention=retention)


class _BytesResponse(Response):
    """A non-streamed answer whose headers are encoded once, here.

    Starlette's `Response` lowercases, re-encodes and scans the header dict on every
    answer; this builds the same raw headers (the given ones, then `content-length`,
    then `content-type` with Starlette's charset rule) at a fraction of the cost on the
    cache-hit path (bench/PROFILES.md, section 6).
    """

    def __init__(
        self, body: bytes | None, status: int, headers: Mapping[str, str], content_type: str
    ) -> None:
        self.status_code = status
        self.background = None
        self.body = self.payload = body or b""
        """The body, typed as bytes (Starlette's `body` may be a memoryview)."""
        if content_type.startswith("text/") and "charset=" not in content_type.lower():
            content_type += "; charset=utf-8"
        self.content_type = content_type
        """The `content-type` header as sent (and as the log row records it)."""
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        if not (status < 200 or status in (204, 304)):
            raw.append((b"content-length", str(len(self.payload)).encode()))
        raw.append((b"content-type", content_type.encode("latin-1")))
        self.raw_headers = raw


async def _read_body(request: Request) -> bytes:
    """The request body; Starlette's `Request.body` for all but one-message bodies.

    Almost every body arrives in one `http.request` message; taking it directly skips
    Starlette's async generator (a tenth of a cache hit's route time in cProfile).
    """
    if request._stream_consumed or hasattr(request, "_body"):
        return await request.body()
    message = await request.receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        body: bytes = message.get("body", b"")
        request._stream_consumed = True
        request._body = body
        return body
    if message["type"] == "http.disconnect":
        raise ClientDisconnect()
    pieces = [message.get("body", b"")]
    async for piece in request.stream():
        pieces.append(piece)
    body = b"".join(pieces)
    request._body = body
    return body


_ISO_SECOND: list[tuple[int, str]] = [(-1, "")]


def _iso(at: float) -> str:
    """`Clock.iso(at)`: ISO 8601 UTC with milliseconds, the second formatted once.

    Equal to `Clock.iso` (`datetime.isoformat(timespec="milliseconds")`, which
    truncates to the millisecond); the date and time up to the second are cached, since
    every request in the same second shares them.
    """
    fraction, whole = math.modf(at)  # rounded as datetime.fromtimestamp rounds
    micro, second = round(fraction * 1_000_000), int(whole)
    if micro >= 1_000_000:
        micro, second = micro - 1_000_000, second + 1
    elif micro < 0:
        micro, second = micro + 1_000_000, second - 1
    cached_second, prefix = _ISO_SECOND[0]
    if cached_second != second:
        stamp = datetime.fromtimestamp(second, tz=timezone.utc).replace(tzinfo=None)
        prefix = stamp.isoformat(timespec="seconds")
        _ISO_SECOND[0] = (second, prefix)
    return f"{prefix}.{micro // 1000:03d}Z"


async def _committed(logs: LogStore, acks: list[Future[None] | None]) -> bool:
    """Wait until the rows are committed (durable stores only; see `logstore`).

    False when the store could not commit them within `logs.commit_timeout` seconds
    (`cf-aig serve --log-commit-timeout`): the request is then answered by
    `_log_store_unavailable`, never left hanging.
    """
    if all(ack is None for ack in acks):
        return True
    return await logs.committed(acks)


def _log_store_unavailable(headers: Mapping[str, str]) -> Response:
    """HTTP 503, code 2503 (`ErrorCode.LOG_STORE_UNAVAILABLE`), in the gateway's error shape."""
    return _error_response(GatewayRequestError(ErrorCode.LOG_STORE_UNAVAILABLE), headers)


def _json_body(body: bytes) -> Any:
    """The body as JSON, held to the edge's rules (`edge.parse_json`)."""
    return edge.parse_json(body)


def _dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def _split_fault(model: str) -> tuple[str, Any]:
    try:
        return split_model(model)
    except ValueError as exc:
        raise GatewayRequestError(ErrorCode.INVALID_REQUEST, f"Invalid request: {exc}") from None


def _compat_provider(model: str) -> tuple[Provider, str]:
    """(provider, model name) of a compat model id.

    https://developers.cloudflare.com/ai-gateway/usage/chat-completion/
    """
    if model.startswith("@cf/"):
        provider = find_provider(WORKERS_AI)
        assert provider is not None
        return provider, model
    head, sep, rest = model.partition("/")
    provider = find_provider(head) if sep and rest else None
    if provider is None or provider.compat_prefix is None:
        raise GatewayRequestError(ErrorCode.INVALID_PROVIDER)
    return provider, rest


AppFactory = Callable[[], GatewayApp]
