"""The provider routes: compat, provider-native, universal and REST, one pipeline.

Each handler decides the gateway and the authentication from the request head
(`GatewayState`), reads the body, holds the request to the edge's rules (`edge`),
resolves the provider call (`resolve`), runs it through the pipeline (`pipeline`:
options, cache, retries, upstream) and hands the attempts to `Responder`.

- `/v1/{account_id}/{gateway_id}/{path}`: compat and provider-native paths
  (https://developers.cloudflare.com/ai-gateway/usage/providers/);
- `POST /v1/{account_id}/{gateway_id}`: the universal endpoint
  (https://developers.cloudflare.com/ai-gateway/usage/universal/);
- `POST /client/v4/accounts/{account_id}/ai/v1/chat/completions`: the REST API
  (https://developers.cloudflare.com/ai-gateway/usage/rest-api/), and `.../ai/v1/embeddings`
  for Workers AI models
  (https://developers.cloudflare.com/workers-ai/configuration/open-ai-compatibility/).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.protocol import DEFAULT_GATEWAY_ID, Bounds, ErrorCode, Header
from ..core.providers import COMPAT, DYNAMIC, WORKERS_AI
from . import edge
from .auto_router import AUTO_MODEL, AutoRouter
from .dynamic_exec import DynamicExecutor
from .dynamic_exec.executor import NOT_CHAT_MESSAGE
from .gateways import GatewayRecord
from .inbound import head, read_body
from .pipeline import Outcome, RequestOptions, execute
from .request_error import GatewayRequestError
from .resolve import dynamic_route_name, resolve, rest_provider, route_not_owned
from .respond import JSON_HEADERS, Attempt, RequestIds, Responder, dumps, error_response
from .state import GatewayState
from .upstream import models_list


class _AnyPath(Convertor[str]):
    """Starlette's `path` convertor, but matching CR and LF too (`.` does not).

    A gateway path holding them then reaches `edge.upstream_path` (a logged 400)
    instead of falling through to a 404.
    """

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("gateway_path", _AnyPath())


class GatewayRoutes:
    """The handlers of the provider routes of one gateway state."""

    def __init__(self, state: GatewayState) -> None:
        self.state = state
        self.responder = Responder(state)
        self.auto_router = AutoRouter()
        self.dynamic = DynamicExecutor(state)

    def routes(self) -> list[Route]:
        """The Starlette routes of these handlers.

        Returns:
            The universal, provider and REST routes.
        """
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
            Route(
                "/client/v4/accounts/{account_id}/ai/v1/embeddings",
                self.rest_embeddings,
                methods=["POST"],
            ),
        ]

    def new_ids(self, headers: Mapping[str, str]) -> RequestIds:
        """The ids of a new request: log id, request id and the event id to echo."""
        log_id = self.state.clock.uuid7()
        event_id = headers.get(Header.EVENT_ID)
        return RequestIds(
            log_id, log_id, event_id if event_id and edge.echoable(event_id) else log_id
        )

    # ------------------------------------------------------------------ handlers

    async def provider_route(self, request: Request) -> Response:
        """Compat and provider-native routes."""
        headers = head(request)
        ids = self.new_ids(headers)
        params = request.path_params
        path: str = params["path"]
        try:
            gateway = await self.state.gateway(params["gateway_id"])
            self.state.authenticate(gateway, headers)
        except GatewayRequestError as err:
            return error_response(err, ids.headers())
        body = await read_body(request)
        started = time.perf_counter()
        self.state.keep(request, headers, body)
        try:
            edge.upstream_path(path, "the path")
            edge.query_string(request.scope["query_string"])
            edge.request_headers(headers)
        except edge.EdgeError as err:
            refused = Attempt(
                None, None, None, err, started, None, ids.log_id, path=edge.printable(path)
            )
            return await self.responder.respond(
                gateway, ids, headers, body, [refused], universal=False
            )
        if path == f"{COMPAT}/models":
            return Response(dumps(models_list(None)), 200, {**ids.headers(), **JSON_HEADERS})
        tried = await self._attempt(
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
        ids.log_id = tried[-1].log_id
        return await self.responder.respond(gateway, ids, headers, body, tried, universal=False)

    async def rest_chat(self, request: Request) -> Response:
        """`/client/v4/accounts/{acct}/ai/v1/chat/completions`: the REST API.

        https://developers.cloudflare.com/ai-gateway/usage/rest-api/
        """
        return await self._rest(request, "chat/completions")

    async def rest_embeddings(self, request: Request) -> Response:
        """`/client/v4/accounts/{acct}/ai/v1/embeddings`: Workers AI `@cf/` models only.

        https://developers.cloudflare.com/workers-ai/configuration/open-ai-compatibility/
        """
        return await self._rest(request, "embeddings")

    async def _rest(self, request: Request, operation: str) -> Response:
        """A REST API request: the gateway of `cf-aig-gateway-id`, `Authorization: Bearer`.

        Served as the compat call of the same body; the log row keeps the REST path.

        Args:
            request: the request.
            operation: `chat/completions` or `embeddings`, the path after `ai/v1/`.

        Returns:
            The response.

        Raises:
            GatewayRequestError: code 2001 or 2009, from the request head (a response is built of it).
        """
        headers = head(request)
        ids = self.new_ids(headers)
        try:
            gateway = await self.state.gateway(headers.get(Header.GATEWAY_ID) or DEFAULT_GATEWAY_ID)
            if not self.state.token_matches(headers.get("authorization")):
                raise GatewayRequestError(ErrorCode.UNAUTHORIZED)
        except GatewayRequestError as err:
            return error_response(err, ids.headers())
        body = await read_body(request)
        started = time.perf_counter()
        self.state.keep(request, headers, body)
        rest_path = f"ai/v1/{operation}"

        async def refuse(err: GatewayRequestError) -> Response:
            refused = Attempt(None, None, None, err, started, None, ids.log_id, path=rest_path)
            return await self.responder.respond(
                gateway, ids, headers, body, [refused], universal=False
            )

        try:
            edge.request_headers(headers)
            parsed = edge.parse_json(body)
        except edge.NotJson:
            parsed = None
        except edge.EdgeError as err:
            return await refuse(err)
        model = parsed.get("model") if isinstance(parsed, dict) else None
        compat_body = body
        if operation == "embeddings":
            if not (isinstance(model, str) and model.startswith("@cf/")):
                return await refuse(
                    GatewayRequestError(
                        ErrorCode.INVALID_REQUEST,
                        "Invalid request: the REST API serves embeddings of Workers AI models "
                        "('@cf/...'); send other providers' embeddings to the compat endpoint",
                    )
                )
            compat_body = dumps({**(parsed or {}), "model": f"{WORKERS_AI}/{model}"})
        elif model == AUTO_MODEL:
            # https://developers.cloudflare.com/ai-gateway/features/auto-router/
            return await refuse(
                GatewayRequestError(
                    ErrorCode.INVALID_REQUEST,
                    f"Invalid request: the Auto Router ({AUTO_MODEL}) is served on the compat "
                    "endpoint only: POST /v1/{account_id}/{gateway_id}/compat/chat/completions",
                )
            )
        elif isinstance(model, str) and model.lower().startswith(f"{DYNAMIC}/"):
            pass  # resolved against the gateway of `cf-aig-gateway-id` (`_attempt`)
        else:
            provider = rest_provider(model)
            if provider is None:
                return await refuse(GatewayRequestError(ErrorCode.INVALID_PROVIDER))
            slug, rest = provider
            compat_body = dumps({**(parsed or {}), "model": f"{slug}/{rest}"})
        tried = await self._attempt(
            gateway,
            f"{COMPAT}/{operation}",
            "POST",
            headers,
            compat_body,
            "",
            started,
            None,
            ids.log_id,
            log_path=rest_path,
            rest=True,
        )
        ids.log_id = tried[-1].log_id
        return await self.responder.respond(gateway, ids, headers, body, tried, universal=False)

    async def universal(self, request: Request) -> Response:
        """The universal endpoint: steps in order, fallback on error or timeout.

        https://developers.cloudflare.com/ai-gateway/usage/universal/

        Every step is checked (headers, config, provider, endpoint) before the first is
        sent: a bad one refuses the whole request with 400 naming the field.

        Raises:
            EdgeError: a step breaks the edge's rules (a logged 400 response is built of it).
        """
        headers = head(request)
        ids = self.new_ids(headers)
        ids.request_id = self.state.clock.uuid7()
        if not edge.echoable(headers.get(Header.EVENT_ID)):
            ids.event_id = ids.request_id
        try:
            gateway = await self.state.gateway(request.path_params["gateway_id"])
            self.state.authenticate(gateway, headers)
        except GatewayRequestError as err:
            return error_response(err, ids.headers())
        body = await read_body(request)
        started = time.perf_counter()
        self.state.keep(request, headers, body)
        try:
            edge.request_headers(headers)
            steps = edge.parse_json(body, "steps")
        except edge.NotJson:
            steps = None
        except edge.EdgeError as err:
            refused = Attempt(None, None, None, err, started, None, ids.log_id)
            return await self.responder.respond(
                gateway, ids, headers, body, [refused], universal=True
            )
        if isinstance(steps, dict):
            steps = [steps]
        if not isinstance(steps, list) or not steps or not all(isinstance(s, dict) for s in steps):
            malformed = GatewayRequestError(
                ErrorCode.INVALID_REQUEST,
                "Invalid request: the universal endpoint takes a JSON array of steps "
                "{provider, endpoint, headers, config, query}",
            )
            attempted = Attempt(None, None, None, malformed, started, None, ids.log_id)
            return await self.responder.respond(
                gateway, ids, headers, body, [attempted], universal=True
            )
        if len(steps) > Bounds.UNIVERSAL_STEPS_MAX:
            too_many = edge.EdgeError(
                f"the universal endpoint takes at most {Bounds.UNIVERSAL_STEPS_MAX} steps; "
                f"got {len(steps)}"
            )
            refused = Attempt(None, None, None, too_many, started, None, ids.log_id)
            return await self.responder.respond(
                gateway, ids, headers, body, [refused], universal=True
            )
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
                refused = Attempt(
                    None,
                    None,
                    None,
                    err,
                    started,
                    index,
                    ids.log_id,
                    path=edge.printable(f"{provider}/{endpoint}"),
                )
                return await self.responder.respond(
                    gateway, ids, headers, body, [refused], universal=True
                )
            checked.append((provider, endpoint, step_query, step_headers, config))
        tried: list[Attempt] = []
        for index, (step, (provider, endpoint, step_query, step_headers, config)) in enumerate(
            zip(steps, checked, strict=True)
        ):
            step_started = time.perf_counter()
            # step headers > request headers:
            # https://developers.cloudflare.com/ai-gateway/usage/universal/
            merged = {**headers, **step_headers}
            query = step.get("query")
            step_body = dumps(query) if query is not None else b""
            log_id = ids.log_id if index == 0 else self.state.clock.uuid7()
            attempts = await self._attempt(
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
            tried.extend(attempts)
            attempted = attempts[-1]
            outcome = attempted.outcome
            if outcome is not None and outcome.provider_response.ok:
                break
            if attempted.error is not None and attempted.error.code in (ErrorCode.RATE_LIMITED,):
                # a gateway rate limit is not a step failure: no fallback
                # (https://developers.cloudflare.com/ai-gateway/features/rate-limiting/)
                break
        ids.log_id = tried[-1].log_id
        return await self.responder.respond(gateway, ids, headers, body, tried, universal=True)

    async def _attempt(
        self,
        gateway: GatewayRecord,
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
        rest: bool = False,
    ) -> list[Attempt]:
        """The call of one request (or universal step): the attempts its response is built of.

        One attempt, or, for a `dynamic/<route>` the gateway deployed, one per model
        element the route called (`dynamic_exec`).
        """
        attempted = Attempt(None, None, None, None, started, step, log_id, path=log_path or path)
        try:
            if step is None or step == 0:
                await self.state.admit(gateway)
            if path == f"{COMPAT}/chat/completions":
                name = dynamic_route_name(body)
                route = (
                    None
                    if name is None
                    else await self.state.shared.routes.active(gateway.id, name)
                )
                if route is not None:
                    return await self.dynamic.run(
                        gateway,
                        route,
                        headers,
                        body,
                        step=step,
                        log_id=log_id,
                        log_path=attempted.path,
                        config=config,
                    )
                if name is not None:
                    attempted.model = f"{DYNAMIC}/{name}"
                    attempted.opts = RequestOptions.parse(headers, gateway, config)
                    attempted.outcome = Outcome(
                        route_not_owned(gateway.id, name, rest=rest), None, 1
                    )
                    return [attempted]
            elif path.startswith(f"{COMPAT}/") and dynamic_route_name(body) is not None:
                # https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/usage/
                attempted.opts = RequestOptions.parse(headers, gateway, config)
                attempted.error = GatewayRequestError(ErrorCode.INVALID_REQUEST, NOT_CHAT_MESSAGE)
                return [attempted]
            if path == f"{COMPAT}/chat/completions" and AUTO_MODEL.encode() in body:
                body = self._auto_route(headers, body, attempted)
            call = resolve(
                path,
                method,
                headers,
                body,
                query_string,
                passthrough=self.state.upstreams.passthrough.targets,
            )
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
                self.state.upstreams,
                self.state.cache,
                self.state.clock(),
                body,
                timeout_every_attempt=not last_step,
                secrets=self.state.secrets,
            )
        except GatewayRequestError as err:
            attempted.error = err
            if attempted.opts is None:
                try:
                    attempted.opts = RequestOptions.parse(headers, gateway)
                except GatewayRequestError:
                    attempted.opts = None
        return [attempted]

    def _auto_route(self, headers: Mapping[str, str], body: bytes, attempted: Attempt) -> bytes:
        """The body with `cloudflare/auto` replaced by the Auto Router's choice.

        The choice's response headers go to `attempted.extra["route_headers"]`.

        Raises:
            GatewayRequestError: the allow-lists leave no model (400), or a bad body.
        """
        parsed = edge.parse_json(body)
        if not isinstance(parsed, dict) or parsed.get("model") != AUTO_MODEL:
            return body
        chosen, route_headers = self.auto_router.choose(headers, parsed.get("messages"))
        provider, _, model = chosen.partition("/")
        route_headers[Header.PROVIDER] = provider
        route_headers[Header.MODEL] = model
        attempted.extra["route_headers"] = route_headers
        return dumps({**parsed, "model": chosen})
