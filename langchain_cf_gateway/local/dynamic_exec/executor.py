"""The local gateway's executor of `dynamic/<route>`: a route's walk, its model calls.

A request whose model is `dynamic/<route>`, on compat, on the REST API (the gateway of
`cf-aig-gateway-id`) or in a universal step with `provider: "compat"`, is served by the
route that gateway deployed under that name
(https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/usage/):

- only the OpenAI chat completions shape is served (a body with `messages`); another
  shape is refused with HTTP 400, code 7001;
- each model element is a compat chat call through the gateway's pipeline (cache,
  attempts, mock or pass-through upstream; faults and scripts apply), with the element's
  `timeout` on every attempt and `retries` more attempts; each call has its log row,
  the first under the request's log id;
- the response is the last model's, with `cf-aig-model` and `cf-aig-provider` naming
  it; a limiter over its limit without a fallback ends the route with HTTP 429, code 2003
  (`Rate limited`), logged as a row of its own.

Percentage draws are repeatable under `percentage.ROUTE_SEED_HEADER`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ...core.dynamic_routes import DynamicRoute, ModelElement
from ...core.protocol import ErrorCode, Header
from ...core.providers import COMPAT, DYNAMIC, WORKERS_AI
from .. import edge
from ..gateways import GatewayRecord
from ..pipeline import RequestOptions, execute
from ..request_error import GatewayRequestError
from ..resolve import resolve
from ..respond import Attempt, dumps
from ..state import GatewayState
from .conditions import RouteRequest
from .percentage import ROUTE_SEED_HEADER
from .walk import ModelStep, RouteWalker

CHAT_PATH = f"{COMPAT}/chat/completions"

NOT_CHAT_MESSAGE = (
    "Invalid request: a dynamic route serves the OpenAI chat completions shape only "
    "({'model': 'dynamic/<route>', 'messages': [...]}) on compat/chat/completions, the REST "
    "API's ai/v1/chat/completions or a universal step with provider 'compat'"
)


class DynamicExecutor:
    """Runs the deployed routes of one gateway state.

    Args:
        state: The gateway state (clock, upstreams, cache, secrets).
        walker: The walker (its limiter counters and percentage draws).
    """

    def __init__(self, state: GatewayState, walker: RouteWalker | None = None) -> None:
        self.state = state
        self.walker = walker or RouteWalker(shared=state.shared.counters)

    async def run(
        self,
        gateway: GatewayRecord,
        route: DynamicRoute,
        headers: Mapping[str, str],
        body: bytes,
        *,
        step: int | None,
        log_id: str,
        log_path: str,
        config: Mapping[str, Any] | None = None,
    ) -> list[Attempt]:
        """Serve one request with `route`.

        Args:
            gateway: The gateway that owns the route.
            route: The deployed route.
            headers: The request headers (lowercase names).
            body: The request body (its model is `dynamic/<route>`).
            step: The universal step index, or None.
            log_id: The log id of the first row.
            log_path: The path the rows record.
            config: A universal step's `config`.

        Returns:
            One attempt per model call (the last is the response), or one gateway error.
        """
        started = time.perf_counter()
        opts: RequestOptions | None = None
        try:
            opts = RequestOptions.parse(headers, gateway, config)
            parsed = edge.parse_json(body)
        except GatewayRequestError as err:
            return [self._refused(route, err, opts, started, step, log_id, log_path)]
        if not isinstance(parsed, dict) or not isinstance(parsed.get("messages"), list):
            shape = GatewayRequestError(ErrorCode.INVALID_REQUEST, NOT_CHAT_MESSAGE)
            return [self._refused(route, shape, opts, started, step, log_id, log_path)]
        base = opts
        tried: list[Attempt] = []

        async def call_model(element: ModelElement) -> ModelStep:
            attempt = await self._call(
                gateway,
                element,
                headers,
                parsed,
                base,
                step=step,
                log_id=log_id if not tried else self.state.clock.uuid7(),
                log_path=log_path,
            )
            tried.append(attempt)
            outcome = attempt.outcome
            ok = outcome is not None and outcome.provider_response.ok
            if not ok and outcome is not None and outcome.provider_response.chunks is not None:
                close = getattr(outcome.provider_response.chunks, "aclose", None)
                if close is not None:
                    await close()
            cost = 0.0
            if ok and outcome is not None:
                response = outcome.provider_response
                cost = base.cost(response.tokens_in, response.tokens_out)
            return ModelStep(attempt, ok, cost)

        walk = await self.walker.walk(
            route,
            gateway.id,
            RouteRequest.of(headers, parsed),
            call_model,
            self.state.clock,
            headers.get(ROUTE_SEED_HEADER),
        )
        if walk.over_limit is not None or not tried:
            ended = GatewayRequestError(ErrorCode.RATE_LIMITED)
            if walk.over_limit is None:
                ended = GatewayRequestError(
                    ErrorCode.PROVIDER_FAILED,
                    f"Provider request failed: dynamic route '{route.name}' ended before any "
                    "model element: route its start to a model",
                )
            own_id = log_id if not tried else self.state.clock.uuid7()
            tried.append(self._refused(route, ended, opts, started, step, own_id, log_path))
        return tried

    async def _call(
        self,
        gateway: GatewayRecord,
        element: ModelElement,
        headers: Mapping[str, str],
        parsed: dict[str, Any],
        opts: RequestOptions,
        *,
        step: int | None,
        log_id: str,
        log_path: str,
    ) -> Attempt:
        """One model element's call: its timeout on every attempt, `retries` more attempts."""
        model_opts = replace(opts, timeout_ms=element.timeout, max_attempts=element.retries + 1)
        attempt = Attempt(
            None,
            model_opts,
            None,
            None,
            time.perf_counter(),
            step,
            log_id,
            provider=element.provider,
            model=element.model,
            path=log_path,
        )
        compat_model = (
            element.model
            if element.provider == WORKERS_AI and element.model.startswith("@cf/")
            else f"{element.provider}/{element.model}"
        )
        model_body = dumps({**parsed, "model": compat_model})
        try:
            call = resolve(
                CHAT_PATH,
                "POST",
                headers,
                model_body,
                passthrough=self.state.upstreams.passthrough.targets,
            )
            call.log_path = log_path
            attempt.call, attempt.model = call, call.model
            attempt.outcome = await execute(
                call,
                model_opts,
                gateway,
                self.state.upstreams,
                self.state.cache,
                self.state.clock(),
                model_body,
                timeout_every_attempt=True,
                secrets=self.state.secrets,
            )
        except GatewayRequestError as failed:
            err = failed
            if err.message and "timed out" in err.message:
                err = GatewayRequestError(
                    failed.code,
                    f"Provider request failed: model element '{element.id}' "
                    f"({element.provider}/{attempt.model}) timed out after {element.timeout} ms "
                    "(the element's timeout)",
                )
            attempt.error = err
        attempt.extra["route_headers"] = {
            Header.MODEL: attempt.model or element.model,
            Header.PROVIDER: element.provider,
        }
        return attempt

    @staticmethod
    def _refused(
        route: DynamicRoute,
        err: GatewayRequestError,
        opts: RequestOptions | None,
        started: float,
        step: int | None,
        log_id: str,
        log_path: str,
    ) -> Attempt:
        attempt = Attempt(None, opts, None, err, started, step, log_id, path=log_path)
        attempt.model = f"{DYNAMIC}/{route.name}"
        return attempt
