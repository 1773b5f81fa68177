"""What deploying a route would change: elements added, removed, and fields changed.

Pure: two `DynamicRoute`s in, `RouteChange`s out, compared element by element (by id) in
the API's JSON (`DynamicRoute.to_api()`), so that the docs' and the schema's spellings of
the same route compare equal:
https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/json-configuration/

```python
for change in route_changes(deployed, proposed):
    print(change)   # ~ element "model" properties.model: "gpt-4o-mini" -> "gpt-4o"
```
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from ..core.dynamic_routes import DynamicRoute

ChangeKind = Literal["added", "removed", "changed"]
_MARKS = {"added": "+", "removed": "-", "changed": "~"}


@dataclass(frozen=True)
class RouteChange:
    """One difference: an element added or removed, or one field of an element changed."""

    kind: ChangeKind
    element_id: str
    field: str | None = None
    """`type`, `properties.<name>` or `outputs.<name>`; None for a whole element."""
    old: Any = None
    """The field's deployed value (None: absent), or the removed element's summary."""
    new: Any = None
    """The field's new value (None: absent), or the added element's summary."""

    def __str__(self) -> str:
        where = f"element {_show(self.element_id)}"
        if self.field is None:
            summary = self.new if self.kind == "added" else self.old
            return f"{_MARKS[self.kind]} {where}: {summary}"
        return f"~ {where} {self.field}: {_value(self.old)} -> {_value(self.new)}"

    def to_json(self) -> dict[str, Any]:
        """The change as a JSON object (`--json`).

        Returns:
            `{"kind", "element_id", "field", "old", "new"}`.
        """
        return {
            "kind": self.kind,
            "element_id": self.element_id,
            "field": self.field,
            "old": self.old,
            "new": self.new,
        }


def route_changes(deployed: DynamicRoute | None, proposed: DynamicRoute) -> list[RouteChange]:
    """What replacing `deployed` with `proposed` changes, in the order of `proposed`.

    Args:
        deployed: The route serving traffic, or None when there is none.
        proposed: The route that would be deployed.

    Returns:
        The changes: each element of `proposed` new or with changed fields, then each
        element of `deployed` it no longer has; empty when the two route the same.
    """
    old = _fields_by_id(deployed)
    new = _fields_by_id(proposed)
    changes: list[RouteChange] = []
    for element_id, fields in new.items():
        before = old.get(element_id)
        if before is None:
            changes.append(RouteChange("added", element_id, new=_summary(fields)))
            continue
        for field in sorted(before.keys() | fields.keys(), key=_field_order):
            if before.get(field) != fields.get(field):
                changes.append(
                    RouteChange("changed", element_id, field, before.get(field), fields.get(field))
                )
    changes.extend(
        RouteChange("removed", element_id, old=_summary(fields))
        for element_id, fields in old.items()
        if element_id not in new
    )
    return changes


def _fields_by_id(route: DynamicRoute | None) -> dict[str, dict[str, Any]]:
    """Each element's fields, flat: `type`, `properties.<name>`, `outputs.<name>` -> target."""
    if route is None:
        return {}
    flat: dict[str, dict[str, Any]] = {}
    for element in route.to_api()["elements"]:
        fields: dict[str, Any] = {"type": element["type"]}
        for name, value in (element.get("properties") or {}).items():
            fields[f"properties.{name}"] = value
        for name, target in (element.get("outputs") or {}).items():
            fields[f"outputs.{name}"] = (
                target.get("elementId") if isinstance(target, dict) else target
            )
        flat[element["id"]] = fields
    return flat


def _field_order(field: str) -> tuple[int, str]:
    return ({"type": 0}.get(field, 1 if field.startswith("properties.") else 2), field)


def _summary(fields: dict[str, Any]) -> str:
    """`model: provider="openai" model="gpt-4o"; success -> "end"`: one element, one line."""
    properties = " ".join(
        f"{k.removeprefix('properties.')}={_value(v)}"
        for k, v in fields.items()
        if k.startswith("properties.")
    )
    outputs = ", ".join(
        f"{k.removeprefix('outputs.')} -> {_show(v)}"
        for k, v in fields.items()
        if k.startswith("outputs.")
    )
    text = str(fields["type"])
    if properties:
        text += f" {properties}"
    return f"{text}; {outputs}" if outputs else text


def _value(value: Any) -> str:
    """A value as compact JSON (`(none)` when absent); controls and non-ASCII escaped."""
    return "(none)" if value is None else json.dumps(value, separators=(",", ":"))


def _show(text: Any) -> str:
    return json.dumps(text)
