"""The query string of the logs API (list and delete), parsed strictly.

A delete must never widen to "every log" because a filter went unread, so every
parameter is read or refused: a parameter the route does not take, a repeated one,
or a filter that cannot be parsed is a `LogQueryError` (HTTP 400, code 7001).

Filters come in either encoding Cloudflare's clients send:

- `filters=<JSON array of {key, operator, value}>`;
- the form of Cloudflare's SDKs, generated from its API schema, with nested keys
  joined by dots and arrays repeated: `filters.key=event_id&filters.operator=eq&
  filters.value=ev-2` (cloudflare-python's client sets `Querystring(nested_format="dots",
  array_format="repeat")` in `src/cloudflare/_client.py`). With several filters the
  SDK sends every `filters.key`, then every `filters.operator`, then every
  `filters.value`: the values pair with the filters only when there is one filter, or
  one value per filter; anything else is ambiguous and refused, never guessed.

Each filter value is checked against its key, in both encodings: `success`, `cached`,
`authentication` and `wholesale` take booleans (or `"true"`/`"false"`); `cost`,
`tokens`, `tokens_in`, `tokens_out`, `duration` and `feedback` finite numbers (or
their text); `metadata.value` text, a number or a boolean; every other key text. Any
key takes null (no value). An object, a nested list or any other type is a 400 naming
the filter and what it takes (the schema types a value as string, number, boolean or
null: `log_list_params.py` below).

Bounds and enums follow the API reference generated from Cloudflare's schema
(https://developers.cloudflare.com/api/resources/ai_gateway/subresources/logs/methods/list
and `.../logs/methods/delete`) and cloudflare-python's
`src/cloudflare/types/ai_gateway/log_list_params.py` and `log_delete_params.py`.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from ..core.protocol import LogsApi
from .logstore import LogQueryError

PER_PAGE_DEFAULT: Final = 20
LIST_DEFAULT_DIRECTION: Final = "desc"
"""The list is newest first unless asked otherwise, as the dashboard shows it."""

_BOOL_KEYS: Final = frozenset(("success", "cached", "authentication", "wholesale"))
_NUMBER_KEYS: Final = frozenset(
    ("cost", "tokens", "tokens_in", "tokens_out", "duration", "feedback")
)
_ONE_FIELD_FILTERS: Final = (
    "cached",
    "success",
    "provider",
    "model",
    "model_type",
    "feedback",
    "event_id",
    "request_content_type",
    "response_content_type",
)
"""Deprecated one-field filters of the list (the API reference marks them deprecated)."""
_RANGE_FIELDS: Final = ("cost", "duration", "tokens_in", "tokens_out", "total_tokens")
_DOTTED: Final = ("filters.key", "filters.operator", "filters.value")
_LIST_PARAMS: Final = frozenset(
    (
        "page",
        "per_page",
        "search",
        "order_by",
        "order_by_direction",
        "direction",
        "filters",
        "meta_info",
        "start_date",
        "end_date",
        *_DOTTED,
        *_ONE_FIELD_FILTERS,
        *(f"{bound}_{name}" for name in _RANGE_FIELDS for bound in ("min", "max")),
    )
)
_DELETE_PARAMS: Final = frozenset(("filters", "limit", "order_by", "order_by_direction", *_DOTTED))
_FILTER_SHAPE: Final = "a JSON array of {key, operator, value}"


@dataclass(frozen=True)
class LogQuery:
    """What a logs list or delete selects, ready for `LogStore`."""

    filters: list[dict[str, Any]] = field(default_factory=list)
    order_by: str = "created_at"
    direction: str = LIST_DEFAULT_DIRECTION
    page: int = 1
    per_page: int = PER_PAGE_DEFAULT
    limit: int | None = None


def parse_list_query(items: Sequence[tuple[str, str]]) -> LogQuery:
    """`GET .../logs`: filters in both encodings, the deprecated parameters, paging."""
    params = _single_values(items, _LIST_PARAMS, "the logs list")
    filters = parse_filters(items)
    for key in _ONE_FIELD_FILTERS:
        if key in params:
            filters.append({"key": key, "operator": "eq", "value": [_typed(key, params[key])]})
    for name in _RANGE_FIELDS:
        key = "tokens" if name == "total_tokens" else name
        for bound, op in (("min", "gte"), ("max", "lte")):
            raw = params.get(f"{bound}_{name}")
            if raw is not None:
                value = _number(f"{bound}_{name}", raw)
                filters.append({"key": key, "operator": op, "value": [value], "_internal": True})
    for name, op in (("start_date", "gte"), ("end_date", "lte")):
        if name in params:
            filters.append(
                {"key": "created_at", "operator": op, "value": [params[name]], "_internal": True}
            )
    if params.get("search"):
        filters.append(
            {
                "key": "_search",
                "operator": "contains",
                "value": [params["search"]],
                "_internal": True,
            }
        )
    if "meta_info" in params:
        _bool("meta_info", params["meta_info"])  # totals are always in result_info
    direction = params.get("order_by_direction", params.get("direction", LIST_DEFAULT_DIRECTION))
    return LogQuery(
        filters=filters,
        order_by=_choice("order_by", params.get("order_by", "created_at"), LogsApi.ORDER_BY),
        direction=_choice("order_by_direction", direction, LogsApi.ORDER_DIRECTIONS),
        page=_int("page", params.get("page"), 1, 1, 1_000_000),
        per_page=_int(
            "per_page", params.get("per_page"), PER_PAGE_DEFAULT, 1, LogsApi.PER_PAGE_MAX
        ),
    )


def parse_delete_query(items: Sequence[tuple[str, str]]) -> LogQuery:
    """`DELETE .../logs`: only `filters`, `limit`, `order_by`, `order_by_direction`.

    Without a direction, `limit` removes the oldest rows first (the schema's default).
    """
    params = _single_values(items, _DELETE_PARAMS, "the logs delete")
    limit = params.get("limit")
    return LogQuery(
        filters=parse_filters(items),
        order_by=_choice("order_by", params.get("order_by", "created_at"), LogsApi.DELETE_ORDER_BY),
        direction=_choice(
            "order_by_direction",
            params.get("order_by_direction", LogsApi.DELETE_DEFAULT_DIRECTION),
            LogsApi.ORDER_DIRECTIONS,
        ),
        limit=None if limit is None else _int("limit", limit, 0, 1, LogsApi.DELETE_LIMIT_MAX),
    )


def parse_filters(items: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """The `filters` of a query, from the JSON form and the dotted form (both may be used)."""
    filters: list[dict[str, Any]] = []
    for name, raw in items:
        if name == "filters":
            filters.extend(_json_filters(raw))
    keys = [v for k, v in items if k == "filters.key"]
    operators = [v for k, v in items if k == "filters.operator"]
    values = [v for k, v in items if k == "filters.value"]
    if keys or operators or values:
        filters.extend(_dotted_filters(keys, operators, values))
    return filters


def _json_filters(raw: str) -> list[dict[str, Any]]:
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise LogQueryError(f"filters must be {_FILTER_SHAPE}; got {raw[:80]!r}") from None
    if isinstance(parsed, dict):
        parsed = [parsed]
    if not isinstance(parsed, list) or not all(isinstance(f, dict) for f in parsed):
        raise LogQueryError(f"filters must be {_FILTER_SHAPE}; got {raw[:80]!r}")
    if not parsed:
        # An empty array cannot be told from a client that failed to build its filters.
        raise LogQueryError("filters is an empty array: leave filters out to select every log")
    out = []
    for entry in parsed:
        extra = set(entry) - {"key", "operator", "value"}
        if extra or "key" not in entry or "value" not in entry:
            raise LogQueryError(
                f"each filter is {{key, operator, value}}; got {json.dumps(entry)[:120]}"
            )
        values = entry["value"] if isinstance(entry["value"], list) else [entry["value"]]
        out.append(_checked(entry["key"], entry.get("operator", "eq"), values))
    return out


def _dotted_filters(
    keys: list[str], operators: list[str], values: list[str]
) -> list[dict[str, Any]]:
    if not keys or len(operators) != len(keys) or not values:
        raise LogQueryError(
            "each filter needs filters.key, filters.operator and at least one filters.value; "
            f"got {len(keys)} key(s), {len(operators)} operator(s), {len(values)} value(s)"
        )
    if len(keys) == 1:
        grouped = [values]
    elif len(values) == len(keys):
        grouped = [[v] for v in values]
    else:
        raise LogQueryError(
            f"{len(values)} filters.value for {len(keys)} filters cannot be paired: give one "
            f"value per filter, or send filters as {_FILTER_SHAPE} (filters=[...])"
        )
    return [
        _checked(key, op, group) for key, op, group in zip(keys, operators, grouped, strict=True)
    ]


def _checked(key: Any, operator: Any, values: list[Any]) -> dict[str, Any]:
    if key not in LogsApi.FILTER_KEYS:
        raise LogQueryError(
            f"Invalid enum value: filter key must be one of {', '.join(LogsApi.FILTER_KEYS)}; "
            f"got {key!r}"
        )
    if operator not in LogsApi.FILTER_OPERATORS:
        raise LogQueryError(
            f"Invalid enum value: operator must be one of {', '.join(LogsApi.FILTER_OPERATORS)}; "
            f"got {operator!r}"
        )
    if not values:
        raise LogQueryError(f"the filter on {key!r} needs at least one value")
    return {"key": key, "operator": operator, "value": [_value(key, v) for v in values]}


def _value(key: str, value: Any) -> Any:
    """One filter value as its key takes it, or a `LogQueryError` naming the filter.

    Raises:
        LogQueryError: the value is not of the key's type.
    """
    if value is None:
        return None
    if key in _BOOL_KEYS:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        takes = 'true or false (a boolean, or the text "true"/"false")'
    elif key in _NUMBER_KEYS:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if isinstance(value, int) or math.isfinite(value):
                return value
        elif isinstance(value, str):
            with contextlib.suppress(LogQueryError):
                return _number(key, value)
        takes = "a finite number"
    elif key == "metadata.value":
        if isinstance(value, (str, bool, int)) or (
            isinstance(value, float) and math.isfinite(value)
        ):
            return value
        takes = "text, a finite number or a boolean"
    else:
        if isinstance(value, str):
            return value
        takes = "text"
    shown = json.dumps(value, default=str)
    raise LogQueryError(
        f"the filter on {key!r} takes {takes} (or null) as each value; got "
        f"{shown[:80]}{'...' if len(shown) > 80 else ''}: send "
        f'{{"key": "{key}", "operator": "eq", "value": [...]}} with such values'
    )


def _typed(key: str, raw: str) -> Any:
    """A query-string value as the filter's type: booleans and numbers travel as text."""
    if key in _BOOL_KEYS:
        return _bool(key, raw)
    if key in _NUMBER_KEYS:
        return _number(key, raw)
    return raw


def _bool(name: str, raw: str) -> bool:
    lowered = raw.lower()
    if lowered not in ("true", "false"):
        raise LogQueryError(f"{name} must be true or false; got {raw!r}")
    return lowered == "true"


def _number(name: str, raw: str) -> int | float:
    try:
        value = float(raw)
    except ValueError:
        raise LogQueryError(f"{name} must be a number; got {raw!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise LogQueryError(f"{name} must be a finite number; got {raw!r}")
    return int(value) if value.is_integer() else value


def _int(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise LogQueryError(f"{name} must be an integer {low} to {high}; got {raw!r}")
    return value


def _choice(name: str, value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise LogQueryError(
            f"Invalid enum value: {name} must be one of {', '.join(allowed)}; got {value!r}"
        )
    return value


def _single_values(
    items: Sequence[tuple[str, str]], allowed: frozenset[str], route: str
) -> dict[str, str]:
    """Each parameter once (dotted filters may repeat); a name the route does not take: 400.

    Raises:
        LogQueryError: a name the route does not take, or one given twice.
    """
    params: dict[str, str] = {}
    for name, value in items:
        if name not in allowed:
            raise LogQueryError(
                f"{route} takes no query parameter {name!r}; it takes "
                f"{', '.join(sorted(n for n in allowed if not n.startswith(('min_', 'max_'))))}"
                + (" and min_/max_ of cost, duration, tokens" if "min_cost" in allowed else "")
            )
        if name in _DOTTED or name == "filters":
            continue
        if name in params:
            raise LogQueryError(f"query parameter {name!r} is given twice")
        params[name] = value
    return params
