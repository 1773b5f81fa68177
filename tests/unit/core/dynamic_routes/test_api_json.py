"""A route to and from the API's JSON: round trips, the docs' spellings, the SDK's types."""

from __future__ import annotations

import json
from typing import Any

import pytest

from langchain_cf_gateway import DynamicRoute, InvalidDynamicRouteError
from langchain_cf_gateway.core.dynamic_routes import (
    ConditionalElement,
    EndElement,
    LimitElement,
    ModelElement,
    PercentageElement,
    StartElement,
)

from .routes import ref, valid

# The docs' JSON configuration page, element by element, ids filled in:
# https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/json-configuration/
DOCS_ROUTE: dict[str, Any] = {
    "id": "route-1",
    "name": "docs",
    "elements": [
        {"id": "start", "type": "start", "outputs": {"next": ref("cond")}},
        {
            "id": "cond",
            "type": "conditional",
            "properties": {"condition": {"metadata.plan": {"$eq": "free"}}},
            "outputs": {"true": ref("rl"), "false": ref("pct")},
        },
        {
            "id": "pct",
            "type": "percentage",
            "outputs": {"10%": ref("node_model_openai_mini"), "50%": ref("m"), "else": ref("m")},
        },
        {
            "id": "rl",
            "type": "rate_limit",
            "properties": {
                "limitType": "count",
                "key": "metadata.user_id",
                "limit": 100,
                "interval": 3600,
                "technique": "sliding",
            },
            "outputs": {
                "success": ref("node_model_workers_ai"),
                "fallback": ref("node_model_openai_mini"),
            },
        },
        {
            "id": "node_model_workers_ai",
            "type": "model",
            "properties": {
                "provider": "workers-ai",
                "model": "@cf/meta/llama-3.1-8b-instruct",
                "timeout": 60000,
                "retries": 4,
            },
            "outputs": {"success": ref("end"), "fallback": ref("node_model_openai_mini")},
        },
        {
            "id": "node_model_openai_mini",
            "type": "model",
            "properties": {
                "provider": "openai",
                "model": "gpt-4o-mini",
                "timeout": 60000,
                "retries": 4,
            },
            "outputs": {"success": ref("end")},
        },
        {
            "id": "m",
            "type": "model",
            "properties": {
                "provider": "anthropic",
                "model": "claude-3-5-haiku",
                "timeout": 60000,
                "retries": 4,
            },
            "outputs": {"success": ref("end")},
        },
        {"id": "end", "type": "end"},
    ],
}


def test_api_json_round_trips_unchanged() -> None:
    route = DynamicRoute.from_api(valid())
    assert route.to_api() == valid()
    assert DynamicRoute.from_api(route.to_api()) == route
    assert json.loads(json.dumps(route.to_api())) == valid()


def test_the_docs_spellings_are_read_and_the_schemas_are_written() -> None:
    route = DynamicRoute.from_api(DOCS_ROUTE)
    body = {e["id"]: e for e in route.to_api()["elements"]}
    # Limiter type: docs `rate_limit`, API schema `rate`.
    assert body["rl"]["type"] == "rate"
    # Window: docs `interval`, API schema `window`; `technique` kept.
    assert body["rl"]["properties"] == {
        "limitType": "count",
        "key": "metadata.user_id",
        "limit": 100,
        "window": 3600,
        "technique": "sliding",
    }
    # Condition: docs `condition`, API schema `conditions`.
    assert body["cond"]["properties"] == {"conditions": {"metadata.plan": {"$eq": "free"}}}
    # End: docs write no outputs; the API schema requires `outputs`.
    assert body["end"] == {"id": "end", "type": "end", "outputs": {}}
    assert route.id == "route-1"
    assert route.to_api()["id"] == "route-1"
    # Read again, the schema's spellings give the same route.
    assert DynamicRoute.from_api(route.to_api()) == route


def test_element_by_element_in_python_equals_the_json() -> None:
    built = DynamicRoute(
        name="support",
        elements=(
            StartElement(id="start", outputs={"next": "plan"}),
            ConditionalElement(
                id="plan",
                condition={"metadata.plan": {"$eq": "paid"}},
                outputs={"true": "split", "false": "limit"},
            ),
            PercentageElement(id="split", outputs={"80%": "gpt", "20%": "claude"}),
            LimitElement(
                id="limit",
                key="metadata.user_id",
                limit=100,
                interval=3600,
                technique="sliding",
                outputs={"success": "gpt", "fallback": "end"},
            ),
            ModelElement(
                id="gpt",
                provider="openai",
                model="gpt-4o-mini",
                timeout=10000,
                retries=2,
                outputs={"success": "end", "fallback": "claude"},
            ),
            ModelElement(
                id="claude",
                provider="anthropic",
                model="claude-3-5-haiku",
                timeout=10000,
                retries=0,
                outputs={"success": "end", "fallback": "end"},
            ),
            EndElement(id="end"),
        ),
    )
    assert built.to_api() == valid()
    assert built == DynamicRoute.from_api(valid())


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(lambda r: r, id="route"),
        pytest.param(json.dumps, id="json text"),
        pytest.param(lambda r: {"success": True, "result": r}, id="API envelope"),
        pytest.param(
            lambda r: {
                **r,
                "account_tag": "a",
                "gateway_id": "g",
                "created_at": "2026-01-01T00:00:00Z",
                "modified_at": "2026-01-01T00:00:00Z",
                "deployment": {"deployment_id": "d", "version_id": "v", "created_at": "x"},
                "version": {"version_id": "v", "active": "true", "created_at": "x", "data": "{}"},
            },
            id="get response",
        ),
    ],
)
def test_the_shapes_a_route_comes_in(wrap: Any) -> None:
    assert DynamicRoute.from_api(wrap(valid())).to_api() == valid()


def test_a_version_carries_the_route_as_a_json_string() -> None:
    data = {"elements": valid()["elements"]}
    version = {"version_id": "v1", "active": "true", "created_at": "x", "data": json.dumps(data)}
    route = DynamicRoute.from_api(version, name="support")
    assert route.to_api() == valid()
    with pytest.raises(InvalidDynamicRouteError, match="names no route: pass name="):
        DynamicRoute.from_api(version)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ("{not json", "json: not JSON"),
        ({"name": "x"}, "an 'elements' list"),
        ([], "an 'elements' list"),
    ],
)
def test_what_is_not_a_route(data: Any, words: str) -> None:
    with pytest.raises(InvalidDynamicRouteError, match=words):
        DynamicRoute.from_api(data)


# The API schema's element properties and outputs, from Cloudflare's SDK generated from it
# (cloudflare-python src/cloudflare/types/ai_gateway/dynamic_routing_create_params.py;
# cloudflare-go ai_gateway/dynamicrouting.go: type enum start, conditional, percentage,
# rate, model, end). Required properties per type.
SCHEMA_PROPERTIES = {
    "start": set(),
    "conditional": {"conditions"},
    "percentage": set(),
    "rate": {"key", "limit", "limitType", "window"},
    "model": {"model", "provider", "retries", "timeout"},
    "end": set(),
}


def _builder_routes() -> list[DynamicRoute]:
    chain = DynamicRoute.fallback_chain(["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku"])
    split = DynamicRoute.split({"openai/gpt-4o-mini": 80, "anthropic/claude-3-5-haiku": 20})
    return [
        chain,
        split,
        DynamicRoute.conditional({"metadata.plan": "paid"}, then=split, otherwise=chain),
        DynamicRoute.rate_limit("openai/gpt-4o", key="metadata.user_id", limit=10, interval=60),
    ]


@pytest.mark.parametrize("route", [DynamicRoute.from_api(valid()), *_builder_routes()])
def test_what_we_write_has_the_schemas_fields(route: DynamicRoute) -> None:
    for element in route.to_api()["elements"]:
        assert element["type"] in SCHEMA_PROPERTIES
        assert SCHEMA_PROPERTIES[element["type"]] <= set(element.get("properties", {}))
        assert "outputs" in element
        for target in element["outputs"].values():
            assert set(target) == {"elementId"}


def _sdk_element() -> Any:
    sdk = pytest.importorskip("cloudflare.types.ai_gateway.dynamic_routing_get_response")
    from pydantic import TypeAdapter

    return TypeAdapter(sdk.Element)


@pytest.mark.parametrize("route", [DynamicRoute.from_api(valid()), *_builder_routes()])
def test_the_sdks_own_types_accept_what_we_write(route: DynamicRoute) -> None:
    adapter = _sdk_element()
    for element in route.to_api()["elements"]:
        parsed = adapter.validate_python(element)
        assert parsed.type == element["type"]
        assert parsed.id == element["id"]


def test_the_sdk_requires_a_fallback_so_the_builders_write_one_to_the_end() -> None:
    # The docs call `fallback` optional; the schema lists it as required. A fallback to
    # the end means the same (the end returns the error) and satisfies both.
    from pydantic import ValidationError

    adapter = _sdk_element()
    route = DynamicRoute.fallback_chain(["openai/gpt-4o"])
    model = next(e for e in route.to_api()["elements"] if e["type"] == "model")
    assert model["outputs"]["fallback"] == {"elementId": "end"}
    del model["outputs"]["fallback"]
    with pytest.raises(ValidationError):
        adapter.validate_python(model)
