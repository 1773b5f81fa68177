"""Routes from a small Python description: fallback chains, splits, conditions, limits.

Each builder returns the elements of a whole route: a `start`, the steps, one `end`.
A branch is a model id (`"openai/gpt-4o-mini"`, one model element) or another route's
elements, inlined: its start dropped, its ids prefixed, its ends joined to ours.
Ids are readable and stable (`model`, `split`, `then_model`), so the JSON a builder
writes diffs cleanly from one deploy to the next. A model or limiter with nowhere to
fall back to gets `fallback: end`: the end returns the error, as a missing fallback
would (docs), and the API schema lists `fallback` as required.
https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/json-configuration/
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, TypeAlias

from ..errors import InvalidModelIdError
from ..routing import parse_model_id
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
from .graph import ELSE

START: Final = "start"
END: Final = "end"
DEFAULT_TIMEOUT_MS: Final = 60_000
"""A model element's timeout when none is given (the docs' example)."""
DEFAULT_RETRIES: Final = 0

Branch: TypeAlias = "str | Sequence[Element]"
"""A model id, or the elements of a route to inline."""


class RouteGraph:
    """Elements being assembled into one route, with unique readable ids."""

    def __init__(self, timeout_ms: int, retries: int) -> None:
        self.timeout_ms = timeout_ms
        self.retries = retries
        self.elements: list[Element] = []
        self._ids: set[str] = {START, END}

    def new_id(self, stem: str) -> str:
        """A fresh id: `stem`, else `stem_2`, `stem_3`...

        Args:
            stem: The readable part.

        Returns:
            An id no element of this graph has.
        """
        candidate, n = stem, 1
        while candidate in self._ids:
            n += 1
            candidate = f"{stem}_{n}"
        self._ids.add(candidate)
        return candidate

    def model(
        self,
        model_id: str,
        fallback: str | None = None,
        stem: str = "model",
        element_id: str | None = None,
    ) -> str:
        """Add a model element for `provider/model`; its success goes to the end.

        Args:
            model_id: Such as `openai/gpt-4o-mini`.
            fallback: The element a failure goes to; None: the end (which returns the error).
            stem: The readable part of its id.
            element_id: Its id, if already chosen (from `new_id`).

        Returns:
            The new element's id.

        Raises:
            InvalidDynamicRouteError: `model_id` is not `{provider}/{model}` (a dynamic
                route or the Auto Router cannot be a model element).
        """
        try:
            ref = parse_model_id(model_id)
        except InvalidModelIdError as exc:
            raise InvalidDynamicRouteError(None, f"model {model_id!r}", str(exc)) from None
        if ref.dynamic or ref.slug is None:
            raise InvalidDynamicRouteError(
                None,
                f"model {model_id!r}",
                "a model element calls one provider's model, such as 'openai/gpt-4o-mini'; "
                "inline another route by passing its DynamicRoute instead",
            )
        element_id = element_id or self.new_id(stem)
        outputs = {"success": END, "fallback": END if fallback is None else fallback}
        self.elements.append(
            ModelElement(
                id=element_id,
                provider=ref.slug,
                model=ref.model,
                timeout=self.timeout_ms,
                retries=self.retries,
                outputs=outputs,
            )
        )
        return element_id

    def branch(self, target: Branch, prefix: str) -> str:
        """Add a branch: one model element, or another route's steps inlined.

        Args:
            target: A model id, or a route's elements.
            prefix: Prefixes the ids of an inlined route (`then`, `else`, `share_1`).

        Returns:
            The id of the branch's first element.

        Raises:
            InvalidDynamicRouteError: A bad model id, or a route without a start.
        """
        if isinstance(target, str):
            return self.model(target, stem=f"{prefix}_model")
        start = next((e for e in target if isinstance(e, StartElement)), None)
        if start is None or "next" not in start.outputs:
            raise InvalidDynamicRouteError(None, prefix, "the route to inline has no start")
        ends = {e.id for e in target if isinstance(e, EndElement)}
        renamed = {
            e.id: END if e.id in ends else self.new_id(f"{prefix}_{e.id}")
            for e in target
            if e is not start
        }
        for element in target:
            if element is start or element.id in ends:
                continue
            outputs = {name: renamed.get(to, to) for name, to in element.outputs.items()}
            self.elements.append(
                element.model_copy(update={"id": renamed[element.id], "outputs": outputs})
            )
        return renamed.get(start.outputs["next"], start.outputs["next"])

    def route(self, entry: str) -> list[Element]:
        """The whole route: start -> `entry` ... -> end.

        Args:
            entry: The first step's id.

        Returns:
            The elements, start first and end last.
        """
        return [
            StartElement(id=START, outputs={"next": entry}),
            *self.elements,
            EndElement(id=END),
        ]


def fallback_chain(models: Sequence[str], graph: RouteGraph) -> list[Element]:
    """Try each model in turn: each one's failure falls back to the next.

    Args:
        models: Model ids, first choice first.
        graph: Where the elements go.

    Returns:
        The route's elements.

    Raises:
        InvalidDynamicRouteError: No model, or a bad model id.
    """
    if isinstance(models, str) or not models:
        raise InvalidDynamicRouteError(
            None, "models", "give a list of model ids, such as ['openai/gpt-4o-mini', ...]"
        )
    ids = [graph.new_id("model") for _ in models]
    for index, model_id in enumerate(models):
        fallback = ids[index + 1] if index + 1 < len(ids) else None
        graph.model(model_id, fallback=fallback, element_id=ids[index])
    return graph.route(ids[0])


def split(
    shares: Mapping[str, float] | Sequence[tuple[Branch, float]], graph: RouteGraph
) -> list[Element]:
    """A weighted random split between branches, one percentage element.

    The API names each output by its share (`"80%"`), so two branches of the same
    share cannot both be shares: the last of them becomes `else` (which takes the
    rest). More than one repeated share needs nested splits.

    Args:
        shares: `{model id: percent}`, or `[(branch, percent), ...]` where a branch is
            a model id or a route's elements; the percents add up to 100.
        graph: Where the elements go.

    Returns:
        The route's elements.

    Raises:
        InvalidDynamicRouteError: Percents that do not add up to 100, or repeat in a way
            one element cannot hold, or a bad branch.
    """
    pairs: list[tuple[Any, float]] = list(shares.items() if isinstance(shares, Mapping) else shares)
    if not pairs:
        raise InvalidDynamicRouteError(None, "shares", "give at least one branch and its percent")
    names: list[str] = []
    for index, (_, percent) in enumerate(pairs):
        if isinstance(percent, bool) or not isinstance(percent, (int, float)):
            raise InvalidDynamicRouteError(None, f"shares[{index}]", "a percent is a number")
        names.append(f"{percent:g}%")
    repeated = [i for i, name in enumerate(names) if names.count(name) > 1]
    if repeated:
        names[repeated[-1]] = ELSE
        if len(set(names)) != len(names):
            raise InvalidDynamicRouteError(
                None,
                "shares",
                f"{', '.join(sorted(set(n for n in names if names.count(n) > 1)))} repeated: "
                "one percentage element has one output per share (and one 'else'); "
                "nest splits, e.g. split([(split(...), 50), ...])",
            )
    outputs: dict[str, str] = {}
    split_id = graph.new_id("split")
    for index, ((target, _), name) in enumerate(zip(pairs, names, strict=True)):
        outputs[name] = graph.branch(target, f"share_{index + 1}")
    graph.elements.insert(0, PercentageElement(id=split_id, outputs=outputs))
    return graph.route(split_id)


def conditional(
    condition: Mapping[str, Any], then: Branch, otherwise: Branch, graph: RouteGraph
) -> list[Element]:
    """If `condition` holds, `then`; else `otherwise`.

    Args:
        condition: Such as `{"metadata.plan": {"$eq": "paid"}}`.
        then: A model id or a route's elements, taken when it holds.
        otherwise: The same, taken when it does not.
        graph: Where the elements go.

    Returns:
        The route's elements.
    """
    element_id = graph.new_id("condition")
    true = graph.branch(then, "then")
    false = graph.branch(otherwise, "else")
    graph.elements.insert(
        0,
        ConditionalElement(
            id=element_id, condition=dict(condition), outputs={"true": true, "false": false}
        ),
    )
    return graph.route(element_id)


def limited(
    then: Branch,
    graph: RouteGraph,
    *,
    key: str,
    limit: float,
    interval: int,
    limit_type: str,
    technique: str | None,
    fallback: Branch | None,
) -> list[Element]:
    """A rate or budget limit in front of `then`; over the limit, `fallback` (or an error).

    Args:
        then: A model id or a route's elements, taken within the limit.
        graph: Where the elements go.
        key: What the limit is counted per, such as `metadata.user_id`.
        limit: Requests (`count`) or cost (`cost`) per window.
        interval: The window, in seconds.
        limit_type: `count` or `cost`.
        technique: `sliding` or `fixed`, or None to leave it out.
        fallback: Taken over the limit; None: the end, which returns an error.

    Returns:
        The route's elements.
    """
    element_id = graph.new_id("limit")
    outputs = {
        "success": graph.branch(then, "within"),
        "fallback": END if fallback is None else graph.branch(fallback, "over"),
    }
    graph.elements.insert(
        0,
        LimitElement(
            id=element_id,
            limit_type=limit_type,
            key=key,
            limit=limit,
            interval=interval,
            technique=technique,
            outputs=outputs,
        ),
    )
    return graph.route(element_id)
