"""`redis://`: the shared state in Redis, so that every worker and host is one gateway.

Keys, all under `STATE_PREFIX` (`cf-aig:state:`):

| key | type | holds |
| --- | --- | --- |
| `gateways` | hash | gateway id -> the record's JSON (`codec.dump_gateway`) |
| `gateways:order` | string | the number of gateways created so far (their order) |
| `gateways:config` | hash | start-up gateway id -> digest of the config file's settings it was made from |
| `rate:<id>:<internal id>:fixed:<window start>` | string | requests admitted in that window |
| `rate:<id>:<internal id>:sliding` | sorted set | one member per admitted request, scored by its time |
| `routes:<id>` | string | the gateway's dynamic routes, versions and deployments (JSON) |
| `limit:<key>:fixed:<window start>` | string | a limiter element's count or cost in that window |
| `limit:<key>:sliding` | sorted set | `<random>:<amount>` per count or cost, scored by its time |
| `scripts` | list | the scripts in order (`codec.dump_script`) |
| `scripts:used` | hash | script id -> attempts it served |
| `started` | string | set once the start-up gateways and routes are made (`gateway`) |

Rate limits (https://developers.cloudflare.com/ai-gateway/features/rate-limiting/) are
counted by one Lua script per request, so that with a limit of L, workers sending at
once admit exactly L per window: `fixed` windows aligned to multiples of the interval,
`sliding` the requests of the last `interval` seconds, as `GatewayRecord.admit`. The
time is the admitting worker's clock. A script's use is taken by another Lua script, so
`times=N` serves exactly N attempts across workers. Settings and routes are read from
Redis by every request (no copy in the process outlives it); a change of routes or of a
gateway is a WATCH/MULTI transaction, retried when another worker changed them first.

A start-up gateway (the config file's `[gateways.<id>]`) that Redis already holds is left
as it is while the file's settings for it are unchanged, so that a change made through
the management API survives a worker's restart; when they changed since it was made from
them (a redeploy with a new file, Redis persisted), the file's settings replace its own,
and one warning names the gateway and the settings that changed (never their values).

Redis unreachable or slower than `REDIS_TIMEOUT_S`: the request gets HTTP 503, code
2504 (`SharedStateUnavailable`), a warning is logged once per outage, and the next
request tries again (redis-py opens a new connection). Once Redis answers again, every
request is served: a pooled connection the old server closed is made again and its
command sent once more (`open_client`), instead of failing once per connection.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Final, TypeVar

import redis
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, RedisError, WatchError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ...core.credentials import mask_url
from ...core.dynamic_routes import DynamicRoute
from ...core.errors import ConfigError
from ...core.protocol import DEFAULT_GATEWAY_ID
from ..clock import Clock
from ..gateways import (
    GatewayExists,
    GatewayRecord,
    changed_settings,
    new_gateway,
    replace_settings,
    validate_settings,
)
from ..route_store import RouteStore
from ..scripts import Script
from .base import STATE_PREFIX, Routes, SharedStateUnavailable, StoreUnreachable
from .codec import (
    dump_gateway,
    dump_routes,
    dump_script,
    load_gateway,
    load_routes,
    load_script,
    settings_fingerprint,
)
from .lua import ADMIT_FIXED, ADMIT_SLIDING, LIMIT_COUNT, TAKE_SCRIPT

logger = logging.getLogger(__name__)
T = TypeVar("T")

REDIS_TIMEOUT_S: Final = 1.0
"""Seconds a Redis call may take before the request gets HTTP 503, code 2504."""
GATEWAYS: Final = STATE_PREFIX + "gateways"
ROUTES: Final = STATE_PREFIX + "routes:"
RATE: Final = STATE_PREFIX + "rate:"
SCRIPTS: Final = STATE_PREFIX + "scripts"
LIMIT: Final = STATE_PREFIX + "limit:"
SCRIPTS_USED: Final = STATE_PREFIX + "scripts:used"
GATEWAYS_ORDER: Final = STATE_PREFIX + "gateways:order"
GATEWAYS_CONFIG: Final = STATE_PREFIX + "gateways:config"
STARTED: Final = STATE_PREFIX + "started"


def open_client(url: str, timeout_s: float = REDIS_TIMEOUT_S) -> redis.asyncio.Redis:
    """The gateway's asyncio client of the Redis at `url` (shared state and cache alike).

    A call waits at most `timeout_s` (connecting, then each reply). A call that meets a
    connection error (a pooled connection closed by a Redis that restarted, a refused
    connect) is sent once more on a new connection; a timeout is not retried, so a Redis
    that hangs costs one `timeout_s` per call.

    Args:
        url: `redis://host:port/db` (`rediss://`, `unix://`).
        timeout_s: seconds a connect or a reply may take.

    Returns:
        The client; its pool connects on first use.
    """
    # The one retry also resends the Lua scripts that count (rate limits, limiter
    # budgets, a script's uses). After a restart that is exact: the command went to a
    # socket of the old server, which never ran it. Only a connection lost after Redis
    # ran a command and before its reply came counts it twice: a rate limit then refuses
    # one request early and never admits one too many, a script loses one use. That is
    # better than every pooled connection answering one 503 after each restart.
    return redis.asyncio.Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )


def check_reachable(url: str) -> None:
    """Ping Redis once, before serving: a one-line error naming the URL and the flag.

    Args:
        url: the `--state-url`.

    Raises:
        StoreUnreachable: Redis does not answer the ping (a `ConfigError`).
        ConfigError: Redis refuses it (a wrong password, say).
    """
    client = redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
    )
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        # A wrong password is a refusal; a refused or timed-out connection may pass.
        unreachable = isinstance(exc, (RedisConnectionError, RedisTimeoutError, OSError))
        refused = isinstance(exc, AuthenticationError) or not unreachable
        raise (ConfigError if refused else StoreUnreachable)(
            f"cannot reach the shared state at {mask_url(url)} (--state-url): "
            f"{type(exc).__name__}; start Redis there, or pass --state-url memory:// "
            "for one worker"
        ) from None
    finally:
        client.close()


class _Outage:
    """Turns a Redis failure into `SharedStateUnavailable`; says so once per outage."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.down = False

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            if self.down:
                self.down = False
                logger.warning("shared state at %s is back", mask_url(self.url))
            return
        if isinstance(exc, (RedisError, OSError, TimeoutError)):
            if not self.down:
                self.down = True
                logger.warning(
                    "shared state at %s is unreachable (%s): requests get HTTP 503, code "
                    "2504, until it is back",
                    mask_url(self.url),
                    type(exc).__name__,
                )
            raise SharedStateUnavailable(
                f"shared state unreachable ({type(exc).__name__})"
            ) from exc


class RedisRoutes(Routes):
    """`Routes` in Redis: one JSON document per gateway, changed in a transaction."""

    def __init__(self, client: redis.asyncio.Redis, clock: Clock, outage: _Outage) -> None:
        self._client = client
        self._clock = clock
        self._outage = outage
        self._read: dict[str, tuple[Any, RouteStore]] = {}
        """Gateway id -> the document last read and its store (parsed once per change)."""

    def _store(self, gateway_id: str, raw: Any) -> RouteStore:
        store = RouteStore(self._clock)
        if raw is not None:
            store.load(load_routes(raw))
        return store

    async def _apply(self, gateway_id: str, change: Callable[[RouteStore], T], write: bool) -> T:
        key = ROUTES + gateway_id
        with self._outage:
            if not write:
                raw = await self._client.get(key)
                seen = self._read.get(gateway_id)
                if seen is None or seen[0] != raw:
                    seen = self._read[gateway_id] = (raw, self._store(gateway_id, raw))
                return change(seen[1])
            async with self._client.pipeline(transaction=True) as pipe:
                while True:
                    try:
                        await pipe.watch(key)
                        store = self._store(gateway_id, await pipe.get(key))
                        result = change(store)
                        pipe.multi()  # type: ignore[no-untyped-call]
                        pipe.set(key, dump_routes(store.routes_of(gateway_id)))
                        await pipe.execute()
                        return result
                    except WatchError:
                        continue  # another worker changed them first: read them again

    async def delete_gateway(self, gateway_id: str) -> None:
        """Forget every route of a deleted gateway."""
        with self._outage:
            await self._client.delete(ROUTES + gateway_id)

    async def clear(self) -> None:
        """Forget every route of every gateway."""
        with self._outage:
            await _delete_matching(self._client, ROUTES + "*")


class RedisScripts:
    """`Scripts` in Redis: a list in order and a hash of uses, taken by a Lua script."""

    def __init__(self, client: redis.asyncio.Redis, outage: _Outage) -> None:
        self._client = client
        self._outage = outage
        self._take = client.register_script(TAKE_SCRIPT)

    async def add(self, script: Script) -> Script:
        """Queue a script; returns it."""
        with self._outage:
            await self._client.rpush(SCRIPTS, dump_script(script, os.urandom(12).hex()))
        return script

    async def take(self, provider: str, model: str, *, policy: bool = False) -> Script | None:
        """The first live script matching, with one use consumed (atomically), or None."""
        with self._outage:
            taken = await self._take(
                keys=[SCRIPTS, SCRIPTS_USED], args=[provider, model, "1" if policy else "0"]
            )
        if not taken:
            return None
        raw, used = taken
        return load_script(raw, int(used))

    async def pending(self) -> list[Script]:
        """The scripts not used up yet, in order."""
        with self._outage:
            raws = await self._client.lrange(SCRIPTS, 0, -1)
            used = await self._client.hgetall(SCRIPTS_USED)
        scripts = []
        for raw in raws:
            script_id = json.loads(raw)["id"].encode()
            script = load_script(raw, int(used.get(script_id, 0)))
            if not script.exhausted:
                scripts.append(script)
        return scripts

    async def clear(self) -> None:
        """Forget every script."""
        with self._outage:
            await self._client.delete(SCRIPTS, SCRIPTS_USED)


class RedisCounters:
    """`Counters` in Redis: one Lua script per count, so every worker counts alike."""

    def __init__(self, client: redis.asyncio.Redis, outage: _Outage) -> None:
        self._outage = outage
        self._run = client.register_script(LIMIT_COUNT)

    async def _call(
        self, op: str, key: str, technique: str | None, window_s: float, now: float, value: float
    ) -> float:
        if technique == "sliding":
            counter = f"{LIMIT}{key}:sliding"
        else:
            technique = "fixed"
            counter = f"{LIMIT}{key}:fixed:{now - (now % window_s)!r}"
        args = [op, technique, repr(window_s), repr(now), repr(value), os.urandom(8).hex()]
        with self._outage:
            return float(await self._run(keys=[counter], args=args))

    async def admit(
        self, key: str, technique: str | None, window_s: float, now: float, limit: float
    ) -> bool:
        """Count one request if fewer than `limit` were counted (a count limiter)."""
        return bool(await self._call("admit", key, technique, window_s, now, limit))

    async def spent(self, key: str, technique: str | None, window_s: float, now: float) -> float:
        """What was counted under `key` in its current window."""
        return await self._call("spent", key, technique, window_s, now, 0.0)

    async def add(
        self, key: str, technique: str | None, window_s: float, now: float, amount: float
    ) -> None:
        """Add `amount` (a response's cost) to the counter."""
        await self._call("add", key, technique, window_s, now, amount)


async def _delete_matching(client: redis.asyncio.Redis, pattern: str) -> None:
    keys = [k async for k in client.scan_iter(match=pattern, count=1000)]
    if keys:
        await client.delete(*keys)


class RedisSharedState:
    """`redis://host:port/db`: the state of every worker and host pointing at this Redis.

    Args:
        url: the `--state-url`.
        clock: the worker's clock (stamps records; the time of its rate-limit counts).
        default_settings: the settings of `default` at start (and after `reset`), as the
            config file names them; a `default` Redis holds already gets them only when
            they changed since it was made from them (`start`). None: the file does not
            name `default`, which is made with the built-in settings when Redis lacks it
            and otherwise left as Redis holds it.
        gateways: more gateways made at start, as a named `default` is.
    """

    def __init__(
        self,
        url: str,
        clock: Clock,
        default_settings: Mapping[str, Any] | None = None,
        gateways: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.url = url
        self._clock = clock
        self._default_settings = dict(default_settings or {})
        self._default_named = default_settings is not None
        self._gateways = {k: dict(v) for k, v in (gateways or {}).items()}
        self._client = open_client(url)
        self._outage = _Outage(url)
        self._start_routes: tuple[tuple[str, DynamicRoute], ...] = ()
        self.routes = RedisRoutes(self._client, clock, self._outage)
        self.scripts = RedisScripts(self._client, self._outage)
        self.counters = RedisCounters(self._client, self._outage)
        self._fixed = self._client.register_script(ADMIT_FIXED)
        self._sliding = self._client.register_script(ADMIT_SLIDING)

    def __repr__(self) -> str:
        return f"RedisSharedState({mask_url(self.url)!r})"

    async def start(self, routes: tuple[tuple[str, DynamicRoute], ...]) -> None:
        """Create the start-up gateways and deploy the start-up routes that are missing.

        A start-up gateway Redis holds already keeps its settings (changes made through
        the management API included) unless the config file's settings for it changed
        since it was made from them: then they replace its own (`_start_gateway`).
        Every worker does it as it starts, under one Redis lock, so N workers deploy
        each route once; and again when Redis is back after an outage (it may have
        restarted empty).
        """
        self._start_routes = routes
        with self._outage:
            async with self._client.lock(STATE_PREFIX + "start", timeout=30, blocking_timeout=30):
                await self._start_gateway(
                    DEFAULT_GATEWAY_ID, self._default_settings, replace=self._default_named
                )
                for gateway_id, settings in self._gateways.items():
                    await self._start_gateway(gateway_id, settings)
                for gateway_id, route in routes:
                    if await self.routes.active(gateway_id, route.name) != route:
                        await self.routes.deploy(gateway_id, route)

    async def _start_gateway(
        self, gateway_id: str, settings: Mapping[str, Any], *, replace: bool = True
    ) -> None:
        """Make one start-up gateway, with the digest of `settings`, in one transaction.

        Absent: created. Present, without `replace` (the config file does not name it):
        left as it is, whatever made it. Present and made from these settings: left as it is. Present and
        made from other settings (or from unknown ones, by a version that kept no digest)
        and differing from `settings`: its settings become `settings` as `replace_gateway`
        makes them (id, creation time and rate-limit counters kept), with one warning
        naming the settings that differed.
        """
        values = validate_settings(dict(settings))
        fingerprint = settings_fingerprint(values)
        async with self._client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(GATEWAYS, GATEWAYS_CONFIG)
                    raw = await pipe.hget(GATEWAYS, gateway_id)
                    if raw is not None and (
                        not replace
                        or await pipe.hget(GATEWAYS_CONFIG, gateway_id) == fingerprint.encode()
                    ):
                        return
                    changed: list[str] = []
                    if raw is None:
                        record = new_gateway(self._clock, gateway_id, values)
                        order = await pipe.incr(GATEWAYS_ORDER)
                    else:
                        record, order = load_gateway(raw)
                        changed = changed_settings(
                            record, new_gateway(self._clock, gateway_id, values)
                        )
                        if changed:
                            replace_settings(record, self._clock, values)
                    pipe.multi()  # type: ignore[no-untyped-call]
                    if raw is None or changed:
                        pipe.hset(GATEWAYS, gateway_id, dump_gateway(record, order))
                    pipe.hset(GATEWAYS_CONFIG, gateway_id, fingerprint)
                    await pipe.execute()
                    break
                except WatchError:
                    continue  # a gateway changed meanwhile: compare again
        if changed:
            logger.warning(
                "start-up gateway %r in the shared state differs from the config file in %s: "
                "the config file's settings replace it",
                gateway_id,
                ", ".join(changed),
            )

    async def gateway(self, gateway_id: str) -> GatewayRecord | None:
        """The gateway of this id, as Redis holds it now, or None.

        A Redis that lost the state (restarted empty, flushed) gets the start-up
        gateways and routes again (`start`) before the gateway is read: every request
        of a Redis back from an outage finds `default`, whether or not a request met
        the outage.
        """
        raw = await self._read_started(lambda pipe: pipe.hget(GATEWAYS, gateway_id))
        return None if raw is None else load_gateway(raw)[0]

    async def gateways(self) -> list[GatewayRecord]:
        """Every gateway, in creation order (the start-up ones made again, as `gateway`)."""
        raws = await self._read_started(lambda pipe: pipe.hvals(GATEWAYS))
        loaded = sorted((load_gateway(raw) for raw in raws), key=lambda pair: pair[1])
        return [record for record, _ in loaded]

    async def _read_started(self, read: Callable[[Any], Any]) -> Any:
        """What `read` queues on a pipeline, once the start-up state is in Redis.

        `started` is set once `start` has run and never deleted, so its absence means
        Redis lost the state (or this is the first request); it is read in the same
        round trip as `read`. When absent, `start` runs and `read` is sent again.
        """
        value, started = await self._with_started(read)
        if not started:
            await self.start(self._start_routes)
            with self._outage:  # only now: a request seeing it finds the start-up state
                await self._client.set(STARTED, b"1")
            value, _ = await self._with_started(read)
        return value

    async def _with_started(self, read: Callable[[Any], Any]) -> tuple[Any, bool]:
        with self._outage:
            async with self._client.pipeline(transaction=False) as pipe:
                read(pipe)
                pipe.exists(STARTED)
                value, started = await pipe.execute()
        return value, bool(started)

    async def _put_new(self, record: GatewayRecord, *, replace: bool = False) -> bool:
        order = await self._client.incr(GATEWAYS_ORDER)
        if replace:
            await self._client.hset(GATEWAYS, record.id, dump_gateway(record, order))
            return True
        return bool(await self._client.hsetnx(GATEWAYS, record.id, dump_gateway(record, order)))

    async def create_gateway(self, gateway_id: str, settings: Mapping[str, Any]) -> GatewayRecord:
        """A new gateway, unless a worker created one of that id first.

        Raises:
            GatewayExists: the id is taken (by another worker, maybe a moment ago).
            ValueError: a setting is out of bounds.
        """
        record = new_gateway(self._clock, gateway_id, settings)
        with self._outage:
            created = await self._put_new(record)
        if not created:
            raise GatewayExists(gateway_id)
        return record

    async def replace_gateway(
        self, gateway_id: str, settings: Mapping[str, Any]
    ) -> GatewayRecord | None:
        """`PUT gateways/{id}` (`gateways.replace_settings`), in a transaction.

        Raises:
            ValueError: a setting is out of bounds.
        """
        values = validate_settings(dict(settings))
        with self._outage:
            async with self._client.pipeline(transaction=True) as pipe:
                while True:
                    try:
                        await pipe.watch(GATEWAYS)
                        raw = await pipe.hget(GATEWAYS, gateway_id)
                        if raw is None:
                            return None
                        record, order = load_gateway(raw)
                        replace_settings(record, self._clock, values)
                        pipe.multi()  # type: ignore[no-untyped-call]
                        pipe.hset(GATEWAYS, gateway_id, dump_gateway(record, order))
                        await pipe.execute()
                        return record
                    except WatchError:
                        continue

    async def delete_gateway(self, gateway_id: str) -> GatewayRecord | None:
        """Remove a gateway; the removed one, or None."""
        with self._outage:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.hget(GATEWAYS, gateway_id)
                pipe.hdel(GATEWAYS, gateway_id)
                raw, _ = await pipe.execute()
        return None if raw is None else load_gateway(raw)[0]

    async def admit(self, gateway: GatewayRecord, now: float) -> bool:
        """Count one request against the gateway's rate limit, atomically; False when over.

        https://developers.cloudflare.com/ai-gateway/features/rate-limiting/
        """
        limit, interval = gateway.rate_limiting_limit, gateway.rate_limiting_interval
        if not limit or not interval:
            return True
        base = f"{RATE}{gateway.id}:{gateway.internal_id}"
        with self._outage:
            if gateway.rate_limiting_technique == "sliding":
                member = os.urandom(8).hex()
                admitted = await self._sliding(
                    keys=[f"{base}:sliding"],
                    args=[limit, repr(now), repr(now - interval), member, interval + 1],
                )
            else:
                start = int(now - (now % interval))
                admitted = await self._fixed(
                    keys=[f"{base}:fixed:{start}"], args=[limit, interval + 1]
                )
        return bool(admitted)

    async def reset(self) -> None:
        """Scripts, routes and rate-limit counters forgotten; `default` as at start."""
        with self._outage:
            await self._client.delete(SCRIPTS, SCRIPTS_USED)
            await _delete_matching(self._client, ROUTES + "*")
            await _delete_matching(self._client, RATE + "*")
            await _delete_matching(self._client, LIMIT + "*")
            record = new_gateway(self._clock, DEFAULT_GATEWAY_ID, self._default_settings)
            await self._put_new(record, replace=True)
            fingerprint = settings_fingerprint(validate_settings(dict(self._default_settings)))
            await self._client.hset(GATEWAYS_CONFIG, DEFAULT_GATEWAY_ID, fingerprint)

    async def close(self) -> None:
        """Close the Redis connections."""
        await self._client.aclose()
