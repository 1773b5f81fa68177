"""Evaluating a conditional element's condition against one request.

A condition is MongoDB-like (`{"metadata.plan": {"$eq": "paid"}}`), on the request's
`metadata.<key>` (from `cf-aig-metadata`), `body.<path>` (dotted, a list index as a
number) and `headers.<name>` (any case)
(https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/json-configuration/).
`core.dynamic_routes.conditions` checks its shape when the route is built; this module
says whether it holds.

As in MongoDB's query language: a missing field fails `$eq`, `$in` and the ordered
comparisons and passes `$ne` and `$nin`; `$exists` tests presence; the ordered
comparisons compare numbers with numbers and strings with strings, anything else fails;
`true` equals neither `1` nor `"true"`; several tests on one field, and several fields in
one condition, must all hold.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from ...core.protocol import Header

MISSING: Final = object()
"""The value of a field the request does not have."""


@dataclass(frozen=True, slots=True)
class RouteRequest:
    """What a condition or a limiter's key can address in one request."""

    metadata: Mapping[str, Any] = field(default_factory=dict)
    """`cf-aig-metadata`, as a JSON object (empty without it)."""
    body: Any = None
    """The JSON body."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """The request headers, names in lowercase."""

    @classmethod
    def of(cls, headers: Mapping[str, str], body: Any) -> RouteRequest:
        """The request of `headers` (lowercase names) and the parsed JSON `body`.

        Args:
            headers: The request headers.
            body: The JSON body.

        Returns:
            The request; metadata that is not a JSON object counts as none.
        """
        metadata: Any = {}
        raw = headers.get(Header.METADATA)
        if raw:
            try:
                metadata = json.loads(raw)
            except ValueError:
                metadata = {}
        return cls(metadata if isinstance(metadata, dict) else {}, body, headers)

    def value(self, path: str) -> Any:
        """The value at `path` (`metadata.plan`, `body.messages.0.role`, `headers.x-team`).

        Args:
            path: The field's path.

        Returns:
            The value, or `MISSING`.
        """
        root, _, rest = path.partition(".")
        if root == "headers":
            return self.headers.get(rest.lower(), MISSING)
        current: Any = self.metadata if root == "metadata" else self.body
        if root not in ("metadata", "body"):
            return MISSING
        parts = [rest] if root == "metadata" else rest.split(".")
        for part in parts:
            if isinstance(current, Mapping) and part in current:
                current = current[part]
            elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
                current = current[int(part)]
            else:
                return MISSING
        return current


def matches(condition: Mapping[str, Any], request: RouteRequest) -> bool:
    """Whether `condition` holds for `request`.

    Args:
        condition: A checked condition, such as `{"metadata.plan": {"$eq": "paid"}}`.
        request: The request.

    Returns:
        True when every part of it holds.
    """
    for key, operand in condition.items():
        if key == "$and":
            held = all(matches(part, request) for part in operand)
        elif key == "$or":
            held = any(matches(part, request) for part in operand)
        elif key == "$not":
            held = not matches(operand, request)
        else:
            held = _holds(request.value(key), operand)
        if not held:
            return False
    return True


def _holds(value: Any, test: Any) -> bool:
    if not isinstance(test, Mapping):
        return _equal(value, test)  # a bare value means $eq
    return all(_operator(value, op, operand) for op, operand in test.items())


def _operator(value: Any, op: str, operand: Any) -> bool:
    if op == "$eq":
        return _equal(value, operand)
    if op == "$ne":
        return not _equal(value, operand)
    if op == "$in":
        return any(_equal(value, item) for item in operand)
    if op == "$nin":
        return not any(_equal(value, item) for item in operand)
    if op == "$exists":
        return (value is not MISSING) is operand
    if op == "$not":
        return not _holds(value, operand)
    return _ordered(value, op, operand)


def _ordered(value: Any, op: str, operand: Any) -> bool:
    if _number(value) and _number(operand):
        pass
    elif not (isinstance(value, str) and isinstance(operand, str)):
        return False
    if op == "$gt":
        return bool(value > operand)
    if op == "$gte":
        return bool(value >= operand)
    if op == "$lt":
        return bool(value < operand)
    return bool(value <= operand)  # $lte


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _equal(value: Any, operand: Any) -> bool:
    if value is MISSING:
        return False
    if isinstance(value, bool) or isinstance(operand, bool):
        return isinstance(value, bool) and isinstance(operand, bool) and value is operand
    if _number(value) and _number(operand):
        return bool(value == operand)
    return type(value) is type(operand) and bool(value == operand)
