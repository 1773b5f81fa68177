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
  Gemini); any other path is forwarded to a pass-through upstream, or given a 404 response by the
  mock in its provider's error shape;
- `POST /v1/{account_id}/{gateway_id}` with a JSON array of steps: the universal
  endpoint (https://developers.cloudflare.com/ai-gateway/usage/universal/),
  see `GatewayRoutes.universal`;
- `POST /client/v4/accounts/{account_id}/ai/v1/chat/completions` and `.../ai/v1/embeddings`:
  the REST API shape, with `Authorization: Bearer <token>` (always required) and
  `cf-aig-gateway-id`;
- the management API and the admin routes: `management`.

Choices where Cloudflare's docs are silent (these are the local gateway's choices):

- `compat/embeddings` and `compat/models` are served (docs do not say); the models
  list names one `{compat prefix}/mock` per compat provider. `compat/responses` is not:
  400 with code 7001.
- `dynamic/{route}` runs the version of the gateway's route of that name deployed last
  (the executor, `dynamic_exec`); routes are deployed through the management API
  (`routes_api`), `LocalGateway.deploy_route`, or at start (`cf-aig serve --routes`).
  A name the gateway owns no deployed route of gets what Cloudflare sends for a route
  the gateway does not own
  (https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/usage/): 400 with
  code 2005 on compat; on the REST API (resolved against the gateway of
  `cf-aig-gateway-id`) a 404, in the gateway error shape with code 2005 (Cloudflare
  documents no body). `cloudflare/auto` on the REST API is a 400 naming compat, the only
  endpoint of the Auto Router.
- Compat model prefixes are the slugs and the aliases of core's provider table, so both
  `perplexity/` and `perplexity-ai/`, `grok/` and `xai/` work (the docs name both).
- Log `metadata` is returned as a JSON object (the API schema says string).

- Authentication reads only `cf-aig-authorization: Bearer <token>`; a
  provider `Authorization` header never stands in for it
  (https://developers.cloudflare.com/ai-gateway/configuration/authentication/). Every
  route (provider, universal, REST, management, admin) decides the gateway and the
  token from the request head, before reading the body: a refused request gets its
  response at once, with no `100 Continue` first and nothing of its body read.
- Gateway-made errors (2001, 2008, 2009, 2003, 7001, 2005) use core's body shape
  (Cloudflare documents it only in part, with the guardrail codes:
  https://developers.cloudflare.com/ai-gateway/features/guardrails/set-up-guardrail/).
  Requests rejected before authentication (2001, 2009) are neither logged nor kept in
  `GatewayState.received`; later ones are logged, with `success: false`.
- After authentication and before any upstream call, the request is held to the
  edge's rules (`edge`: header syntax of step headers and config, upstream paths
  without dot segments, strict and bounded JSON); a breach is a logged 400 naming the
  field. `Host`/`Origin` and the transport bounds come first (`listener`).
  404 and 405 outside the routes use the gateway error shape too.
- A request body over 25 MB (the cacheable limit of
  https://developers.cloudflare.com/ai-gateway/reference/limits/; Cloudflare states no
  request limit) is refused with HTTP 413 and the gateway error shape (code 7001,
  `httpCode` 413) as soon as the limit is passed, without reading the rest; not logged.
- Every response carries `cf-aig-log-id` (UUIDv7), `cf-aig-request-id` (the log id for
  single-step requests, its own UUIDv7 on the universal endpoint) and
  `cf-aig-event-id` (the client's, else the request id); universal responses add
  `cf-aig-step`.
- Universal steps fall back on any response that is not 2xx, on a timeout, and on an
  unreachable upstream; each tried step is one log row with its `step` index; the
  response is the first 2xx step, else the last step's error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..core.protocol import ErrorCode, gateway_error_body
from .gateway_routes import GatewayRoutes
from .inbound import BodyLimit
from .listener import HostGuard, HostPolicy
from .management import Management
from .respond import JSON_HEADERS, dumps
from .routes_api import RoutesApi
from .shared_state import SharedStateUnavailable
from .state import GatewayState


async def _not_routed(request: Request, exc: Exception) -> Response:
    """404 and 405 outside the gateway's routes, in the gateway error shape."""
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    text = "Not found: no route of the local gateway has this path"
    if status == 405:
        text = f"Method not allowed: this route does not take {request.method}"
    body = gateway_error_body(ErrorCode.INVALID_REQUEST, f"Invalid request: {text}")
    body["httpCode"] = status
    return Response(dumps(body), status, JSON_HEADERS)


async def _state_unavailable(request: Request, exc: Exception) -> Response:
    """HTTP 503, code 2504, in the gateway error shape: the shared state (Redis) is down."""
    body = gateway_error_body(ErrorCode.STATE_STORE_UNAVAILABLE)
    return Response(dumps(body), 503, JSON_HEADERS)


def build_app(state: GatewayState, hosts: HostPolicy | None = None) -> Any:
    """The ASGI application of one gateway state: both route sets, behind the edge guards.

    Args:
        state: the gateway's state, shared by the provider and the management routes.
        hosts: the `Host` and `Origin` policy (`listener`); loopback only by default.

    Returns:
        The ASGI application (`HostGuard` around `BodyLimit` around Starlette).
    """

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await state.start()
        yield
        await state.close()

    management = Management(state)
    starlette = Starlette(
        routes=[
            *GatewayRoutes(state).routes(),
            *management.routes(),
            *RoutesApi(management).routes(),
        ],
        lifespan=lifespan,
        exception_handlers={
            404: _not_routed,
            405: _not_routed,
            SharedStateUnavailable: _state_unavailable,
        },
    )
    # No 307 to the path without its trailing slash: the redirect would be sent before
    # authentication; a path without a route gets the gateway's 404 instead.
    starlette.router.redirect_slashes = False
    state.app = HostGuard(BodyLimit(starlette, state.clock), hosts or HostPolicy())
    return state.app
