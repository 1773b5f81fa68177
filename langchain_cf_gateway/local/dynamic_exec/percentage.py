"""The choice of a percentage element: which share a request takes.

A percentage element's outputs are shares like `"80%"` and, optionally, `else`
(https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/json-configuration/).
A draw `u` in `[0, 100)` takes the first share whose running total exceeds it, in the
order the outputs are written; past every share, `else`.

Without a seed the draw comes from one `random.Random` of the gateway process, so the
shares come out right over many requests. A request that sends `ROUTE_SEED_HEADER`
draws from `random.Random(seed, route, element)` instead: the same seed always takes
the same share (a test can replay a split, a user can be kept on one side of it).
"""

from __future__ import annotations

import random
from typing import Final

from ...core.dynamic_routes.elements import PercentageElement
from ...core.dynamic_routes.graph import ELSE, SHARE

ROUTE_SEED_HEADER: Final = "cf-aig-local-route-seed"
"""The local gateway's request header that makes percentage choices repeatable.

Local only: Cloudflare has no such header. Like every `cf-aig-*` header it is never
forwarded to a provider.
"""


def shares(element: PercentageElement) -> list[tuple[float, str]]:
    """The element's shares in order: `(percent, next element id)`, `else` left out.

    Args:
        element: The percentage element.

    Returns:
        The shares.
    """
    found = []
    for name, target in element.outputs.items():
        share = SHARE.match(name)
        if share is not None:
            found.append((float(share.group(1)), target))
    return found


def choose(element: PercentageElement, draw: float) -> str:
    """The id of the element a request with `draw` goes to.

    Args:
        element: The percentage element.
        draw: A number in `[0, 100)`.

    Returns:
        The next element's id: the share `draw` falls in, else `else`, else the last share.
    """
    total = 0.0
    split = shares(element)
    for percent, target in split:
        total += percent
        if draw < total:
            return target
    if ELSE in element.outputs:
        return element.outputs[ELSE]
    return split[-1][1]


class Draws:
    """Where the draws of percentage elements come from: seeded or not."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()  # a traffic split, not a secret

    def draw(self, route_name: str, element_id: str, seed: str | None) -> float:
        """A draw in `[0, 100)` for one percentage element of one request.

        Args:
            route_name: The route's name.
            element_id: The percentage element's id.
            seed: The request's `ROUTE_SEED_HEADER`, or None.

        Returns:
            The draw: repeatable for the same seed, route and element.
        """
        if seed is None:
            return self._rng.random() * 100
        seeded = random.Random(f"{seed}\x00{route_name}\x00{element_id}")
        return seeded.random() * 100
