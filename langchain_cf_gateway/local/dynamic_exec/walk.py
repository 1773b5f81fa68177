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

import hashlib
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
from ..shared_state.base import Counters
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
    With `shared` counters (Redis), every worker counts alike, per gateway, route name
    and route content: a version with other elements starts afresh.

    Args:
        counters: The limiter counters of this process.
        draws: Where percentage draws come from.
        shared: The shared state's counters, used instead of `counters` when given.
    """

    def __init__(
        self,
        counters: LimitCounters | None = None,
        draws: Draws | None = None,
        shared: Counters | None = None,
    ) -> None:
        self.counters = counters or LimitCounters()
        self.draws = draws or Draws()
        self.shared = shared
        self._known: set[int] = set()
        self._digests: dict[int, str] = {}

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
                if await self._admit(key, current, now()):
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
                        await self._add(key, limiter, now(), step.cost)
                    spending.clear()
                target = current.outputs.get("success" if step.ok else "fallback")
            else:  # end
                return walk
            if target is None:
                return walk
            current = by_id[target]
        return walk

    async def _add(self, key: Hashable, limiter: LimitElement, now: float, cost: float) -> None:
        if self.shared is not None:
            await self.shared.add(
                self._shared_key(key), limiter.technique, limiter.interval, now, cost
            )
            return
        self.counters.add(key, limiter.technique, limiter.interval, now, cost)

    def _shared_key(self, key: Hashable) -> str:
        """The counter's name in the shared state: the route by its content, not its id."""
        assert isinstance(key, tuple)
        token, *rest = key
        return json.dumps([self._digests.get(token, ""), *rest])

    async def _admit(self, key: Hashable, limiter: LimitElement, now: float) -> bool:
        if self.shared is not None:
            name, technique, window = self._shared_key(key), limiter.technique, limiter.interval
            if limiter.limit_type == "cost":
                return await self.shared.spent(name, technique, window, now) < limiter.limit
            return await self.shared.admit(name, technique, window, now, limiter.limit)
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
            if self.shared is not None:
                content = json.dumps(route.to_api(), sort_keys=True).encode()
                self._digests[token] = f"{route.name}:{hashlib.sha256(content).hexdigest()[:16]}"
            weakref.finalize(route, self._forget, token)

    def _forget(self, token: int) -> None:
        self._known.discard(token)
        self._digests.pop(token, None)
        self.counters.forget(token)
