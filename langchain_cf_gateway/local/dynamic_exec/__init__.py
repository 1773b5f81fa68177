"""The local gateway's executor of dynamic routes (`dynamic/<route>`).

https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/

- `conditions`: whether a conditional element's condition holds for a request;
- `percentage`: which share of a percentage element a request takes (seeded or not);
- `limiter`: the counters of limiter elements (count or cost, fixed or sliding);
- `walk`: the walk from `start` to `end` for one request;
- `executor`: the walk's model calls through the gateway's pipeline, as attempts.
"""

from .conditions import RouteRequest, matches
from .executor import DynamicExecutor
from .limiter import LimitCounters
from .percentage import ROUTE_SEED_HEADER, Draws, choose
from .walk import ModelStep, RouteWalker, Walk

__all__ = [
    "ROUTE_SEED_HEADER",
    "Draws",
    "DynamicExecutor",
    "LimitCounters",
    "ModelStep",
    "RouteRequest",
    "RouteWalker",
    "Walk",
    "choose",
    "matches",
]
