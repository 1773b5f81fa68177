"""A LangChain agent runs end to end offline: ChatCloudflareGateway against the local gateway.

The mock model calls the tool the user's message names, then responds from the tool's
result (`local/README.md`, "The mock model and agents"). The loops: a hand-written
`bind_tools` loop (sync, async, streamed), `langchain.agents.create_agent` and a LangGraph
`StateGraph` loop (both in the dev lock: they run, never skip), structured output, and
Anthropic's native Messages stream.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain import agents
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.tools import BaseTool, tool
from langgraph import graph, prebuilt
from pydantic import BaseModel, Field

from langchain_cf_gateway import ChatCloudflareGateway
from langchain_cf_gateway.local import LocalGateway
from tests.support.local_calls import http


@tool
def get_weather(city: str, unit: str = "celsius") -> str:
    """Get the current weather for a city.

    Args:
        city: the city name.
        unit: celsius or fahrenheit.
    """
    return f"Sunny in {city}, 21 degrees {unit}"


@tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: the first.
        b: the second.
    """
    return a + b


TOOLS: list[BaseTool] = [get_weather, add]
BY_NAME = {t.name: t for t in TOOLS}


def chat(gw: LocalGateway, model: str = "openai/gpt-4o-mini") -> ChatCloudflareGateway:
    return ChatCloudflareGateway(
        model=model,
        account_id=gw.account_id,
        base_url=gw.base_url,
        gateway_token=gw.token,
        max_retries=0,
    )


def run_loop(llm: Any, question: str, *, steps: int = 4) -> list[BaseMessage]:
    """The agent loop people write: call the model, run its tool calls, until it responds."""
    messages: list[BaseMessage] = [HumanMessage(question)]
    for _ in range(steps):
        response = llm.invoke(messages)
        messages.append(response)
        if not response.tool_calls:
            return messages
        messages += [BY_NAME[c["name"]].invoke(c) for c in response.tool_calls]
    raise AssertionError(f"no text response in {steps} steps: {messages}")


def test_a_bind_tools_loop_calls_the_named_tool_then_responds(gateway: LocalGateway) -> None:
    llm = chat(gateway).bind_tools(TOOLS)
    messages = run_loop(llm, "What is the weather in the city of Paris?")
    assert [type(m) for m in messages] == [HumanMessage, AIMessage, ToolMessage, AIMessage]
    call = messages[1].tool_calls[0]  # type: ignore[attr-defined]
    assert (call["name"], call["args"]) == ("get_weather", {"city": "Paris", "unit": "celsius"})
    assert messages[-1].content == "Based on get_weather: Sunny in Paris, 21 degrees celsius"


def test_the_loop_reads_numbers_and_the_tool_name(gateway: LocalGateway) -> None:
    messages = run_loop(chat(gateway).bind_tools(TOOLS), "Please add a = 2 and b = 40")
    assert messages[1].tool_calls[0]["args"] == {"a": 2, "b": 40}  # type: ignore[attr-defined]
    assert messages[-1].content == "Based on add: 42"


def test_no_tool_named_and_tool_choice_none_get_text(gateway: LocalGateway) -> None:
    assert chat(gateway).bind_tools(TOOLS).invoke("Hello").content == "Mock answer: Hello"
    none = chat(gateway).bind_tools(TOOLS, tool_choice="none")
    response = none.invoke("What is the weather in Oslo?")
    assert (response.content, response.tool_calls) == (
        "Mock answer: What is the weather in Oslo?",
        [],
    )


async def test_an_async_streamed_loop_runs_too(gateway: LocalGateway) -> None:
    llm = chat(gateway).bind_tools(TOOLS)
    messages: list[BaseMessage] = [HumanMessage("weather in Lima")]
    first = None
    async for chunk in llm.astream(messages):
        first = chunk if first is None else first + chunk
    assert isinstance(first, AIMessage) and first.tool_calls[0]["name"] == "get_weather"
    messages += [first, await get_weather.ainvoke(first.tool_calls[0])]
    final = await llm.ainvoke(messages)
    assert final.content == "Based on get_weather: Sunny in Lima, 21 degrees celsius"


class Forecast(BaseModel):
    """A forecast."""

    city: str = Field(description="the city")
    days: int = Field(ge=1, le=7, description="how many days ahead")
    unit: str = Field(json_schema_extra={"enum": ["celsius", "fahrenheit"]})
    tags: list[str] = Field(min_length=2)


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_structured_output_satisfies_the_schema(gateway: LocalGateway, method: str) -> None:
    llm = chat(gateway).with_structured_output(Forecast, method=method)  # type: ignore[arg-type]
    result = llm.invoke("Forecast for the city Rome, days 3, in fahrenheit")
    assert isinstance(result, Forecast)
    assert (result.city, result.days, result.unit) == ("Rome", 3, "fahrenheit")
    assert len(result.tags) >= 2


def test_json_mode_returns_a_non_empty_object(gateway: LocalGateway) -> None:
    llm = chat(gateway).with_structured_output(method="json_mode")
    result = llm.invoke("Return JSON with 'setup' and 'punchline' keys")
    assert result == {"setup": "mock", "punchline": "mock"}


def test_create_agent_runs_offline(gateway: LocalGateway) -> None:
    agent = agents.create_agent(chat(gateway), tools=TOOLS)
    result = agent.invoke({"messages": [{"role": "user", "content": "weather in Kyoto?"}]})
    assert result["messages"][-1].content == (
        "Based on get_weather: Sunny in Kyoto, 21 degrees celsius"
    )


def test_a_langgraph_state_graph_loop_runs_offline(gateway: LocalGateway) -> None:
    llm = chat(gateway).bind_tools(TOOLS)

    def call_model(state: dict[str, Any]) -> dict[str, Any]:
        return {"messages": [llm.invoke(state["messages"])]}

    builder = graph.StateGraph(graph.MessagesState)
    builder.add_node("model", call_model)
    builder.add_node("tools", prebuilt.ToolNode(TOOLS))
    builder.add_edge(graph.START, "model")
    builder.add_conditional_edges("model", prebuilt.tools_condition)
    builder.add_edge("tools", "model")
    result = builder.compile().invoke({"messages": [HumanMessage("add a = 1 and b = 2")]})
    assert result["messages"][-1].content == "Based on add: 3"


def _events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[5:]) for line in text.splitlines() if line.startswith("data:")]


def test_anthropic_messages_stream_a_tool_use_then_text(gateway: LocalGateway) -> None:
    url = f"{gateway.gateway_url}/anthropic/v1/messages"
    schema = get_weather.tool_call_schema.model_json_schema()
    body: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 200,
        "stream": True,
        "tools": [{"name": "get_weather", "description": "weather", "input_schema": schema}],
        "messages": [{"role": "user", "content": "What is the weather in the city Cairo?"}],
    }
    events = _events(http.post(url, json=body).text)
    start = next(e for e in events if e["type"] == "content_block_start")["content_block"]
    partial = "".join(
        e["delta"]["partial_json"] for e in events if e["type"] == "content_block_delta"
    )
    assert (start["type"], start["name"], json.loads(partial)["city"]) == (
        "tool_use",
        "get_weather",
        "Cairo",
    )
    body["stream"] = False
    body["messages"] += [
        {"role": "assistant", "content": [{**start, "input": json.loads(partial)}]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": start["id"], "content": "Hot"}],
        },
    ]
    data = http.post(url, json=body).json()
    assert data["content"] == [{"type": "text", "text": "Based on get_weather: Hot"}]
