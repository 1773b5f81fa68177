"""(4) concurrency: 500 concurrent ``ainvoke`` on one model instance."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from . import clients
from .harness import Figure, Goal, Section, interleaved_rounds, ratios, scaled
from .processes import FastServer

CONCURRENT = 500
ROUNDS = 6


def run() -> Section:
    concurrent = scaled(CONCURRENT, minimum=2)
    section = Section(
        "concurrency",
        "Concurrency",
        f"{concurrent} concurrent `ainvoke` calls (`asyncio.gather`) on one model instance, "
        f"{ROUNDS} interleaved rounds per client plus one untimed warm-up, all on one event "
        "loop; throughput is calls over the round's wall time. The fast server counts the TCP "
        "connections it accepts; 'new connections' is that count's increase over a round. "
        "Both clients keep the openai SDK's pool (1,000 connections, 100 kept alive), so a "
        "burst of 500 opens up to 400 more than the pool keeps; reuse shows as fewer new "
        "connections than calls.",
    )
    loop = asyncio.new_event_loop()
    errors: dict[str, int] = {}
    new_connections: dict[str, list[float]] = {}
    with FastServer() as server:
        models: dict[str, Any] = {"ChatOpenAI": clients.chat_openai(server.url)}
        why = clients.missing("langchain_cf_gateway.chat_models")
        if why is None:
            models["ChatCloudflareGateway"] = clients.chat_gateway(server.url)

        def variant(name: str) -> Any:
            model = models[name]
            errors[name] = 0
            new_connections[name] = []

            async def burst(n: int) -> float:
                before = server.stats()["connections"]
                start = time.perf_counter()
                out = await asyncio.gather(
                    *(model.ainvoke(clients.PROMPT) for _ in range(n)), return_exceptions=True
                )
                elapsed = time.perf_counter() - start
                failures = [r for r in out if isinstance(r, BaseException)]
                errors[name] += len(failures)
                if failures and errors[name] == len(failures):
                    section.notes.append(f"{name}: first error: {failures[0]!r}")
                # The stats request itself is one connection: the 'after' call's own.
                new_connections[name].append(server.stats()["connections"] - before - 1)
                return n / elapsed

            return lambda n: loop.run_until_complete(burst(n))

        results = interleaved_rounds(
            {name: variant(name) for name in models}, ROUNDS, concurrent, warmup=concurrent
        )
        for name in models:
            del new_connections[name][0]  # the warm-up burst opened the pool
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
                f"ChatCloudflareGateway new connections per {concurrent} calls",
                new_connections["ChatCloudflareGateway"],
                "",
                Goal("<=", concurrent - 1),
                note="Connections reused when new connections per burst stay below the calls "
                "per burst; compare with ChatOpenAI's count on the same server.",
            )
        )
    for name in models:
        section.add(Figure(f"{name} throughput", results[name], "calls/s"))
    section.add(Figure("ChatOpenAI errors (all rounds)", [float(errors["ChatOpenAI"])], ""))
    section.add(
        Figure(f"ChatOpenAI new connections per {concurrent} calls", new_connections["ChatOpenAI"])
    )
    return section
