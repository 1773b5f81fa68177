"""`LocalGateway`: the local gateway in a background thread, for tests, notebooks and demos.

```python
from langchain_cf_gateway.local import LocalGateway

with LocalGateway() as gw:
    client = openai.OpenAI(base_url=f"{gw.config().gateway_url}/compat", api_key="k")
    client.chat.completions.create(model="openai/gpt-4o-mini", messages=[...])
    gw.logs()[-1]["tokens_out"]
```
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

import uvicorn

from ..core.config import GatewayConfig
from ..core.dynamic_routes import DynamicRoute
from ..core.protocol import DEFAULT_GATEWAY_ID, LOCAL_ACCOUNT_ID
from .app import build_app
from .cache import open_cache
from .clock import Clock
from .faults import Fault
from .gateways import GatewayRecord
from .listener import (
    DEFAULT_BACKLOG,
    DEFAULT_BODY_TIMEOUT_S,
    DEFAULT_HEAD_TIMEOUT_S,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_HEAD_BYTES,
    EdgeLimits,
    EdgeProtocol,
    HostPolicy,
)
from .logstore import (
    DEFAULT_BODY_MAX_BYTES,
    DEFAULT_COMMIT_TIMEOUT,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_ROWS,
    LogStore,
    LogStoreUnavailable,
    open_log_store,
)
from .mock import ToolCall
from .scripts import Script, make_script
from .shared_state import SharedState, open_shared_state
from .state import GatewayState, ReceivedRequest
from .upstream import PassThrough, UpstreamDisconnect, Upstreams

T = TypeVar("T")


class _QuietDisconnects(logging.Filter):
    """Drop uvicorn's traceback for connections the gateway drops on purpose.

    A disconnect fault, or a stream cut because its log row could not be committed (the
    log store warns once).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        seen: set[int] = set()  # a chain can loop (anyio's groups): walk each link once
        while exc is not None and id(exc) not in seen:
            seen.add(id(exc))
            if isinstance(exc, (UpstreamDisconnect, LogStoreUnavailable)):
                return False
            group = getattr(exc, "exceptions", None)  # an ExceptionGroup from anyio
            exc = group[0] if group else (exc.__cause__ or exc.__context__)
        return True


logging.getLogger("uvicorn.error").addFilter(_QuietDisconnects())


def _new_token() -> str:
    """A random token that never starts with `-`.

    So that it can follow a flag on a command line: `cf-aig serve` prints
    `cf-aig logs --token TOKEN`.
    """
    while (token := secrets.token_urlsafe(24)).startswith("-"):
        pass
    return token


class LocalGateway:
    """A Cloudflare AI Gateway on loopback: start it, point a client at it, read its logs.

    Args:
        host: interface to bind; loopback unless told otherwise.
        port: 0 picks a free port.
        token: the token `cf-aig-authorization: Bearer ...` must carry on gateways with
            `authentication` on (and `Authorization` on the REST API); generated if None.
        management_token: the bearer token of the management API and admin routes;
            generated if None.
        account_id: the account id of `config` (the server accepts any).
        log_path: SQLite file of the logs; `":memory:"` by default.
        log_store: where the logs go, as a URL: `postgresql://user@host:port/db` (one
            log for many gateway processes and hosts), or `sqlite:///FILE`; instead of
            `log_path`. See `logstore.open_log_store`.
        log_max_rows: log rows kept, oldest deleted first (100,000 by default, Cloudflare's
            free-plan limit; 0 keeps every row). See `logstore`.
        log_commit_timeout: seconds a request waits for its row with a `log_path`
            before it gets HTTP 503, code 2503 (10 by default).
        log_body_max_bytes: bytes kept of each logged request or response body (1 MiB
            by default; the row says when a body was cut; 0 keeps whole bodies).
        log_max_body_bytes: bytes of logged bodies kept across rows (256 MiB by
            default); past it the oldest rows lose their bodies. See `logstore`.
        cache_url: `memory://` (default) or `redis://host:port/db`.
        state_url: where the gateways, rate-limit counters, dynamic routes and scripts
            live: `memory://` (default; this process) or `redis://host:port/db`, shared
            by every gateway process using that Redis (`shared_state`).
        upstreams: pass-through upstreams per provider slug.
        gateways: more gateways to create at start, id -> settings.
        clock: a `Clock` (or a callable returning epoch seconds); tests move it
            forward with `gw.clock.advance(seconds)`.
        allowed_hosts: `Host` names served besides loopback (`localhost`,
            `127.0.0.0/8`, `[::1]`) and a specific bound `host`; `["*"]` serves any.
            Others get 421 (DNS rebinding; see `listener`).
        allowed_origins: browser `Origin` values served besides pages on an allowed
            host (`"https://app.example"`, or `"*"`); others get 403.
        max_head_bytes: largest request head (request line and headers); larger gets
            431. Default 64 KiB.
        head_timeout_s: seconds a client has to send a whole request head; then 408 and
            the connection is closed. Default 10.
        max_connections: connections served at once; one past it gets 503 at its first
            request and is closed. Default 500.
        backlog: the listening socket's backlog (connections queued by the kernel).
            Default 2048.
        body_timeout_s: seconds a client has, after the head, to send the whole request
            body; then 408 (if no response was started) and the connection is closed.
            Default 60.
        received_max_bytes: bytes of bodies and headers `received` keeps (the
            oldest requests go first). Default 64 MiB.
        routes: dynamic routes deployed before the server accepts requests (and again
            by `reset`): a `DynamicRoute` serves `dynamic/<name>` on `default`, a
            `(gateway_id, route)` pair on that gateway.

    Raises:
        ValueError: a route is for a gateway that is neither `default` nor in `gateways`.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        management_token: str | None = None,
        account_id: str = LOCAL_ACCOUNT_ID,
        log_path: str = ":memory:",
        log_store: str | None = None,
        log_max_rows: int | None = DEFAULT_MAX_ROWS,
        log_commit_timeout: float = DEFAULT_COMMIT_TIMEOUT,
        log_body_max_bytes: int | None = DEFAULT_BODY_MAX_BYTES,
        log_max_body_bytes: int | None = DEFAULT_MAX_BODY_BYTES,
        cache_url: str | None = None,
        state_url: str | None = None,
        upstreams: Mapping[str, PassThrough | Mapping[str, Any]] | None = None,
        gateways: Mapping[str, Mapping[str, Any]] | None = None,
        clock: Clock | Callable[[], float] | None = None,
        log_level: str = "warning",
        allowed_hosts: Sequence[str] = (),
        allowed_origins: Sequence[str] = (),
        max_head_bytes: int = DEFAULT_MAX_HEAD_BYTES,
        head_timeout_s: float = DEFAULT_HEAD_TIMEOUT_S,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        backlog: int = DEFAULT_BACKLOG,
        body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S,
        received_max_bytes: int = 64 * 1024 * 1024,
        routes: Sequence[DynamicRoute | tuple[str, DynamicRoute]] = (),
    ) -> None:
        self.host = host
        self._port = port
        self.account_id = account_id
        self.gateway_id = DEFAULT_GATEWAY_ID
        self._token = token or _new_token()
        self._management_token = management_token or _new_token()
        self.clock = clock if isinstance(clock, Clock) else Clock(clock) if clock else Clock()
        self._log_path = log_store or log_path
        self._log_max_rows, self._log_commit_timeout = log_max_rows, log_commit_timeout
        self._log_body_bounds = log_body_max_bytes, log_max_body_bytes
        self._cache_url = cache_url
        self._state_url = state_url
        self._targets = {
            slug: t if isinstance(t, PassThrough) else PassThrough(**dict(t))
            for slug, t in (upstreams or {}).items()
        }
        self._initial_gateways = dict(gateways or {})
        self._initial_routes = [
            (DEFAULT_GATEWAY_ID, r) if isinstance(r, DynamicRoute) else r for r in routes
        ]
        for gateway_id, route in self._initial_routes:
            if gateway_id != DEFAULT_GATEWAY_ID and gateway_id not in self._initial_gateways:
                raise ValueError(
                    f"route {route.name!r} is for gateway {gateway_id!r}, which is not "
                    "created at start: add it to gateways="
                )
        self._log_level = log_level
        self._hosts = HostPolicy.of(allowed_hosts, allowed_origins, bound=host)
        self._limits = EdgeLimits(
            max_head_bytes, head_timeout_s, max_connections, backlog, body_timeout_s
        )
        self._received_max_bytes = received_max_bytes
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: GatewayState | None = None

    def __repr__(self) -> str:
        state = self.base_url if self._server is not None else "stopped"
        return f"LocalGateway({state})"

    # ------------------------------------------------------------------ lifecycle

    def _open_stores(self) -> tuple[SharedState, LogStore]:
        """The shared state (Redis answered a ping) and the log store (connected, migrated)."""
        shared = open_shared_state(self._state_url, self.clock, self._initial_gateways)
        logs = open_log_store(
            self._log_path,
            max_rows=self._log_max_rows,
            commit_timeout=self._log_commit_timeout,
            body_max_bytes=self._log_body_bounds[0],
            max_body_bytes=self._log_body_bounds[1],
        )
        return shared, logs

    def check_stores(self) -> None:
        """Open the shared state and the log store as `start` does, then close them.

        `cf-aig serve --workers N` checks them so before it starts any worker: a store
        it cannot use stops the start once, as with one process.

        Raises:
            ConfigError: Redis does not answer (naming `--state-url`), the database
                cannot be reached or its schema is newer (naming `--log-store`).
            ValueError: a log store bound out of range, a `state_url` of another scheme.
        """
        _, logs = self._open_stores()
        logs.close()

    def _assemble(self) -> GatewayState:
        """The gateway's state: its shared state and log store opened."""
        shared, logs = self._open_stores()
        return GatewayState(
            clock=self.clock,
            cache=open_cache(self._cache_url, self.clock),
            logs=logs,
            upstreams=Upstreams(self.clock, shared.scripts, self._targets),
            token=self._token,
            management_token=self._management_token,
            account_id=self.account_id,
            received_max_bytes=self._received_max_bytes,
            routes=self._initial_routes,
            shared=shared,
        )

    def bind(self) -> socket.socket:
        """A socket bound to `host` and `port` (a free one for 0, then kept in `port`).

        Returns:
            The bound socket, not yet listening: the server listens on it.
        """
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted sockets inherit it (Linux): without it the response body, written after
        # the head, waits for the client's delayed ACK, ~40 ms per request.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self._port))
        self._port = sock.getsockname()[1]
        return sock

    def worker_app(self) -> tuple[Any, type[EdgeProtocol]]:
        """The ASGI application and uvicorn protocol class of one worker process.

        `cf-aig serve --workers N` runs one per worker (uvicorn's multi-process
        supervisor); `stop` closes the log store it opens.

        Returns:
            The application and the protocol class enforcing the edge limits.
        """
        self._running = self._assemble()
        return build_app(self._running, self._hosts), self._limits.protocol()

    def start(self) -> LocalGateway:
        """Start the server in a background thread; returns once it accepts connections.

        Raises:
            RuntimeError: the server did not start (the cause in the message).
        """
        if self._server is not None:
            return self
        self._running = self._assemble()
        sock = self.bind()
        config = uvicorn.Config(
            build_app(self._running, self._hosts),
            log_level=self._log_level,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
            http=self._limits.protocol(),
            backlog=self._limits.backlog,
        )
        self._server = uvicorn.Server(config)
        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            async def main() -> None:
                self._loop = asyncio.get_running_loop()
                assert self._server is not None
                task = asyncio.create_task(self._server.serve(sockets=[sock]))
                while not self._server.started and not task.done():
                    await asyncio.sleep(0.005)
                started.set()
                await task

            # uvloop when installed (uvicorn's "auto"), as `uvicorn` itself would run.
            factory = config.get_loop_factory()
            loop = factory() if factory is not None else asyncio.new_event_loop()
            try:
                loop.run_until_complete(main())
            except BaseException as exc:
                failure.append(exc)
            finally:
                loop.close()
                started.set()

        self._thread = threading.Thread(target=serve, name="cf-aig-local-gateway", daemon=True)
        self._thread.start()
        started.wait(timeout=30)
        if failure or not self._server.started:
            self.stop()
            raise RuntimeError(
                f"the local gateway did not start: {failure[0] if failure else 'timeout'}"
            )
        return self

    def stop(self) -> None:
        """Stop the server and close the log store."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
        if self._running is not None:
            self._running.logs.close()
        self._server = self._thread = self._loop = None

    def __enter__(self) -> LocalGateway:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        """The port the server listens on (the one picked when 0 was given)."""
        return self._port

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`: the host root (give it to `GatewayConfig.base_url`)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    @property
    def gateway_url(self) -> str:
        """`{base_url}/v1/{account_id}/default`."""
        return f"{self.base_url}/v1/{self.account_id}/{self.gateway_id}"

    @property
    def token(self) -> str:
        """The gateway token (for gateways with `authentication` on)."""
        return self._token

    @property
    def management_token(self) -> str:
        """The bearer token of the management API and the admin routes."""
        return self._management_token

    def config(self, **overrides: Any) -> GatewayConfig:
        """A core `GatewayConfig` pointing at this gateway (token included).

        `overrides` replace fields: `gw.config(gateway_id="secure", token=None)`.
        """
        fields: dict[str, Any] = {
            "account_id": self.account_id,
            "gateway_id": self.gateway_id,
            "token": self._token,
            "base_url": self.base_url,
        }
        fields.update(overrides)
        return GatewayConfig(**fields)

    # ------------------------------------------------------------------ state

    @property
    def _state(self) -> GatewayState:
        if self._running is None:
            raise RuntimeError("the local gateway is not running: use `with LocalGateway() as gw:`")
        return self._running

    @property
    def received(self) -> list[ReceivedRequest]:
        """Every request the server received since start or `reset`, in order."""
        return list(self._state.received)

    def logs(self, gateway_id: str | None = None) -> list[dict[str, Any]]:
        """Log rows, oldest first, of one gateway or (None) of all; as the logs API shows them."""
        rows, _ = self._state.logs.run(self._state.logs.select(gateway_id))
        return rows

    def script(
        self,
        text: str | None = None,
        *,
        tool_calls: Sequence[Mapping[str, Any] | ToolCall] | None = None,
        fault: str | Fault | None = None,
        model: str | None = None,
        provider: str | None = None,
        times: int | None = 1,
    ) -> Script:
        """Tell the mock what the next matching request(s) get (see `scripts`)."""
        script = make_script(
            text, tool_calls=tool_calls, fault=fault, model=model, provider=provider, times=times
        )
        return self._call(self._state.shared.scripts.add(script))

    def create_gateway(self, gateway_id: str, **settings: Any) -> GatewayRecord:
        """Create a gateway (`authentication=True`, `cache_ttl=60`, rate limits...).

        An existing gateway of that id is replaced, so that tests sharing one server can
        each create the gateway they need.
        """
        shared = self._state.shared

        async def create() -> GatewayRecord:
            await shared.delete_gateway(gateway_id)
            return await shared.create_gateway(gateway_id, settings)

        return self._call(create())

    def deploy_route(self, route: DynamicRoute, gateway_id: str = DEFAULT_GATEWAY_ID) -> None:
        """Make `route` serve `dynamic/<route.name>` on gateway `gateway_id`.

        Args:
            route: the route (`DynamicRoute`, built or read with `DynamicRoute.from_api`).
            gateway_id: the gateway that owns it (`default` unless given).
        """
        self._call(self._state.shared.routes.deploy(gateway_id, route))

    def update_gateway(self, gateway_id: str, **settings: Any) -> GatewayRecord:
        """Change the given settings and keep the others.

        As `GatewayClient.update_gateway` does over HTTP: the gateway as it is, plus the
        changes, replaces it (a management API PUT replaces the whole gateway).

        Raises:
            ValueError: there is no gateway of this id.
        """
        shared = self._state.shared

        async def update() -> GatewayRecord | None:
            current = await shared.gateway(gateway_id)
            if current is None:
                return None
            return await shared.replace_gateway(gateway_id, {**current.as_dict(), **settings})

        gateway = self._call(update())
        if gateway is None:
            raise ValueError(f"no gateway {gateway_id!r}; create it with create_gateway()")
        return gateway

    def reset(self) -> None:
        """Forget received requests, scripts, cache entries and log rows.

        Gateways created since start are kept, with their rate-limit counters reset;
        `default` gets its start-up settings back (recreated if deleted); the clock's
        offset goes back to 0.
        """
        self._call(self._state.reset())

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the server's loop and wait for it.

        Raises:
            RuntimeError: the gateway is not running.
        """
        if self._loop is None:
            raise RuntimeError("the local gateway is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)
