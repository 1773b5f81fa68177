"""What the gateway did with a request, read from its response headers.

https://developers.cloudflare.com/ai-gateway/glossary/
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from .display import key_value_table
from .protocol import Header

CacheStatus = Literal["HIT", "MISS"]

ROUTING_REASONS = (
    "cost_optimal_within_pool",
    "forced_by_candidate_pool",
    "pinned_by_turn",
    "fallback_candidate_unavailable",
    "fallback_key_not_in_candidates",
    "fallback_router_error",
    "fallback_router_timeout",
    "fallback_unsupported_input",
)
"""The documented values of `cf-aig-routing-reason`
(https://developers.cloudflare.com/ai-gateway/features/auto-router/)."""

GATEWAY_INFO_KEYS = (
    "cache_status",
    "log_id",
    "request_id",
    "event_id",
    "step",
    "model",
    "provider",
    "routed_model",
    "routing_reason",
    "routing_decision_id",
    "dlp",
)
"""The keys of `GatewayInfo.as_dict`, the same on every call path and integration."""


class GatewayInfo(NamedTuple):
    """The gateway's account of one request. Every field is None when the header was absent."""

    cache_status: CacheStatus | None = None
    log_id: str | None = None
    request_id: str | None = None
    event_id: str | None = None
    step: int | None = None
    """Index of the universal-endpoint step that served the request (0 for the first)."""
    model: str | None = None
    """Model a dynamic route chose (`cf-aig-model`)."""
    provider: str | None = None
    """Provider a dynamic route chose (`cf-aig-provider`)."""
    routed_model: str | None = None
    """`provider/model` the Auto Router chose (`cf-aig-routed-model`)."""
    routing_reason: str | None = None
    """Why the Auto Router chose it (`cf-aig-routing-reason`): one of `ROUTING_REASONS`,
    or the gateway's own text for a value not documented yet."""
    routing_decision_id: str | None = None
    """Id of the Auto Router's decision (`cf-aig-routing-decision-id`)."""
    dlp: Any = None
    """What DLP matched, flagged or blocked (`cf-aig-dlp`): the parsed JSON as the gateway
    sent it, documented as `{"findings": [{"profile": {"context", "entry_ids",
    "profile_id"}, "policy_ids", "check"}], "action": "BLOCK" | "FLAG"}`
    (https://developers.cloudflare.com/ai-gateway/features/dlp/set-up-dlp/); None when
    absent or not JSON."""

    @classmethod
    def from_headers(cls, headers: Mapping[str, str] | None) -> GatewayInfo:
        """Parse from any header mapping: `httpx.Headers`, or a dict in any letter case."""
        if not headers:
            return _EMPTY
        get = headers.get
        raw = getattr(headers, "raw", None)
        if raw is not None and hasattr(headers, "multi_items"):
            # httpx.Headers: one pass over the raw pairs, instead of a lookup per field that
            # scans and decodes every header (half the cost on every call; bench/PROFILES.md).
            found: dict[str, str] = {}
            encoding = headers.encoding  # type: ignore[attr-defined]
            for key, value in raw:
                if key[:7].lower() == b"cf-aig-":
                    name = key.decode("latin-1").lower()
                    text = value.decode(encoding)
                    # Repeated headers read as httpx joins them.
                    found[name] = f"{found[name]}, {text}" if name in found else text
            get = found.get
        elif not hasattr(headers, "multi_items"):  # not httpx.Headers: lowercase keys once
            lowered = {k.lower(): v for k, v in headers.items() if k[:3].lower() == "cf-"}
            get = lowered.get
        cache = get(Header.CACHE_STATUS)
        if cache is not None:
            cache = cache.strip().upper()
            cache = cache if cache in ("HIT", "MISS") else None
        step_raw = get(Header.STEP)
        step: int | None = None
        if step_raw is not None:
            try:
                step = int(step_raw)
            except ValueError:
                step = None
            # 0-based (https://developers.cloudflare.com/ai-gateway/configuration/fallbacks/)
            if step is not None and step < 0:
                step = None
        return cls(
            cache_status=cache,  # type: ignore[arg-type]
            log_id=get(Header.LOG_ID) or None,
            request_id=get(Header.REQUEST_ID) or None,
            event_id=get(Header.EVENT_ID) or None,
            step=step,
            model=get(Header.MODEL) or None,
            provider=get(Header.PROVIDER) or None,
            routed_model=get(Header.ROUTED_MODEL) or None,
            routing_reason=_routing_reason(get(Header.ROUTING_REASON)),
            routing_decision_id=get(Header.ROUTING_DECISION_ID) or None,
            dlp=_dlp(get(Header.DLP)),
        )

    def as_dict(self) -> dict[str, Any]:
        """A plain dict with exactly the keys of `GATEWAY_INFO_KEYS`."""
        return self._asdict()

    def _repr_html_(self) -> str:
        return key_value_table(self._asdict().items(), caption="GatewayInfo")

    def with_defaults(
        self, *, model: str | None, provider: str | None, step: int | None
    ) -> GatewayInfo:
        """Fill `model`, `provider` and `step` where the gateway did not say.

        The gateway names model and provider only for dynamic routes; for a plain call we
        know what we asked for, and for a fallback chain `step` picks the step that served it.
        """
        return self._replace(
            model=self.model or model,
            provider=self.provider or provider,
            step=self.step if self.step is not None else step,
        )


def _routing_reason(raw: str | None) -> str | None:
    """A documented reason in its documented spelling; any other text kept as it came."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    return text.lower() if text.lower() in ROUTING_REASONS else text


def _dlp(raw: str | None) -> Any:
    """The `cf-aig-dlp` JSON, kept as given; None when absent or not JSON."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


_EMPTY = GatewayInfo()
