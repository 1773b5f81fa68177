"""`DynamicRoute`: a dynamic route's graph, checked, to and from the API's JSON.

A dynamic route is a named graph of elements the gateway runs for the model id
`dynamic/<name>`: https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/
Its JSON (`{"id", "name", "elements": [...]}`) is the same in the REST API and in the
dashboard's JSON editor:
https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/json-configuration/

```python
route = DynamicRoute.fallback_chain(
    ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku"], name="support", timeout_ms=10_000
)
route.to_api()  # {"name": "support", "elements": [{"id": "start", "type": "start", ...}, ...]}
```
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from ..errors import wrapped_input_error
from . import builders
from .builders import DEFAULT_RETRIES, DEFAULT_TIMEOUT_MS, Branch, RouteGraph
from .elements import Element, element_from_api, invalid_element
from .errors import InvalidDynamicRouteError
from .graph import check_route


class DynamicRoute(BaseModel):
    """A dynamic route: its name and its elements, every rule checked when it is built.

    Build one element by element (`DynamicRoute(name=..., elements=[StartElement(...),
    ...])`), with a builder (`fallback_chain`, `split`, `conditional`, `rate_limit`,
    which compose: a branch is a model id or another `DynamicRoute`), or from JSON
    (`from_api`). A broken rule raises `InvalidDynamicRouteError` naming the element,
    the field and the fix (direct construction wraps it in pydantic's
    `ValidationError`, as every pydantic model does).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """The route's name: requests use `dynamic/<name>`."""
    elements: tuple[Element, ...]
    """Its elements, in any order; one `start`."""
    id: str | None = None
    """Cloudflare's id of the route, once created (None for a new one)."""

    @model_validator(mode="after")
    def _check(self) -> DynamicRoute:
        check_route(self.name, self.elements)
        return self

    def to_api(self) -> dict[str, Any]:
        """The route as the API's JSON (the body of a create or a version).

        Returns:
            `{"name", "elements"}`, and `"id"` once it has one.

        Raises:
            InvalidDynamicRouteError: A rule is broken (a route changed with
                `model_copy` is checked again here).
        """
        check_route(self.name, self.elements)
        body: dict[str, Any] = {} if self.id is None else {"id": self.id}
        body["name"] = self.name
        body["elements"] = [element.to_api() for element in self.elements]
        return body

    @classmethod
    def from_api(cls, data: Mapping[str, Any] | str, *, name: str | None = None) -> DynamicRoute:
        """Read a route from the API's JSON or the dashboard's export.

        Accepts the route object (`{"id", "name", "elements"}`, other keys such as
        `created_at` ignored), the API's envelope (`{"result": {...}}`), a version
        (`{"data": "<route JSON as a string>"}`), or any of them as JSON text.

        Args:
            data: The JSON, parsed or as text.
            name: The route's name when the JSON has none (a version's `data`).

        Returns:
            The checked route.

        Raises:
            InvalidDynamicRouteError: Not JSON, not a route, or a rule is broken.
        """
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except json.JSONDecodeError as exc:
                raise InvalidDynamicRouteError(None, "json", f"not JSON: {exc}") from None
        if isinstance(data, Mapping) and isinstance(data.get("result"), Mapping):
            data = data["result"]
        if isinstance(data, Mapping) and "elements" not in data and "data" in data:
            return cls.from_api(data["data"], name=name or data.get("name"))
        if not isinstance(data, Mapping) or not isinstance(data.get("elements"), list):
            raise InvalidDynamicRouteError(
                None, "elements", "a route is a JSON object with an 'elements' list"
            )
        route_name = data.get("name") or name
        if not isinstance(route_name, str):
            raise InvalidDynamicRouteError(None, "name", "the JSON names no route: pass name='...'")
        route_id = data.get("id")
        elements = tuple(element_from_api(e, i) for i, e in enumerate(data["elements"]))
        return _checked(
            lambda: cls(
                name=route_name,
                elements=elements,
                id=route_id if isinstance(route_id, str) else None,
            )
        )

    @classmethod
    def fallback_chain(
        cls,
        models: Sequence[str],
        *,
        name: str = "route",
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
        retries: int = DEFAULT_RETRIES,
    ) -> DynamicRoute:
        """Try each model in turn, falling back to the next when one fails or times out.

        Args:
            models: Model ids, first choice first, such as
                `["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku"]`.
            name: The route's name.
            timeout_ms: Each model's timeout, in milliseconds.
            retries: Each model's retries before falling back.

        Returns:
            The checked route.
        """
        graph = RouteGraph(timeout_ms, retries)
        return _checked(lambda: cls(name=name, elements=builders.fallback_chain(models, graph)))

    @classmethod
    def split(
        cls,
        shares: Mapping[str, float] | Sequence[tuple[str | DynamicRoute, float]],
        *,
        name: str = "route",
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
        retries: int = DEFAULT_RETRIES,
    ) -> DynamicRoute:
        """Split requests at random by percent, such as an 80/20 A/B test.

        Args:
            shares: `{"openai/gpt-4o-mini": 80, "anthropic/claude-3-5-haiku": 20}`, or
                `[(model id or DynamicRoute, percent), ...]`; the percents add up to 100.
            name: The route's name.
            timeout_ms: Each model's timeout, in milliseconds.
            retries: Each model's retries.

        Returns:
            The checked route.
        """
        pairs: Sequence[tuple[Branch, float]] | Mapping[str, float] = (
            shares
            if isinstance(shares, Mapping)
            else [(_branch(target), percent) for target, percent in shares]
        )
        graph = RouteGraph(timeout_ms, retries)
        return _checked(lambda: cls(name=name, elements=builders.split(pairs, graph)))

    @classmethod
    def conditional(
        cls,
        condition: Mapping[str, Any],
        *,
        then: str | DynamicRoute,
        otherwise: str | DynamicRoute,
        name: str = "route",
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
        retries: int = DEFAULT_RETRIES,
    ) -> DynamicRoute:
        """Route on the request: `then` when `condition` holds, else `otherwise`.

        Args:
            condition: MongoDB-like, such as `{"metadata.plan": {"$eq": "paid"}}`.
            then: A model id or a `DynamicRoute`, taken when it holds.
            otherwise: A model id or a `DynamicRoute`, taken when it does not.
            name: The route's name.
            timeout_ms: Each model's timeout, in milliseconds.
            retries: Each model's retries.

        Returns:
            The checked route.
        """
        graph = RouteGraph(timeout_ms, retries)
        return _checked(
            lambda: cls(
                name=name,
                elements=builders.conditional(condition, _branch(then), _branch(otherwise), graph),
            )
        )

    @classmethod
    def rate_limit(
        cls,
        then: str | DynamicRoute,
        *,
        key: str,
        limit: float,
        interval: int,
        limit_type: str = "count",
        technique: str | None = "sliding",
        fallback: str | DynamicRoute | None = None,
        name: str = "route",
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
        retries: int = DEFAULT_RETRIES,
    ) -> DynamicRoute:
        """A rate limit (`limit_type="count"`) or budget (`"cost"`) in front of `then`.

        Args:
            then: A model id or a `DynamicRoute`, taken within the limit.
            key: What the limit is counted per, such as `metadata.user_id`.
            limit: Requests, or cost, per window.
            interval: The window, in seconds.
            limit_type: `count` or `cost`.
            technique: `sliding` or `fixed` window, or None to leave it out.
            fallback: Taken over the limit; None: the end, which returns an error.
            name: The route's name.
            timeout_ms: Each model's timeout, in milliseconds.
            retries: Each model's retries.

        Returns:
            The checked route.
        """
        graph = RouteGraph(timeout_ms, retries)
        return _checked(
            lambda: cls(
                name=name,
                elements=builders.limited(
                    _branch(then),
                    graph,
                    key=key,
                    limit=limit,
                    interval=interval,
                    limit_type=limit_type,
                    technique=technique,
                    fallback=None if fallback is None else _branch(fallback),
                ),
            )
        )


def _branch(target: str | DynamicRoute) -> Branch:
    return target.elements if isinstance(target, DynamicRoute) else target


def _checked(build: Callable[[], DynamicRoute]) -> DynamicRoute:
    """Build a route, raising our error itself rather than pydantic's wrapper of it.

    Raises:
        InvalidDynamicRouteError: A rule is broken, or an element's field has the wrong
            type.
    """
    try:
        return build()
    except ValidationError as exc:
        original = wrapped_input_error(exc)
        if isinstance(original, InvalidDynamicRouteError):
            raise original from None
        error = invalid_element(None, exc)
    raise error from None
