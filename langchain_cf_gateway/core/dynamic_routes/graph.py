"""The rules a route's graph keeps, checked before anything is sent.

https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/json-configuration/

- exactly one `start`, at least one `end`, ids unique;
- each element type has exactly its outputs: `start` `next`; `conditional` `true` and
  `false`; `percentage` up to 5 shares like `"80%"` and optionally `else`; a limiter or
  a model `success` and optionally `fallback` (without one, a failure ends the route);
  `end` none;
- every output names an existing element; every element is reachable from `start`;
  no cycle (so every path reaches an `end`, or stops at a failing limiter or model);
- shares: each 0 to 100, adding up to 100 without `else`, at most 100 with it;
- the name: one `parse_model_id` reads back after `dynamic/` (printable ASCII, no
  space or `/`), at most `MAX_NAME_LENGTH` characters, so a deployed route can be called;
- properties: a well-formed condition (numbers finite, integers within 2**53 - 1); a
  limiter's `limit_type` `count` or `cost`, a request field as `key`, a positive `limit`
  (whole for `count`) and `interval`, `technique` `fixed` or `sliding`; a model's known
  provider, a model name, a positive `timeout` and `retries` of 0 or more;
- bounds: `timeout` at most 10 minutes, `retries` at most 5 (the gateway's own retry
  limit: https://developers.cloudflare.com/ai-gateway/configuration/request-handling/),
  a window at most a year, a limit at most 2**53 - 1 (the largest integer a JSON number
  keeps exactly).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from typing import Final

from ..errors import InvalidModelIdError
from ..providers import DYNAMIC, find_provider, known_slugs
from ..routing import parse_model_id
from .conditions import check_condition, check_field_path
from .elements import (
    ConditionalElement,
    Element,
    EndElement,
    LimitElement,
    ModelElement,
    PercentageElement,
    StartElement,
)
from .errors import InvalidDynamicRouteError

MAX_SHARES: Final = 5
"""A percentage element has at most 5 shares besides `else`."""
ELSE: Final = "else"
SHARE: Final = re.compile(r"^([0-9]+(?:\.[0-9]+)?)%$")
"""A share's output name: `"80%"`, `"12.5%"` (ASCII digits only)."""
MAX_NAME_LENGTH: Final = 64
"""The longest route name accepted."""
MAX_TIMEOUT_MS: Final = 600_000
"""A model's longest timeout: 10 minutes."""
MAX_RETRIES: Final = 5
"""A model's most retries: the gateway's own limit of five retry attempts."""
MAX_WINDOW_SECONDS: Final = 365 * 24 * 3600
"""A limiter's longest window: a year."""
MAX_COUNT_LIMIT: Final = 2**53 - 1
"""The largest limit: the largest integer a JSON number keeps exactly."""

_OUTPUTS: Final[dict[type, tuple[frozenset[str], frozenset[str]]]] = {
    # type -> (required outputs, optional outputs)
    StartElement: (frozenset({"next"}), frozenset()),
    ConditionalElement: (frozenset({"true", "false"}), frozenset()),
    LimitElement: (frozenset({"success"}), frozenset({"fallback"})),
    ModelElement: (frozenset({"success"}), frozenset({"fallback"})),
    EndElement: (frozenset(), frozenset()),
}
LIMIT_TYPES: Final = ("count", "cost")
TECHNIQUES: Final = ("sliding", "fixed")


def check_route(name: str, elements: Sequence[Element]) -> None:
    """Check a route against every rule above; the first broken one is raised.

    Args:
        name: The route's name.
        elements: Its elements.

    Raises:
        InvalidDynamicRouteError: A rule is broken; the message names the element id,
            the field and the fix.
    """
    check_name(name)
    by_id: dict[str, Element] = {}
    for element in elements:
        if not element.id:
            raise InvalidDynamicRouteError(None, "id", "every element needs a non-empty id")
        if element.id in by_id:
            raise InvalidDynamicRouteError(
                element.id, "id", "is used by two elements: give each element its own id"
            )
        by_id[element.id] = element
    starts = [e.id for e in elements if isinstance(e, StartElement)]
    if len(starts) != 1:
        raise InvalidDynamicRouteError(
            None,
            "elements",
            f"a route has exactly one start element; found {len(starts)}"
            + (f" ({', '.join(starts)})" if starts else ": add one whose next is the first step"),
        )
    if not any(isinstance(e, EndElement) for e in elements):
        raise InvalidDynamicRouteError(
            None, "elements", "a route needs an end element: add one and point the last steps at it"
        )
    for element in elements:
        _check_outputs(element, by_id)
        _check_properties(element)
    _check_reachable(starts[0], by_id)
    _check_acyclic(starts[0], by_id)


def check_name(name: str) -> None:
    """Check that `dynamic/<name>` is a model id naming this route, so it can be called.

    The rule is `parse_model_id`'s, in one place, plus a length bound.

    Args:
        name: The route's name.

    Raises:
        InvalidDynamicRouteError: Empty, longer than `MAX_NAME_LENGTH`, or not a name
            `parse_model_id` reads back after `dynamic/` (printable ASCII, no space or
            `/`).
    """
    fix = (
        "such as 'support', without '/': printable ASCII (letters, digits, '-', '_', '.'), no space"
    )
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidDynamicRouteError(
            None,
            "name",
            f"{name[:20]!r}... has {len(name)} characters; a route name has at most "
            f"{MAX_NAME_LENGTH} characters: write one {fix}",
        )
    try:
        readable = bool(name) and parse_model_id(f"{DYNAMIC}/{name}").model == name
    except InvalidModelIdError:
        readable = False
    if not readable:
        raise InvalidDynamicRouteError(
            None, "name", f"{name!r} cannot be called as dynamic/<name>: a route needs a name {fix}"
        )


def _check_outputs(element: Element, by_id: dict[str, Element]) -> None:
    names = set(element.outputs)
    if isinstance(element, PercentageElement):
        _check_shares(element)
    else:
        required, optional = _OUTPUTS[type(element)]
        allowed = required | optional
        if names - allowed or required - names:
            wrong = sorted(names - allowed)
            missing = sorted(required - names)
            problem = f"unknown output {wrong[0]!r}" if wrong else f"missing output {missing[0]!r}"
            has = (
                f"{' and '.join(sorted(required))}"
                + (f", optionally {' and '.join(sorted(optional))}" if optional else "")
                if allowed
                else "no outputs"
            )
            raise InvalidDynamicRouteError(
                element.id,
                "outputs",
                f"{problem}: {'an' if element.type[0] in 'aeiou' else 'a'} {element.type} "
                f"element has {has}",
            )
    for name, target in element.outputs.items():
        if target not in by_id:
            close = difflib.get_close_matches(target, list(by_id), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InvalidDynamicRouteError(
                element.id,
                f"outputs.{name}",
                f"points at {target!r}, which is no element of this route{hint}; "
                f"elements: {', '.join(by_id)}",
            )
        if isinstance(by_id[target], StartElement):
            raise InvalidDynamicRouteError(
                element.id, f"outputs.{name}", "points back at the start element"
            )


def _check_shares(element: PercentageElement) -> None:
    shares: list[float] = []
    for name in element.outputs:
        if name == ELSE:
            continue
        match = SHARE.match(name)
        if match is None:
            raise InvalidDynamicRouteError(
                element.id,
                f"outputs.{name}",
                "a percentage element's outputs are shares like '80%' (0 to 100) and 'else'",
            )
        share = float(match.group(1))
        if share > 100:
            raise InvalidDynamicRouteError(
                element.id, f"outputs.{name}", "a share is between 0% and 100%"
            )
        shares.append(share)
    if not shares:
        raise InvalidDynamicRouteError(
            element.id, "outputs", "a percentage element needs at least one share like '50%'"
        )
    if len(shares) > MAX_SHARES:
        raise InvalidDynamicRouteError(
            element.id,
            "outputs",
            f"{len(shares)} shares; at most {MAX_SHARES} besides 'else': nest a second "
            "percentage element for more branches",
        )
    total = sum(shares)
    if ELSE in element.outputs:
        if total > 100 + 1e-9:
            raise InvalidDynamicRouteError(
                element.id,
                "outputs",
                f"shares add up to {total:g}%; with 'else' they add up to at most 100%",
            )
    elif not math.isclose(total, 100, abs_tol=1e-9):
        raise InvalidDynamicRouteError(
            element.id,
            "outputs",
            f"shares add up to {total:g}%, not 100%: change them, or add an 'else' output "
            "for the rest",
        )


def _check_properties(element: Element) -> None:
    if isinstance(element, ConditionalElement):
        check_condition(element.id, element.condition)
    elif isinstance(element, ModelElement):
        _check_model(element)
    elif isinstance(element, LimitElement):
        _check_limit(element)


def _check_model(element: ModelElement) -> None:
    if find_provider(element.provider) is None:
        raise InvalidDynamicRouteError(
            element.id,
            "provider",
            f"unknown provider {element.provider!r}; known: {', '.join(known_slugs())}, "
            "or custom-{slug} for a custom provider",
        )
    if not element.model.strip():
        raise InvalidDynamicRouteError(
            element.id, "model", "names no model: write the provider's name, such as 'gpt-4o-mini'"
        )
    _positive(element.id, "timeout", element.timeout, "milliseconds, such as 30000")
    _at_most(element.id, "timeout", element.timeout, MAX_TIMEOUT_MS, "milliseconds (10 minutes)")
    if isinstance(element.retries, bool) or element.retries < 0:
        raise InvalidDynamicRouteError(
            element.id, "retries", f"{element.retries!r}: retries are 0 or more"
        )
    _at_most(element.id, "retries", element.retries, MAX_RETRIES, "retries")


def _check_limit(element: LimitElement) -> None:
    if element.limit_type not in LIMIT_TYPES:
        raise InvalidDynamicRouteError(
            element.id,
            "limit_type",
            f"{element.limit_type!r}: 'count' (requests) or 'cost' (a budget)",
        )
    check_field_path(element.id, "key", element.key)
    if element.limit_type == "count" and not isinstance(element.limit, int):
        raise InvalidDynamicRouteError(
            element.id, "limit", f"{element.limit!r}: a count limit is a whole number of requests"
        )
    if not element.limit > 0:
        raise InvalidDynamicRouteError(
            element.id, "limit", f"{element.limit!r}: a limit is more than 0"
        )
    _at_most(element.id, "limit", element.limit, MAX_COUNT_LIMIT, "per window")
    _positive(element.id, "interval", element.interval, "seconds, such as 3600")
    _at_most(element.id, "interval", element.interval, MAX_WINDOW_SECONDS, "seconds (a year)")
    if element.technique is not None and element.technique not in TECHNIQUES:
        raise InvalidDynamicRouteError(
            element.id, "technique", f"{element.technique!r}: 'sliding' or 'fixed'"
        )


def _positive(element_id: str, field: str, value: int, unit: str) -> None:
    if isinstance(value, bool) or value <= 0:
        raise InvalidDynamicRouteError(
            element_id, field, f"{value!r}: a whole number of {unit}, more than 0"
        )


def _at_most(element_id: str, field: str, value: float, bound: int, unit: str) -> None:
    if not value <= bound:  # also refuses NaN
        raise InvalidDynamicRouteError(element_id, field, f"{value!r:.40}: at most {bound} {unit}")


def _check_reachable(start: str, by_id: dict[str, Element]) -> None:
    seen = {start}
    todo = [start]
    while todo:
        for target in by_id[todo.pop()].outputs.values():
            if target not in seen:
                seen.add(target)
                todo.append(target)
    for element_id in by_id:
        if element_id not in seen:
            raise InvalidDynamicRouteError(
                element_id,
                "id",
                "is not reachable from start: point an output at it, or remove it",
            )


def _check_acyclic(start: str, by_id: dict[str, Element]) -> None:
    # Depth-first, iterative: a route from a file may be deep.
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()
    stack: list[tuple[str, list[str]]] = [(start, list(by_id[start].outputs.values()))]
    path.append(start)
    on_path.add(start)
    while stack:
        node, targets = stack[-1]
        if not targets:
            stack.pop()
            path.pop()
            on_path.discard(node)
            done.add(node)
            continue
        target = targets.pop()
        if target in on_path:
            cycle = [*path[path.index(target) :], target]
            raise InvalidDynamicRouteError(
                node,
                "outputs",
                f"makes a cycle ({' -> '.join(cycle)}): a request must move towards an end",
            )
        if target not in done:
            stack.append((target, list(by_id[target].outputs.values())))
            path.append(target)
            on_path.add(target)
