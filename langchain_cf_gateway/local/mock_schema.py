"""JSON schema examples: the tool arguments and structured content the mock makes.

Bounded, as `mock` says: a schema nests at most `SCHEMA_DEPTH_MAX` levels, holds at
most `SCHEMA_VALUES_MAX` values and expands to at most `EXAMPLE_VALUES_MAX` values;
every check is a loop, never a recursion. Past a bound: `MockLimitError`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from .mock_message import MessageText, key_words
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


_FORMATS: Final = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "time": "00:00:00Z",
    "email": "mock@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "127.0.0.1",
}
"""The string the mock gives a `format` (a value of that format)."""


class _Example:
    """Builds one example value from a schema, counting what it builds against a budget."""

    def __init__(self, field: str, message: MessageText | None, *, proper_name: bool) -> None:
        self.field = field
        self.message = message
        self.values = 0
        self.named = not proper_name
        """Whether a string property took its value from the message (then no proper name)."""

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
            return self.build(_resolve(schema, defs), defs, depth + 1)
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
            return {
                name: self._property(str(name), sub, defs, depth + 1) for name, sub in props.items()
            }
        if kind == "array":
            return [self.build(schema.get("items", {}), defs, depth + 1) for _ in _items(schema)]
        if kind in ("integer", "number"):
            return _number_in(schema, integer=kind == "integer")
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return _string_in(schema)

    def _property(self, name: str, schema: Any, defs: Mapping[str, Any], depth: int) -> Any:
        """A property's value: taken from the message when it names the property, else built."""
        if self.message is not None and isinstance(schema, dict):
            resolved = _resolve(schema, defs)
            found = _from_message(self.message, name, resolved)
            if found is None and not self.named and _plain_string(resolved):
                proper = self.message.proper_name()
                if proper is not None and _length_fits(resolved, proper):
                    self.named, found = True, (proper,)
            if found is not None:
                self.values += 1
                self.named = self.named or isinstance(found[0], str)
                return found[0]
        return self.build(schema, defs, depth)


def _plain_string(schema: Any) -> bool:
    """A string schema without `enum`, `const`, `default`, `format` or `pattern`."""
    return (
        isinstance(schema, dict)
        and schema.get("type") == "string"
        and not {"enum", "const", "default", "format", "pattern"} & schema.keys()
    )


def _resolve(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> Any:
    """The schema a `$ref` names (one step), else `schema` itself."""
    if "$ref" not in schema:
        return schema
    return defs.get(str(schema["$ref"]).rsplit("/", 1)[-1], {})


def _from_message(message: MessageText, name: str, schema: Any) -> tuple[Any] | None:
    """`(value,)` for a scalar property the message names, when the value fits its schema."""
    if not isinstance(schema, dict):
        return None
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        named = [v for v in enum if isinstance(v, str) and message.mentions(v)]
        return (named[0],) if named else None
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind not in ("string", "integer", "number", "boolean"):
        return None
    description = schema.get("description")
    keys = key_words(name, description if isinstance(description, str) else "")
    raw = message.value_after(keys)
    if raw is None:
        return None
    value: Any = raw
    if kind == "boolean":
        truth = {"true": True, "yes": True, "false": False, "no": False}
        return (truth[raw.lower()],) if raw.lower() in truth else None
    if kind in ("integer", "number"):
        try:
            value = int(raw) if kind == "integer" else float(raw)
        except ValueError:
            return None
        return (value,) if _number_fits(schema, value) else None
    if {"format", "pattern"} & schema.keys() or not _length_fits(schema, value):
        return None  # a client's pattern is never run: it could take exponential time
    return (value,)


def _items(schema: Mapping[str, Any]) -> range:
    """How many items an example array holds: `minItems`, at least 1, at most `maxItems`."""
    low = _number(schema.get("minItems"), 1)
    high = _number(schema.get("maxItems"), EXAMPLE_VALUES_MAX)
    return range(max(0, min(max(1, low), high)))


def _string_in(schema: Mapping[str, Any]) -> str:
    """`"mock"` (or a value of the schema's `format`) stretched or cut to its length bounds."""
    fmt = schema.get("format")
    text = _FORMATS.get(fmt, "mock") if isinstance(fmt, str) else "mock"
    low = max(0, _number(schema.get("minLength"), 0))
    high = _number(schema.get("maxLength"), -1)
    if len(text) < low:
        text += "x" * (low - len(text))
    if high >= 0:
        text = text[:high]
    return text


def _length_fits(schema: Mapping[str, Any], text: str) -> bool:
    low = _number(schema.get("minLength"), 0)
    high = _number(schema.get("maxLength"), -1)
    return len(text) >= low and (high < 0 or len(text) <= high)


def _bounds(schema: Mapping[str, Any]) -> tuple[float, float, bool, bool]:
    """(low, high, low exclusive, high exclusive) of a number schema."""
    low, high = -math.inf, math.inf
    low_open = high_open = False
    for key, exclusive, upper in (
        ("minimum", False, False),
        ("exclusiveMinimum", True, False),
        ("maximum", False, True),
        ("exclusiveMaximum", True, True),
    ):
        raw = schema.get(key)
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            continue
        if upper and (raw < high or (raw == high and exclusive)):
            high, high_open = raw, exclusive
        elif not upper and (raw > low or (raw == low and exclusive)):
            low, low_open = raw, exclusive
    return low, high, low_open, high_open


def _number_fits(schema: Mapping[str, Any], value: float) -> bool:
    low, high, low_open, high_open = _bounds(schema)
    if value < low or (low_open and value == low) or value > high or (high_open and value == high):
        return False
    step = schema.get("multipleOf")
    if isinstance(step, int | float) and not isinstance(step, bool) and step > 0:
        return math.isclose(value / step, round(value / step))
    return True


def _number_in(schema: Mapping[str, Any], *, integer: bool) -> float:
    """1 (or 1.0) when it fits the schema's bounds, else a value inside them."""
    low, high, low_open, high_open = _bounds(schema)
    step = schema.get("multipleOf")
    if not (isinstance(step, int | float) and not isinstance(step, bool) and step > 0):
        step = 1 if integer else None
    candidates: list[float] = [1]
    if math.isfinite(low):
        candidates.append(low + (step or 1) if low_open else low)
        if step:
            candidates.append(math.ceil(low / step) * step)
            candidates.append((math.floor(low / step) + 1) * step)
    if math.isfinite(high):
        candidates.append(high - (step or 1) if high_open else high)
        if step:
            candidates.append(math.floor(high / step) * step)
    if math.isfinite(low) and math.isfinite(high):
        candidates.append((low + high) / 2)
    for value in candidates:
        value = int(value) if integer and float(value).is_integer() else value
        if (not integer or float(value).is_integer()) and _number_fits(schema, value):
            return int(value) if integer else float(value)
    return int(low) if integer and math.isfinite(low) else (low if math.isfinite(low) else 1)


def _number(value: Any, default: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return default
    return int(value)


def example_from_schema(
    schema: Any,
    defs: Mapping[str, Any] | None = None,
    depth: int = 0,
    *,
    field: str = "schema",
    message: MessageText | None = None,
    proper_name: bool = False,
) -> Any:
    """A deterministic value that satisfies a (simple) JSON schema.

    Args:
        schema: the JSON schema.
        defs: `$defs` in scope.
        depth: the nesting depth reached so far.
        field: the request field holding the schema (named in a `MockLimitError`).
        message: the user message; a property it names takes its value from it.
        proper_name: the first plain string property no key gives a value takes the
            message's name (`MessageText.proper_name`): for a tool the message chose.

    Returns:
        The example value.

    Raises:
        MockLimitError: the schema is past the mock's bounds.
    """
    check_schema(schema, field)
    return _Example(field, message, proper_name=proper_name).build(schema, defs or {}, depth)
