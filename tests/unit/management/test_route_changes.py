"""`route_changes`: what a deploy would change, element by element, as the user reads it."""

from __future__ import annotations

from langchain_cf_gateway.core.dynamic_routes import DynamicRoute
from langchain_cf_gateway.management import RouteChange, route_changes

CHAIN = DynamicRoute.fallback_chain(["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku"], name="s")


def test_the_same_route_changes_nothing() -> None:
    assert route_changes(CHAIN, CHAIN) == []


def test_added_removed_and_changed_in_readable_lines() -> None:
    shorter = DynamicRoute.fallback_chain(["openai/gpt-4o"], name="s")
    lines = [str(c) for c in route_changes(CHAIN, shorter)]
    assert lines == [
        '~ element "model" properties.model: "gpt-4o-mini" -> "gpt-4o"',
        '~ element "model" outputs.fallback: "model_2" -> "end"',
        '- element "model_2": model provider="anthropic" model="claude-3-5-haiku" '
        'timeout=60000 retries=0; success -> "end", fallback -> "end"',
    ]
    kinds = [c.kind for c in route_changes(shorter, CHAIN)]
    assert kinds == ["changed", "changed", "added"]


def test_a_property_set_or_unset_shows_none() -> None:
    sliding = DynamicRoute.rate_limit(
        "openai/gpt-4o", key="metadata.user", limit=5, interval=60, name="s"
    )
    unset = DynamicRoute.rate_limit(
        "openai/gpt-4o", key="metadata.user", limit=5, interval=60, technique=None, name="s"
    )
    changes = route_changes(unset, sliding)
    assert [str(c) for c in changes] == [
        '~ element "limit" properties.technique: (none) -> "sliding"'
    ]
    assert (changes[0].old, changes[0].new) == (None, "sliding")
    assert [str(c) for c in route_changes(sliding, unset)] == [
        '~ element "limit" properties.technique: "sliding" -> (none)'
    ]


def test_the_docs_spelling_and_the_schemas_compare_equal() -> None:
    schema = DynamicRoute.rate_limit(
        "openai/gpt-4o", key="metadata.user", limit=5, interval=60, name="s"
    )
    api = schema.to_api()
    docs = {**api, "elements": [_docs_spelling(e) for e in api["elements"]]}
    assert docs != api
    assert route_changes(schema, DynamicRoute.from_api(docs)) == []


def test_a_value_with_a_terminal_escape_is_shown_escaped() -> None:
    evil = DynamicRoute.conditional(
        {"metadata.plan": {"$eq": "free\x1b[2J\u202e"}},
        then="openai/gpt-4o",
        otherwise="openai/gpt-4o-mini",
        name="s",
    )
    text = "\n".join(str(c) for c in route_changes(None, evil))
    assert "\x1b" not in text and "\u202e" not in text
    assert "\\u001b[2J\\u202e" in text


def test_a_change_as_json() -> None:
    change = route_changes(None, CHAIN)[0]
    assert change == RouteChange("added", "start", new='start; next -> "model"')
    assert change.to_json() == {
        "kind": "added",
        "element_id": "start",
        "field": None,
        "old": None,
        "new": 'start; next -> "model"',
    }


def _docs_spelling(element: dict) -> dict:  # type: ignore[type-arg]
    if element["type"] != "rate":
        return element
    props = dict(element["properties"])
    props["interval"] = props.pop("window")
    return {**element, "type": "rate_limit", "properties": props}
