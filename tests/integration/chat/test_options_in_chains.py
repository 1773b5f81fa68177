"""Per-call gateway options inside chains, structured output and an agent loop, on the wire.

The options ride in the run config (`config={"configurable": {"gateway_options": ...}}`),
which LangChain hands to every runnable of a chain; each test reads the `cf-aig-*`
headers the local gateway received.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Literal

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.tools import tool
from pydantic import BaseModel

from langchain_cf_gateway import ChatCloudflareGateway
from langchain_cf_gateway.local import LocalGateway

PROMPT = ChatPromptTemplate.from_messages([("human", "Tell me about {topic}")])


class Joke(BaseModel):
    setup: str
    punchline: str


JOKE_ARGS = {"setup": "Why did the cat sit on the computer?", "punchline": "To watch the mouse."}


def chat(gw: LocalGateway, **kwargs: Any) -> ChatCloudflareGateway:
    return ChatCloudflareGateway(
        model="openai/gpt-4o-mini",
        account_id=gw.account_id,
        base_url=gw.base_url,
        gateway_token=gw.token,
        max_retries=0,
        **kwargs,
    )


def configured(**options: Any) -> RunnableConfig:
    return {"configurable": {"gateway_options": options}}


def option_headers(gw: LocalGateway) -> list[dict[str, str]]:
    """The `cf-aig-*` headers of each request the gateway received, but the token's."""
    return [
        {
            k: v
            for k, v in r.headers.items()
            if k.startswith("cf-aig-") and k != "cf-aig-authorization"
        }
        for r in gw.received
    ]


def test_a_prompt_chain_sends_the_config_options_on_invoke_stream_and_ainvoke(
    gateway: LocalGateway,
) -> None:
    chain = PROMPT | chat(gateway, gateway_options={"cache_ttl": 120, "metadata": {"app": "d"}})
    config = configured(skip_cache=True, event_id="e-1", metadata={"user": "u-1"})

    chain.invoke({"topic": "cats"}, config=config)
    streamed = "".join(str(c.content) for c in chain.stream({"topic": "dogs"}, config=config))
    asyncio.run(chain.ainvoke({"topic": "owls"}, config=config))

    assert streamed
    expected = {
        "cf-aig-cache-ttl": "120",
        "cf-aig-skip-cache": "true",
        "cf-aig-event-id": "e-1",
        "cf-aig-metadata": '{"app":"d","user":"u-1"}',
    }
    assert option_headers(gateway) == [expected, expected, expected]
    assert [row["event_id"] for row in gateway.logs()] == ["e-1", "e-1", "e-1"]


def test_a_batch_sends_each_input_with_its_own_options(gateway: LocalGateway) -> None:
    chain = PROMPT | chat(gateway)
    topics = ["cats", "dogs", "owls"]
    configs = [configured(event_id=f"e-{t}", metadata={"topic": t}) for t in topics]

    chain.batch([{"topic": t} for t in topics], config=configs)

    sent = sorted(option_headers(gateway), key=lambda h: h["cf-aig-event-id"])
    assert sent == [
        {"cf-aig-event-id": f"e-{t}", "cf-aig-metadata": f'{{"topic":"{t}"}}'}
        for t in sorted(topics)
    ]
    for request in gateway.received:  # each input went out with its own options
        topic = json.loads(request.headers["cf-aig-metadata"])["topic"]
        assert topic in request.json["messages"][0]["content"]


@pytest.mark.parametrize("include_raw", [False, True])
@pytest.mark.parametrize("method", ["function_calling", "json_schema", "json_mode"])
def test_structured_output_sends_the_config_options(
    gateway: LocalGateway,
    method: Literal["function_calling", "json_schema", "json_mode"],
    include_raw: bool,
) -> None:
    # With include_raw=True, `gateway_options=` on the call never reaches the model
    # (LangChain's RunnableParallel drops it on invoke and raises TypeError on stream).
    structured = chat(gateway).with_structured_output(Joke, method=method, include_raw=include_raw)
    chain = PROMPT | structured
    for _ in range(2):
        if method == "json_mode":  # the mock answers JSON mode with `{}` otherwise
            gateway.script(json.dumps(JOKE_ARGS))
        elif method == "function_calling":
            gateway.script(tool_calls=[{"name": "Joke", "arguments": JOKE_ARGS}])

    result = chain.invoke({"topic": "cats"}, config=configured(event_id="s-1", zdr=True))
    chunks = list(structured.stream("a joke", config=configured(event_id="s-2")))

    if include_raw:
        assert isinstance(result, dict)
        assert isinstance(result["parsed"], Joke)
        raw = result["raw"]
        assert raw.response_metadata["gateway"]["event_id"] == "s-1"
        assert any(isinstance(c, dict) and isinstance(c.get("parsed"), Joke) for c in chunks)
    else:
        assert isinstance(result, Joke)
        assert isinstance(chunks[-1], Joke)
    assert option_headers(gateway) == [
        {"cf-aig-event-id": "s-1", "cf-aig-zdr": "true"},
        {"cf-aig-event-id": "s-2"},
    ]


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"Sunny in {city}."


def test_an_agent_loop_sends_the_config_options_on_every_model_call(
    gateway: LocalGateway,
) -> None:
    # A hand-written tool loop (neither `langchain.agents` nor LangGraph is installed): a
    # node that calls the model without passing `config` on, as an agent framework's does.
    model = chat(gateway, gateway_options={"metadata": {"agent": "weather"}}).bind_tools(
        [get_weather]
    )
    gateway.script(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}])

    def agent(question: str) -> list[BaseMessage]:
        messages: list[BaseMessage] = [HumanMessage(question)]
        for _ in range(3):
            response = model.invoke(messages)
            messages.append(response)
            assert isinstance(response, AIMessage)
            if not response.tool_calls:
                break
            for call in response.tool_calls:
                messages.append(
                    ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"])
                )
        return messages

    messages = RunnableLambda(agent).invoke(
        "Weather in Paris?",
        config=configured(session_id="sess-1", metadata={"user": "u-9"}),
    )

    assert [type(m).__name__ for m in messages] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "AIMessage",
    ]
    expected = {
        "cf-aig-session-id": "sess-1",
        "cf-aig-metadata": '{"agent":"weather","user":"u-9"}',
    }
    assert option_headers(gateway) == [expected, expected]
