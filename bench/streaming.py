"""(2) streaming: a 200-chunk stream, time per chunk and time to first chunk."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from . import clients
from .fastserver import STREAM_CHUNKS
from .harness import Figure, Goal, Section, interleaved_rounds, ratios, scaled, scaled_rounds
from .processes import FastServer

STREAMS = 100
REUSE_STREAMS = 10
ROUNDS = 25


def run() -> Section:
    streams = scaled(STREAMS, minimum=2)
    rounds = min(scaled_rounds(ROUNDS), streams)
    per_round = max(1, streams // rounds)
    section = Section(
        "streaming",
        "Streaming",
        f"{per_round * rounds} streams per client of {STREAM_CHUNKS} content chunks each "
        "(plus the finish chunk, the usage chunk and `[DONE]`, chunked transfer encoding, "
        "one HTTP chunk per event), from the fast server, in "
        f"{rounds} interleaved rounds of {per_round}. Time per chunk is the whole stream's "
        f"time over {STREAM_CHUNKS}; time to first chunk (TTFC) runs from the call to the "
        "first chunk the iterator yields. The floor iterates the SSE lines with raw httpx "
        "and parses each event's JSON. TTFC 'no worse' is met when the median ratio is at "
        "most 1.0, or when the p25-p75 spread of the ratio reaches 1.0 (the difference is "
        "within the round-to-round noise).",
    )
    with FastServer() as server:
        url = clients.compat_url(server.base_url) + "/chat/completions"
        headers = {**clients.gateway_headers(), "authorization": f"Bearer {clients.PROVIDER_KEY}"}
        body = {
            "model": clients.MODEL_ID,
            "messages": [{"role": "user", "content": clients.PROMPT}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        raw = httpx.Client()

        def raw_stream() -> Iterator[Any]:
            import json

            with raw.stream("POST", url, json=body, headers=headers) as resp:
                for line in resp.iter_lines():
                    if line.startswith("data: ") and line != "data: [DONE]":
                        yield json.loads(line[6:])

        openai_model = clients.chat_openai(server.base_url)
        sources: dict[str, Callable[[], Iterator[Any]]] = {
            "httpx": raw_stream,
            "ChatOpenAI": lambda: openai_model.stream(clients.PROMPT),
        }
        why = clients.missing("langchain_cf_gateway.chat_models")
        if why is None:
            ours = clients.chat_gateway(server.base_url)
            sources["ChatCloudflareGateway"] = lambda: ours.stream(clients.PROMPT)
        ttfc: dict[str, list[float]] = {name: [] for name in sources}
        chunk_counts: dict[str, int] = {}

        def variant(name: str) -> Callable[[int], float]:
            source = sources[name]

            def go(n: int) -> float:
                total = first = 0.0
                for _ in range(n):
                    count = 0
                    start = time.perf_counter()
                    for _chunk in source():
                        if count == 0:
                            first += time.perf_counter() - start
                        count += 1
                    total += time.perf_counter() - start
                    chunk_counts[name] = count
                ttfc[name].append(first / n)
                return total / n

            return go

        cpu: dict[str, list[float]] = {}
        results = interleaved_rounds(
            {n: variant(n) for n in sources}, rounds, per_round, warmup=3, cpu=cpu
        )
        # Connection reuse: streams that end at [DONE] without reading the chunked
        # terminator leave the connection unusable, and the next stream opens a new one.
        reuse_streams = min(REUSE_STREAMS, streams)
        new_connections: dict[str, float] = {}
        for name, source in sources.items():
            before = server.stats()["connections"]
            for _ in range(reuse_streams):
                for _chunk in source():
                    pass
            # The stats request is a connection of its own.
            new_connections[name] = (server.stats()["connections"] - before - 1) / reuse_streams
        raw.close()
    for name in sources:
        del ttfc[name][0]  # the warm-up's entry
    per_chunk = {name: [t / STREAM_CHUNKS * 1e6 for t in v] for name, v in results.items()}
    cpu_per_chunk = {
        name: [t / per_round / STREAM_CHUNKS * 1e6 for t in v] for name, v in cpu.items()
    }
    first_ms = {name: [t * 1e3 for t in v] for name, v in ttfc.items()}
    section.add(
        Figure(
            "ChatCloudflareGateway.stream / ChatOpenAI.stream, time per chunk",
            ratios(per_chunk["ChatCloudflareGateway"], per_chunk["ChatOpenAI"])
            if why is None
            else [],
            "x",
            Goal("<=", 1.05),
            note=why or "",
        )
    )
    section.add(
        Figure(
            "ChatCloudflareGateway.stream / ChatOpenAI.stream, time to first chunk",
            ratios(first_ms["ChatCloudflareGateway"], first_ms["ChatOpenAI"])
            if why is None
            else [],
            "x",
            Goal("<=", 1.0),
            tolerance_spread=True,
        )
    )
    if why is None:
        section.add(
            Figure(
                "ChatCloudflareGateway.stream / ChatOpenAI.stream, client CPU per chunk",
                ratios(cpu_per_chunk["ChatCloudflareGateway"], cpu_per_chunk["ChatOpenAI"]),
                "x",
            )
        )
    labels = {"httpx": "raw httpx SSE (floor)", "ChatOpenAI": "ChatOpenAI.stream"}
    labels["ChatCloudflareGateway"] = "ChatCloudflareGateway.stream"
    for name in sources:
        section.add(Figure(f"{labels[name]}, time per chunk", per_chunk[name], "µs"))
    for name in sources:
        section.add(Figure(f"{labels[name]}, client CPU per chunk", cpu_per_chunk[name], "µs"))
    for name in sources:
        section.add(Figure(f"{labels[name]}, time to first chunk", first_ms[name], "ms"))
    for name in sources:
        section.add(
            Figure(
                f"{labels[name]}, new TCP connections per stream",
                [new_connections[name]],
                "",
                note="New connections per stream, counted at the fast server over "
                f"{min(REUSE_STREAMS, streams)} sequential streams per client after the rounds: "
                "0 when a finished stream hands its connection back to the pool, 1 when every "
                "stream needs a new one."
                if name == "httpx"
                else "",
            )
        )
    section.notes.append(
        "Chunks yielded per stream: "
        + ", ".join(f"{labels[n]} {c}" for n, c in chunk_counts.items())
        + "."
    )
    return section
