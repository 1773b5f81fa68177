"""`GatewayState`: what one local gateway holds, shared by its two route sets.

The provider routes (`gateway_routes`) and the management and admin routes
(`management`) both depend on this state and on nothing of each other: the gateway
registry, the clock, the scripts, the response cache, the log store, the upstreams,
the tokens and the record of received requests. `app` assembles the Starlette
application from the two route sets.
"""

from __future__ import annotations

import hmac
import json
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from ..core.dynamic_routes import DynamicRoute
from ..core.protocol import LOCAL_ACCOUNT_ID, ErrorCode, Header
from .cache import ResponseCache
from .clock import Clock
from .gateways import GatewayRecord, GatewayRegistry
from .logstore import LogStore
from .pipeline import GatewaySecrets
from .request_error import GatewayRequestError
from .route_store import RouteStore
from .scripts import ScriptBook
from .shared_state import SharedState
from .shared_state.memory import MemorySharedState
from .upstream import Upstreams

RECEIVED_MAX: int = 100_000
"""Requests kept in `GatewayState.received` by default (the oldest go first)."""
RECEIVED_MAX_BYTES: int = 64 * 1024 * 1024
"""Bytes of bodies and headers kept in `GatewayState.received` by default."""


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


class GatewayState:
    """The state of one local gateway: registry, clock, scripts, cache, logs, received.

    What every worker must see alike (gateways, rate-limit counters, routes, scripts) is
    in `shared`; the rest is this process's.

    Args:
        clock: the gateway's clock (tests move it forward).
        registry: the gateways, by id (of the `memory://` shared state built when
            `shared` is not given).
        scripts: what the mock sends next (likewise).
        cache: the response cache.
        logs: the log store.
        upstreams: the mock and the pass-through upstreams.
        token: the gateway token (`cf-aig-authorization`), or None.
        management_token: the bearer token of the management API and admin routes.
        account_id: the account id of the printed URLs (any id is served).
        received_max: requests kept in `received`.
        received_max_bytes: bytes of bodies and headers kept in `received`.
        routes: `(gateway id, route)` deployed by `start`, before any request is served,
            and again by `reset`.
        shared: the shared state (`shared_state.open_shared_state`); by default in memory,
            of `registry` and `scripts`.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        registry: GatewayRegistry | None = None,
        scripts: ScriptBook | None = None,
        cache: ResponseCache,
        logs: LogStore,
        upstreams: Upstreams,
        token: str | None,
        management_token: str | None,
        account_id: str = LOCAL_ACCOUNT_ID,
        received_max: int = RECEIVED_MAX,
        received_max_bytes: int = RECEIVED_MAX_BYTES,
        routes: Sequence[tuple[str, DynamicRoute]] = (),
        shared: SharedState | None = None,
    ) -> None:
        self.clock = clock
        self.shared: SharedState = shared or MemorySharedState(
            registry or GatewayRegistry(clock), RouteStore(clock), scripts or ScriptBook()
        )
        """Gateways, rate-limit counters, routes and scripts (`shared_state`)."""
        self.cache = cache
        self.logs = logs
        self.upstreams = upstreams
        self._start_routes = tuple(routes)
        if isinstance(self.shared, MemorySharedState):
            self.registry = self.shared.registry
            """The gateways of the `memory://` state."""
            self.routes = self.shared.routes.store
            """The dynamic routes of the `memory://` state (`route_store`)."""
            self.scripts = self.shared.scripts.book
            """The scripts of the `memory://` state."""
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
        self.app: Any = None
        """The ASGI application serving this state, once `app.build_app` built it (its
        `routes` list every route)."""

    async def reset(self) -> None:
        """Forget requests, scripts, routes, cache entries and log rows; restore `default`.

        Other gateways are kept (with their rate-limit counters reset); `default` gets
        its start-up settings back, and the routes deployed at start are deployed again,
        so that a test changing them does not leak into the next.
        """
        self.received.clear()
        self._received_bytes = 0
        await self.shared.reset()
        await self.shared.start(self._start_routes)
        await self.cache.clear()
        await self.logs.arun(self.logs.delete(None))
        self.clock.offset = 0.0

    async def start(self) -> None:
        """Make the start-up gateways and routes exist in the shared state (at start-up)."""
        await self.shared.start(self._start_routes)

    async def close(self) -> None:
        """Close the upstream connections, the cache and the shared state (at shutdown)."""
        await self.upstreams.close()
        await self.cache.close()
        await self.shared.close()

    def keep(self, request: Request, headers: dict[str, str], body: bytes) -> None:
        """Append an authenticated request to `received`, within its bounds.

        Only requests that passed authentication are kept, so that a client without
        the token cannot make the gateway hold anything.

        Args:
            request: the Starlette request (its method, path and query).
            headers: its headers, lowercase names.
            body: its body.
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

    async def gateway(self, gateway_id: str) -> GatewayRecord:
        """The gateway of this id, as the shared state holds it now.

        Args:
            gateway_id: the id in the request's path (or `cf-aig-gateway-id`).

        Returns:
            Its record.

        Raises:
            GatewayRequestError: code 2001 (no such gateway); code 2504 when the shared
                state cannot be reached (`SharedStateUnavailable`).
        """
        gateway = await self.shared.gateway(gateway_id)
        if gateway is None:
            raise GatewayRequestError(ErrorCode.GATEWAY_NOT_FOUND)
        return gateway

    def authenticate(self, gateway: GatewayRecord, headers: Mapping[str, str]) -> None:
        """`cf-aig-authorization` against the token, in constant time.

        https://developers.cloudflare.com/ai-gateway/configuration/authentication/

        Args:
            gateway: the gateway asked for.
            headers: the request's headers.

        Raises:
            GatewayRequestError: code 2009, when the gateway has `authentication` on
                and the token is missing or wrong.
        """
        if gateway.authentication and not self.token_matches(headers.get(Header.AUTHORIZATION)):
            raise GatewayRequestError(ErrorCode.UNAUTHORIZED)

    def token_matches(self, value: str | None) -> bool:
        """Whether `value` is `Bearer <gateway token>` (compared in constant time).

        Args:
            value: the header value, or None.

        Returns:
            True when it matches.
        """
        expected = self._token
        given = (value or "").encode("latin-1", "replace")
        # compare_digest on unequal lengths still takes time independent of the content
        return expected is not None and hmac.compare_digest(given, expected)

    def management_token_matches(self, value: str | None) -> bool:
        """Whether `value` is `Bearer <management token>` (compared in constant time).

        Args:
            value: the `Authorization` header value, or None.

        Returns:
            True when it matches.
        """
        expected = self._management_token
        given = (value or "").encode("latin-1", "replace")
        return expected is not None and hmac.compare_digest(given, expected)

    async def admit(self, gateway: GatewayRecord) -> None:
        """Count one request against the gateway's rate limit.

        https://developers.cloudflare.com/ai-gateway/features/rate-limiting/

        Args:
            gateway: the gateway of the request.

        Raises:
            GatewayRequestError: code 2003, when the limit is reached; code 2504 when the
                shared state cannot be reached (`SharedStateUnavailable`).
        """
        if not await self.shared.admit(gateway, self.clock()):
            raise GatewayRequestError(ErrorCode.RATE_LIMITED)
