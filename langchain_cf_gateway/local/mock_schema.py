"""JSON schema examples: the tool arguments and structured content the mock makes.

Bounded, as `mock` says: a schema nests at most `SCHEMA_DEPTH_MAX` levels, holds at
most `SCHEMA_VALUES_MAX` values and expands to at most `EXAMPLE_VALUES_MAX` values;
every check is a loop, never a recursion. Past a bound: `MockLimitError`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from .mock_text import MockLimitError

SCHEMA_DEPTH_MAX: Final = 64
"""Deepest nesting of JSON values in a schema the mock builds an example from."""
SCHEMA_VALUES_MAX: Final = 10_000
"""Most JSON values (objects, arrays, strings, numbers) in such a schema."""
EXAMPLE_VALUES_MAX: Final = 10_000
"""Most values in one example built from a schema (`$ref` can multiply a small schema)."""


def check_schema(schema: Any, field: str) -> None:
    """Hold a schema to `SCHEMA_DEPTH_MAX` and `SCHEMA_VALUES_MAX`.

    A loop, so a schema 10,000 levels deep costs no recursion.

    Raises:
        MockLimitError: naming `field` and the bound passed.
    """
    stack: list[tuple[Any, int]] = [(schema, 1)]
    seen = 0
    while stack:
        value, depth = stack.pop()
        seen += 1
        if seen > SCHEMA_VALUES_MAX:
            raise MockLimitError(
                field,
                f"the schema holds more than {SCHEMA_VALUES_MAX} JSON values, the mock "
                "model's bound; send a smaller schema",
            )
        if depth > SCHEMA_DEPTH_MAX:
            raise MockLimitError(
                field,
                f"the schema nests deeper than {SCHEMA_DEPTH_MAX} levels, the mock model's "
                "bound; send a shallower schema",
            )
        if isinstance(value, dict):
            stack += [(v, depth + 1) for v in value.values()]
        elif isinstance(value, list):
            stack += [(v, depth + 1) for v in value]


class _Example:
    """Builds one example value from a schema, counting what it builds against a budget."""

    def __init__(self, field: str) -> None:
        self.field = field
        self.values = 0

    def build(self, schema: Any, defs: Mapping[str, Any], depth: int) -> Any:
        self.values += 1
        if self.values > EXAMPLE_VALUES_MAX:
            raise MockLimitError(
                self.field,
                f"the schema expands (through $ref) to more than {EXAMPLE_VALUES_MAX} values, "
                "the mock model's bound; send a schema that refers to itself less",
            )
        if not isinstance(schema, dict) or depth > 8:
            return "mock"
        own = [d for d in (schema.get("$defs"), schema.get("definitions")) if isinstance(d, dict)]
        if own:
            defs = {**defs, **{k: v for d in own for k, v in d.items()}}
        if "$ref" in schema:
            name = str(schema["$ref"]).rsplit("/", 1)[-1]
            return self.build(defs.get(name, {}), defs, depth + 1)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return enum[0]
        if "default" in schema:
            return schema["default"]
        for combo in ("anyOf", "oneOf", "allOf"):
            options = schema.get(combo)
            if isinstance(options, list) and options:
                chosen = next(
                    (o for o in options if not (isinstance(o, dict) and o.get("type") == "null")),
                    options[0],
                )
                return self.build(chosen, defs, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object" or "properties" in schema:
            props = schema.get("properties")
            if not isinstance(props, dict):
                return {}
            return {name: self.build(sub, defs, depth + 1) for name, sub in props.items()}
        if kind == "array":
            return [self.build(schema.get("items", {}), defs, depth + 1)]
        if kind == "integer":
            return max(1, _number(schema.get("minimum"), 1))
        if kind == "number":
            return float(max(1.0, _number(schema.get("minimum"), 1.0)))
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return "mock"


def _number(value: Any, default: float) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return default
    return int(value) if isinstance(default, int) else value


def example_from_schema(
    schema: Any,
    defs: Mapping[str, Any] | None = None,
    depth: int = 0,
    *,
    field: str = "schema",
) -> Any:
    """A deterministic value that satisfies a (simple) JSON schema.

    Raises `MockLimitError` (naming `field`) for a schema past the mock's bounds.
    """
    check_schema(schema, field)
    return _Example(field).build(schema, defs or {}, depth)


def forced_tool(body: Mapping[str, Any]) -> tuple[str, Any, str] | None:
    """(name, parameters schema, its field path) of the function a request forces, if any."""
    raw = body.get("tools")
    tools = (
        [(i, t) for i, t in enumerate(raw) if isinstance(t, dict)] if isinstance(raw, list) else []
    )
    choice = body.get("tool_choice")
    wanted: str | None = None
    if isinstance(choice, dict):
        fn = choice.get("function")
        wanted = fn.get("name") if isinstance(fn, dict) else choice.get("name")
        if wanted is None and choice.get("type") in ("any", "required"):
            wanted = ""
    elif choice in ("required", "any"):
        wanted = ""
    if wanted is None or not tools:
        return None
    for index, tool in tools:
        nested = isinstance(tool.get("function"), dict)
        fn = tool["function"] if nested else tool  # OpenAI nests it; Anthropic does not
        name = fn.get("name")
        if wanted in ("", name):
            if "parameters" in fn:
                key = "parameters"
            elif "input_schema" in fn:
                key = "input_schema"
            else:
                return str(name), {}, ""
            path = f"tools[{index}].function.{key}" if nested else f"tools[{index}].{key}"
            return str(name), fn[key], path
    return None
