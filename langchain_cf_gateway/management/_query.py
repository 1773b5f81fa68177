"""Arguments of the management API checked and encoded: path ids, pages and log queries.

Pure functions, shared by both clients. Every check raises `InvalidOptionError` naming the
argument and its allowed values before anything is sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Final

from ..core.errors import InvalidOptionError
from ..core.options import GatewayOptions, MetadataValue
from ..core.protocol import LogsApi
from .models import QUERY_KEYS, FilterOperator, FilterValue, LogFilter, LogQuery

_PATH_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

_EQ_KEYWORDS: Final = (
    "cached",
    "success",
    "provider",
    "model",
    "model_type",
    "request_type",
    "event_id",
    "user_agent",
    "feedback",
)
"""The one-field keywords of a `LogQuery`, each sent as an `eq` filter."""


def path_id(field: str, value: str | None) -> str:
    """`value`, checked to be an id that can stand in a URL path.

    Raises:
        InvalidOptionError: Not 1 to 128 letters, digits, `.`, `-` or `_`, starting with
            a letter or digit (so that `../gateways` never reaches another path).
    """
    if not isinstance(value, str) or not _PATH_ID.match(value):
        raise InvalidOptionError(
            field,
            f"must be 1 to 128 letters, digits, '.', '-' or '_' (an id as the gateway gives it); "
            f"got {value!r}",
        )
    return value


def positive(field: str, value: int) -> int:
    """`value`, checked to be a whole number of at least 1.

    Raises:
        InvalidOptionError: A bool, a float, a string or a number below 1.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidOptionError(field, f"must be a whole number >= 1; got {value!r}")
    return value


def per_page(value: int) -> int:
    """`value`, checked against the logs API's bound on entries per page.

    Raises:
        InvalidOptionError: Below 1 or above `LogsApi.PER_PAGE_MAX`.
    """
    if positive("per_page", value) > LogsApi.PER_PAGE_MAX:
        raise InvalidOptionError(
            "per_page",
            f"must be 1 to {LogsApi.PER_PAGE_MAX} (the logs API's bound); got {value!r}; "
            "iter_logs() reads every page",
        )
    return value


def check_query(query: Mapping[str, Any]) -> LogQuery:
    """`query`, checked to hold only `LogQuery` keywords.

    Raises:
        InvalidOptionError: A keyword that is not a log query keyword (naming the known ones).
    """
    unknown = set(query) - QUERY_KEYS
    if unknown:
        raise InvalidOptionError(
            sorted(unknown)[0],
            f"is not a log query keyword; known: {', '.join(sorted(QUERY_KEYS))}",
        )
    return query  # type: ignore[return-value]


def iso_date(field: str, value: datetime | str) -> str:
    """`value` as an ISO 8601 instant; a naive `datetime` is taken as UTC.

    Raises:
        InvalidOptionError: A string that is not an ISO 8601 date.
    """
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


def feedback_body(
    feedback: int | None, score: float | None, metadata: Mapping[str, MetadataValue] | None
) -> dict[str, Any]:
    """The body of a log update (PATCH `logs/{id}`), each field checked against its bounds.

    https://developers.cloudflare.com/ai-gateway/evaluations/add-human-feedback-api/

    Raises:
        InvalidOptionError: `feedback` not from -1 to 1, `score` not from 0 to 100,
            `metadata` not as `cf-aig-metadata` allows, or none of the three given.
    """
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
                f"must be a number from {LogsApi.SCORE_MIN} to {LogsApi.SCORE_MAX}; got {score!r}",
            )
        body["score"] = score
    if metadata is not None:
        # The same rules as cf-aig-metadata (at most 5 scalar entries): checked by core.
        body["metadata"] = GatewayOptions(metadata=dict(metadata)).metadata
    if not body:
        raise InvalidOptionError(
            "feedback", "give at least one of feedback=1/-1, score=0..100 or metadata={...}"
        )
    return body


def log_params(query: LogQuery, *, delete: bool) -> list[tuple[str, str]]:
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

    Args:
        query: The keywords of the call, checked by `check_query`.
        delete: Whether the query is for `delete_logs`, which takes no `search` and
            more `order_by` values.

    Returns:
        The query pairs, in the order they are sent.

    Raises:
        InvalidOptionError: A keyword of the wrong type or out of its allowed values, a
            filter the encoding cannot carry, or `search` on a delete.
    """
    filters: list[LogFilter] = []
    for raw in query.get("filters", ()):
        filters.append(raw if isinstance(raw, LogFilter) else LogFilter(**dict(raw)))
    plain: Mapping[str, Any] = query
    for key in _EQ_KEYWORDS:
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
            filters.append(LogFilter("created_at", operator, iso_date(name, date)))
    params: list[tuple[str, str]] = dotted_filters(filters)
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


def dotted_filters(filters: Sequence[LogFilter]) -> list[tuple[str, str]]:
    """`filters` in the dotted, repeated form (see `log_params`).

    Raises:
        InvalidOptionError: Several filters of which one has other than one value, or a
            filter without a value or with a null one.
    """
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


def query_items(
    params: Mapping[str, Any] | Sequence[tuple[str, str]] | None,
) -> list[tuple[str, Any]]:
    """Query pairs, in order, without the `None` values."""
    if params is None:
        return []
    pairs = params.items() if isinstance(params, Mapping) else params
    return [(k, str(v)) for k, v in pairs if v is not None]
