"""GatewayUsageTracker and gateway_usage(): the numbers match the local gateway's log rows."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from langchain_cf_gateway import ChatCloudflareGateway, GatewayUsageTracker, gateway_usage
from langchain_cf_gateway.core import GatewayError
from langchain_cf_gateway.local import LocalGateway
from langchain_cf_gateway.pricing import ModelPrice, PriceTable


def _llm(gw: LocalGateway, **kwargs: Any) -> ChatCloudflareGateway:
    kwargs.setdefault("model", "openai/gpt-4o-mini")
    return ChatCloudflareGateway(base_url=gw.base_url, account_id=gw.account_id, **kwargs)


def _with_response(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["success"]]


def assert_matches_log_rows(tracker: GatewayUsageTracker, rows: list[dict[str, Any]]) -> None:
    """Every figure of the tracker against the rows a user sees in the logs API."""
    with_response = _with_response(rows)
    assert tracker.calls_made == len(with_response)
    assert tracker.cache_hits == sum(1 for r in with_response if r["cached"])
    assert tracker.cache_misses == sum(1 for r in with_response if not r["cached"])
    assert tracker.input_tokens == sum(r["tokens_in"] or 0 for r in with_response)
    assert tracker.output_tokens == sum(r["tokens_out"] or 0 for r in with_response)
    assert sorted(c.log_id for c in tracker.calls if c.error is None) == sorted(  # type: ignore[type-var]
        r["id"] for r in with_response
    )
    assert tracker.fallbacks == sum(1 for r in with_response if r["step"])


def test_chain_stream_batch_and_async_match_the_log_rows(gateway: LocalGateway) -> None:
    llm = _llm(gateway, gateway_options={"cache_ttl": 600})
    chain = ChatPromptTemplate.from_template("Tell me about {topic}") | llm | StrOutputParser()
    with gateway_usage() as usage:
        first = chain.invoke({"topic": "caching"})
        second = chain.invoke({"topic": "caching"})
        streamed = "".join(chain.stream({"topic": "streams"}))
        chain.batch([{"topic": "a"}, {"topic": "b"}, {"topic": "c"}])
        asyncio.run(chain.ainvoke({"topic": "async"}))
    assert first == second and streamed

    rows = gateway.logs("default")
    assert len(rows) == 7
    assert_matches_log_rows(usage, rows)
    assert (usage.calls_made, usage.cache_hits, usage.cache_misses) == (7, 1, 6)
    hit = next(c for c in usage.calls if c.cached)
    assert hit.cost == 0.0 and hit.saved_cost > 0  # the provider was not called
    assert hit.log_id == next(r["id"] for r in rows if r["cached"])
    assert all(c.latency_s is not None and c.latency_s > 0 for c in usage.calls)
    assert usage.log_ids == [c.log_id for c in usage.calls]


def test_fallbacks_and_failures_are_counted_with_their_log_ids(gateway: LocalGateway) -> None:
    llm = _llm(gateway, fallbacks=["anthropic/claude-3-5-haiku"])
    tracker = GatewayUsageTracker()
    gateway.script(fault="status=503", model="gpt-4o-mini")
    ai_msg = llm.invoke("hello", config={"callbacks": [tracker]})
    assert ai_msg.response_metadata["gateway"]["step"] == 1

    gateway.script(fault="status=400", times=None)
    with pytest.raises(GatewayError) as info:
        llm.invoke("boom", config={"callbacks": [tracker]})

    rows = gateway.logs("default")
    assert_matches_log_rows(tracker, rows)
    assert tracker.fallbacks == 1 and tracker.errors == 1 and tracker.calls_made == 1
    fell_back = tracker.calls[0]
    assert (fell_back.model, fell_back.provider, fell_back.step) == (
        "claude-3-5-haiku",
        "anthropic",
        1,
    )
    failed = tracker.calls[1]
    assert failed.error == type(info.value).__name__
    assert failed.log_id == info.value.log_id
    assert failed.log_id in {r["id"] for r in rows if not r["success"]}


def test_threads_sharing_one_tracker(gateway: LocalGateway) -> None:
    llm = _llm(gateway)
    tracker = GatewayUsageTracker()

    def work(worker: int) -> None:
        for i in range(4):
            llm.invoke(f"worker {worker} message {i}", config={"callbacks": [tracker]})

    threads = [threading.Thread(target=work, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert tracker.calls_made == 24
    assert len(set(tracker.log_ids)) == 24
    assert_matches_log_rows(tracker, gateway.logs("default"))


def test_batch_threads_inherit_the_context_manager(gateway: LocalGateway) -> None:
    llm = _llm(gateway)
    with gateway_usage() as usage:
        llm.batch([f"item {i}" for i in range(8)], config={"max_concurrency": 4})
    assert usage.calls_made == 8
    assert_matches_log_rows(usage, gateway.logs("default"))


async def test_concurrent_tasks_inside_the_context_manager(gateway: LocalGateway) -> None:
    llm = _llm(gateway, gateway_options={"cache_ttl": 600})
    with gateway_usage() as usage:
        await asyncio.gather(*(llm.ainvoke(f"task {i % 5}") for i in range(5)))
        await asyncio.gather(*(llm.ainvoke(f"task {i}") for i in range(5)))  # all cached now
        chunks = [c async for c in llm.astream("async stream")]
    assert chunks
    assert (usage.calls_made, usage.cache_hits) == (11, 5)
    assert_matches_log_rows(usage, gateway.logs("default"))


def test_blocks_nest_and_stop_counting_on_exit(gateway: LocalGateway) -> None:
    llm = _llm(gateway)
    with gateway_usage() as outer:
        llm.invoke("outer")
        with gateway_usage() as inner:
            llm.invoke("inner")
        llm.invoke("outer again")
    llm.invoke("after both blocks")
    assert (outer.calls_made, inner.calls_made) == (3, 1)
    assert inner.log_ids[0] in outer.log_ids
    assert len(gateway.logs("default")) == 4  # the fourth call was made, and not counted


def test_cost_uses_the_given_prices_and_a_hit_is_free(gateway: LocalGateway) -> None:
    llm = _llm(gateway, gateway_options={"cache_ttl": 600})
    with gateway_usage(prices={"gpt-4o-mini": ModelPrice(1.0, 2.0)}) as usage:
        llm.invoke("price me")
        llm.invoke("price me")
    miss = next(r for r in gateway.logs("default") if not r["cached"])
    expected = (miss["tokens_in"] * 1.0 + miss["tokens_out"] * 2.0) / 1_000_000
    assert usage.total_cost == pytest.approx(expected)
    assert usage.saved_cost == pytest.approx(expected)
    per_model = usage.by_model()["gpt-4o-mini"]
    assert (per_model.calls, per_model.cache_hits) == (2, 1)
    assert per_model.cost == pytest.approx(expected) and len(per_model.latencies_s) == 2
    report = str(usage)
    assert "Gateway calls: 2 (cache hits 1, misses 1" in report
    assert f"${expected:.6f}" in report


def test_models_without_a_price_are_named(gateway: LocalGateway) -> None:
    llm = _llm(gateway, model="mistral/open-mixtral-8x22b")
    with gateway_usage(prices=PriceTable({})) as usage:
        llm.invoke("unpriced")
    assert usage.calls[0].cost is None and usage.total_cost == 0
    assert usage.unpriced_models == ["open-mixtral-8x22b"]
    assert "No price for: open-mixtral-8x22b" in str(usage)
