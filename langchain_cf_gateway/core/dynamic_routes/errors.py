"""The one error of the route builder: a dynamic route that breaks a rule.

https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/json-configuration/
"""

from __future__ import annotations

from ..errors import InvalidOptionError


class InvalidDynamicRouteError(InvalidOptionError):
    """A dynamic route that breaks a rule: names the element id, the field and the fix.

    Raised before anything is sent, by the builders, `DynamicRoute.from_api` and
    `DynamicRoute.to_api`. It is an `InvalidOptionError`, so a `ValueError`.
    """

    def __init__(self, element_id: str | None, field: str, message: str) -> None:
        self.element_id = element_id
        where = f"element {element_id!r} {field}" if element_id is not None else field
        super().__init__(where, message)
        self.field = field
