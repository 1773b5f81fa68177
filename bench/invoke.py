"""(1) invoke overhead: ChatCloudflareGateway.invoke vs ChatOpenAI.invoke vs raw httpx."""

from __future__ import annotations

import httpx

from . import clients
from .harness import Figure, Goal, Section, interleaved_rounds, ratios, scaled, scaled_rounds, timed
from .processes import FastServer

CALLS = 2000
ROUNDS = 40


def run() -> Section:
    calls = scaled(CALLS, minimum=2)
    rounds = min(scaled_rounds(ROUNDS), calls)
    per_round = max(1, calls // rounds)
    section = Section(
        "invoke",
        "Invoke overhead",
        f"{per_round * rounds:,} sequential `invoke` calls per client against the fast server "
        f"(canned bytes, another process), in {rounds} interleaved rounds of {per_round}; "
        "each round's mean per call is compared with ChatOpenAI's in the same round. "
        "ChatOpenAI gets the same compat URL as `base_url` and the same headers "
        "(`cf-aig-authorization`, provider key). The floor is `httpx.Client.post` of the "
        "same JSON body plus `.json()`. Small rounds, many of them, let a burst of load "
        "from elsewhere fall on neighbouring rounds of every client alike. CPU figures are "
        "this process's CPU time (all threads) per call: the client's own cost, less "
        "disturbed by other processes than wall time.",
    )
    with FastServer() as server:
        url = clients.compat_url(server.base_url) + "/chat/completions"
        headers = {**clients.gateway_headers(), "authorization": f"Bearer {clients.PROVIDER_KEY}"}
        body = {
            "model": clients.MODEL_ID,
            "messages": [{"role": "user", "content": clients.PROMPT}],
        }
        raw = httpx.Client()
        openai_model = clients.chat_openai(server.base_url)
        variants = {
            "httpx": lambda n: timed(lambda: raw.post(url, json=body, headers=headers).json(), n),
            "ChatOpenAI": lambda n: timed(lambda: openai_model.invoke(clients.PROMPT), n),
        }
        why = clients.missing("langchain_cf_gateway.chat_models")
        if why is None:
            ours = clients.chat_gateway(server.base_url)
            variants["ChatCloudflareGateway"] = lambda n: timed(
                lambda: ours.invoke(clients.PROMPT), n
            )
        cpu: dict[str, list[float]] = {}
        results = interleaved_rounds(variants, rounds, per_round, warmup=scaled(50), cpu=cpu)
        raw.close()
    ms = {name: [t / per_round * 1e3 for t in values] for name, values in results.items()}
    cpu_ms = {name: [t / per_round * 1e3 for t in values] for name, values in cpu.items()}
    section.add(
        Figure(
            "ChatCloudflareGateway.invoke / ChatOpenAI.invoke",
            ratios(ms["ChatCloudflareGateway"], ms["ChatOpenAI"]) if why is None else [],
            "x",
            Goal("<=", 1.05),
            note=why or "",
        )
    )
    for name in ("httpx", "ChatOpenAI", "ChatCloudflareGateway"):
        if name in ms:
            label = "raw httpx.Client.post (floor)" if name == "httpx" else f"{name}.invoke"
            section.add(Figure(f"{label}, per call", ms[name], "ms"))
    if why is None:
        section.add(
            Figure(
                "ChatCloudflareGateway.invoke / ChatOpenAI.invoke, client CPU time",
                ratios(cpu_ms["ChatCloudflareGateway"], cpu_ms["ChatOpenAI"]),
                "x",
            )
        )
    for name in ("httpx", "ChatOpenAI", "ChatCloudflareGateway"):
        if name in cpu_ms:
            section.add(Figure(f"{name}, client CPU per call", cpu_ms[name], "ms"))
    section.add(Figure("ChatOpenAI.invoke / raw httpx", ratios(ms["ChatOpenAI"], ms["httpx"]), "x"))
    if why is None:
        section.add(
            Figure(
                "added by ChatCloudflareGateway over ChatOpenAI, per call",
                [
                    (a - b) * 1e3
                    for a, b in zip(ms["ChatCloudflareGateway"], ms["ChatOpenAI"], strict=True)
                ],
                "µs",
            )
        )
    return section
