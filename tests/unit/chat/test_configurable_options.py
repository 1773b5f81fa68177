"""Gateway options from the run config: `config={"configurable": {"gateway_options": ...}}`.

What reaches the wire (the `cf-aig-*` headers a `httpx.MockTransport` records), merged as
documented: the model's options < the run config's < the call's own `gateway_options=`
(`invoke`, `bind`, `bind_tools`, `with_structured_output`); metadata key by key.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableConfig, RunnableLambda

from langchain_cf_gateway import ChatCloudflareGateway
from langchain_cf_gateway.core import InvalidOptionError

from .scripted import Script, completion_body, respond, sse_events, transports

PROMPT = ChatPromptTemplate.from_messages([("human", "Say {word}")])


def _model(script: Script, **kwargs: Any) -> ChatCloudflareGateway:
    client, async_client = transports(script)
    return ChatCloudflareGateway(
        model="openai/gpt-4o-mini",
        account_id="acct",
        base_url="http://gateway.test",
        max_retries=0,
        http_client=client,
        http_async_client=async_client,
        **kwargs,
    )


def _configured(**options: Any) -> RunnableConfig:
    return {"configurable": {"gateway_options": options}}


def _stream_body() -> list[bytes]:
    finish = {
        "id": "chatcmpl-unit",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    }
    return [*sse_events(), f"data: {json.dumps(finish)}\n\n".encode(), b"data: [DONE]\n\n"]


def _gateway_headers(request: httpx.Request) -> dict[str, str]:
    return {k: v for k, v in request.headers.items() if k.startswith("cf-aig-")}


def test_a_chain_passes_the_run_config_options_to_the_model() -> None:
    script = Script(respond(200, completion_body()))
    model = _model(script, gateway_options={"cache_ttl": 120, "metadata": {"app": "docs"}})

    (PROMPT | model).invoke(
        {"word": "hi"}, config=_configured(skip_cache=True, metadata={"user": "u-1"})
    )

    assert _gateway_headers(script.requests[0]) == {
        "cf-aig-cache-ttl": "120",
        "cf-aig-skip-cache": "true",
        "cf-aig-metadata": '{"app":"docs","user":"u-1"}',
    }


def test_model_options_lose_to_the_config_which_loses_to_the_call() -> None:
    script = Script(respond(200, completion_body()))
    model = _model(script, gateway_options={"cache_ttl": 120, "metadata": {"app": "docs"}})
    config = _configured(cache_ttl=300, event_id="from-config", metadata={"user": "c", "k": 1})

    model.invoke("a", config=config, gateway_options={"event_id": "from-call"})
    (PROMPT | model.bind(gateway_options={"metadata": {"user": "b"}})).invoke(
        {"word": "b"}, config=config
    )

    first, second = (_gateway_headers(r) for r in script.requests)
    assert first["cf-aig-cache-ttl"] == second["cf-aig-cache-ttl"] == "300"
    assert first["cf-aig-event-id"] == "from-call"
    assert json.loads(first["cf-aig-metadata"]) == {"app": "docs", "user": "c", "k": 1}
    assert second["cf-aig-event-id"] == "from-config"
    assert json.loads(second["cf-aig-metadata"]) == {"app": "docs", "user": "b", "k": 1}


def test_config_options_do_not_stick_to_the_model() -> None:
    script = Script(respond(200, completion_body()))
    model = _model(script, gateway_options={"cache_ttl": 120})

    model.invoke("a", config=_configured(skip_cache=True))
    model.invoke("b")

    assert [_gateway_headers(r) for r in script.requests] == [
        {"cf-aig-cache-ttl": "120", "cf-aig-skip-cache": "true"},
        {"cf-aig-cache-ttl": "120"},
    ]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"cache_ttl": 5}, "cache_ttl"),
        ({"max_attempts": 9}, "max_attempts"),
        ({"metadata": {f"k{i}": i for i in range(6)}}, "metadata"),
        ("skip-cache", "gateway_options"),
    ],
)
def test_bad_config_options_raise_naming_the_field_before_anything_is_sent(
    options: Any, field: str
) -> None:
    script = Script(respond(200, completion_body()))
    chain = PROMPT | _model(script)
    config: RunnableConfig = {"configurable": {"gateway_options": options}}

    with pytest.raises(InvalidOptionError) as caught:
        chain.invoke({"word": "hi"}, config=config)
    with pytest.raises(InvalidOptionError):
        list(chain.stream({"word": "hi"}, config=config))
    with pytest.raises(InvalidOptionError):
        asyncio.run(chain.ainvoke({"word": "hi"}, config=config))

    assert caught.value.field == field
    assert field in str(caught.value)
    assert script.requests == []


def test_a_chain_streams_and_ainvokes_with_the_config_options() -> None:
    stream = respond(200, _stream_body(), content_type="text/event-stream")
    script = Script(stream, stream, respond(200, completion_body()))
    chain = PROMPT | _model(script)

    text = "".join(
        str(c.content) for c in chain.stream({"word": "hi"}, config=_configured(event_id="s"))
    )

    async def both() -> None:
        async for _ in chain.astream({"word": "hi"}, config=_configured(event_id="as")):
            pass
        await chain.ainvoke({"word": "hi"}, config=_configured(event_id="ai"))

    asyncio.run(both())
    assert text == "Hello"
    assert [r.headers["cf-aig-event-id"] for r in script.requests] == ["s", "as", "ai"]


def test_a_batch_sends_each_input_with_its_own_config_options() -> None:
    script = Script(respond(200, completion_body()))
    chain = PROMPT | _model(script)
    configs = [_configured(event_id=f"e{i}", metadata={"i": i}) for i in range(3)]

    chain.batch([{"word": str(i)} for i in range(3)], config=configs)
    asyncio.run(chain.abatch([{"word": str(i)} for i in range(3)], config=configs))

    sent = sorted(
        (r.headers["cf-aig-event-id"], r.headers["cf-aig-metadata"]) for r in script.requests
    )
    assert sent == sorted([(f"e{i}", f'{{"i":{i}}}') for i in range(3)] * 2)


def test_a_model_called_inside_a_runnable_inherits_the_config_options() -> None:
    # What an agent framework does: a node calls the model without passing `config` on,
    # and LangChain hands the node's run config to it.
    script = Script(respond(200, completion_body()))
    model = _model(script)

    def node(question: str) -> str:
        return str(model.invoke(question).content)

    RunnableLambda(node).invoke("q", config=_configured(session_id="s-1"))

    assert _gateway_headers(script.requests[0]) == {"cf-aig-session-id": "s-1"}


EVERY_OPTION: dict[str, Any] = {
    "cache_ttl": 60,
    "skip_cache": True,
    "cache_key": "k",
    "metadata": {"a": 1, "b": 1.5, "c": True},
    "collect_log": False,
    "collect_log_payload": False,
    "event_id": "e",
    "request_timeout_ms": 5,
    "max_attempts": 2,
    "retry_delay_ms": 10,
    "backoff": "linear",
    "custom_cost": {"per_token_in": 0.1, "per_token_out": 0.2},
    "byok_alias": "x",
    "zdr": True,
    "no_wholesale": True,
    "allowed_models": ["openai/*"],
    "allowed_providers": ["openai"],
    "session_id": "s",
    "turn_id": "t",
    "no_session_affinity": True,
}


def test_every_option_in_the_config_sends_what_it_sends_on_the_call() -> None:
    script = Script(respond(200, completion_body()))
    model = _model(script, gateway_options={"cache_ttl": 120, "zdr": False})

    model.invoke("a", gateway_options=EVERY_OPTION)
    model.invoke("a", config={"configurable": {"gateway_options": EVERY_OPTION}})
    # An explicit None clears the value below it, on either route.
    model.invoke("a", config=_configured(cache_ttl=None))
    model.invoke("a", config=_configured(cache_ttl=300), gateway_options={"cache_ttl": None})

    on_call, in_config, cleared, cleared_by_call = (_gateway_headers(r) for r in script.requests)
    assert in_config == on_call
    assert len(on_call) == len(EVERY_OPTION)
    assert cleared == cleared_by_call == {"cf-aig-zdr": "false"}
