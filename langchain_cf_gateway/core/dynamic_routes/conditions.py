"""Conditions of a conditional element, checked before anything is sent.

A condition is MongoDB-like: `{"metadata.plan": {"$eq": "paid"}}`, on the request's
`metadata.*` (from `cf-aig-metadata`), `body.*` or `headers.*`; `$and` / `$or` join
conditions, `$not` negates one. A bare value means `$eq`.
https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/json-configuration/
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any, Final

from .errors import InvalidDynamicRouteError

FIELD_ROOTS: Final = ("metadata.", "body.", "headers.")
"""What a condition or a limiter's key may address."""

COMPARISONS: Final = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")
LIST_OPERATORS: Final = ("$in", "$nin")
FIELD_OPERATORS: Final = (*COMPARISONS, *LIST_OPERATORS, "$exists", "$not")
LOGICAL_OPERATORS: Final = ("$and", "$or", "$not")
_ORDERED: Final = ("$gt", "$gte", "$lt", "$lte")

_Scalar = (str, int, float, bool, type(None))
MAX_INTEGER: Final = 2**53 - 1
"""The largest integer a JSON number keeps exactly (JavaScript's `MAX_SAFE_INTEGER`)."""


def _check_number(element_id: str, where: str, value: Any) -> None:
    """Refuse a number a JSON body cannot carry: NaN, infinities, huge integers.

    Raises:
        InvalidDynamicRouteError: A float that is not finite, or an integer beyond
            `MAX_INTEGER` either way.
    """
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidDynamicRouteError(
            element_id, where, f"{value!r}: a number in a condition is finite"
        )
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
        raise InvalidDynamicRouteError(
            element_id,
            where,
            f"{str(value)[:20]}...: an integer in a condition is at most {MAX_INTEGER} "
            "either way (JSON loses larger ones); compare with a string instead",
        )


def check_field_path(element_id: str, field: str, path: Any) -> None:
    """Check that `path` addresses the request's metadata, body or headers.

    Args:
        element_id: The element it belongs to, for the message.
        field: The field it is in, for the message.
        path: What was written, such as `metadata.user_id`.

    Raises:
        InvalidDynamicRouteError: Not a string starting `metadata.`, `body.` or
            `headers.` followed by a name.
    """
    if (
        not isinstance(path, str)
        or not path.startswith(FIELD_ROOTS)
        or path.split(".", 1)[1].strip() == ""
    ):
        raise InvalidDynamicRouteError(
            element_id,
            field,
            f"{path!r} is not a request field: write metadata.<key>, body.<field> or "
            "headers.<name>, such as 'metadata.user_id'",
        )


def check_condition(element_id: str, condition: Any, field: str = "condition") -> None:
    """Check a condition's shape: field paths, operators and their operands.

    Args:
        element_id: The conditional element's id, for the message.
        condition: The condition, such as `{"metadata.plan": {"$eq": "paid"}}`.
        field: Where it sits, for the message (`condition.$and[1]`...).

    Raises:
        InvalidDynamicRouteError: An empty condition, an unknown operator, a path that is
            not under `metadata.`, `body.` or `headers.`, or an operand of the wrong kind.
    """
    if not isinstance(condition, Mapping) or not condition:
        raise InvalidDynamicRouteError(
            element_id,
            field,
            "must be a non-empty object such as {'metadata.plan': {'$eq': 'paid'}}",
        )
    for key, value in condition.items():
        where = f"{field}.{key}"
        if isinstance(key, str) and key.startswith("$"):
            _check_logical(element_id, where, key, value)
        else:
            check_field_path(element_id, where, key)
            _check_test(element_id, where, value)


def _check_logical(element_id: str, where: str, operator: str, value: Any) -> None:
    if operator == "$not":
        check_condition(element_id, value, where)
        return
    if operator not in LOGICAL_OPERATORS:
        raise _unknown(element_id, where, operator, LOGICAL_OPERATORS, "joining conditions")
    if not isinstance(value, list) or not value:
        raise InvalidDynamicRouteError(
            element_id, where, f"{operator} takes a non-empty list of conditions"
        )
    for index, part in enumerate(value):
        check_condition(element_id, part, f"{where}[{index}]")


def _check_test(element_id: str, where: str, test: Any) -> None:
    if not isinstance(test, Mapping):
        if not isinstance(test, _Scalar):
            raise InvalidDynamicRouteError(
                element_id, where, "compare with a string, number, boolean or null, or an operator"
            )
        _check_number(element_id, where, test)
        return  # a bare value means $eq
    if not test:
        raise InvalidDynamicRouteError(
            element_id, where, f"needs an operator: one of {', '.join(FIELD_OPERATORS)}"
        )
    for operator, operand in test.items():
        at = f"{where}.{operator}"
        if operator not in FIELD_OPERATORS:
            raise _unknown(element_id, at, operator, FIELD_OPERATORS, "on a field")
        if operator == "$not":
            _check_test(element_id, at, operand)
        elif operator in LIST_OPERATORS:
            if not isinstance(operand, list) or not all(isinstance(v, _Scalar) for v in operand):
                raise InvalidDynamicRouteError(
                    element_id, at, f"{operator} takes a list of values, such as ['free', 'trial']"
                )
            for index, value in enumerate(operand):
                _check_number(element_id, f"{at}[{index}]", value)
        elif operator == "$exists":
            if not isinstance(operand, bool):
                raise InvalidDynamicRouteError(element_id, at, "$exists takes true or false")
        elif operator in _ORDERED:
            if isinstance(operand, bool) or not isinstance(operand, (int, float, str)):
                raise InvalidDynamicRouteError(
                    element_id, at, f"{operator} compares with a number or a string"
                )
            _check_number(element_id, at, operand)
        elif not isinstance(operand, _Scalar):
            raise InvalidDynamicRouteError(
                element_id, at, f"{operator} compares with a string, number, boolean or null"
            )
        else:
            _check_number(element_id, at, operand)


def _unknown(
    element_id: str, where: str, operator: Any, known: tuple[str, ...], role: str
) -> InvalidDynamicRouteError:
    close = difflib.get_close_matches(str(operator), known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return InvalidDynamicRouteError(
        element_id,
        where,
        f"unknown operator {operator!r} {role}{hint}; known: {', '.join(known)}",
    )
