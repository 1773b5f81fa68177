"""(4) concurrency: 500 concurrent ``ainvoke`` on one model instance."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from . import clients
from .harness import Figure, Goal, Section, interleaved_rounds, ratios, scaled, scaled_rounds
from .processes import FastServer

CONCURRENT = 500
ROUNDS = 12
SEQUENTIAL = 20


def run() -> Section:
    concurrent = scaled(CONCURRENT, minimum=2)
    rounds = scaled_rounds(ROUNDS)
    section = Section(
        "concurrency",
        "Concurrency",
        f"Bursts of {concurrent} concurrent `ainvoke` calls (`asyncio.gather`) on one model "
        f"instance, all on one event loop. A round, per client: one burst (throughput = "
        f"{concurrent} calls over its wall time), then {SEQUENTIAL} sequential calls; "
        f"{rounds} rounds plus one untimed warm-up round, alternating strictly so that every "
        "burst follows the other model's (with the rotated order of the other benchmarks, "
        "a model running twice in a row at a round boundary made single rounds differ by "
        "up to 2x, by position alone). The fast server counts "
        "the TCP connections it accepts. Both clients use the openai SDK's pool limits "
        "(1,000 connections, 100 kept alive for 5 s): a burst opens a connection per call it "
        "cannot serve from the kept-alive ones, sequential calls after it need no new "
        "connection, and a burst right after a burst (run once per client after the rounds) "
        "reuses the kept-alive connections.",
    )
    loop = asyncio.new_event_loop()
    errors: dict[str, int] = {}
    second_burst: dict[str, list[float]] = {}
    sequential: dict[str, list[float]] = {}
    rounds_of: dict[str, Any] = {}
    with FastServer() as server:
        stats_calls = 0

        def connections() -> int:
            # Each stats request is a connection of its own: count them all out.
            nonlocal stats_calls
            stats_calls += 1
            count: int = server.stats()["connections"] - stats_calls
            return count

        models: dict[str, Any] = {"ChatOpenAI": clients.chat_openai(server.base_url)}
        why = clients.missing("langchain_cf_gateway.chat_models")
        if why is None:
            models["ChatCloudflareGateway"] = clients.chat_gateway(server.base_url)

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
                elapsed = time.perf_counter() - start
                before = connections()
                for _ in range(SEQUENTIAL):
                    await model.ainvoke(clients.PROMPT)
                sequential[name].append(connections() - before)
                return done / elapsed

            async def reuse(n: int) -> None:
                # A burst right after a burst: the kept-alive connections serve part of it.
                await burst(n)
                before = connections()
                await burst(n)
                second_burst[name].append(connections() - before)

            rounds_of[name] = reuse
            return lambda n: loop.run_until_complete(round_(n))

        cpu: dict[str, list[float]] = {}
        results = interleaved_rounds(
            {name: variant(name) for name in models},
            rounds,
            concurrent,
            warmup=concurrent,
            cpu=cpu,
            # Rotated, a model runs twice in a row at each round boundary, and single rounds
            # then differed by up to 2x by position alone: every burst follows the other's.
            rotate=False,
        )
        for name in models:
            del sequential[name][0]  # the warm-up round's
            loop.run_until_complete(rounds_of[name](concurrent))
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
                f"ChatCloudflareGateway new connections, burst of {concurrent} right after a burst",
                second_burst["ChatCloudflareGateway"],
                "",
                Goal("<=", concurrent - 1),
                note="Reuse: a burst right after a burst opens fewer connections than it "
                "makes calls (the pool's kept-alive connections serve the rest), and "
                f"{SEQUENTIAL} sequential calls after a burst open none.",
            )
        )
        section.add(
            Figure(
                f"ChatCloudflareGateway new connections, {SEQUENTIAL} sequential calls after a burst",
                sequential["ChatCloudflareGateway"],
                "",
                Goal("==", 0),
            )
        )
    # CPU of a round (the burst and the sequential calls) over its calls.
    cpu_ms = {n: [t / (concurrent + SEQUENTIAL) * 1e3 for t in v] for n, v in cpu.items()}
    if why is None:
        section.add(
            Figure(
                "ChatCloudflareGateway / ChatOpenAI, client CPU per call",
                ratios(cpu_ms["ChatCloudflareGateway"], cpu_ms["ChatOpenAI"]),
                "x",
                # The throughput goal (at least 0.95 x) as CPU per call: at most 1 / 0.95.
                Goal("<=", 1.05),
                note="CPU per call is this process's CPU time over a round's calls: the "
                "client's own cost, which other processes on the machine disturb far less "
                "than a burst's wall time; its goal is the throughput goal inverted.",
            )
        )
    for name in models:
        section.add(Figure(f"{name} throughput", results[name], "calls/s"))
    for name in models:
        section.add(Figure(f"{name}, client CPU per call", cpu_ms[name], "ms"))
    section.add(Figure("ChatOpenAI errors (all rounds)", [float(errors["ChatOpenAI"])], ""))
    section.add(
        Figure(
            f"ChatOpenAI new connections, burst of {concurrent} right after a burst",
            second_burst["ChatOpenAI"],
        )
    )
    section.add(
        Figure(
            f"ChatOpenAI new connections, {SEQUENTIAL} sequential calls after a burst",
            sequential["ChatOpenAI"],
        )
    )
    return section
