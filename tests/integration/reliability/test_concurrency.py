"""Concurrency: per-call options and gateway info never cross between calls (threads,
``batch`` with ``max_concurrency``, async tasks), the model and the handler keep no
per-call state, and 1,000 calls leak neither connections nor threads."""

from __future__ import annotations

import asyncio
import copy
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from langchain_cf_gateway import ChatCloudflareGateway
from langchain_cf_gateway.local import LocalGateway
from tests.support.rawserver import MisbehavingServer

N = 48


def chat(gw: LocalGateway, **kw: Any) -> ChatCloudflareGateway:
    return ChatCloudflareGateway(
        model="openai/gpt-4o-mini",
        account_id=gw.account_id,
        base_url=gw.base_url,
        max_retries=0,
        **kw,
    )


def state(model: ChatCloudflareGateway) -> Any:
    """What a call could leave behind on the instance: fields and private attributes."""
    private = {k: v for k, v in (model.__pydantic_private__ or {}).items()}
    return copy.deepcopy((model.model_dump(), repr(private)))


def assert_rows_match(gw: LocalGateway, results: dict[int, dict[str, Any]]) -> None:
    rows = {row["id"]: row for row in gw.logs()}
    assert len(rows) == len(results)
    for i, info in results.items():
        row = rows[info["log_id"]]  # the log id each call got back is its own row...
        assert row["event_id"] == info["event_id"] == f"ev-{i}"
        assert row["metadata"] == {"i": i}  # ...carrying its own options


def test_threads_with_per_call_options(gateway: LocalGateway) -> None:
    model = chat(gateway, gateway_options={"collect_log": True})
    before = state(model)

    def one(i: int) -> tuple[int, dict[str, Any]]:
        message = model.invoke(
            f"q{i}", gateway_options={"event_id": f"ev-{i}", "metadata": {"i": i}}
        )
        return i, message.response_metadata["gateway"]

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = dict(pool.map(one, range(N)))
    assert_rows_match(gateway, results)
    assert state(model) == before


def test_batch_with_max_concurrency_and_run_metadata(gateway: LocalGateway) -> None:
    model = chat(gateway, forward_run_metadata=["i"])
    before = state(model)
    configs: list[Any] = [{"metadata": {"i": i}, "max_concurrency": 8} for i in range(N)]
    messages = model.batch([f"q{i}" for i in range(N)], config=configs)
    rows = {row["id"]: row for row in gateway.logs()}
    for i, message in enumerate(messages):
        assert rows[message.response_metadata["gateway"]["log_id"]]["metadata"] == {"i": i}
    assert state(model) == before


def test_async_tasks_with_per_call_options(gateway: LocalGateway) -> None:
    model = chat(gateway)
    before = state(model)

    async def one(i: int) -> tuple[int, dict[str, Any]]:
        options = {"event_id": f"ev-{i}", "metadata": {"i": i}}
        if i % 2:
            chunks = [c async for c in model.astream(f"q{i}", gateway_options=options)]
            return i, chunks[0].response_metadata["gateway"]
        message = await model.ainvoke(f"q{i}", gateway_options=options)
        return i, message.response_metadata["gateway"]

    async def run() -> dict[int, dict[str, Any]]:
        return dict(await asyncio.gather(*(one(i) for i in range(N))))

    assert_rows_match(gateway, asyncio.run(run()))
    assert state(model) == before


def test_litellm_threads_and_tasks(gateway: LocalGateway) -> None:
    import litellm

    from langchain_cf_gateway.litellm_provider import register

    litellm.disable_hf_tokenizer_download = True
    register()
    handler = next(
        p["custom_handler"]
        for p in litellm.custom_provider_map
        if p["provider"] == "cloudflare-ai-gateway"
    )
    kw: dict[str, Any] = {
        "model": "cloudflare-ai-gateway/openai/gpt-4o-mini",
        "api_base": gateway.base_url,
        "account_id": gateway.account_id,
    }

    def options(i: int) -> dict[str, Any]:
        return {"event_id": f"ev-{i}", "metadata": {"i": i}}

    def one(i: int) -> tuple[int, dict[str, Any]]:
        r = litellm.completion(
            messages=[{"role": "user", "content": f"q{i}"}], gateway_options=options(i), **kw
        )
        return i, r._hidden_params["gateway"]

    async def aone(i: int) -> tuple[int, dict[str, Any]]:
        r = await litellm.acompletion(
            messages=[{"role": "user", "content": f"q{i}"}], gateway_options=options(i), **kw
        )
        return i, r._hidden_params["gateway"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = dict(pool.map(one, range(N // 2)))

    async def run() -> None:
        results.update(await asyncio.gather(*(aone(i) for i in range(N // 2, N))))

    asyncio.run(run())
    assert_rows_match(gateway, results)
    # No per-call state on the handler: only its client pools and caches may change.
    assert all("ev-" not in repr(v) for v in vars(handler).values())


# --------------------------------------------------------------------------- leaks


def open_sockets() -> int:
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        try:
            if os.readlink(fd).startswith("socket:"):
                count += 1
        except OSError:
            continue
    return count


CALLS = 300
"""Calls of the in-suite leak check; ``make soak`` makes 1,000 and more (see soak.py)."""
POOLS = 10 + 4
"""At most ten async calls and four threads at a time: the most connections pools keep."""


def calls_on_every_path(raw: MisbehavingServer, start: int, count: int) -> None:
    """``count`` calls: chat model and LiteLLM, sync (4 threads) and async (10 at a time),
    plain and streamed, against the raw server in echo mode."""
    import litellm

    from langchain_cf_gateway.litellm_provider import register

    litellm.disable_hf_tokenizer_download = True
    register()
    raw.echo = True
    model = ChatCloudflareGateway(
        model="openai/gpt-4o-mini", account_id="acct", base_url=raw.base_url, max_retries=0
    )
    lkw: dict[str, Any] = {
        "model": "cloudflare-ai-gateway/openai/gpt-4o-mini",
        "api_base": raw.base_url,
        "account_id": "acct",
        "messages": [{"role": "user", "content": "hi"}],
    }

    def sync_call(i: int) -> None:
        kind = i % 5
        if kind == 0:
            assert model.invoke("hi").content == "Hello there."
        elif kind == 1:
            litellm.completion(**lkw)
        elif kind == 2:
            assert "".join(str(c.content) for c in model.stream("hi")) == "Hello there"
        elif kind == 3:
            model.invoke("hi", gateway_options={"event_id": f"e{i}"})
        else:
            assert (
                "".join(
                    c.choices[0].delta.content or "" for c in litellm.completion(stream=True, **lkw)
                )
                == "Hello there"
            )

    async def async_call(i: int) -> None:
        if i % 5 == 2:
            assert "".join([str(c.content) async for c in model.astream("hi")]) == "Hello there"
        elif i % 5 == 1:
            await litellm.acompletion(**lkw)
        else:
            await model.ainvoke("hi")

    async def async_part(first: int, total: int) -> None:
        for k in range(first, first + total, 10):
            await asyncio.gather(*(async_call(i) for i in range(k, min(k + 10, first + total))))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(sync_call, range(start, start + count // 2)))
    # One loop for all the async calls, as a long-running application has; asyncio.run
    # also winds down LiteLLM's background logging task before closing it.
    asyncio.run(async_part(start + count // 2, count - count // 2))


def test_no_leaked_connections_or_threads(raw: MisbehavingServer) -> None:
    calls_on_every_path(raw, 0, 100)  # warm-up: pools opened, LiteLLM's lazy imports done
    sockets, threads = open_sockets(), threading.active_count()
    calls_on_every_path(raw, 100, CALLS)
    assert len(raw.received) == 100 + CALLS
    # Both ends of every connection live in this process: two sockets per connection.
    # Pools may hold a few more connections after a burst, never one per call.
    assert open_sockets() <= sockets + 2 * POOLS, (sockets, open_sockets())
    assert raw.open_connections <= 2 * POOLS, raw.open_connections
    # LiteLLM runs stream callbacks on a thread pool that grows to its bound once.
    assert threading.active_count() <= threads + 8, (threads, threading.active_count())


@pytest.mark.parametrize("client", ["chat", "litellm"])
def test_streamed_calls_reuse_connections(raw: MisbehavingServer, client: str) -> None:
    raw.echo = True
    if client == "chat":
        model = ChatCloudflareGateway(
            model="openai/gpt-4o-mini", account_id="acct", base_url=raw.base_url, max_retries=0
        )
        model.invoke("warm-up")
        opened = raw.connections
        for _ in range(10):
            assert "".join(str(c.content) for c in model.stream("hi")) == "Hello there"
    else:
        import litellm

        from langchain_cf_gateway.litellm_provider import register

        litellm.disable_hf_tokenizer_download = True
        register()
        kw: dict[str, Any] = {
            "model": "cloudflare-ai-gateway/openai/gpt-4o-mini",
            "api_base": raw.base_url,
            "account_id": "acct",
            "messages": [{"role": "user", "content": "hi"}],
        }
        litellm.completion(**kw)
        opened = raw.connections
        for _ in range(10):
            chunks = litellm.completion(stream=True, **kw)
            assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello there"
    assert raw.connections - opened <= 1  # sequential calls: one pooled connection
