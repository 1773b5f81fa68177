"""The elements of a dynamic route: one pydantic model per element type.

A route is a graph of elements; each element has an `id`, a `type`, its `properties`
and its `outputs`, each output naming the element the request goes to next
(`{"next": {"elementId": "m1"}}`). Here an element keeps its properties as its own
fields and its outputs as `{output name: element id}`; `to_api()` writes the JSON the
API takes and `element_from_api` reads it back.

Sources, and where they differ (we follow the API schema on output and accept both):

- Cloudflare's JSON configuration page:
  https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/json-configuration/
- The API schema, as the SDKs generated from it carry it: `cloudflare-python`
  `src/cloudflare/types/ai_gateway/dynamic_routing_create_params.py` and `cloudflare-go`
  `ai_gateway/dynamicrouting.go`.

| What | Docs | API schema (what we write) |
|---|---|---|
| limiter element type | `rate_limit` | `rate` |
| conditional property | `condition` | `conditions` |
| limiter window (seconds) | `interval` | `window` |
| limiter `technique` | `fixed` or `sliding` | not listed (written when set) |
| `end` outputs | none | `{}` (required) |
| `fallback` of a limiter or model | optional | listed as required (written when set) |
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from ..providers import find_provider
from .errors import InvalidDynamicRouteError

OUTPUT_TARGET: Final = "elementId"
"""The key of an output's target in the API's JSON."""

LIMITER_TYPE: Final = "rate"
"""The limiter element's type in the API schema (the docs write `rate_limit`)."""
LIMITER_TYPE_IN_DOCS: Final = "rate_limit"

Outputs = dict[str, str]
"""Output name -> id of the element the request goes to next."""


class _Element(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    id: str
    """The element's id, unique in its route."""
    outputs: Outputs = Field(default_factory=dict)
    """Output name -> the id of the next element (`{"next": "m1"}`)."""

    _API_NAMES: ClassVar[dict[str, str]] = {}
    """Field name -> the property's name in the API's JSON."""

    @field_validator("outputs", mode="before")
    @classmethod
    def _targets(cls, value: Any) -> Any:
        # The API's JSON nests each target as {"elementId": id}; a plain id is accepted too.
        if not isinstance(value, Mapping):
            return value
        return {
            name: target[OUTPUT_TARGET]
            if isinstance(target, Mapping) and OUTPUT_TARGET in target
            else target
            for name, target in value.items()
        }

    def properties(self) -> dict[str, Any]:
        """The element's `properties` as the API names them (unset ones left out).

        Returns:
            `{API name: value}`; empty for an element type without properties.
        """
        return {
            api: getattr(self, name)
            for name, api in self._API_NAMES.items()
            if getattr(self, name) is not None
        }

    def to_api(self) -> dict[str, Any]:
        """The element as the API's JSON.

        Returns:
            `{"id", "type", "properties"?, "outputs": {name: {"elementId": id}}}`.
        """
        body: dict[str, Any] = {"id": self.id, "type": getattr(self, "type")}  # noqa: B009
        if self._API_NAMES:
            body["properties"] = self.properties()
        body["outputs"] = {name: {OUTPUT_TARGET: target} for name, target in self.outputs.items()}
        return body


def _whole_number(value: Any) -> Any:
    """A float that is a whole number, as the integer it is; anything else unchanged.

    Cloudflare's Python SDK types `timeout`, `retries` and `window` as `float`
    (`cloudflare/types/ai_gateway/dynamic_routing_get_response.py`), so a route read
    through it carries `10000.0`; `1.5` is left for the strict integer field to refuse.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class StartElement(_Element):
    """Where every request enters the route; one output, `next`."""

    type: Literal["start"] = "start"


class ConditionalElement(_Element):
    """If/else on the request: outputs `true` and `false`.

    `condition` is MongoDB-like, on `metadata.*`, `body.*` or `headers.*`, such as
    `{"metadata.plan": {"$eq": "paid"}}`. Written as the schema's `conditions`; the
    docs' `condition` is read too.
    """

    type: Literal["conditional"] = "conditional"
    condition: dict[str, Any]
    """The condition, such as `{"metadata.plan": {"$eq": "paid"}}`."""

    _API_NAMES: ClassVar[dict[str, str]] = {"condition": "conditions"}


class PercentageElement(_Element):
    """A weighted random split: up to 5 outputs named like `"80%"`, and optionally `else`."""

    type: Literal["percentage"] = "percentage"


class LimitElement(_Element):
    """A rate limit (`limit_type="count"`) or budget limit (`"cost"`) per `key`.

    Outputs `success` and, optionally, `fallback` for a request over the limit (without
    one the route ends there with an error). Its type is written as the API schema's
    `rate`; the docs' `rate_limit` is read too.
    """

    type: Literal["rate"] = "rate"
    limit_type: str = "count"
    """`count` (requests) or `cost` (dollars)."""
    key: str
    """What the limit is counted per, such as `metadata.user_id`."""
    limit: int | float
    """Requests (a whole number) or cost allowed per window."""
    interval: int
    """The window, in seconds (the schema's `window`; the docs' `interval` is read too)."""
    technique: str | None = None
    """`sliding` or `fixed` window (docs); left out when unset."""

    _API_NAMES: ClassVar[dict[str, str]] = {
        "limit_type": "limitType",
        "key": "key",
        "limit": "limit",
        "interval": "window",
        "technique": "technique",
    }

    _whole_interval = field_validator("interval", mode="before")(_whole_number)

    @field_validator("limit", mode="before")
    @classmethod
    def _whole_count(cls, value: Any, info: ValidationInfo) -> Any:
        # A count is requests: `2.0` from the SDK is 2; a cost stays as given.
        return _whole_number(value) if info.data.get("limit_type") == "count" else value


class ModelElement(_Element):
    """A call to one provider's model: outputs `success` and, optionally, `fallback`.

    `success` is taken once the model starts its response; `fallback` when it fails
    after all retries or times out.
    """

    type: Literal["model"] = "model"
    provider: str
    """The provider's slug, such as `openai`."""
    model: str
    """The provider's model name, such as `gpt-4o-mini`."""
    timeout: int
    """Milliseconds before the attempt counts as failed."""
    retries: int
    """Attempts after the first one (0 for none)."""

    _API_NAMES: ClassVar[dict[str, str]] = {
        "provider": "provider",
        "model": "model",
        "timeout": "timeout",
        "retries": "retries",
    }

    _whole_counts = field_validator("timeout", "retries", mode="before")(_whole_number)

    @field_validator("provider", mode="before")
    @classmethod
    def _canonical_provider(cls, value: Any) -> Any:
        # As in a model id: `OpenAI ` is read as the slug `openai`; an unknown provider is
        # left for the route's check to refuse with the known ones.
        row = find_provider(value) if isinstance(value, str) else None
        return value if row is None else row.slug


class EndElement(_Element):
    """The end of the route: returns the last model response, or the error; no outputs."""

    type: Literal["end"] = "end"


Element = Annotated[
    StartElement
    | ConditionalElement
    | PercentageElement
    | LimitElement
    | ModelElement
    | EndElement,
    Field(discriminator="type"),
]
"""Any element of a route."""

ELEMENT_TYPES: Final[dict[str, type[_Element]]] = {
    "start": StartElement,
    "conditional": ConditionalElement,
    "percentage": PercentageElement,
    LIMITER_TYPE: LimitElement,
    "model": ModelElement,
    "end": EndElement,
}

_READ_ALSO: Final[dict[str, str]] = {"condition": "condition", "interval": "interval"}
"""The docs' spelling of a property -> our field, read as well as the schema's."""


def element_from_api(body: Any, index: int) -> Element:
    """Read one element of the API's JSON (or the dashboard's export).

    Args:
        body: The element's JSON object.
        index: Its position in `elements`, named in errors when it has no id.

    Returns:
        The typed element.

    Raises:
        InvalidDynamicRouteError: Not an object, no id, an unknown type or property, or a
            property of the wrong type.
    """
    if not isinstance(body, Mapping):
        raise InvalidDynamicRouteError(
            None, f"elements[{index}]", f"must be a JSON object; got {type(body).__name__}"
        )
    element_id = body.get("id")
    if not isinstance(element_id, str) or not element_id:
        raise InvalidDynamicRouteError(
            None, f"elements[{index}].id", "every element needs a non-empty string id"
        )
    kind = body.get("type")
    kind = LIMITER_TYPE if kind == LIMITER_TYPE_IN_DOCS else kind
    cls = ELEMENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InvalidDynamicRouteError(
            element_id, "type", f"unknown type {kind!r}; known: {', '.join(ELEMENT_TYPES)}"
        )
    extra = set(body) - {"id", "type", "properties", "outputs"}
    if extra:
        raise InvalidDynamicRouteError(
            element_id,
            sorted(extra)[0],
            "unknown key; an element has id, type, properties and outputs",
        )
    by_api = {api: name for name, api in cls._API_NAMES.items()}
    by_api.update({k: v for k, v in _READ_ALSO.items() if v in cls._API_NAMES})
    properties = body.get("properties") or {}
    if not isinstance(properties, Mapping):
        raise InvalidDynamicRouteError(element_id, "properties", "must be a JSON object")
    fields: dict[str, Any] = {"id": element_id, "outputs": body.get("outputs") or {}}
    for api_name, value in properties.items():
        name = by_api.get(api_name)
        if name is None:
            known = ", ".join(cls._API_NAMES.values()) or "none"
            raise InvalidDynamicRouteError(
                element_id,
                f"properties.{api_name}",
                f"unknown property of a {kind} element; known: {known}",
            )
        fields[name] = value
    try:
        return cls(**fields)  # type: ignore[return-value]
    except ValidationError as exc:
        error = invalid_element(element_id, exc)
    raise error from None


def invalid_element(element_id: str | None, exc: ValidationError) -> InvalidDynamicRouteError:
    """Our error for the first problem pydantic found in an element.

    Args:
        element_id: The element's id, if known.
        exc: What pydantic raised.

    Returns:
        The error naming the element, the field and what pydantic expected.
    """
    first = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or "element"
    return InvalidDynamicRouteError(element_id, field, first["msg"])
