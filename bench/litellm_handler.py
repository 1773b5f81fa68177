"""(3) LiteLLM: the custom provider against stock ``litellm.completion(model="openai/...")``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

from . import clients
from .harness import Figure, Goal, Section, interleaved_rounds, ratios, scaled, scaled_rounds, timed
from .processes import FastServer

CALLS = 500
STREAMS = 50
ROUNDS = 10
PROVIDER_MODULE = "langchain_cf_gateway.litellm_provider"


def run() -> Section:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    rounds = scaled_rounds(ROUNDS)
    calls = max(1, scaled(CALLS) // rounds)
    streams = max(1, scaled(STREAMS) // rounds)
    section = Section(
        "litellm",
        "LiteLLM",
        f"The custom provider (`cloudflare-ai-gateway/{clients.MODEL_ID}`) against stock "
        f"`litellm.completion(model='{clients.MODEL_ID}', api_base=<the same compat URL>, "
        "extra_headers=<the same gateway token>)`, both with the same provider key, against "
        f"the fast server. Sync: {calls * rounds} sequential `completion` calls each; async: "
        f"{calls * rounds} sequential `await acompletion` on one event loop; streaming: "
        f"{streams * rounds} sync streams of 200 chunks, consumed to the end. "
        f"{rounds} interleaved rounds each; LiteLLM's default settings on both sides.",
    )
    loop = asyncio.new_event_loop()
    with FastServer() as server:
        base = clients.compat_url(server.base_url)
        messages = [{"role": "user", "content": clients.PROMPT}]
        stock: dict[str, Any] = {
            "model": clients.MODEL_ID,
            "api_base": base,
            "api_key": clients.PROVIDER_KEY,
            "extra_headers": clients.gateway_headers(),
            "messages": messages,
        }
        why = clients.missing(PROVIDER_MODULE)
        ours: dict[str, Any] = {}
        if why is None:
            ours = provider_kwargs(server.base_url) | {"messages": messages}
        kinds: dict[str, dict[str, Any]] = {"stock": stock}
        if ours:
            kinds["ours"] = ours

        def sync(kw: dict[str, Any]) -> Callable[[int], float]:
            return lambda n: timed(lambda: litellm.completion(**kw), n)

        def async_(kw: dict[str, Any]) -> Callable[[int], float]:
            async def many(n: int) -> float:
                start = loop.time()
                for _ in range(n):
                    await litellm.acompletion(**kw)
                return loop.time() - start

            return lambda n: loop.run_until_complete(many(n))

        def stream(kw: dict[str, Any]) -> Callable[[int], float]:
            def one() -> None:
                for _chunk in litellm.completion(**kw, stream=True):
                    pass

            return lambda n: timed(one, n)

        results: dict[str, dict[str, list[float]]] = {}
        for mode, make, per_round, unit_div in (
            ("sync", sync, calls, calls),
            ("async", async_, calls, calls),
            ("streaming", stream, streams, streams),
        ):
            runs = interleaved_rounds(
                {k: make(kw) for k, kw in kinds.items()}, rounds, per_round, warmup=scaled(5)
            )
            results[mode] = {k: [t / unit_div * 1e3 for t in v] for k, v in runs.items()}
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
    for mode in ("sync", "async", "streaming"):
        section.add(
            Figure(
                f"custom provider / stock openai/, {mode}",
                ratios(results[mode]["ours"], results[mode]["stock"]) if why is None else [],
                "x",
                Goal("<=", 1.0, aim=0.7),
                note=(why or "") if mode == "sync" else "",
            )
        )
    what = {"sync": "completion", "async": "acompletion", "streaming": "200-chunk stream"}
    for mode in ("sync", "async", "streaming"):
        for kind, label in (("stock", "stock openai/"), ("ours", "custom provider")):
            if kind in results[mode]:
                section.add(Figure(f"{label} {what[mode]}, per call", results[mode][kind], "ms"))
    return section


def provider_kwargs(host: str) -> dict[str, Any]:
    """The custom provider's call on the same server, same key and token."""
    import importlib

    module = importlib.import_module(PROVIDER_MODULE)
    module.register()
    return {
        "model": f"cloudflare-ai-gateway/{clients.MODEL_ID}",
        "api_base": host,
        "api_key": clients.PROVIDER_KEY,
        "account_id": clients.ACCOUNT,
        "gateway_id": clients.GATEWAY,
        "gateway_token": clients.TOKEN,
    }
