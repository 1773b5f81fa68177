"""The response cache (https://developers.cloudflare.com/ai-gateway/features/caching/).

Keys, entries, and the memory and Redis stores.

Choices where Cloudflare's docs are silent (this is the local gateway's choice):

- The key is SHA-256 over the gateway id, provider slug, endpoint (method, gateway path
  and upstream path), model, a keyed digest of every credential the request carries
  and the request body, each separated by a NUL byte. Cloudflare keys on "the provider
  auth header"; we take every credential (any auth header, credential query keys such
  as Google's `?key=`, `cf-aig-byok-alias`), since a compat client sends
  `Authorization` to every provider. `cf-aig-cache-key` replaces the model and the
  body only: an entry under a custom key is still never served to another credential
  or another endpoint. The credential itself is never stored, only its HMAC.
- TTL: `cf-aig-cache-ttl` (60 s to 30 days, else HTTP 400 code 7001), else the gateway's
  `cache_ttl`; a request with `cf-aig-cache-key` on a gateway without caching gets
  300 s (https://developers.cloudflare.com/ai-gateway/features/caching/).
- Only 2xx responses to non-streamed requests are stored. **Streamed requests
  (`"stream": true`) are neither served from nor written to the cache** and get no
  `cf-aig-cache-status` ("Streaming responses are not cached by default",
  https://developers.cloudflare.com/ai-gateway/reference/troubleshooting/).
- `cf-aig-skip-cache: true` neither reads nor writes; the response says `MISS`.
- A gateway update (management API `PUT`) with `cache_invalidate_on_update: true`
  invalidates that gateway's entries (Cloudflare's docs leave the semantics open): a generation
  number in the key moves on, and the old entries expire unread.
- Bodies above 25 MB are not cached.
- A pooled connection closed by a Redis that restarted is made again and its call sent
  once more, so the cache answers as soon as Redis does.
- Redis down (or slower than 1 s) is a cache miss, never an error: the request goes to
  the upstream, the response says `MISS`, and a warning is logged once per outage. A
  failed call opens a circuit breaker: for `REDIS_BACKOFF_S` the cache is not
  called at all, so a Redis that accepts connections and never responds costs one
  timeout per back-off period, not one per request; then one call (a single probe,
  the others still bypass) tries again.
  Expiry follows the server's `Clock`, so tests move time forward instead of
  sleeping; Redis also expires entries itself. URLs in warnings show no password.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from ..core.credentials import mask_url
from .clock import Clock

logger = logging.getLogger(__name__)

REDIS_TIMEOUT_S: Final = 1.0
"""Seconds a Redis call may take before the request goes on without the cache."""
REDIS_BACKOFF_S: Final = 30.0
"""Seconds the cache is bypassed after a failed Redis call (the circuit breaker is open)."""
CUSTOM_KEY_TTL_S: Final = 300
"""TTL of a `cf-aig-cache-key` entry when neither the request nor the gateway sets one."""
MEMORY_MAX_ENTRIES: Final = 100_000


def cache_key(
    gateway_id: str,
    provider: str,
    endpoint: str,
    model: str,
    credentials: str,
    body: bytes,
    custom_key: str | None = None,
) -> str:
    """The entry key of a request (module docstring; https://developers.cloudflare.com/ai-gateway/features/caching/).

    `credentials` is the keyed digest of every credential of the request, never a
    credential itself; `custom_key` (`cf-aig-cache-key`) replaces `model` and
    `body` only.
    """
    h = hashlib.sha256(gateway_id.encode("utf-8", "surrogatepass"))
    for part in (provider, endpoint, credentials):
        h.update(b"\x00" + part.encode("utf-8", "surrogatepass"))
    if custom_key is not None:
        h.update(b"\x00custom\x00" + custom_key.encode("utf-8", "surrogatepass"))
    else:
        h.update(b"\x00" + model.encode("utf-8", "surrogatepass"))
        h.update(b"\x00" + body)
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """A stored response."""

    status: int
    content_type: str
    body: bytes
    tokens_in: int | None
    tokens_out: int | None
    expires_at: float

    def dumps(self) -> bytes:
        """The entry as stored (JSON of its status, headers, body and usage)."""
        head = json.dumps(
            [self.status, self.content_type, self.tokens_in, self.tokens_out, self.expires_at]
        ).encode()
        return head + b"\n" + self.body

    @classmethod
    def loads(cls, raw: bytes) -> CacheEntry:
        """An entry from what `dumps` stored."""
        head, _, body = raw.partition(b"\n")
        status, content_type, tokens_in, tokens_out, expires_at = json.loads(head)
        return cls(status, content_type, body, tokens_in, tokens_out, expires_at)


class ResponseCache(Protocol):
    """Where entries live; every method runs on the server's event loop."""

    async def get(self, key: str) -> CacheEntry | None:
        """The entry under `key`, or None when absent or expired."""

    async def set(self, key: str, entry: CacheEntry, ttl: int) -> None:
        """Store `entry` under `key` for `ttl` seconds."""

    async def clear(self) -> None:
        """Forget every entry."""

    async def close(self) -> None:
        """Release the store's connections."""


class MemoryCache:
    """Entries in a dict, oldest evicted first beyond `MEMORY_MAX_ENTRIES`."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._entries: OrderedDict[str, CacheEntry] = OrderedDict()
        self._lock = threading.Lock()  # clear() may come from the test thread

    async def get(self, key: str) -> CacheEntry | None:
        """The entry under `key`, or None when absent or expired."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= self._clock():
            self._entries.pop(key, None)
            return None
        return entry

    async def set(self, key: str, entry: CacheEntry, ttl: int) -> None:
        """Store `entry` under `key` for `ttl` seconds (the oldest go past the bound)."""
        with self._lock:
            self._entries[key] = entry
            if len(self._entries) > MEMORY_MAX_ENTRIES:
                self._entries.popitem(last=False)

    async def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()

    async def close(self) -> None:
        """Nothing to release in memory."""
        return None


class RedisCache:
    """Entries in Redis (`--cache-url redis://host:port/db`), under `cf-aig:cache:`."""

    PREFIX: Final = "cf-aig:cache:"

    def __init__(
        self, url: str, clock: Clock, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        from redis.exceptions import RedisError

        from .shared_state.redis_state import open_client  # redis only when asked

        self._clock = clock
        self._monotonic = monotonic
        # A connection closed by a restarted Redis is made again, not a failed call that
        # would open the breaker for `REDIS_BACKOFF_S` with Redis back.
        self._client: Any = open_client(url, REDIS_TIMEOUT_S)
        self._errors: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)
        self._down = False
        self._closed_at = 0.0
        """Monotonic time from which Redis is called again (the breaker is open before it)."""
        self.url = url

    def __repr__(self) -> str:
        return f"RedisCache({mask_url(self.url)!r})"

    def _bypassed(self) -> bool:
        """True while the breaker is open: the call is skipped as a miss.

        When the back-off is over, this call is the one probe (half-open): the others
        keep bypassing until it succeeds or fails.
        """
        if not self._down:
            return False
        now = self._monotonic()
        if now < self._closed_at:
            return True
        self._closed_at = now + REDIS_BACKOFF_S
        return False

    def _failed(self, exc: BaseException) -> None:
        self._closed_at = self._monotonic() + REDIS_BACKOFF_S
        if not self._down:  # say it once per outage, not once per request
            self._down = True
            logger.warning(
                "Redis cache at %s is unreachable (%s): serving without the cache, "
                "trying again every %.0f s until it is back",
                mask_url(self.url),
                type(exc).__name__,
                REDIS_BACKOFF_S,
            )

    def _ok(self) -> None:
        if self._down:
            self._down = False
            logger.warning("Redis cache at %s is back", mask_url(self.url))

    async def get(self, key: str) -> CacheEntry | None:
        """The entry under `key`, or None (also while Redis is unreachable: a miss)."""
        if self._bypassed():
            return None
        try:
            raw = await self._client.get(self.PREFIX + key)
        except self._errors as exc:
            self._failed(exc)
            return None  # a cache that is down is a miss, not an error
        self._ok()
        if raw is None:
            return None
        try:
            entry = CacheEntry.loads(raw)
        except (ValueError, TypeError):
            return None  # not an entry of ours (another writer, an older format): a miss
        if entry.expires_at <= self._clock():  # the injected clock may run ahead of Redis
            return None
        return entry

    async def set(self, key: str, entry: CacheEntry, ttl: int) -> None:
        """Store `entry` under `key` for `ttl` seconds (skipped while Redis is unreachable)."""
        if self._bypassed():
            return
        try:
            await self._client.set(self.PREFIX + key, entry.dumps(), ex=max(1, ttl))
        except self._errors as exc:
            self._failed(exc)
        else:
            self._ok()

    async def clear(self) -> None:
        """Forget the gateway's entries in Redis."""
        keys = [k async for k in self._client.scan_iter(match=self.PREFIX + "*", count=1000)]
        if keys:
            await self._client.delete(*keys)

    async def close(self) -> None:
        """Close the Redis connection."""
        await self._client.aclose()


def open_cache(url: str | None, clock: Clock) -> ResponseCache:
    """The store for `--cache-url`: None or `memory://` in memory, `redis://` Redis.

    Raises:
        ValueError: an unsupported `--cache-url` scheme.
    """
    if not url or url.startswith("memory:"):
        return MemoryCache(clock)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisCache(url, clock)
    raise ValueError(f"cache URL must be memory:// or redis://host:port/db; got {mask_url(url)!r}")
