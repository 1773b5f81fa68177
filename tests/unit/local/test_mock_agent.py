"""The mock model drives an agent: it calls the tool a message names, then responds from it.

Pure functions (`MockModel.complete` and the provider renderings), no sockets. Arguments
and structured content are validated against their JSON schema with `jsonschema` when
installed, else with `_conforms` below.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from langchain_cf_gateway.core.providers import find_provider
from langchain_cf_gateway.local.mock import MockModel
from langchain_cf_gateway.local.native_mock import respond
from langchain_cf_gateway.local.upstream import ProviderCall

try:
    import jsonschema
except ImportError:  # pragma: no cover - jsonschema is a dev dependency
    jsonschema = None

MODEL = MockModel()
WEATHER_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "The city name"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
    },
    "required": ["city", "unit"],
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather forecast for a place",
        "parameters": WEATHER_SCHEMA,
    },
}
ADD = {
    "type": "function",
    "function": {
        "name": "add",
        "description": "Add two numbers together",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
            "required": ["a", "b"],
        },
    },
}
TOOLS = [ADD, WEATHER]


def _conforms(schema: Any, value: Any) -> bool:
    """A small JSON schema check: types, required, enum, bounds, items (no jsonschema)."""
    if not isinstance(schema, dict):
        return True
    if "enum" in schema and value not in schema["enum"]:
        return False
    kinds = {"object": dict, "array": list, "string": str, "boolean": bool}
    kind = schema.get("type")
    if isinstance(kind, list):  # ["boolean", "null"]: the first type that holds
        return any(_conforms({**schema, "type": k}, value) for k in kind)
    if kind == "null":
        return value is None
    if kind in kinds and not isinstance(value, kinds[kind]):
        return False
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(
            value, int if kind == "integer" else int | float
        ):
            return False
        if value < schema.get("minimum", value) or value > schema.get("maximum", value):
            return False
        low, high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
        if (low is not None and value <= low) or (high is not None and value >= high):
            return False
    if kind == "string" and not (
        schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value))
    ):
        return False
    if kind == "array" and not (
        schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value))
    ):
        return False
    if kind == "array":
        return all(_conforms(schema.get("items", {}), item) for item in value)
    if kind == "object":
        props = schema.get("properties", {})
        return all(k in value for k in schema.get("required", ())) and all(
            _conforms(props.get(k, {}), v) for k, v in value.items()
        )
    return True


def assert_satisfies(schema: Any, value: Any) -> None:
    if jsonschema is not None:
        jsonschema.validate(value, schema)
    assert _conforms(schema, value), (schema, value)


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def call_of(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    completion = MODEL.complete(body, "gpt-4o-mini")
    assert completion.finish_reason == "tool_calls", completion.text
    assert len(completion.tool_calls) == 1
    call = completion.tool_calls[0]
    return call.name, json.loads(call.arguments)


# ------------------------------------------------------------------ choosing the tool


@pytest.mark.parametrize(
    ("message", "tool"),
    [
        ("Please call get_weather for me", "get_weather"),
        ("What is the weather forecast in Paris?", "get_weather"),  # description words
        ("Can you add 2 and 3?", "add"),  # the name as a word
        ("add first, then get_weather", "add"),  # the earliest name wins
        ("Add the numbers 2 and 3 together", "add"),
    ],
)
def test_auto_calls_the_tool_the_last_user_message_names(message: str, tool: str) -> None:
    for choice in ({}, {"tool_choice": "auto"}, {"tool_choice": {"type": "auto"}}):
        name, args = call_of({"messages": [user(message)], "tools": TOOLS, **choice})
        assert name == tool
        schema = WEATHER_SCHEMA if tool == "get_weather" else ADD["function"]["parameters"]
        assert_satisfies(schema, args)


def test_a_message_naming_no_tool_gets_text() -> None:
    completion = MODEL.complete({"messages": [user("Hello there")], "tools": TOOLS}, "m")
    assert (completion.text, completion.tool_calls) == ("Mock answer: Hello there", [])


def test_only_the_last_user_message_counts() -> None:
    messages = [user("weather please"), {"role": "assistant", "content": "ok"}, user("Hi")]
    completion = MODEL.complete({"messages": messages, "tools": TOOLS}, "m")
    assert completion.text == "Mock answer: Hi"


def test_a_tie_goes_to_the_tool_offered_first() -> None:
    twin = {"type": "function", "function": {"name": "forecast_b", "description": "weather"}}
    first = {"type": "function", "function": {"name": "forecast_a", "description": "weather"}}
    name, args = call_of({"messages": [user("weather?")], "tools": [first, twin]})
    assert (name, args) == ("forecast_a", {})


def test_tool_choice_none_never_calls() -> None:
    for choice in ("none", {"type": "none"}):
        body = {"messages": [user("call get_weather")], "tools": TOOLS, "tool_choice": choice}
        assert MODEL.complete(body, "m").text == "Mock answer: call get_weather"


def test_required_or_a_named_function_always_calls_that_tool() -> None:
    result = [
        {"role": "assistant", "content": None, "tool_calls": [_openai_call("c1", "add")]},
        {"role": "tool", "tool_call_id": "c1", "content": "5"},
    ]
    for extra in ([], result):
        body = {"messages": [user("Hello"), *extra], "tools": TOOLS, "tool_choice": "required"}
        assert call_of(body)[0] == "add"
        named = {"type": "function", "function": {"name": "get_weather"}}
        assert call_of({**body, "tool_choice": named})[0] == "get_weather"


# ------------------------------------------------------------------ arguments


def test_arguments_take_the_values_the_message_gives() -> None:
    message = "What is the weather in the city of San Francisco, in fahrenheit, for days 3?"
    name, args = call_of({"messages": [user(message)], "tools": TOOLS})
    assert (name, args) == (
        "get_weather",
        {"city": "San Francisco", "unit": "fahrenheit", "days": 3},
    )


def test_values_that_do_not_fit_the_schema_fall_back_to_defaults() -> None:
    message = "get_weather with days 12 and unit kelvin"  # 12 > maximum, kelvin not in enum
    _, args = call_of({"messages": [user(message)], "tools": TOOLS})
    assert args == {"city": "mock", "unit": "celsius", "days": 1}
    assert_satisfies(WEATHER_SCHEMA, args)


@pytest.mark.parametrize(
    ("message", "city"),
    [
        ("What is the weather in San Francisco, CA?", "San Francisco"),
        ("weather in Lima. Then New York", "Lima"),
        ("I want the weather for 'São Paulo'", "São Paulo"),
        ("Weather. Paris please", "mock"),  # a capitalised word opening a sentence is no name
    ],
)
def test_without_a_key_the_first_plain_string_takes_the_name_in_the_message(
    message: str, city: str
) -> None:
    _, args = call_of({"messages": [user(message)], "tools": TOOLS})
    assert args == {"city": city, "unit": "celsius", "days": 1}


def test_numbers_are_read_from_the_message() -> None:
    _, args = call_of({"messages": [user("add a = 2.5 and b: 4")], "tools": TOOLS})
    assert args == {"a": 2.5, "b": 4.0}


def test_the_same_request_gets_the_same_call() -> None:
    body = {"messages": [user("weather in Oslo")], "tools": TOOLS}
    first, second = MODEL.complete(body, "m"), MODEL.complete(body, "m")
    assert first.tool_calls == second.tool_calls


# ------------------------------------------------------------------ after the result


def _openai_call(call_id: str, name: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": "{}"}}


def test_the_tool_result_is_used_in_the_text_response() -> None:
    messages = [
        user("What is the weather in Paris?"),
        {"role": "assistant", "content": None, "tool_calls": [_openai_call("c1", "get_weather")]},
        {"role": "tool", "tool_call_id": "c1", "content": "Sunny, 21C"},
    ]
    completion = MODEL.complete({"messages": messages, "tools": TOOLS}, "m")
    assert (completion.text, completion.tool_calls) == ("Based on get_weather: Sunny, 21C", [])
    assert completion.finish_reason == "stop"


def test_several_results_are_joined() -> None:
    calls = [_openai_call("c1", "add"), _openai_call("c2", "get_weather")]
    messages = [
        user("add and weather"),
        {"role": "assistant", "content": None, "tool_calls": calls},
        {"role": "tool", "tool_call_id": "c1", "content": "5"},
        {"role": "tool", "tool_call_id": "c2", "content": "rain"},
    ]
    text = MODEL.complete({"messages": messages, "tools": TOOLS}, "m").text
    assert text == "Based on add: 5; get_weather: rain"


# ------------------------------------------------------------------ JSON mode and schemas


def test_json_mode_returns_an_object_built_from_the_message() -> None:
    message = "Tell me a joke. Return JSON with 'setup' and 'punchline' keys, 'topic': 'cats'"
    body = {"messages": [user(message)], "response_format": {"type": "json_object"}}
    data = json.loads(MODEL.complete(body, "m").text or "")
    assert data == {"setup": "mock", "punchline": "mock", "topic": "cats"}
    body = {"messages": [user("Hi")], "response_format": {"type": "json_object"}}
    assert json.loads(MODEL.complete(body, "m").text or "") == {"response": "Mock answer: Hi"}


SCHEMAS = [
    WEATHER_SCHEMA,
    {
        "type": "object",
        "properties": {
            "person": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 6, "maxLength": 8},
                    "age": {"type": "integer", "minimum": 18, "maximum": 30},
                    "score": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.5},
                    "email": {"type": "string", "format": "email"},
                },
                "required": ["name", "age"],
            },
            "tags": {
                "type": "array",
                "items": {"type": "string", "enum": ["a", "b"]},
                "minItems": 2,
                "maxItems": 3,
            },
            "level": {"type": "integer", "minimum": 3, "maximum": 9, "multipleOf": 4},
            "ratio": {"type": "number", "maximum": -2.5},
            "code": {"type": "string", "maxLength": 2},
            "flag": {"type": ["boolean", "null"]},
        },
        "required": ["person", "tags", "level", "ratio", "code", "flag"],
        "additionalProperties": False,
    },
    {
        "$defs": {"Item": {"type": "object", "properties": {"qty": {"type": "integer"}}}},
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/Item"}}},
        "required": ["items"],
    },
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_json_schema_content_satisfies_the_schema(schema: dict[str, Any]) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    for text in ("Hi", "city Oslo, age 25, name Bob, level 8, code XY"):
        body = {"messages": [user(text)], "response_format": fmt}
        assert_satisfies(schema, json.loads(MODEL.complete(body, "m").text or ""))


def test_json_schema_takes_values_from_the_message() -> None:
    fmt = {"type": "json_schema", "json_schema": {"schema": WEATHER_SCHEMA}}
    body = {"messages": [user("The city is 'Rio de Janeiro' in celsius")], "response_format": fmt}
    data = json.loads(MODEL.complete(body, "m").text or "")
    assert data == {"city": "Rio de Janeiro", "unit": "celsius", "days": 1}


# ------------------------------------------------------------------ native formats


ANTHROPIC_TOOLS = [
    {"name": "get_weather", "description": "Get the weather", "input_schema": WEATHER_SCHEMA}
]


def test_anthropic_tool_use_then_text_from_the_tool_result() -> None:
    body: dict[str, Any] = {
        "messages": [user("What is the weather in Lima?")],
        "tools": ANTHROPIC_TOOLS,
        "tool_choice": {"type": "auto"},
    }
    first = MockModel.anthropic_json(MODEL.complete(body, "claude"))
    assert first["stop_reason"] == "tool_use"
    (block,) = first["content"]
    assert (block["type"], block["name"]) == ("tool_use", "get_weather")
    assert_satisfies(WEATHER_SCHEMA, block["input"])
    result = {"type": "tool_result", "tool_use_id": block["id"], "content": "Cloudy"}
    body["messages"] += [
        {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": [result]},
    ]
    second = MockModel.anthropic_json(MODEL.complete(body, "claude"))
    assert second["content"] == [{"type": "text", "text": "Based on get_weather: Cloudy"}]
    assert second["stop_reason"] == "end_turn"
    body["tool_choice"] = {"type": "none"}
    body["messages"] = body["messages"][:1]
    assert MockModel.anthropic_json(MODEL.complete(body, "claude"))["stop_reason"] == "end_turn"


def _gemini(body: dict[str, Any]) -> dict[str, Any]:
    provider = find_provider("google-ai-studio")
    assert provider is not None
    path = "v1beta/models/gemini-2.0-flash:generateContent"
    call = ProviderCall(
        provider=provider,
        operation="generate_content",
        path=path,
        model="gemini-2.0-flash",
        fault=None,
        body=body,
        raw_body=json.dumps(body).encode(),
        headers={},
        stream=False,
        log_path=f"google-ai-studio/{path}",
        query_string="",
    )
    out = respond(MODEL, call, None, None, 0)
    assert out is not None and out.body is not None
    return dict(json.loads(out.body))


def test_gemini_function_call_then_text_from_the_function_response() -> None:
    declaration = {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": WEATHER_SCHEMA,
    }
    question = {"role": "user", "parts": [{"text": "Weather in Quito, please"}]}
    body: dict[str, Any] = {
        "contents": [question],
        "tools": [{"functionDeclarations": [declaration]}],
    }
    parts = _gemini(body)["candidates"][0]["content"]["parts"]
    (call,) = [p["functionCall"] for p in parts if "functionCall" in p]
    assert call["name"] == "get_weather"
    assert_satisfies(WEATHER_SCHEMA, call["args"])
    response = {"functionResponse": {"name": "get_weather", "response": {"result": "Warm"}}}
    body["contents"] += [
        {"role": "model", "parts": [{"functionCall": call}]},
        {"role": "user", "parts": [response]},
    ]
    parts = _gemini(body)["candidates"][0]["content"]["parts"]
    assert parts == [{"text": 'Based on get_weather: {"result": "Warm"}'}]
    none = {"functionCallingConfig": {"mode": "NONE"}}
    body = {**body, "contents": [question], "toolConfig": none}
    assert _gemini(body)["candidates"][0]["content"]["parts"] == [
        {"text": "Mock answer: Weather in Quito, please"}
    ]


# ------------------------------------------------------------------ bounds and odd input


def test_only_the_first_20000_characters_of_a_message_are_read() -> None:
    far = "x " * 10_000 + "get_weather"  # the name past MESSAGE_CHARS_MAX
    completion = MODEL.complete({"messages": [user(far)], "tools": TOOLS}, "m")
    assert completion.tool_calls == []
    near = "get_weather " + "x " * 500_000
    assert call_of({"messages": [user(near)], "tools": TOOLS})[0] == "get_weather"


def test_a_pattern_is_never_run_on_the_message() -> None:
    schema = {"type": "object", "properties": {"code": {"type": "string", "pattern": "^(a+)+$"}}}
    tool = {"type": "function", "function": {"name": "lookup", "parameters": schema}}
    message = "lookup code " + "a" * 40 + "!"
    _, args = call_of({"messages": [user(message)], "tools": [tool]})
    assert args == {"code": "mock"}


@pytest.mark.parametrize(
    "assistant",
    [
        {"role": "assistant", "tool_calls": 5},
        {"role": "assistant", "tool_calls": [{"function": "get_weather"}, 3]},
        {"role": "assistant", "content": [{"type": "tool_use"}, "x"]},
    ],
)
def test_odd_history_shapes_still_get_a_response(assistant: dict[str, Any]) -> None:
    messages = [user("weather?"), assistant, {"role": "tool", "content": "ok"}]
    completion = MODEL.complete({"messages": messages, "tools": TOOLS}, "m")
    assert completion.text == "Based on the tool: ok"
