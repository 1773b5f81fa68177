"""Dynamic routes: typed elements, the rules a route keeps, and builders.

https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/

- `elements`: one pydantic model per element type, to and from the API's JSON;
- `conditions`: the MongoDB-like conditions of a conditional element;
- `graph`: the rules a route keeps (one start, outputs, reachability, no cycle, shares);
- `builders`: fallback chains, splits, conditions and limits from a short description;
- `route`: `DynamicRoute`, which ties them together.

Pure: no I/O; deploying a route is the management client's job.
"""

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
from .route import DynamicRoute

__all__ = [
    "ConditionalElement",
    "DynamicRoute",
    "Element",
    "EndElement",
    "InvalidDynamicRouteError",
    "LimitElement",
    "ModelElement",
    "PercentageElement",
    "StartElement",
]
