"""What the gateway does with one provider call: options, cache, attempts, the log row.

Choices where Cloudflare's docs are silent (documented here, tested in tests/integration/local):

- Bad `cf-aig-*` values (a TTL outside 60 s..30 days, attempts outside 1..5, a
  delay outside 0..5000 ms, an unknown backoff, a non-integer timeout, a custom cost
  that is not a JSON object) are refused with HTTP 400, code 7001, naming the header.
- `cf-aig-metadata` that is not a JSON object is ignored (stored as null); more than
  5 entries keep the first 5; one null or object value stores the whole metadata as
  null (as observed; https://developers.cloudflare.com/ai-gateway/observability/custom-metadata/).
- Retries (https://developers.cloudflare.com/ai-gateway/configuration/request-handling/):
  an attempt is retried on a timeout, an unreachable upstream, a 429 or a 5xx; other
  responses are final. Delay before retry `n` (1-based):
  `constant` d, `linear` d*n, `exponential` d*2**(n-1). When more than one attempt
  is allowed the last attempt waits without a timeout ("last attempt waits unbounded").
- A request that times out (or whose upstream is unreachable) on every attempt gets
  HTTP 502 with code 2005 and a message saying which; the log row has status 502.
- `byok_only` or `cf-aig-no-wholesale: true` with no provider credentials (none in the
  request, no key on a pass-through upstream) is refused with HTTP 400, code 7001, before
  the cache lookup.
- Cache hits are logged with `cached: true`, the stored token counts and cost 0.
- A policy response (a fault's `policy=`, see `faults`) is made after the cache lookup and
  before any attempt, so it is never retried and a cache hit skips it, as at Cloudflare
  (https://developers.cloudflare.com/ai-gateway/features/policies/); its log row shows 0
  attempts.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from ..core.credentials import (
    credential_fields,
    credential_values,
    forwardable_headers,
    is_credential,
    mask_urls,
    parse_json_body,
    query_pairs,
    redact_headers,
    scrub_bytes,
)
from ..core.protocol import Bounds, ErrorCode, Header
from .cache import CUSTOM_KEY_TTL_S, CacheEntry, ResponseCache, cache_key
from .faults import policy_response
from .gateways import GatewayRecord
from .request_error import GatewayRequestError
from .screening import Screening, screen_prompt_dlp, screen_prompt_rails, screen_response
from .upstream import JSON, ProviderCall, ProviderResponse, Upstreams, UpstreamUnreachable


@dataclass(frozen=True, slots=True)
class GatewaySecrets:
    """The gateway's own tokens: never forwarded upstream; they key the credential digest."""

    values: frozenset[str]
    """The gateway token and the management token (never sent to a provider)."""
    digest_key: bytes
    """HMAC key of the credential digest in cache keys (see `credential_digest`)."""

    def __repr__(self) -> str:  # never show the tokens
        return f"GatewaySecrets({len(self.values)} tokens)"

    @classmethod
    def of(cls, token: str | None, management_token: str | None = None) -> GatewaySecrets:
        """From the tokens; the digest key follows the gateway token.

        Two gateways with the same configured token (sharing one Redis) therefore share
        entries; a generated token gives a key of this process only.
        """
        values = frozenset(t for t in (token, management_token) if t)
        seed = token.encode() if token else os.urandom(32)
        digest_key = hashlib.sha256(b"cf-aig cache credential digest\x00" + seed).digest()
        return cls(values, digest_key)


NO_SECRETS: Final = GatewaySecrets.of(None)
"""For callers of `execute` that hold no gateway token (a random digest key)."""


def redact(headers: Mapping[str, str], secrets: Collection[str] = ()) -> dict[str, str]:
    """Headers as stored in logs: every credential replaced by `[REDACTED]`.

    A credential is known by its name (`core.credentials.is_credential`); its
    value, and `secrets`, are hidden in the other headers too.
    """
    return redact_headers(headers, secrets)


def scrub_stored(
    call: ProviderCall | None, body: bytes | None, secrets: Collection[str] = ()
) -> bytes | None:
    """A request or response body as stored in a log row: no credential of the call in it.

    The values of the call's credentials (its headers, a universal step's headers, its
    query, any `headers` object in a JSON body) and the gateway's tokens are redacted
    wherever they appear, such as in an upstream error that echoes the key back.
    """
    if not body:
        return body
    found = set(secrets)
    if call is not None:
        found |= credential_values(call.headers, call.query_string, call.body)
    if b"eaders" in body or not body[:1].isascii() or b"\x00" in body[:4]:
        found |= credential_values(body=parse_json_body(body))  # headers inside the body
    return scrub_bytes(body, found)


def credential_digest(
    call: ProviderCall, secrets: GatewaySecrets, forwarded: Mapping[str, str] | None = None
) -> str:
    """A keyed digest (HMAC-SHA256) of every credential the call carries to the provider.

    Covered: each forwarded header whose name is a credential (any auth header, not only
    the provider's own: a compat client sends `Authorization` to Anthropic), the query
    string (Google AI Studio's `?key=`), top-level body fields named as credentials,
    and `cf-aig-byok-alias`, which picks a key stored in the gateway
    (https://developers.cloudflare.com/ai-gateway/configuration/bring-your-own-keys/).
    The gateway's own tokens are not covered: they never reach the provider. Keyed, so
    that a cache key never lets anyone test a guessed provider key.
    """
    mac = hmac.new(secrets.digest_key, digestmod=hashlib.sha256)

    def part(tag: bytes, *texts: str) -> None:
        for text in texts:  # length-prefixed: no value can imitate a boundary
            data = text.encode("utf-8", "surrogatepass")
            mac.update(tag + len(data).to_bytes(8, "big") + data)

    if forwarded is None:
        forwarded = forwardable_headers(call.headers, secrets.values)
    for name in sorted(k for k in forwarded if is_credential(k)):
        part(b"h", name, forwarded[name])
    for name, value in sorted(query_pairs(call.query_string)):
        part(b"q", name, value)
    alias = call.headers.get(Header.BYOK_ALIAS)
    if alias is not None:
        part(b"b", alias)
    # a key in the body ({"api_key": ...}) counts too, for when cf-aig-cache-key takes
    # the body out of the cache key
    for name, value in sorted(credential_fields(call.body).items()):
        part(b"f", name, value)
    return mac.hexdigest()


def _true(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.strip().lower() == "true"


def _int_header(headers: Mapping[str, str], name: str, low: int, high: int | None) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        bound = f"{low} to {high}" if high is not None else f"at least {low}"
        raise GatewayRequestError(
            ErrorCode.INVALID_REQUEST,
            f"Invalid request: {name} must be an integer {bound}; got {raw!r}",
        )
    return value


@dataclass(slots=True)
class RequestOptions:
    """The `cf-aig-*` request headers of one call, with the gateway's defaults applied."""

    cache_ttl: int | None
    skip_cache: bool
    cache_key: str | None
    metadata: dict[str, Any] | None
    collect_log: bool
    collect_payload: bool
    event_id: str | None
    timeout_ms: int | None
    max_attempts: int
    retry_delay_ms: int
    backoff: str
    custom_cost: dict[str, float] | None

    @classmethod
    def parse(
        cls,
        headers: Mapping[str, str],
        gateway: GatewayRecord,
        config: Mapping[str, Any] | None = None,
    ) -> RequestOptions:
        """From headers (lowercase keys); `config` is a universal step's `config`.

        Raises:
            GatewayRequestError: code 7001 naming a header out of range.
        """
        ttl = _int_header(headers, Header.CACHE_TTL, Bounds.CACHE_TTL_MIN_S, Bounds.CACHE_TTL_MAX_S)
        if ttl is None:
            ttl = _int_header(
                headers, Header.LEGACY_CACHE_TTL, Bounds.CACHE_TTL_MIN_S, Bounds.CACHE_TTL_MAX_S
            )
        skip = _true(headers.get(Header.SKIP_CACHE) or headers.get(Header.LEGACY_SKIP_CACHE))
        timeout = _int_header(headers, Header.REQUEST_TIMEOUT, 1, None)
        attempts = _int_header(
            headers, Header.MAX_ATTEMPTS, Bounds.MAX_ATTEMPTS_MIN, Bounds.MAX_ATTEMPTS_MAX
        )
        delay = _int_header(
            headers, Header.RETRY_DELAY, Bounds.RETRY_DELAY_MIN_MS, Bounds.RETRY_DELAY_MAX_MS
        )
        backoff = headers.get(Header.BACKOFF)
        if config:
            timeout = _config_int(config, "requestTimeout", 1, None, timeout)
            attempts = _config_int(
                config, "maxAttempts", Bounds.MAX_ATTEMPTS_MIN, Bounds.MAX_ATTEMPTS_MAX, attempts
            )
            delay = _config_int(
                config, "retryDelay", Bounds.RETRY_DELAY_MIN_MS, Bounds.RETRY_DELAY_MAX_MS, delay
            )
            backoff = config.get("backoff", backoff)
        if backoff is not None and backoff not in Bounds.BACKOFF_CHOICES:
            raise GatewayRequestError(
                ErrorCode.INVALID_REQUEST,
                f"Invalid request: {Header.BACKOFF} must be one of "
                f"{', '.join(Bounds.BACKOFF_CHOICES)}; got {backoff!r}",
            )
        collect = _true(headers.get(Header.COLLECT_LOG))
        payload = _true(headers.get(Header.COLLECT_LOG_PAYLOAD))
        return cls(
            cache_ttl=ttl,
            skip_cache=bool(skip),
            cache_key=headers.get(Header.CACHE_KEY),
            metadata=_metadata(headers.get(Header.METADATA)),
            collect_log=gateway.collect_logs if collect is None else collect,
            collect_payload=True if payload is None else payload,
            event_id=headers.get(Header.EVENT_ID) or None,
            timeout_ms=timeout,
            max_attempts=attempts or gateway.retry_max_attempts or 1,
            retry_delay_ms=delay if delay is not None else (gateway.retry_delay or 0),
            backoff=backoff or gateway.retry_backoff or "constant",
            custom_cost=_custom_cost(headers.get(Header.CUSTOM_COST)),
        )

    def delay_before(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1 for the second attempt)."""
        base = self.retry_delay_ms / 1000
        if self.backoff == "linear":
            return base * retry
        if self.backoff == "exponential":
            return base * float(2 ** (retry - 1))
        return base

    def cost(self, tokens_in: int | None, tokens_out: int | None) -> float:
        """Cost from `cf-aig-custom-cost`; 0 without it (no price table locally)."""
        prices = self.custom_cost
        if not prices:
            return 0.0
        if "total_cost" in prices:
            return prices["total_cost"]
        return float(
            (tokens_in or 0) * prices.get("per_token_in", 0.0)
            + (tokens_out or 0) * prices.get("per_token_out", 0.0)
        )


def _config_int(
    config: Mapping[str, Any], name: str, low: int, high: int | None, default: int | None
) -> int | None:
    if name not in config:
        return default
    value = config[name]
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"{low} to {high}" if high is not None else f"at least {low}"
        raise GatewayRequestError(
            ErrorCode.INVALID_REQUEST,
            f"Invalid request: step config {name} must be an integer {bound}; got {value!r}",
        )
    return value


def _metadata(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    kept = dict(list(data.items())[: Bounds.METADATA_MAX_ENTRIES])
    if any(v is None or isinstance(v, (dict, list)) for v in kept.values()):
        return None
    return kept


def _custom_cost(raw: str | None) -> dict[str, float] | None:
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in data.values()
    ):
        raise GatewayRequestError(
            ErrorCode.INVALID_REQUEST,
            f"Invalid request: {Header.CUSTOM_COST} must be a JSON object of numbers such as "
            '{"per_token_in":0.000001,"per_token_out":0.000002}',
        )
    return {str(k): float(v) for k, v in data.items()}


@dataclass(slots=True)
class Outcome:
    """What one provider call produced: the provider_response, and how the gateway got it."""

    provider_response: ProviderResponse
    cache_status: str | None
    attempts: int
    screening: Screening | None = None
    """What Guardrails and DLP flagged on the call (`screening`), if they apply."""


@dataclass(frozen=True, slots=True)
class CachePlan:
    """Whether and under which key a request is cached, and for how long."""

    key: str
    ttl: int
    skip: bool
    """`cf-aig-skip-cache`: neither read nor write, response `MISS`."""


def plan_cache(
    call: ProviderCall,
    opts: RequestOptions,
    gateway: GatewayRecord,
    client_body: bytes,
    secrets: GatewaySecrets = NO_SECRETS,
    forwarded: Mapping[str, str] | None = None,
) -> CachePlan | None:
    """Whether and how this call uses the cache (module `cache`).

    https://developers.cloudflare.com/ai-gateway/features/caching/
    """
    if call.stream or call.method != "POST":
        return None
    ttl = opts.cache_ttl or gateway.cache_ttl or 0
    if not ttl and opts.cache_key is not None:
        ttl = CUSTOM_KEY_TTL_S
    if not ttl or len(client_body) > Bounds.CACHEABLE_BODY_MAX_BYTES:
        return None
    key = cache_key(
        f"{gateway.id}\x00{gateway.cache_generation}",
        call.provider.slug,
        f"{call.method} {call.log_path} {call.path}",
        call.model,
        credential_digest(call, secrets, forwarded),
        client_body,
        opts.cache_key,
    )
    return CachePlan(key, ttl, skip=opts.skip_cache)


RETRY_STATUSES: Final = frozenset((408, 429))


async def execute(
    call: ProviderCall,
    opts: RequestOptions,
    gateway: GatewayRecord,
    upstreams: Upstreams,
    cache: ResponseCache,
    now: float,
    client_body: bytes,
    *,
    timeout_every_attempt: bool = False,
    secrets: GatewaySecrets = NO_SECRETS,
) -> Outcome:
    """Cache lookup, then attempts against the upstream, then cache write.

    https://developers.cloudflare.com/ai-gateway/features/caching/ and
    https://developers.cloudflare.com/ai-gateway/configuration/request-handling/ (retries).

    The upstream gets the call with only `forwardable_headers`: no gateway token
    ever leaves the gateway, whichever header carries it.

    Raises:
        GatewayRequestError: the upstream could not be reached or timed out (code 2005 / 2006),
            or credentials are required and the call has none (7001, HTTP 400).
        ContentBlocked: Guardrails or DLP blocked the prompt or the response (`screening`).
    """
    forwarded = forwardable_headers(call.headers, secrets.values)
    _require_credentials(call, gateway, upstreams, forwarded)
    plan = plan_cache(call, opts, gateway, client_body, secrets, forwarded)
    # Guardrails before the cache (a BLOCK is never served from it); DLP after, as at
    # Cloudflare (https://developers.cloudflare.com/ai-gateway/features/dlp/)
    screening = screen_prompt_rails(call, gateway.extra)
    if plan is not None and not plan.skip:
        entry = await cache.get(plan.key)
        if entry is not None:
            hit = ProviderResponse(
                entry.status,
                entry.content_type,
                entry.body,
                None,
                entry.tokens_in,
                entry.tokens_out,
            )
            return Outcome(hit, "HIT", 0, screening)
    screening = await screen_prompt_dlp(call, gateway.extra, screening)
    policy, script = await upstreams.first(call)
    if policy is not None:  # made before any provider attempt; never retried
        status, policy_body = policy_response(policy)
        return Outcome(ProviderResponse(status, JSON, policy_body), _cache_status(plan), 0)
    sent = replace(call, headers=forwarded)
    provider_response: ProviderResponse | None = None
    failure = ""
    attempt = 0
    for attempt in range(1, opts.max_attempts + 1):
        last = attempt == opts.max_attempts
        unbounded = last and opts.max_attempts > 1 and not timeout_every_attempt
        timeout = None if unbounded or opts.timeout_ms is None else opts.timeout_ms / 1000
        try:
            if attempt > 1:
                script = await upstreams.take(sent)
            if timeout is None:
                provider_response = await upstreams.send(sent, attempt, script)
            else:
                provider_response = await asyncio.wait_for(
                    upstreams.send(sent, attempt, script), timeout
                )
            failure = ""
        except asyncio.TimeoutError:
            provider_response, failure = (
                None,
                f"request timed out after {opts.timeout_ms} ms ({Header.REQUEST_TIMEOUT})",
            )
        except UpstreamUnreachable as exc:
            provider_response, failure = None, f"upstream unreachable: {mask_urls(str(exc))}"
        if provider_response is not None and (
            provider_response.ok
            or (provider_response.status < 500 and provider_response.status not in RETRY_STATUSES)
        ):
            break
        if not last:
            if provider_response is not None and provider_response.chunks is not None:
                await _discard(provider_response)
            await asyncio.sleep(opts.delay_before(attempt))
    if provider_response is None:
        raise GatewayRequestError(ErrorCode.PROVIDER_FAILED, f"Provider request failed: {failure}")
    screening = await screen_response(call, gateway.extra, provider_response, screening)
    if (
        plan is not None
        and not plan.skip
        and provider_response.ok
        and provider_response.body is not None
        and provider_response.chunks is None
    ):
        await cache.set(
            plan.key,
            CacheEntry(
                provider_response.status,
                provider_response.content_type,
                provider_response.body,
                provider_response.tokens_in,
                provider_response.tokens_out,
                now + plan.ttl,
            ),
            plan.ttl,
        )
    return Outcome(provider_response, _cache_status(plan), attempt, screening)


def _cache_status(plan: CachePlan | None) -> str | None:
    return None if plan is None else "MISS"


NO_CREDENTIALS_MESSAGE: Final = (
    "Invalid request: this gateway takes no wholesale billing (byok_only, or "
    f"{Header.NO_WHOLESALE}: true) and the request has no provider credentials; send the "
    "provider's key with the request, or store one in the gateway (BYOK)"
)


def has_credentials(call: ProviderCall, upstreams: Upstreams, forwarded: Mapping[str, str]) -> bool:
    """Whether the call carries a provider credential, or its pass-through upstream has a key.

    A credential is what `core.credentials` names one (a header, a query parameter, a
    top-level body field), in what would be forwarded: the gateway's own tokens never count.
    """
    target = upstreams.passthrough.targets.get(call.provider.slug)
    if target is not None and target.api_key:
        return True
    if any(is_credential(name) and value.strip() for name, value in forwarded.items()):
        return True
    if any(is_credential(name) and value for name, value in query_pairs(call.query_string)):
        return True
    return bool(credential_fields(call.body))


def _require_credentials(
    call: ProviderCall, gateway: GatewayRecord, upstreams: Upstreams, forwarded: Mapping[str, str]
) -> None:
    """Refuse a call without credentials where wholesale billing is off.

    `byok_only` on the gateway, or `cf-aig-no-wholesale: true` on the request, with no
    provider credentials is HTTP 400
    (https://developers.cloudflare.com/ai-gateway/configuration/bring-your-own-keys/).

    Raises:
        GatewayRequestError: 7001 (HTTP 400) naming byok_only and the header.
    """
    if not (gateway.byok_only or _true(call.headers.get(Header.NO_WHOLESALE))):
        return
    if not has_credentials(call, upstreams, forwarded):
        raise GatewayRequestError(ErrorCode.INVALID_REQUEST, NO_CREDENTIALS_MESSAGE)


async def _discard(provider_response: ProviderResponse) -> None:
    chunks = provider_response.chunks
    close = getattr(chunks, "aclose", None)
    if close is not None:
        await close()
