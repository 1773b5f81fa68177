"""The log row: Cloudflare's log object as the local gateway stores and serves it.

`LogRow` is the one definition of a row's fields: the gateway builds one per request (or
per universal step), the store keeps it (its columns are `COLUMNS`, the whole row is
kept as JSON too) and the logs API returns it typed as the schema declares
(`wire_log`). `cost` is 0 unless `cf-aig-custom-cost` gives prices: the local gateway
has no price table.

Fields (cloudflare-python `src/cloudflare/types/ai_gateway/log_get_response.py`):
`id` (UUIDv7, also `cf-aig-log-id`), `created_at`, `gateway_id`, `provider`, `model`,
`model_type`, `path`, `request_type`, `success`, `status_code`, `cached`,
`tokens_in`, `tokens_out`, `cost`, `custom_cost`, `duration` (ms), `metadata`
(an object, or null), `event_id`, `request_id`, `step`, `attempts`, `feedback`,
`score`, `request_content_type`, `response_content_type`, `request_size`,
`response_size`, `request_head`, `response_head` (auth headers redacted),
`request_head_complete`, `response_head_complete`, `authentication`, `wholesale`,
`byok`, `payload` (whether the bodies were kept; they are served by `/request` and
`/response`). Local to this gateway: `request_body_complete` and
`response_body_complete` (whether the stored body is the whole body, after Cloudflare's
`request_head_complete`), `bodies_dropped` (the store's total bound removed the
bodies), `log_store_unavailable` (the request got HTTP 503 because the row could not
be committed in time) and `log_error` (SQLite refused the row: a stub was stored).
"""

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Final

from typing_extensions import NotRequired, TypedDict


class LogRow(TypedDict):
    """One log row: one request, or one step of a universal request."""

    id: str
    created_at: str
    gateway_id: str
    provider: str | None
    model: str | None
    model_type: str | None
    path: str
    request_type: str
    success: bool
    status_code: int
    cached: bool
    tokens_in: int | None
    tokens_out: int | None
    cost: float
    custom_cost: bool
    duration: int
    metadata: dict[str, Any] | None
    event_id: str
    request_id: str
    step: int
    attempts: int
    feedback: float | None
    score: float | None
    request_content_type: str | None
    response_content_type: str
    request_size: int
    response_size: int
    request_head: dict[str, str]
    request_head_complete: bool
    response_head: dict[str, str]
    response_head_complete: bool
    authentication: bool
    wholesale: bool
    byok: bool
    payload: bool
    request_body_complete: NotRequired[bool]
    response_body_complete: NotRequired[bool]
    bodies_dropped: NotRequired[bool]
    log_store_unavailable: NotRequired[bool]
    log_error: NotRequired[str]


COLUMNS: Final = (
    "id",
    "gateway_id",
    "created_at",
    "provider",
    "model",
    "model_type",
    "path",
    "success",
    "status_code",
    "cached",
    "tokens_in",
    "tokens_out",
    "cost",
    "duration",
    "event_id",
    "request_id",
    "step",
    "feedback",
    "score",
    "request_content_type",
    "response_content_type",
    "request_type",
    "metadata",
)
"""The fields of `LogRow` with their own SQLite column (to filter and order on)."""
BOOL_COLUMNS: Final = frozenset(("success", "cached"))
_TEXT_FIELDS: Final = ("metadata", "request_head", "response_head")
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def storable(value: Any) -> Any:
    r"""`value` with everything SQLite or strict JSON would refuse replaced, recursively.

    The one place where client- and upstream-controlled values are made safe for the
    store, applied to the whole row (every column and the JSON copy): unpaired surrogates
    (`"\ud800"` from a JSON escape) become U+FFFD, integers outside signed 64 bits
    (SQLite's INTEGER) and non-finite floats become None, mapping keys become text, any
    other object becomes its `str`.

    Args:
        value: a row, or any value in one.

    Returns:
        The value, safe to bind and to dump as strict JSON.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if _INT64_MIN <= value <= _INT64_MAX else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return text(value)
    if isinstance(value, Mapping):
        return {text(str(k)): storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(v) for v in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return text(bytes(value).decode("utf-8", "replace"))
    return text(str(value))


def text(value: str) -> str:
    """`value` with unpaired surrogates replaced by U+FFFD (SQLite stores valid UTF-8).

    Args:
        value: any text.

    Returns:
        The text, valid UTF-8.
    """
    if value.isascii():
        return value
    return _SURROGATE.sub("\ufffd", value)


def in_int64(value: int) -> bool:
    """Whether SQLite's INTEGER (signed 64 bits) holds `value`.

    Args:
        value: an integer.

    Returns:
        True when it fits.
    """
    return _INT64_MIN <= value <= _INT64_MAX


def column_value(column: str, value: Any) -> Any:
    """A row field as its SQLite column holds it (metadata as JSON text, booleans as 0/1).

    Args:
        column: one of `COLUMNS`.
        value: the field's (storable) value.

    Returns:
        The value to bind.
    """
    if column == "metadata":
        return None if value is None else json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return int(value)
    return value


def wire_log(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row as the logs API returns it, typed as Cloudflare's schema declares it.

    `metadata`, `request_head` and `response_head` are strings (JSON text) and
    `duration` an integer of milliseconds (cloudflare-python
    `src/cloudflare/types/ai_gateway/log_get_response.py`); the store keeps them as
    objects for `LocalGateway.logs()`.

    Args:
        row: a row as the store returns it.

    Returns:
        A new dict: the row as the logs API sends it.
    """
    data = dict(row)
    for name in _TEXT_FIELDS:
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            data[name] = json.dumps(value, separators=(",", ":"))
    duration = data.get("duration")
    if isinstance(duration, float):
        data["duration"] = round(duration)
    return data
