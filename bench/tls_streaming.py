"""(2b) streaming over TLS: time to first chunk of consecutive streams on one model.

Against Cloudflare every connection is a TLS handshake. A client that hands a finished
stream's connection back to the pool starts the next stream without one; a client that
drops it (the OpenAI SDK closes a stream at `data: [DONE]`, before the response's end)
pays a handshake per stream. The fast server serves HTTPS here with a self-signed
certificate made for this run (`SSL_CERT_FILE` names it to both clients).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from tests.support.tls import self_signed, trusting

from . import clients
from .harness import Figure, Goal, Section, interleaved_rounds, ratios, scaled, scaled_rounds
from .processes import FastServer

STREAMS = 50
ROUNDS = 10


def run() -> Section:
    streams = scaled(STREAMS, minimum=2)
    rounds = min(scaled_rounds(ROUNDS), streams)
    per_round = max(1, streams // rounds)
    section = Section(
        "tls_streaming",
        "Streaming over TLS",
        f"{per_round * rounds} consecutive streams per client on one model instance, from the "
        f"fast server over HTTPS (loopback, a self-signed certificate made at run time), in "
        f"{rounds} interleaved rounds of {per_round}. Time to first chunk (TTFC) runs from "
        "the call to the first chunk the iterator yields, and includes a TLS handshake "
        "whenever the stream cannot reuse a pooled connection.",
    )
    why = clients.missing("langchain_cf_gateway.chat_models")
    with (
        self_signed() as (cert_file, key_file),
        trusting(cert_file),
        FastServer(tls=(cert_file, key_file)) as server,
    ):
        openai_model = clients.chat_openai(server.base_url)
        sources: dict[str, Callable[[], Iterator[Any]]] = {
            "ChatOpenAI": lambda: openai_model.stream(clients.PROMPT),
        }
        if why is None:
            ours = clients.chat_gateway(server.base_url)
            sources["ChatCloudflareGateway"] = lambda: ours.stream(clients.PROMPT)
        ttfc: dict[str, list[float]] = {name: [] for name in sources}
        opened: dict[str, int] = dict.fromkeys(sources, 0)
        counted: dict[str, int] = dict.fromkeys(sources, 0)

        def variant(name: str) -> Callable[[int], float]:
            source = sources[name]

            def go(n: int) -> float:
                before = server.stats()["connections"]
                first = 0.0
                start_all = time.perf_counter()
                for _ in range(n):
                    start = time.perf_counter()
                    for count, _chunk in enumerate(source()):
                        if count == 0:
                            first += time.perf_counter() - start
                elapsed = time.perf_counter() - start_all
                # the stats request is a connection of its own
                opened[name] += server.stats()["connections"] - before - 1
                counted[name] += n
                ttfc[name].append(first / n * 1e3)
                return elapsed

            return go

        interleaved_rounds(
            {n: variant(n) for n in sources}, rounds, per_round, warmup=1, rotate=False
        )
    for name in sources:
        del ttfc[name][0]  # the warm-up's entry
    if why is None:
        section.add(
            Figure(
                "ChatCloudflareGateway.stream / ChatOpenAI.stream over TLS, time to first chunk",
                ratios(ttfc["ChatCloudflareGateway"], ttfc["ChatOpenAI"]),
                "x",
                Goal("<=", 0.7),
            )
        )
    else:
        section.notes.append(why)
    labels = {
        "ChatOpenAI": "ChatOpenAI.stream",
        "ChatCloudflareGateway": "ChatCloudflareGateway.stream",
    }
    for name in sources:
        section.add(Figure(f"{labels[name]} over TLS, time to first chunk", ttfc[name], "ms"))
    for name in sources:
        section.add(
            Figure(
                f"{labels[name]} over TLS, new connections per stream",
                [opened[name] / counted[name]],
                "",
            )
        )
    return section
