"""The walk of a dynamic route's elements for one request.

From `start`, each element sends the request on by one of its outputs
(https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/json-configuration/):

- `conditional`: `true` or `false`, as its condition holds (`conditions`);
- `percentage`: one share, drawn (`percentage`);
- a limiter (`rate`): `success` within its limit, else `fallback`; without a fallback,
  or when the fallback reaches `end` before any model, the route ends over the limit
  (`limiter`);
- `model`: the model is called (by the caller's `CallModel`); `success` once it
  responds, `fallback` when it fails or times out; without a fallback the route ends
  with its error;
- `end`: the route ends; the last model response is the response.

Pure but for the model calls, which the caller makes: the walk knows no HTTP.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from ...core.dynamic_routes import (
    ConditionalElement,
    DynamicRoute,
    Element,
    LimitElement,
    ModelElement,
    PercentageElement,
    StartElement,
)
from .conditions import MISSING, RouteRequest, matches
from .limiter import LimitCounters
from .percentage import Draws, choose


@dataclass(slots=True)
class ModelStep:
    """What one model element's call produced, as the walk needs it."""

    attempt: Any
    """The caller's record of the call (the gateway's `Attempt`)."""
    ok: bool
    """Whether the model responded (a 2xx, or a stream that started)."""
    cost: float = 0.0
    """The response's cost, added to the cost limiters passed on the way."""


CallModel = Callable[[ModelElement], Awaitable[ModelStep]]
"""Calls one model element's model."""


@dataclass(slots=True)
class Walk:
    """Where one request went through a route."""

    visited: list[str] = field(default_factory=list)
    """Element ids, in order."""
    steps: list[ModelStep] = field(default_factory=list)
    """The model calls made, in order; the last one is the response."""
    over_limit: LimitElement | None = None
    """The last limiter the request was over, unless a model was called after it: the
    route then ends with the limiter's error (its fallback may lead straight to `end`)."""


class RouteWalker:
    """Walks routes, keeping the limiter counters and the percentage draws.

    Counters belong to the deployed route object: deploying a route again (or a new
    version) starts its counters afresh, and a route no longer deployed drops them.

    Args:
        counters: The limiter counters.
        draws: Where percentage draws come from.
    """

    def __init__(self, counters: LimitCounters | None = None, draws: Draws | None = None) -> None:
        self.counters = counters or LimitCounters()
        self.draws = draws or Draws()
        self._known: set[int] = set()

    async def walk(
        self,
        route: DynamicRoute,
        gateway_id: str,
        request: RouteRequest,
        call_model: CallModel,
        now: Callable[[], float],
        seed: str | None = None,
    ) -> Walk:
        """Walk `route` for one request.

        Args:
            route: The deployed route.
            gateway_id: The gateway that owns it (limiter counters are per gateway).
            request: What conditions and limiter keys read.
            call_model: Calls a model element's model.
            now: The gateway's clock.
            seed: The request's percentage seed (`percentage.ROUTE_SEED_HEADER`), or None.

        Returns:
            Where the request went and the model calls made.
        """
        self._track(route)
        by_id: dict[str, Element] = {element.id: element for element in route.elements}
        current: Element = next(e for e in route.elements if isinstance(e, StartElement))
        walk = Walk()
        spending: list[tuple[Hashable, LimitElement]] = []
        for _ in range(len(by_id)):  # an acyclic route visits each element at most once
            walk.visited.append(current.id)
            target: str | None
            if isinstance(current, StartElement):
                target = current.outputs.get("next")
            elif isinstance(current, ConditionalElement):
                target = current.outputs.get(
                    "true" if matches(current.condition, request) else "false"
                )
            elif isinstance(current, PercentageElement):
                draw = self.draws.draw(route.name, current.id, seed)
                target = choose(current, draw)
            elif isinstance(current, LimitElement):
                key = self._counter(route, gateway_id, current, request)
                if self._admit(key, current, now()):
                    if current.limit_type == "cost":
                        spending.append((key, current))
                    target = current.outputs.get("success")
                else:
                    walk.over_limit = current
                    target = current.outputs.get("fallback")
            elif isinstance(current, ModelElement):
                step = await call_model(current)
                walk.steps.append(step)
                walk.over_limit = None
                if step.ok:
                    for key, limiter in spending:
                        self.counters.add(
                            key, limiter.technique, limiter.interval, now(), step.cost
                        )
                    spending.clear()
                target = current.outputs.get("success" if step.ok else "fallback")
            else:  # end
                return walk
            if target is None:
                return walk
            current = by_id[target]
        return walk

    def _admit(self, key: Hashable, limiter: LimitElement, now: float) -> bool:
        if limiter.limit_type == "cost":
            spent = self.counters.spent(key, limiter.technique, limiter.interval, now)
            return spent < limiter.limit
        return self.counters.admit(key, limiter.technique, limiter.interval, now, limiter.limit)

    @staticmethod
    def _counter(
        route: DynamicRoute, gateway_id: str, limiter: LimitElement, request: RouteRequest
    ) -> Hashable:
        value = request.value(limiter.key)
        keyed = None if value is MISSING else json.dumps(value, sort_keys=True)
        return (id(route), gateway_id, limiter.id, keyed)

    def _track(self, route: DynamicRoute) -> None:
        token = id(route)
        if token not in self._known:
            self._known.add(token)
            weakref.finalize(route, self._forget, token)

    def _forget(self, token: int) -> None:
        self._known.discard(token)
        self.counters.forget(token)
