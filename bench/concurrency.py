"""(4) concurrency: 500 concurrent ``ainvoke`` on one model instance."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from . import clients
from .harness import Figure, Goal, Section, interleaved_rounds, ratios, scaled, scaled_rounds
from .processes import FastServer

CONCURRENT = 500
ROUNDS = 5
SEQUENTIAL = 20


def run() -> Section:
    concurrent = scaled(CONCURRENT, minimum=2)
    rounds = scaled_rounds(ROUNDS)
    section = Section(
        "concurrency",
        "Concurrency",
        f"Bursts of {concurrent} concurrent `ainvoke` calls (`asyncio.gather`) on one model "
        f"instance, all on one event loop. A round, per client: two bursts back to back "
        f"(throughput = {2 * concurrent} calls over their wall time), then {SEQUENTIAL} "
        f"sequential calls; {rounds} interleaved rounds plus one untimed warm-up round. The "
        "fast server counts the TCP connections it accepts. Both clients use the openai "
        "SDK's pool limits (1,000 connections, 100 kept alive for 5 s), so the first burst "
        "opens a connection per call, the second reuses the kept-alive ones, and sequential "
        "calls after it need no new connection.",
    )
    loop = asyncio.new_event_loop()
    errors: dict[str, int] = {}
    second_burst: dict[str, list[float]] = {}
    sequential: dict[str, list[float]] = {}
    with FastServer() as server:
        stats_calls = 0

        def connections() -> int:
            # Each stats request is a connection of its own: count them all out.
            nonlocal stats_calls
            stats_calls += 1
            count: int = server.stats()["connections"] - stats_calls
            return count

        models: dict[str, Any] = {"ChatOpenAI": clients.chat_openai(server.url)}
        why = clients.missing("langchain_cf_gateway.chat_models")
        if why is None:
            models["ChatCloudflareGateway"] = clients.chat_gateway(server.url)

        def variant(name: str) -> Any:
            model = models[name]
            errors[name] = 0
            second_burst[name] = []
            sequential[name] = []

            async def burst(n: int) -> float:
                out = await asyncio.gather(
                    *(model.ainvoke(clients.PROMPT) for _ in range(n)), return_exceptions=True
                )
                failures = [r for r in out if isinstance(r, BaseException)]
                errors[name] += len(failures)
                if failures and errors[name] == len(failures):
                    section.notes.append(f"{name}: first error: {failures[0]!r}")
                return n

            async def round_(n: int) -> float:
                start = time.perf_counter()
                done = await burst(n)
                middle = connections()
                done += await burst(n)
                elapsed = time.perf_counter() - start
                second_burst[name].append(connections() - middle)
                before = connections()
                for _ in range(SEQUENTIAL):
                    await model.ainvoke(clients.PROMPT)
                sequential[name].append(connections() - before)
                return done / elapsed

            return lambda n: loop.run_until_complete(round_(n))

        results = interleaved_rounds(
            {name: variant(name) for name in models}, rounds, concurrent, warmup=concurrent
        )
        for name in models:
            del second_burst[name][0], sequential[name][0]  # the warm-up round's
        loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
    section.add(
        Figure(
            "ChatCloudflareGateway / ChatOpenAI, throughput",
            ratios(results["ChatCloudflareGateway"], results["ChatOpenAI"]) if why is None else [],
            "x",
            Goal(">=", 0.95),
            note=why or "",
        )
    )
    if why is None:
        section.add(
            Figure(
                "ChatCloudflareGateway errors (all rounds)",
                [float(errors["ChatCloudflareGateway"])],
                "",
                Goal("==", 0),
            )
        )
        section.add(
            Figure(
                f"ChatCloudflareGateway new connections, second burst of {concurrent}",
                second_burst["ChatCloudflareGateway"],
                "",
                Goal("<=", concurrent - 1),
                note="Reuse: a second burst right after the first opens fewer connections than "
                "it makes calls (the pool's kept-alive connections serve the rest), and "
                f"{SEQUENTIAL} sequential calls after it open none.",
            )
        )
        section.add(
            Figure(
                f"ChatCloudflareGateway new connections, {SEQUENTIAL} sequential calls after",
                sequential["ChatCloudflareGateway"],
                "",
                Goal("==", 0),
            )
        )
    for name in models:
        section.add(Figure(f"{name} throughput", results[name], "calls/s"))
    section.add(Figure("ChatOpenAI errors (all rounds)", [float(errors["ChatOpenAI"])], ""))
    section.add(
        Figure(
            f"ChatOpenAI new connections, second burst of {concurrent}", second_burst["ChatOpenAI"]
        )
    )
    section.add(
        Figure(
            f"ChatOpenAI new connections, {SEQUENTIAL} sequential calls after",
            sequential["ChatOpenAI"],
        )
    )
    return section
