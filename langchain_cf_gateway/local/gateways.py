"""Gateways the local server knows, their settings, and rate limits.

The settings are those of Cloudflare's gateway object:
https://developers.cloudflare.com/api/resources/ai_gateway/

Choices where Cloudflare's behaviour is not documented or does not apply locally:

- Account ids are not checked: every account id sees the same gateways. The gateway
  `default` always exists (authentication off, logs on, cache off) unless deleted.
- Rate limits (https://developers.cloudflare.com/ai-gateway/features/rate-limiting/)
  count every request that passed authentication, per gateway.
  `fixed` windows are aligned to multiples of the interval since the epoch (calendar
  aligned); `sliding` counts the requests of the last `interval` seconds. The counters
  below are one process's; with `--state-url redis://` every worker counts in Redis
  instead, with the same rules (`shared_state.redis_state`).
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, Final, Literal

from ..core.protocol import DEFAULT_GATEWAY_ID, Bounds
from .clock import Clock
from .dlp import validate_dlp
from .guardrails import validate_guardrails

RateTechnique = Literal["fixed", "sliding"]
_ID: Final = re.compile(Bounds.GATEWAY_ID_PATTERN)


@dataclass(slots=True)
class GatewayRecord:
    """One gateway, with the fields of Cloudflare's gateway object.

    https://developers.cloudflare.com/api/resources/ai_gateway/
    """

    id: str
    authentication: bool = False
    """Requests need `cf-aig-authorization: Bearer <token>`."""
    cache_ttl: int | None = 0
    """Seconds a response is cached without a `cf-aig-cache-ttl`; 0 or None: off."""
    cache_invalidate_on_update: bool = False
    collect_logs: bool = True
    rate_limiting_limit: int | None = None
    rate_limiting_interval: int | None = None
    rate_limiting_technique: RateTechnique = "fixed"
    retry_max_attempts: int | None = None
    """Attempts per request when the request does not send `cf-aig-max-attempts`."""
    retry_delay: int | None = None
    """Milliseconds between attempts unless `cf-aig-retry-delay` says otherwise."""
    retry_backoff: str | None = None
    log_management: int | None = None
    log_management_strategy: str | None = None
    logpush: bool = False
    zdr: bool = False
    byok_only: bool = False
    created_at: str = ""
    modified_at: str = ""
    internal_id: str = ""
    account_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    """Settings kept and echoed back: `guardrails` and `dlp` (acted on by `screening`),
    and those not acted on locally (otel, stripe...)."""
    cache_generation: int = field(default=0, repr=False)
    """Part of every cache key; bumped by an update when `cache_invalidate_on_update`."""
    _window: deque[float] = field(default_factory=deque, repr=False)
    _window_start: float = field(default=0.0, repr=False)
    _window_count: int = field(default=0, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The gateway object as the management API returns it."""
        data = {
            k: v
            for k, v in asdict(self).items()
            if not k.startswith("_") and k not in ("extra", "cache_generation")
        }
        data.update(self.extra)
        data["is_default"] = self.id == DEFAULT_GATEWAY_ID
        return data

    @property
    def cache_on(self) -> bool:
        """Whether responses of this gateway are cached (`cache_ttl` above 0)."""
        return bool(self.cache_ttl)

    def reset_rate_limit(self) -> None:
        """Forget the requests counted against the rate limit."""
        self._window.clear()
        self._window_start, self._window_count = 0.0, 0

    def admit(self, now: float) -> bool:
        """Count one request against the rate limit; False when over it.

        https://developers.cloudflare.com/ai-gateway/features/rate-limiting/
        """
        limit, interval = self.rate_limiting_limit, self.rate_limiting_interval
        if not limit or not interval:
            return True
        if self.rate_limiting_technique == "sliding":
            window = self._window
            while window and window[0] <= now - interval:
                window.popleft()
            if len(window) >= limit:
                return False
            window.append(now)
            return True
        start = now - (now % interval)
        if start != self._window_start:
            self._window_start, self._window_count = start, 0
        if self._window_count >= limit:
            return False
        self._window_count += 1
        return True


def _bool(value: Any) -> bool:
    return isinstance(value, bool)


def _count_or_null(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)


def _int_in(low: int, high: int) -> Any:
    def check(value: Any) -> bool:
        return value is None or (
            isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        )

    return check


def _one_of(*choices: Any) -> Any:
    return lambda value: value in choices


_SETTING_RULES: Final[dict[str, tuple[Any, str]]] = {
    "authentication": (_bool, "true or false"),
    "cache_invalidate_on_update": (_bool, "true or false"),
    "collect_logs": (_bool, "true or false"),
    "logpush": (_bool, "true or false"),
    "zdr": (_bool, "true or false"),
    "byok_only": (_bool, "true or false"),
    "cache_ttl": (_count_or_null, "an integer >= 0 or null"),
    "rate_limiting_limit": (_count_or_null, "an integer >= 0 or null"),
    "rate_limiting_interval": (_count_or_null, "an integer >= 0 or null"),
    "rate_limiting_technique": (
        _one_of(*Bounds.RATE_LIMIT_TECHNIQUES),
        " or ".join(Bounds.RATE_LIMIT_TECHNIQUES),
    ),
    "retry_max_attempts": (
        _int_in(Bounds.MAX_ATTEMPTS_MIN, Bounds.MAX_ATTEMPTS_MAX),
        f"{Bounds.MAX_ATTEMPTS_MIN} to {Bounds.MAX_ATTEMPTS_MAX} or null",
    ),
    "retry_delay": (
        _int_in(Bounds.RETRY_DELAY_MIN_MS, Bounds.GATEWAY_RETRY_DELAY_MAX_MS),
        f"{Bounds.RETRY_DELAY_MIN_MS} to {Bounds.GATEWAY_RETRY_DELAY_MAX_MS} ms or null",
    ),
    "retry_backoff": (
        _one_of(None, *Bounds.BACKOFF_CHOICES),
        f"one of {', '.join(Bounds.BACKOFF_CHOICES)} or null",
    ),
    "log_management": (
        _int_in(Bounds.LOG_MANAGEMENT_MIN, Bounds.LOG_MANAGEMENT_MAX),
        f"{Bounds.LOG_MANAGEMENT_MIN} to {Bounds.LOG_MANAGEMENT_MAX} or null",
    ),
    "log_management_strategy": (
        _one_of(None, *Bounds.LOG_MANAGEMENT_STRATEGIES),
        f"{', '.join(Bounds.LOG_MANAGEMENT_STRATEGIES)} or null",
    ),
    # Kept and echoed back, not acted on locally.
    "logpush_public_key": (
        lambda v: (
            v is None
            or (
                isinstance(v, str)
                and Bounds.LOGPUSH_KEY_MIN_CHARS <= len(v) <= Bounds.LOGPUSH_KEY_MAX_CHARS
            )
        ),
        f"a string of {Bounds.LOGPUSH_KEY_MIN_CHARS} to {Bounds.LOGPUSH_KEY_MAX_CHARS} characters",
    ),
    "store_id": (lambda v: v is None or isinstance(v, str), "a string or null"),
    "workers_ai_billing_mode": (
        _one_of(*Bounds.WORKERS_AI_BILLING_MODES),
        " or ".join(Bounds.WORKERS_AI_BILLING_MODES),
    ),
    "dlp": (lambda v: v is None or isinstance(v, dict), "an object or null"),
    "otel": (lambda v: v is None or isinstance(v, list), "a list or null"),
    "stripe": (lambda v: v is None or isinstance(v, dict), "an object or null"),
    "guardrails": (lambda v: v is None or isinstance(v, dict), "an object or null"),
    "spend_limits": (lambda v: v is None or isinstance(v, dict), "an object or null"),
    "log_classification": (_bool, "true or false"),
}
"""Every setting of `ai_gateway_update_params.py` in cloudflare-python (the SDK generated
from Cloudflare's API schema); the ones below without a local effect are kept and returned."""
_DEEP_CHECKS: Final = {"guardrails": validate_guardrails, "dlp": validate_dlp}
"""Settings whose inside is checked too (`guardrails.validate_guardrails`, `dlp.validate_dlp`):
each raises ValueError naming the unknown category, action or profile and the valid ones."""
_EXTRA_SETTINGS: Final = frozenset(
    (
        "logpush_public_key",
        "store_id",
        "workers_ai_billing_mode",
        "dlp",
        "otel",
        "stripe",
        "guardrails",
        "spend_limits",
        "log_classification",
    )
)
_REPLACEABLE: Final = frozenset(set(_SETTING_RULES) - _EXTRA_SETTINGS)
"""The settings a PUT replaces that are fields of `GatewayRecord`."""
_READ_ONLY: Final = frozenset(
    ("is_default", "id", "created_at", "modified_at", "internal_id", "account_id", "account_tag")
)


def validate_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings, checked against the API schema's bounds; ValueError naming the field.

    Raises:
        ValueError: naming the setting out of bounds (for `guardrails` and `dlp`: the
            unknown category, action or profile, with the valid ones).
    """
    out: dict[str, Any] = {}
    for name, value in settings.items():
        if name in _READ_ONLY:
            continue  # read-only fields a client may echo back
        rule = _SETTING_RULES.get(name)
        if rule is None:
            raise ValueError(
                f"unknown gateway setting {name!r}; known: {', '.join(sorted(_SETTING_RULES))}"
            )
        check, expected = rule
        if not check(value):
            raise ValueError(f"{name} must be {expected}; got {value!r}")
        deep_check = _DEEP_CHECKS.get(name)
        if deep_check is not None:
            deep_check(value)
        out[name] = value
    return out


class GatewayExists(ValueError):
    """A gateway of this id exists already (the management API answers 409, code 7004)."""

    def __init__(self, gateway_id: str) -> None:
        super().__init__(f"a gateway {gateway_id!r} already exists")


def check_gateway_id(gateway_id: Any) -> str:
    """The id, if the management API would create it (`Bounds.GATEWAY_ID_PATTERN`).

    Raises:
        ValueError: the id is not one the management API would create.
    """
    if (
        not isinstance(gateway_id, str)
        or not 1 <= len(gateway_id) <= Bounds.GATEWAY_ID_MAX_CHARS
        or not _ID.match(gateway_id)
    ):
        raise ValueError(
            f"gateway id must be 1 to {Bounds.GATEWAY_ID_MAX_CHARS} lowercase letters, digits or "
            f"'_', in words joined by single '-' (such as 'team-a'); got {gateway_id!r}"
        )
    return gateway_id


def new_gateway(clock: Clock, gateway_id: str, settings: Mapping[str, Any]) -> GatewayRecord:
    """A new gateway record of these settings, stamped by `clock` (not stored anywhere).

    Args:
        clock: stamps its times and its `internal_id`.
        gateway_id: its id, checked by `check_gateway_id`.
        settings: its settings, checked by `validate_settings`.

    Returns:
        The record.

    Raises:
        ValueError: the id is not one the management API would create, or a setting is
            out of bounds.
    """
    check_gateway_id(gateway_id)
    values = validate_settings(dict(settings))
    now = clock.iso()
    extra = {k: values.pop(k) for k in list(values) if k in _EXTRA_SETTINGS}
    return GatewayRecord(
        gateway_id,
        created_at=now,
        modified_at=now,
        internal_id=clock.uuid7(),
        extra=extra,
        **values,
    )


def changed_settings(gateway: GatewayRecord, other: GatewayRecord) -> list[str]:
    """The names of the settings in which two gateways differ, sorted (never their values).

    Identity fields and times are not settings; a setting kept in `extra` and set to
    null counts as left out.
    """
    names = [name for name in _REPLACEABLE if getattr(gateway, name) != getattr(other, name)]
    extras = gateway.extra.keys() | other.extra.keys()
    names += [k for k in extras if gateway.extra.get(k) != other.extra.get(k)]
    return sorted(names)


def replace_settings(gateway: GatewayRecord, clock: Clock, values: Mapping[str, Any]) -> None:
    """Make the gateway's settings exactly `values` (already validated), in place.

    Cloudflare's update replaces the whole gateway: a setting left out takes its default
    (https://developers.cloudflare.com/api/resources/ai_gateway/methods/update/).
    Identity fields, the creation time and the rate-limit counters are kept.

    Args:
        gateway: the record to change.
        clock: stamps `modified_at`.
        values: the settings, from `validate_settings`.
    """
    # Either setting empties the cache: an update that also turns invalidation
    # off must not leave responses cached under the settings it replaced.
    invalidate = gateway.cache_invalidate_on_update
    for spec in fields(GatewayRecord):
        if spec.name in _REPLACEABLE:
            default = None if spec.default is MISSING else spec.default
            setattr(gateway, spec.name, values.get(spec.name, default))
    gateway.extra = {k: v for k, v in values.items() if k in _EXTRA_SETTINGS}
    if invalidate or gateway.cache_invalidate_on_update:
        gateway.cache_generation += 1  # every earlier entry becomes unreachable
    gateway.modified_at = clock.iso()


class GatewayRegistry:
    """The gateways by id (one namespace for every account id)."""

    def __init__(self, clock: Clock, default_settings: dict[str, Any] | None = None) -> None:
        self._clock = clock
        self._gateways: dict[str, GatewayRecord] = {}
        self._lock = threading.Lock()
        self._default_settings = dict(default_settings or {})
        self.create(DEFAULT_GATEWAY_ID, **self._default_settings)

    def restore_default(self) -> None:
        """Put `default` back as it was at start (recreated if deleted)."""
        with self._lock:
            self._gateways.pop(DEFAULT_GATEWAY_ID, None)
        self.create(DEFAULT_GATEWAY_ID, **self._default_settings)

    def get(self, gateway_id: str) -> GatewayRecord | None:
        """The gateway of this id, or None."""
        return self._gateways.get(gateway_id)

    def list(self) -> list[GatewayRecord]:
        """Every gateway, in creation order."""
        return list(self._gateways.values())

    def create(self, gateway_id: str, **settings: Any) -> GatewayRecord:
        """A new gateway; ValueError if the id is taken or a setting is out of bounds.

        Raises:
            GatewayExists: the id is taken.
            ValueError: a setting is out of bounds.
        """
        gateway = new_gateway(self._clock, gateway_id, settings)
        with self._lock:
            if gateway_id in self._gateways:
                raise GatewayExists(gateway_id)
            self._gateways[gateway_id] = gateway
        return gateway

    def replace(self, gateway_id: str, **settings: Any) -> GatewayRecord | None:
        """`PUT gateways/{id}`: the gateway's settings become exactly `settings`.

        Cloudflare's update replaces the whole gateway: a setting left out takes its
        default, so leaving out `guardrails` turns Guardrails off
        (https://developers.cloudflare.com/api/resources/ai_gateway/methods/update/,
        https://developers.cloudflare.com/ai-gateway/features/guardrails/set-up-guardrail/).
        Identity fields, the creation time and the rate-limit counters are kept.
        """
        values = validate_settings(settings)
        with self._lock:
            gateway = self._gateways.get(gateway_id)
            if gateway is None:
                return None
            replace_settings(gateway, self._clock, values)
        return gateway

    def delete(self, gateway_id: str) -> GatewayRecord | None:
        """Remove a gateway; the removed record, or None when there was none."""
        with self._lock:
            return self._gateways.pop(gateway_id, None)
