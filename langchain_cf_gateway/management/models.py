"""The management API's values: logs, pages of logs, log filters and queries, gateways.

Every model parses what Cloudflare's v4 API returns
(https://developers.cloudflare.com/api/resources/ai_gateway/) and keeps the fields it
does not know as extras, so that a field Cloudflare adds later is neither refused nor lost.
The values the client sends (`GatewaySettings`, `LogFilter`) are checked against their
bounds when they are made, and raise `InvalidOptionError` naming the field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from typing_extensions import TypedDict

from ..core.errors import InvalidOptionError
from ..core.model_names import model_key
from ..core.options import MetadataValue
from ..core.protocol import Bounds, LogsApi
from .frames import log_page_html, logs_to_pandas

FilterOperator = Literal["eq", "neq", "contains", "lt", "gt"]
OrderBy = Literal["created_at", "provider", "model", "model_type", "success", "cached"]
DeleteOrderBy = Literal["cost", "tokens_in", "tokens_out", "duration", "feedback"]
OrderDirection = Literal["asc", "desc"]
RateLimitTechnique = Literal["fixed", "sliding"]
FilterValue = str | int | float | bool | None

# --------------------------------------------------------------------------- logs


def _parse_metadata(value: Any) -> Any:
    # The logs schema types `metadata` as a string; responses carry a JSON object in it
    # (https://developers.cloudflare.com/api/resources/ai_gateway/subresources/logs/methods/get/).
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return parsed if isinstance(parsed, dict) else value
    return value


class ResultInfo(BaseModel):
    """Pagination of a list response; the logs list adds min and max of cost, tokens, duration."""

    model_config = ConfigDict(extra="allow")

    count: int | None = None
    """Entries on this page."""
    page: int | None = None
    """The number of this page, from 1."""
    per_page: int | None = None
    """Entries per page, as asked."""
    total_count: int | None = None
    """Entries matching the query, over all pages."""


class LogEntry(BaseModel):
    """One row of the gateway's log. Fields the API adds later are kept as extras."""

    model_config = ConfigDict(extra="allow")

    id: str
    """The log id: the `cf-aig-log-id` response header of the request."""
    created_at: datetime | None = None
    provider: str | None = None
    model: str | None = None
    model_type: str | None = None
    path: str | None = None
    success: bool | None = None
    cached: bool | None = None
    status_code: int | None = None
    duration: float | None = None
    """Milliseconds."""
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: float | None = None
    """US dollars, as the gateway estimated it (or `custom_cost`)."""
    custom_cost: bool | float | None = None
    step: int | None = None
    event_id: str | None = None
    metadata: dict[str, Any] | str | None = None
    """The `cf-aig-metadata` of the request, parsed from JSON where the API sends a string."""
    feedback: int | float | None = None
    """-1 (thumbs down) to 1 (thumbs up), or None; an int when the API sends one."""
    score: float | None = None
    request_type: str | None = None
    request_content_type: str | None = None
    response_content_type: str | None = None

    _normalize_metadata = field_validator("metadata", mode="before")(_parse_metadata)

    @property
    def model_key(self) -> str | None:
        """The key that groups this log's model with its other spellings.

        Logs name models `provider/model` since 2026-09 (`anthropic/claude-haiku-4.5`),
        older logs `claude-haiku-4-5-20251001`: both have the key `claude-haiku-4-5`.
        """
        return model_key(self.model)

    @property
    def log_id(self) -> str:
        """The log id (`id`), under the name `GatewayInfo` gives it."""
        return self.id

    @property
    def total_tokens(self) -> int:
        """`tokens_in` plus `tokens_out`, 0 for those the API did not report."""
        return (self.tokens_in or 0) + (self.tokens_out or 0)


class LogPage(BaseModel):
    """One page of logs and its `result_info`. Iterating it yields the entries."""

    result: list[LogEntry]
    result_info: ResultInfo = Field(default_factory=ResultInfo)

    def __iter__(self) -> Iterator[LogEntry]:  # type: ignore[override]
        return iter(self.result)

    def __len__(self) -> int:
        return len(self.result)

    def __getitem__(self, index: int) -> LogEntry:
        return self.result[index]

    @property
    def has_more(self) -> bool:
        """Whether a later page holds more entries."""
        info = self.result_info
        if info.total_count is not None and info.page is not None and info.per_page:
            return info.page * info.per_page < info.total_count
        return bool(info.per_page) and len(self.result) >= (info.per_page or 0)

    def to_pandas(self) -> Any:
        """The entries as a `pandas.DataFrame`, one row each (see `logs_to_pandas`).

        Returns:
            A `pandas.DataFrame` with the columns of `LOG_COLUMNS`, also when the page is empty.

        Raises:
            ImportError: pandas is not installed (`pip install 'langchain-cf-gateway[pandas]'`).
        """
        return logs_to_pandas(self.result)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # IPython's text/plain: a line, not pydantic's repr of every entry.
        info = self.result_info
        total = info.total_count if info.total_count is not None else len(self.result)
        printer.text(f"LogPage(page={info.page}, entries={len(self.result)}, total_count={total})")

    def _repr_html_(self) -> str:
        info = self.result_info
        total = info.total_count if info.total_count is not None else len(self.result)
        where = f"page {info.page}, " if info.page is not None else ""
        return log_page_html(self.result, caption=f"Logs: {where}{len(self.result)} of {total}")


class LogFilter(BaseModel):
    """One `filters[]` entry of the logs API: `key` `operator` any of `value`.

    ```python
    LogFilter("cached", "eq", True)
    LogFilter("created_at", "lt", "2026-01-01T00:00:00Z")
    ```

    Keys and operators are those of the logs list
    (https://developers.cloudflare.com/api/resources/ai_gateway/subresources/logs/methods/list/).
    """

    model_config = ConfigDict(frozen=True)

    key: str
    operator: FilterOperator = "eq"
    value: list[FilterValue]

    def __init__(
        self,
        key: str | None = None,
        operator: FilterOperator | None = None,
        value: FilterValue | Sequence[FilterValue] = None,
        **data: Any,
    ) -> None:
        """A filter from positional `key, operator, value` or the API's keyword form.

        Args:
            key: A filter key of the logs API (`LogsApi.FILTER_KEYS`).
            operator: `eq` (the default), `neq`, `contains`, `lt` or `gt`.
            value: One value, or a list of values any of which matches.
            **data: The API's form, `key=..., operator=..., value=[...]`.

        Raises:
            InvalidOptionError: An unknown key or operator, or a value of the wrong type.
        """
        if key is not None:
            data["key"] = key
        if operator is not None:
            data["operator"] = operator
        if "value" not in data:
            data["value"] = list(value) if isinstance(value, (list, tuple)) else [value]
        try:
            super().__init__(**data)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "filter"
            raise InvalidOptionError(
                "filters",
                f"{where}: {first.get('msg')}; a filter is "
                "LogFilter('cached', 'eq', True) or {'key': ..., 'operator': ..., 'value': [...]}",
            ) from None

    @field_validator("key")
    @classmethod
    def _known_key(cls, key: str) -> str:
        if key not in LogsApi.FILTER_KEYS:
            raise ValueError(f"unknown filter key {key!r}; known: {', '.join(LogsApi.FILTER_KEYS)}")
        return key

    def to_json(self) -> dict[str, Any]:
        """The filter as the API's JSON: `{"key": ..., "operator": ..., "value": [...]}`."""
        return {"key": self.key, "operator": self.operator, "value": list(self.value)}


class LogQuery(TypedDict, total=False):
    """Which logs: the keyword arguments of `list_logs`, `iter_logs` and `delete_logs`."""

    filters: Sequence[LogFilter | Mapping[str, Any]]
    """Raw `filters[]` entries, for anything the keywords below do not cover."""
    search: str
    cached: bool
    success: bool
    provider: str
    model: str
    model_type: str
    request_type: str
    event_id: str
    user_agent: str
    feedback: int
    metadata: Mapping[str, MetadataValue]
    """Each pair becomes a `metadata.key` and a `metadata.value` filter; the API matches
    them independently, not as a pair (as observed)."""
    start_date: datetime | str
    """Logs created after this instant: sent as a `created_at` `gt` filter."""
    end_date: datetime | str
    """Logs created before this instant: sent as a `created_at` `lt` filter."""
    order_by: OrderBy | DeleteOrderBy
    """List: created_at, provider, model, model_type, success, cached; delete also takes
    cost, tokens_in, tokens_out, duration and feedback."""
    order_by_direction: OrderDirection


QUERY_KEYS = frozenset(LogQuery.__annotations__)
"""The keywords of a `LogQuery`."""

# --------------------------------------------------------------------------- gateways


class GatewaySettings(BaseModel):
    """The writable settings of a gateway, each checked against its bounds.

    Unset fields are not sent: on create Cloudflare's defaults fill them (the ones the API
    requires are filled by the client, see `NEW_GATEWAY_DEFAULTS`); on update the
    gateway's current values are kept. The fields and bounds are those of
    `ai_gateway_update_params.py` in cloudflare-python
    (https://developers.cloudflare.com/api/resources/ai_gateway/methods/update/).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    cache_ttl: int | None = Field(default=None, ge=0)
    """Seconds; 0 turns caching off."""
    cache_invalidate_on_update: bool | None = None
    collect_logs: bool | None = None
    rate_limiting_limit: int | None = Field(default=None, ge=0)
    """Requests per interval; 0 or None turns rate limiting off."""
    rate_limiting_interval: int | None = Field(default=None, ge=0)
    """Seconds."""
    rate_limiting_technique: RateLimitTechnique | None = None
    authentication: bool | None = None
    """Require `cf-aig-authorization` on every request."""
    log_management: int | None = Field(
        default=None, ge=Bounds.LOG_MANAGEMENT_MIN, le=Bounds.LOG_MANAGEMENT_MAX
    )
    """How many logs to keep."""
    log_management_strategy: Literal["STOP_INSERTING", "DELETE_OLDEST"] | None = None
    logpush: bool | None = None
    logpush_public_key: str | None = Field(
        default=None,
        min_length=Bounds.LOGPUSH_KEY_MIN_CHARS,
        max_length=Bounds.LOGPUSH_KEY_MAX_CHARS,
    )
    retry_backoff: Literal["constant", "linear", "exponential"] | None = None
    retry_delay: int | None = Field(
        default=None, ge=Bounds.RETRY_DELAY_MIN_MS, le=Bounds.GATEWAY_RETRY_DELAY_MAX_MS
    )
    """Milliseconds, 0 to 60000 (`ai_gateway_update_params.py` in cloudflare-python)."""
    retry_max_attempts: int | None = Field(
        default=None, ge=Bounds.MAX_ATTEMPTS_MIN, le=Bounds.MAX_ATTEMPTS_MAX
    )
    zdr: bool | None = None
    byok_only: bool | None = None
    store_id: str | None = None
    workers_ai_billing_mode: Literal["postpaid", "unified"] | None = None
    dlp: dict[str, Any] | None = None
    otel: list[dict[str, Any]] | None = None
    stripe: dict[str, Any] | None = None
    guardrails: dict[str, Any] | None = None
    """`{"prompt": {"P1": "BLOCK"}, "response": {"S9": "FLAG"}}`; a PUT without it turns
    Guardrails off (https://developers.cloudflare.com/ai-gateway/features/guardrails/)."""
    spend_limits: dict[str, Any] | None = None
    log_classification: bool | None = None

    def __init__(self, **data: Any) -> None:
        """Settings from keyword arguments, each checked against its bounds.

        Args:
            **data: Setting names and values (`cache_ttl=3600`, `authentication=True`...).

        Raises:
            InvalidOptionError: An unknown setting (naming the known ones), or a value out
                of its bounds (naming the field).
        """
        try:
            super().__init__(**data)
        except ValidationError as exc:
            error = _settings_error(exc)
            raise error from None

    def to_body(self) -> dict[str, Any]:
        """The fields that were set, as the API's JSON."""
        return self.model_dump(mode="json", exclude_unset=True)


def _settings_error(exc: ValidationError) -> InvalidOptionError:
    first = exc.errors(include_url=False)[0]
    loc = [str(p) for p in first.get("loc", ())]
    field = loc[0] if loc else "settings"
    if first.get("type") == "extra_forbidden":
        known = ", ".join(GatewaySettings.model_fields)
        return InvalidOptionError(field, f"is not a gateway setting; known settings: {known}")
    return InvalidOptionError(field, f"{first.get('msg')}; got {first.get('input')!r}")


NEW_GATEWAY_DEFAULTS: Mapping[str, Any] = {
    "cache_ttl": 0,
    "cache_invalidate_on_update": False,
    "collect_logs": True,
    "rate_limiting_limit": 0,
    "rate_limiting_interval": 0,
    "rate_limiting_technique": "fixed",
}
"""Fields the API requires on create and update, set as the `default`
gateway has them: logs on, cache and rate limit off."""


READ_ONLY_GATEWAY_FIELDS = frozenset(
    ("id", "created_at", "modified_at", "is_default", "account_id", "account_tag", "internal_id")
)
"""Fields of a gateway the API returns but an update does not take: those of
`ai_gateway_get_response.py` missing from `ai_gateway_update_params.py` in
cloudflare-python, and the account fields the API adds."""


class Gateway(BaseModel):
    """A gateway as the management API returns it: its settings and read-only fields.

    Fields this package does not model (`guardrails`, `spend_limits`, anything Cloudflare
    adds later) are kept as extras, so that `GatewayClient.update_gateway` sends them
    back unchanged.
    """

    model_config = ConfigDict(extra="allow")

    id: str
    created_at: datetime | None = None
    modified_at: datetime | None = None
    account_id: str | None = None
    internal_id: str | None = None
    is_default: bool | None = None
    cache_ttl: int | None = None
    cache_invalidate_on_update: bool | None = None
    collect_logs: bool | None = None
    rate_limiting_limit: int | None = None
    rate_limiting_interval: int | None = None
    rate_limiting_technique: str | None = None
    authentication: bool | None = None
    log_management: int | None = None
    log_management_strategy: str | None = None
    logpush: bool | None = None
    retry_backoff: str | None = None
    retry_delay: int | None = None
    retry_max_attempts: int | None = None
    zdr: bool | None = None
    byok_only: bool | None = None

    def settings(self) -> dict[str, Any]:
        """Every writable field as the API returned it, unknown ones included."""
        data = self.model_dump(mode="json", exclude_unset=True)
        return {k: v for k, v in data.items() if k not in READ_ONLY_GATEWAY_FIELDS}
