"""Cloudflare's management API for AI Gateway: logs, feedback and gateways.

https://developers.cloudflare.com/api/resources/ai_gateway/

```python
from langchain_cf_gateway import GatewayClient

with GatewayClient() as client:                 # same resolution as the chat model
    for log in client.iter_logs(cached=False, provider="openai", limit=100):
        print(log.id, log.model, log.tokens_in, log.tokens_out, log.cost)
    client.update_log(log.id, feedback=1, score=95)
    client.send_feedback(ai_message, feedback=-1)   # the log id read from the result
```

The API lives at `https://api.cloudflare.com/client/v4` and takes
`Authorization: Bearer <Cloudflare API token>`; with a `base_url` (the local gateway)
it lives at `{base_url}/client/v4` (`GatewayConfig.api_base`). Every answer is
Cloudflare's v4 envelope `{success, errors, messages, result, result_info}`; an error
answer raises the `errors` class for it, never showing the token.

`GatewayClient` and `AsyncGatewayClient` share `_GatewayClientBase`,
which builds each request and parses each answer; they differ only in how a request is
sent, as httpx's own clients do.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Generic, Literal, NamedTuple, TypeVar

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from typing_extensions import TypedDict, Unpack

from ..core.body_limit import ACCEPT_ENCODING, MAX_RESPONSE_BYTES, limit_response
from ..core.config import GatewayConfig
from ..core.errors import (
    ConfigError,
    GatewayAuthenticationError,
    GatewayError,
    GatewayNotFoundError,
    InvalidOptionError,
    InvalidResponseError,
    credentials_of,
    error_from_response,
    redact,
    redact_body,
)
from ..core.info import GatewayInfo
from ..core.options import GatewayOptions, MetadataValue
from ..core.protocol import Bounds, LogsApi

ENV_API_TOKEN = "CLOUDFLARE_API_TOKEN"
"""A Cloudflare API token for the management API; the gateway token is the fallback."""

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_RETRIES = 2
"""GETs sent again after a connection failure, a timeout, a 429 or a 5xx (see `_retry_delay`)."""
RETRY_AFTER_MAX_S = 60.0
"""A longer `Retry-After` is not waited for: the error is raised, with `retry_after` set."""
_RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))

FilterOperator = Literal["eq", "neq", "contains", "lt", "gt"]
OrderBy = Literal["created_at", "provider", "model", "model_type", "success", "cached"]
DeleteOrderBy = Literal["cost", "tokens_in", "tokens_out", "duration", "feedback"]
OrderDirection = Literal["asc", "desc"]
RateLimitTechnique = Literal["fixed", "sliding"]
FilterValue = str | int | float | bool | None

_PATH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

# --------------------------------------------------------------------------- errors


class ManagementAuthenticationError(GatewayAuthenticationError):
    """The management API refused the token (HTTP 401 or 403)."""

    hint = (
        "The management API needs a Cloudflare API token with 'AI Gateway Read' (and "
        "'AI Gateway Edit' to change logs or gateways): pass api_token= or set "
        f"{ENV_API_TOKEN}"
    )


class LogNotFoundError(GatewayNotFoundError):
    """No log with that id in that gateway (yet: Cloudflare stores logs a moment later)."""

    hint = (
        "Check the log id and the gateway id; a log appears a few seconds after its request, "
        "and never when the request was sent with collect_log=False"
    )


# --------------------------------------------------------------------------- models


def _parse_metadata(value: Any) -> Any:
    # Section 8: typed as a string in the API schema, seen as a JSON object in answers.
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return parsed if isinstance(parsed, dict) else value
    return value


class ResultInfo(BaseModel):
    """Pagination of a list answer; the logs list adds min and max of cost, tokens, duration."""

    model_config = ConfigDict(extra="allow")

    count: int | None = None
    """Entries on this page."""
    page: int | None = None
    per_page: int | None = None
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
    def total_tokens(self) -> int:
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


class GatewaySettings(BaseModel):
    """The writable settings of a gateway, each checked against its bounds.

    Unset fields are not sent: on create Cloudflare's defaults fill them (the ones the API
    requires are filled by the client, see `NEW_GATEWAY_DEFAULTS`); on update the
    gateway's current values are kept.
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
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _settings_error(exc) from None

    def to_body(self) -> dict[str, Any]:
        """The fields that were set, as the API's JSON."""
        return self.model_dump(mode="json", exclude_unset=True)


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


class LogFilter(BaseModel):
    """One `filters[]` entry of the logs API: `key` `operator` any of `value`."""

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


_QUERY_KEYS = frozenset(LogQuery.__annotations__)


# --------------------------------------------------------------------------- the log id


def gateway_log_id(result: Any) -> str:
    """The gateway log id of a result, from wherever the integrations put it.

    Accepts a log id string, a `GatewayInfo`, a gateway dict (`{"log_id": ...}`),
    a LangChain `AIMessage` or `ChatGeneration` (`response_metadata["gateway"]`), a
    LiteLLM response (`_hidden_params["gateway"]`, else its `cf-aig-log-id` header) or a
    `LogEntry`. Duck-typed, so core imports neither LangChain nor LiteLLM.
    """
    log_id = _find_log_id(result, depth=0)
    if not log_id:
        raise InvalidOptionError(
            "log_id",
            f"no gateway log id in this {type(result).__name__}: pass the log id, or a result "
            "of ChatCloudflareGateway or the LiteLLM handler; the gateway sends none when the "
            "request was not logged (collect_log=False)",
        )
    return log_id


def _find_log_id(obj: Any, depth: int) -> str | None:
    if depth > 4 or obj is None:
        return None
    if isinstance(obj, str):
        return obj.strip() or None
    if isinstance(obj, (GatewayInfo, LogEntry)):
        return obj.log_id if isinstance(obj, GatewayInfo) else obj.id
    if isinstance(obj, Mapping):
        if isinstance(obj.get("log_id"), str):
            return str(obj["log_id"])
        for key in ("gateway", "response_metadata"):
            if key in obj:
                found = _find_log_id(obj[key], depth + 1)
                if found:
                    return found
        headers = obj.get("additional_headers") or obj.get("headers")
        if isinstance(headers, Mapping):
            for name in ("cf-aig-log-id", "llm_provider-cf-aig-log-id"):
                if headers.get(name):
                    return str(headers[name])
        return None
    for attr in ("response_metadata", "_hidden_params", "message"):
        value = getattr(obj, attr, None)
        if value is not None:
            found = _find_log_id(value, depth + 1)
            if found:
                return found
    return None


# --------------------------------------------------------------------------- the shared base

T = TypeVar("T")
HttpClientT = TypeVar("HttpClientT", httpx.Client, httpx.AsyncClient)


class _Call(NamedTuple, Generic[T]):
    """One API call: the request to send and how to read the envelope's `result`."""

    request: httpx.Request
    parse: Callable[[Any, ResultInfo], T]
    not_found: type[GatewayNotFoundError] = GatewayNotFoundError
    raw: bool = False
    """The answer is a stored body, not a v4 envelope: returned as it is, never unwrapped."""


class _GatewayClientBase(Generic[HttpClientT]):
    """What the sync and async clients share: configuration, requests and parsing."""

    config: GatewayConfig
    """Account, default gateway id and host."""

    def __init__(
        self,
        config: GatewayConfig | None = None,
        *,
        api_token: str | SecretStr | None = None,
        account_id: str | None = None,
        gateway_id: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT_S,
        http_client: HttpClientT | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidOptionError("max_retries", f"must be an integer >= 0; got {max_retries!r}")
        if (
            isinstance(max_response_bytes, bool)
            or not isinstance(max_response_bytes, int)
            or max_response_bytes < 1
        ):
            raise InvalidOptionError(
                "max_response_bytes", f"must be an integer >= 1; got {max_response_bytes!r}"
            )
        self._max_retries = max_retries
        self._max_response_bytes = max_response_bytes
        if config is None:
            config = GatewayConfig.resolve(
                account_id=account_id, gateway_id=gateway_id, base_url=base_url
            )
        elif account_id or gateway_id or base_url:
            config = config.model_copy(
                update={
                    k: v
                    for k, v in (
                        ("account_id", account_id),
                        ("gateway_id", gateway_id),
                        ("base_url", base_url),
                    )
                    if v
                }
            )
        self.config = config
        raw = api_token.get_secret_value() if isinstance(api_token, SecretStr) else api_token
        raw = raw or os.environ.get(ENV_API_TOKEN) or None
        if raw is None and config.token is not None:
            raw = config.token.get_secret_value()
        if raw is not None:
            raw = raw.strip()
            if not raw or any(c in raw for c in "\r\n\0") or not raw.isascii():
                raise ConfigError(
                    "api_token must be printable ASCII on one line (check for a stray newline)"
                )
        if raw is None and config.base_url is None:
            raise ConfigError(
                "The management API needs a Cloudflare API token: pass api_token=..., set "
                f"{ENV_API_TOKEN}, or set CLOUDFLARE_AI_GATEWAY_TOKEN"
            )
        self._token = SecretStr(raw) if raw else None
        self._timeout = timeout
        self._owns_http = http_client is None
        self._http: HttpClientT = http_client if http_client is not None else self._new_http()

    def _new_http(self) -> HttpClientT:
        raise NotImplementedError

    def _retry_delay(
        self, call: _Call[Any], attempt: int, response: httpx.Response | None
    ) -> float | None:
        """Seconds to wait before sending `call` again; None when it must not be sent again.

        Only GETs are sent again: reading logs and gateways changes nothing, while a PATCH,
        POST or DELETE that failed half-way may have been applied. They are sent again after
        a connection failure or a timeout (`response` None), a 429 or a 502/503/504/500, at
        most `max_retries` times; `Retry-After` is honoured up to
        `RETRY_AFTER_MAX_S`, else the waits are 0.5 s, 1 s, 2 s...
        """
        if attempt >= self._max_retries or call.request.method != "GET":
            return None
        if response is None:
            return 0.5 * 2.0**attempt
        if response.status_code not in _RETRY_STATUSES:
            return None
        after = _retry_after_s(response)
        if after is None:
            return 0.5 * 2.0**attempt
        return after if after <= RETRY_AFTER_MAX_S else None

    def __repr__(self) -> str:
        token = "set" if self._token is not None else "none"
        return (
            f"{type(self).__name__}(account_id={self.config.account_id!r}, "
            f"gateway_id={self.config.gateway_id!r}, api_base={self.api_base!r}, token={token})"
        )

    @property
    def api_base(self) -> str:
        return self.config.api_base

    # ------------------------------------------------------------------ requests

    def _url(self, *parts: str) -> str:
        return "/".join((self.api_base, "accounts", self.config.account_id, "ai-gateway", *parts))

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | Sequence[tuple[str, str]] | None = None,
        body: Any = None,
    ) -> httpx.Request:
        headers = {"accept": "application/json"}
        if self._token is not None:
            headers["authorization"] = f"Bearer {self._token.get_secret_value()}"
        return self._http.build_request(
            method,
            url,
            params=httpx.QueryParams(_query_items(params)),
            json=body,
            headers=headers,
            timeout=self._timeout,
        )

    def _gateway(self, gateway_id: str | None) -> str:
        return _path_id("gateway_id", gateway_id or self.config.gateway_id)

    def _bounded(self, response: httpx.Response) -> httpx.Response:
        """`response` (sent with `stream=True`) with its body bounded, then read."""
        limit_response(response, max_bytes=self._max_response_bytes)
        return response

    def _secrets(self, request: httpx.Request) -> tuple[str, ...]:
        token = self._token.get_secret_value() if self._token is not None else None
        return credentials_of(request.headers.multi_items(), None, token)

    def _read(self, response: httpx.Response, call: _Call[T]) -> T:
        """The call's result from the v4 envelope, or the error class for the answer.

        Credentials the body echoes (the token, anything shaped like a key) are masked
        in the error.
        """
        body: Any
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = response.text
        if call.raw and response.is_success:
            return call.parse(body, ResultInfo())
        envelope = isinstance(body, dict) and "success" in body and "result" in body
        if response.is_success and (not envelope or body.get("success") is not False):
            try:
                if envelope:
                    info = ResultInfo.model_validate(body.get("result_info") or {})
                    return call.parse(body.get("result"), info)
                return call.parse(body, ResultInfo())
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                # A 2xx that is not JSON or not the documented shape (a proxy's HTML page, a
                # cut body): the server's fault, never a ValueError that reads as bad input.
                raise InvalidResponseError(
                    f"the management API answered HTTP {response.status_code} with a body "
                    f"that is not the v4 envelope of {call.request.url.path}: "
                    f"{type(exc).__name__}",
                    status_code=response.status_code,
                    log_id=GatewayInfo.from_headers(response.headers).log_id,
                    body=redact_body(body, self._secrets(call.request))
                    if isinstance(body, dict)
                    else redact(str(body)[:500], self._secrets(call.request)),
                ) from None
        raise _api_error(response, body, call.not_found, self._secrets(call.request))

    # ------------------------------------------------------------------ logs

    def _list_logs_call(
        self, page: int, per_page: int, gateway_id: str | None, query: LogQuery
    ) -> _Call[LogPage]:
        params = _log_params(query, delete=False)
        params.append(("page", str(_positive("page", page))))
        params.append(("per_page", str(_per_page(per_page))))
        url = self._url("gateways", self._gateway(gateway_id), "logs")
        return _Call(self._request("GET", url, params=params), _parse_log_page)

    def _get_log_call(self, log_id: str, gateway_id: str | None, part: str = "") -> _Call[Any]:
        parts = ["gateways", self._gateway(gateway_id), "logs", _path_id("log_id", log_id)]
        if part:
            # The stored body itself, not an envelope: cloudflare-python's logs.request() and
            # logs.response() read it with cast_to=object and no ResultWrapper
            # (src/cloudflare/resources/ai_gateway/logs.py). A body that looks like an
            # envelope (a Workers AI answer) must come back whole.
            parts.append(part)
            return _Call(self._request("GET", self._url(*parts)), _raw, LogNotFoundError, raw=True)
        return _Call(self._request("GET", self._url(*parts)), _parse_log, LogNotFoundError)

    def _update_log_call(
        self,
        log_id: str,
        gateway_id: str | None,
        feedback: int | None,
        score: float | None,
        metadata: Mapping[str, MetadataValue] | None,
    ) -> _Call[None]:
        body: dict[str, Any] = {}
        if feedback is not None:
            if (
                isinstance(feedback, bool)
                or not isinstance(feedback, (int, float))
                or not LogsApi.FEEDBACK_MIN <= feedback <= LogsApi.FEEDBACK_MAX
            ):
                raise InvalidOptionError(
                    "feedback",
                    f"must be a number from {LogsApi.FEEDBACK_MIN} to {LogsApi.FEEDBACK_MAX} "
                    f"(1 thumbs up, -1 thumbs down); got {feedback!r}",
                )
            body["feedback"] = feedback
        if score is not None:
            if (
                isinstance(score, bool)
                or not isinstance(score, (int, float))
                or not LogsApi.SCORE_MIN <= score <= LogsApi.SCORE_MAX
            ):
                raise InvalidOptionError(
                    "score",
                    f"must be a number from {LogsApi.SCORE_MIN} to {LogsApi.SCORE_MAX}; "
                    f"got {score!r}",
                )
            body["score"] = score
        if metadata is not None:
            # The same rules as cf-aig-metadata (at most 5 scalar entries): checked by core.
            checked = GatewayOptions(metadata=dict(metadata)).metadata
            body["metadata"] = checked
        if not body:
            raise InvalidOptionError(
                "feedback", "give at least one of feedback=1/-1, score=0..100 or metadata={...}"
            )
        url = self._url("gateways", self._gateway(gateway_id), "logs", _path_id("log_id", log_id))
        return _Call(self._request("PATCH", url, body=body), _none, LogNotFoundError)

    def _delete_logs_call(
        self, gateway_id: str | None, limit: int | None, query: LogQuery
    ) -> _Call[int | None]:
        params = _log_params(query, delete=True)
        if limit is not None:
            if _positive("limit", limit) > LogsApi.DELETE_LIMIT_MAX:
                raise InvalidOptionError(
                    "limit", f"must be 1 to {LogsApi.DELETE_LIMIT_MAX}; got {limit!r}"
                )
            params.append(("limit", str(limit)))
        url = self._url("gateways", self._gateway(gateway_id), "logs")
        return _Call(self._request("DELETE", url, params=params), _deleted)

    # ------------------------------------------------------------------ gateways

    def _create_gateway_call(self, gateway_id: str, settings: GatewaySettings) -> _Call[Gateway]:
        body = {**NEW_GATEWAY_DEFAULTS, **settings.to_body(), "id": _path_id("id", gateway_id)}
        return _Call(self._request("POST", self._url("gateways"), body=body), _parse_gateway)

    def _list_gateways_call(
        self, page: int, per_page: int, search: str | None
    ) -> _Call[list[Gateway]]:
        params = {
            "page": _positive("page", page),
            "per_page": _positive("per_page", per_page),
            "search": search,
        }
        return _Call(self._request("GET", self._url("gateways"), params=params), _parse_gateways)

    def _get_gateway_call(self, gateway_id: str | None) -> _Call[Gateway]:
        url = self._url("gateways", self._gateway(gateway_id))
        return _Call(self._request("GET", url), _parse_gateway)

    def _put_gateway_call(self, current: Gateway, settings: GatewaySettings) -> _Call[Gateway]:
        # PUT replaces the whole gateway: a field left out is reset (a PUT without
        # `guardrails` turns Guardrails off). So the body is the current object as the API
        # returned it, every field this package does not know included, minus the read-only
        # ones, plus the changes; required fields it lacks take the defaults.
        body = {**NEW_GATEWAY_DEFAULTS, **current.settings(), **settings.to_body()}
        url = self._url("gateways", self._gateway(current.id))
        return _Call(self._request("PUT", url, body=body), _parse_gateway)

    def _delete_gateway_call(self, gateway_id: str) -> _Call[None]:
        url = self._url("gateways", _path_id("gateway_id", gateway_id))
        return _Call(self._request("DELETE", url), _none)


def _settings(settings: GatewaySettings | None, changes: Mapping[str, Any]) -> GatewaySettings:
    if settings is None:
        return GatewaySettings(**changes)
    if changes:
        return GatewaySettings(**{**settings.to_body(), **changes})
    return settings


# --------------------------------------------------------------------------- sync client


class GatewayClient(_GatewayClientBase[httpx.Client]):
    """Cloudflare AI Gateway's management API: logs, feedback and gateways.

    https://developers.cloudflare.com/api/resources/ai_gateway/

    Setup:
        `pip install langchain-cf-gateway`; a Cloudflare API token with *AI Gateway Read*
        (and *Edit* to send feedback or change gateways) in `CLOUDFLARE_API_TOKEN`
        (else `CLOUDFLARE_AI_GATEWAY_TOKEN` is used), and `CLOUDFLARE_ACCOUNT_ID`.

    Instantiate:
        .. code-block:: python

            client = GatewayClient()                                # env and config file
            client = GatewayClient(account_id="...", gateway_id="my-gw", api_token="...")
            client = GatewayClient(local_gateway.config(), api_token=local_gateway.management_token)

    Retries:
        Reads (logs, gateways) are sent again up to `max_retries` times (2) after a
        connection failure, a timeout, a 429 or a 5xx, honouring `Retry-After` up to 60 s;
        writes (feedback, deletes, gateway changes) are never sent twice.

    Bounds:
        An answer's body is read up to `max_response_bytes` (32 MiB, counted after
        decompression), else `ResponseTooLargeError`; a stored request or response of
        a log larger than that needs a larger cap. Errors never show the token, nor
        anything else shaped like a key that an error body echoes.

    Logs:
        .. code-block:: python

            page = client.list_logs(per_page=20, cached=True, order_by="created_at")
            page.result_info.total_count
            for log in client.iter_logs(provider="openai", success=False, limit=200): ...
            client.get_log(log_id).tokens_out
            client.get_log_request(log_id)        # the stored request body
            client.delete_logs(filters=[LogFilter("created_at", "lt", "2026-01-01")])

    Feedback:
        .. code-block:: python

            client.update_log(log_id, feedback=1, score=95, metadata={"reviewed": True})
            client.send_feedback(ai_message, feedback=-1)   # log id from the result

    Gateways:
        .. code-block:: python

            client.create_gateway("my-gw", cache_ttl=3600, authentication=True)
            client.update_gateway("my-gw", rate_limiting_limit=100, rate_limiting_interval=60)
            [g.id for g in client.list_gateways()]
            client.delete_gateway("my-gw")
    """

    def _new_http(self) -> httpx.Client:
        return httpx.Client(timeout=self._timeout, headers={"accept-encoding": ACCEPT_ENCODING})

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections (only those of a client this object made)."""
        if self._owns_http:
            self._http.close()

    def _run(self, call: _Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = self._http.send(call.request, stream=True)
                try:
                    self._bounded(response).read()
                finally:
                    response.close()
            except httpx.TransportError:  # refused, reset, timed out: no answer to read
                delay = self._retry_delay(call, attempt, None)
                if delay is None:
                    raise
            else:
                delay = self._retry_delay(call, attempt, response)
                if delay is None:
                    return self._read(response, call)
            time.sleep(delay)
            attempt += 1

    # ------------------------------------------------------------------ logs

    def list_logs(
        self,
        *,
        page: int = 1,
        per_page: int = 20,
        gateway_id: str | None = None,
        **query: Unpack[LogQuery],
    ) -> LogPage:
        """One page of logs, newest first unless `order_by_direction="asc"`."""
        return self._run(self._list_logs_call(page, per_page, gateway_id, _check_query(query)))

    def iter_logs(
        self,
        *,
        limit: int | None = None,
        per_page: int = 50,
        gateway_id: str | None = None,
        **query: Unpack[LogQuery],
    ) -> Iterator[LogEntry]:
        """Every matching log, page after page, up to `limit` entries."""
        query = _check_query(query)
        page, seen = 1, 0
        while True:
            batch = self._run(self._list_logs_call(page, per_page, gateway_id, query))
            for entry in batch.result:
                if limit is not None and seen >= limit:
                    return
                seen += 1
                yield entry
            if not batch.result or not batch.has_more:
                return
            page += 1

    def get_log(self, log_id: str, *, gateway_id: str | None = None) -> LogEntry:
        """One log with its details (request and response heads and sizes)."""
        result: LogEntry = self._run(self._get_log_call(log_id, gateway_id))
        return result

    def get_log_request(self, log_id: str, *, gateway_id: str | None = None) -> Any:
        """The stored request body: parsed JSON, or text."""
        return self._run(self._get_log_call(log_id, gateway_id, "request"))

    def get_log_response(self, log_id: str, *, gateway_id: str | None = None) -> Any:
        """The stored response body: parsed JSON, or text."""
        return self._run(self._get_log_call(log_id, gateway_id, "response"))

    def update_log(
        self,
        log_id: str,
        *,
        feedback: int | None = None,
        score: float | None = None,
        metadata: Mapping[str, MetadataValue] | None = None,
        gateway_id: str | None = None,
    ) -> None:
        """Human feedback (1 or -1), a score (0 to 100) and/or metadata on one log."""
        self._run(self._update_log_call(log_id, gateway_id, feedback, score, metadata))

    def send_feedback(
        self,
        result: Any,
        *,
        feedback: int | None = None,
        score: float | None = None,
        metadata: Mapping[str, MetadataValue] | None = None,
        gateway_id: str | None = None,
    ) -> str:
        """`update_log` on the log of a result (see `gateway_log_id`); returns its id."""
        log_id = gateway_log_id(result)
        self.update_log(
            log_id, feedback=feedback, score=score, metadata=metadata, gateway_id=gateway_id
        )
        return log_id

    def delete_logs(
        self, *, limit: int | None = None, gateway_id: str | None = None, **query: Unpack[LogQuery]
    ) -> int | None:
        """Delete the matching logs (all of them when no filter is given).

        With `limit`, the first `limit` logs in `order_by` order go, oldest first unless
        `order_by_direction="desc"` (the API's default direction of the delete is `asc`).

        Returns how many were deleted when the API says (the local gateway does; Cloudflare
        documents only `{success}`), else None.
        """
        return self._run(self._delete_logs_call(gateway_id, limit, _check_query(query)))

    # ------------------------------------------------------------------ gateways

    def create_gateway(
        self, gateway_id: str, settings: GatewaySettings | None = None, **changes: Any
    ) -> Gateway:
        """A new gateway; settings not given take the `default` gateway's values."""
        return self._run(self._create_gateway_call(gateway_id, _settings(settings, changes)))

    def list_gateways(
        self, *, page: int = 1, per_page: int = 20, search: str | None = None
    ) -> list[Gateway]:
        return self._run(self._list_gateways_call(page, per_page, search))

    def get_gateway(self, gateway_id: str | None = None) -> Gateway:
        """A gateway (the configured one by default)."""
        return self._run(self._get_gateway_call(gateway_id))

    def update_gateway(
        self, gateway_id: str | None = None, settings: GatewaySettings | None = None, **changes: Any
    ) -> Gateway:
        """Change some settings, keeping every other one (read, then PUT).

        Cloudflare's PUT replaces the whole gateway (a PUT without `guardrails` turns
        Guardrails off), so the body is the gateway as the API returned it, minus its
        read-only fields (`READ_ONLY_GATEWAY_FIELDS`), plus the changes: settings this
        package does not model, and any Cloudflare adds later, are sent back unchanged.
        """
        wanted = _settings(settings, changes)
        current = self.get_gateway(gateway_id)
        return self._run(self._put_gateway_call(current, wanted))

    def delete_gateway(self, gateway_id: str) -> None:
        self._run(self._delete_gateway_call(gateway_id))


# --------------------------------------------------------------------------- async client


class AsyncGatewayClient(_GatewayClientBase[httpx.AsyncClient]):
    """The async twin of `GatewayClient`: the same methods, awaited.

    .. code-block:: python

        async with AsyncGatewayClient() as client:
            page = await client.list_logs(cached=True)
            async for log in client.iter_logs(limit=100): ...
            await client.send_feedback(ai_message, feedback=1, score=90)
    """

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self._timeout, headers={"accept-encoding": ACCEPT_ENCODING}
        )

    async def __aenter__(self) -> AsyncGatewayClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _run(self, call: _Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = await self._http.send(call.request, stream=True)
                try:
                    await self._bounded(response).aread()
                finally:
                    await response.aclose()
            except httpx.TransportError:  # refused, reset, timed out: no answer to read
                delay = self._retry_delay(call, attempt, None)
                if delay is None:
                    raise
            else:
                delay = self._retry_delay(call, attempt, response)
                if delay is None:
                    return self._read(response, call)
            await asyncio.sleep(delay)
            attempt += 1

    async def list_logs(
        self,
        *,
        page: int = 1,
        per_page: int = 20,
        gateway_id: str | None = None,
        **query: Unpack[LogQuery],
    ) -> LogPage:
        return await self._run(
            self._list_logs_call(page, per_page, gateway_id, _check_query(query))
        )

    async def iter_logs(
        self,
        *,
        limit: int | None = None,
        per_page: int = 50,
        gateway_id: str | None = None,
        **query: Unpack[LogQuery],
    ) -> AsyncIterator[LogEntry]:
        query = _check_query(query)
        page, seen = 1, 0
        while True:
            batch = await self._run(self._list_logs_call(page, per_page, gateway_id, query))
            for entry in batch.result:
                if limit is not None and seen >= limit:
                    return
                seen += 1
                yield entry
            if not batch.result or not batch.has_more:
                return
            page += 1

    async def get_log(self, log_id: str, *, gateway_id: str | None = None) -> LogEntry:
        result: LogEntry = await self._run(self._get_log_call(log_id, gateway_id))
        return result

    async def get_log_request(self, log_id: str, *, gateway_id: str | None = None) -> Any:
        return await self._run(self._get_log_call(log_id, gateway_id, "request"))

    async def get_log_response(self, log_id: str, *, gateway_id: str | None = None) -> Any:
        return await self._run(self._get_log_call(log_id, gateway_id, "response"))

    async def update_log(
        self,
        log_id: str,
        *,
        feedback: int | None = None,
        score: float | None = None,
        metadata: Mapping[str, MetadataValue] | None = None,
        gateway_id: str | None = None,
    ) -> None:
        await self._run(self._update_log_call(log_id, gateway_id, feedback, score, metadata))

    async def send_feedback(
        self,
        result: Any,
        *,
        feedback: int | None = None,
        score: float | None = None,
        metadata: Mapping[str, MetadataValue] | None = None,
        gateway_id: str | None = None,
    ) -> str:
        log_id = gateway_log_id(result)
        await self.update_log(
            log_id, feedback=feedback, score=score, metadata=metadata, gateway_id=gateway_id
        )
        return log_id

    async def delete_logs(
        self, *, limit: int | None = None, gateway_id: str | None = None, **query: Unpack[LogQuery]
    ) -> int | None:
        return await self._run(self._delete_logs_call(gateway_id, limit, _check_query(query)))

    async def create_gateway(
        self, gateway_id: str, settings: GatewaySettings | None = None, **changes: Any
    ) -> Gateway:
        return await self._run(self._create_gateway_call(gateway_id, _settings(settings, changes)))

    async def list_gateways(
        self, *, page: int = 1, per_page: int = 20, search: str | None = None
    ) -> list[Gateway]:
        return await self._run(self._list_gateways_call(page, per_page, search))

    async def get_gateway(self, gateway_id: str | None = None) -> Gateway:
        return await self._run(self._get_gateway_call(gateway_id))

    async def update_gateway(
        self, gateway_id: str | None = None, settings: GatewaySettings | None = None, **changes: Any
    ) -> Gateway:
        wanted = _settings(settings, changes)
        current = await self.get_gateway(gateway_id)
        return await self._run(self._put_gateway_call(current, wanted))

    async def delete_gateway(self, gateway_id: str) -> None:
        await self._run(self._delete_gateway_call(gateway_id))


# --------------------------------------------------------------------------- pure helpers


def _path_id(field: str, value: str | None) -> str:
    if not isinstance(value, str) or not _PATH_ID.match(value):
        raise InvalidOptionError(
            field,
            f"must be 1 to 128 letters, digits, '.', '-' or '_' (an id as the gateway gives it); "
            f"got {value!r}",
        )
    return value


def _positive(field: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidOptionError(field, f"must be a whole number >= 1; got {value!r}")
    return value


def _check_query(query: Mapping[str, Any]) -> LogQuery:
    unknown = set(query) - _QUERY_KEYS
    if unknown:
        raise InvalidOptionError(
            sorted(unknown)[0],
            f"is not a log query keyword; known: {', '.join(sorted(_QUERY_KEYS))}",
        )
    return query  # type: ignore[return-value]


def _iso(field: str, value: datetime | str) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise InvalidOptionError(
            field,
            f"must be a datetime or an ISO 8601 date such as 2026-11-23T10:00:00Z; got {value!r}",
        ) from None
    return value


def _log_params(query: LogQuery, *, delete: bool) -> list[tuple[str, str]]:
    """Query parameters of the logs list (`delete=False`) or delete, as Cloudflare's SDKs send them.

    Every filter, the dates included, travels in `filters`, encoded as cloudflare-python
    (generated from Cloudflare's API schema) encodes it: nested keys joined by dots and arrays
    repeated, every `filters.key` first, then every `filters.operator`, then every
    `filters.value` (`Querystring(nested_format="dots", array_format="repeat")` in
    `src/cloudflare/_client.py`; cloudflare-go sends the same). We found no public
    evidence that the API refuses this form. It cannot say which value belongs to which
    filter when several filters have other than one value each, nor carry a null value: those
    raise `InvalidOptionError` rather than send a query the API could read otherwise.
    `start_date`/`end_date` and the one-field filters are deprecated parameters in the
    schema (https://developers.cloudflare.com/api/resources/ai_gateway/subresources/logs/methods/list):
    they become `created_at` `gt`/`lt` and `eq` filters.
    """
    filters: list[LogFilter] = []
    for raw in query.get("filters", ()):
        filters.append(raw if isinstance(raw, LogFilter) else LogFilter(**dict(raw)))
    plain: Mapping[str, Any] = query
    for key in (
        "cached",
        "success",
        "provider",
        "model",
        "model_type",
        "request_type",
        "event_id",
        "user_agent",
        "feedback",
    ):
        value = plain.get(key)
        if value is not None:
            if key in ("cached", "success") and not isinstance(value, bool):
                raise InvalidOptionError(key, f"must be True or False; got {value!r}")
            if key == "feedback" and (isinstance(value, bool) or value not in (-1, 0, 1)):
                raise InvalidOptionError(key, f"must be -1, 0 or 1; got {value!r}")
            filters.append(LogFilter(key, "eq", value))
    metadata = query.get("metadata")
    if metadata:
        for k, v in GatewayOptions(metadata=dict(metadata)).metadata.items():  # type: ignore[union-attr]
            filters.append(LogFilter("metadata.key", "eq", k))
            filters.append(LogFilter("metadata.value", "eq", v))
    dates: tuple[tuple[str, FilterOperator], ...] = (("start_date", "gt"), ("end_date", "lt"))
    for name, operator in dates:
        date = plain.get(name)
        if date is not None:
            filters.append(LogFilter("created_at", operator, _iso(name, date)))
    params: list[tuple[str, str]] = _dotted_filters(filters)
    if query.get("search"):
        if delete:
            raise InvalidOptionError("search", "delete_logs takes filters, not a search text")
        params.append(("search", query["search"]))
    order_by = query.get("order_by")
    if order_by is not None:
        allowed = LogsApi.DELETE_ORDER_BY if delete else LogsApi.ORDER_BY
        if order_by not in allowed:
            raise InvalidOptionError(
                "order_by", f"must be one of {', '.join(allowed)}; got {order_by!r}"
            )
        params.append(("order_by", order_by))
    direction = query.get("order_by_direction")
    if direction is not None:
        if direction not in LogsApi.ORDER_DIRECTIONS:
            raise InvalidOptionError(
                "order_by_direction", f"must be 'asc' or 'desc'; got {direction!r}"
            )
        params.append(("order_by_direction", direction))
    return params


def _dotted_filters(filters: Sequence[LogFilter]) -> list[tuple[str, str]]:
    """`filters` in the dotted, repeated form (see `_log_params`)."""
    if len(filters) > 1 and any(len(f.value) != 1 for f in filters):
        raise InvalidOptionError(
            "filters",
            "with several filters each must have exactly one value: Cloudflare's query "
            "encoding (filters.key / filters.operator / filters.value) cannot tell which value "
            "belongs to which filter; list once per value instead",
        )
    for f in filters:
        if not f.value or any(v is None for v in f.value):
            raise InvalidOptionError(
                "filters", f"the filter on {f.key!r} needs at least one value and no null value"
            )
    return [
        *(("filters.key", f.key) for f in filters),
        *(("filters.operator", f.operator) for f in filters),
        *(("filters.value", _query_value(v)) for f in filters for v in f.value),
    ]


def _query_value(value: FilterValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _query_items(
    params: Mapping[str, Any] | Sequence[tuple[str, str]] | None,
) -> list[tuple[str, Any]]:
    """Query pairs, in order, without the `None` values."""
    if params is None:
        return []
    pairs = params.items() if isinstance(params, Mapping) else params
    return [(k, str(v)) for k, v in pairs if v is not None]


def _per_page(value: int) -> int:
    if _positive("per_page", value) > LogsApi.PER_PAGE_MAX:
        raise InvalidOptionError(
            "per_page",
            f"must be 1 to {LogsApi.PER_PAGE_MAX} (the logs API's bound); got {value!r}; "
            "iter_logs() reads every page",
        )
    return value


def _parse_log_page(result: Any, info: ResultInfo) -> LogPage:
    return LogPage(result=[LogEntry.model_validate(row) for row in result or []], result_info=info)


def _parse_log(result: Any, info: ResultInfo) -> LogEntry:
    return LogEntry.model_validate(result)


def _parse_gateway(result: Any, info: ResultInfo) -> Gateway:
    return Gateway.model_validate(result)


def _parse_gateways(result: Any, info: ResultInfo) -> list[Gateway]:
    return [Gateway.model_validate(row) for row in result or []]


def _raw(result: Any, info: ResultInfo) -> Any:
    return result


def _none(result: Any, info: ResultInfo) -> None:
    return None


def _deleted(result: Any, info: ResultInfo) -> int | None:
    count = result.get("deleted") if isinstance(result, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) else None


def _retry_after_s(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds, as the core's errors read it."""
    return error_from_response(response.status_code, response.headers, None).retry_after


def _api_error(
    response: httpx.Response,
    body: Any,
    not_found: type[GatewayNotFoundError],
    secrets: tuple[str, ...] = (),
) -> GatewayError:
    """The typed error of a management API answer; its message never holds the token."""
    error = error_from_response(response.status_code, response.headers, body, secrets=secrets)
    cls: type[GatewayError] | None = None
    if response.status_code in (401, 403):
        cls = ManagementAuthenticationError
    elif response.status_code == 404:
        cls = not_found
    if cls is None or isinstance(error, cls):
        return error
    return cls(
        error.message,
        status_code=error.status_code,
        code=error.code,
        log_id=error.log_id,
        body=error.body,
        retry_after=error.retry_after,
    )


def _settings_error(exc: ValidationError) -> InvalidOptionError:
    first = exc.errors(include_url=False)[0]
    loc = [str(p) for p in first.get("loc", ())]
    field = loc[0] if loc else "settings"
    if first.get("type") == "extra_forbidden":
        known = ", ".join(GatewaySettings.model_fields)
        return InvalidOptionError(field, f"is not a gateway setting; known settings: {known}")
    return InvalidOptionError(field, f"{first.get('msg')}; got {first.get('input')!r}")
