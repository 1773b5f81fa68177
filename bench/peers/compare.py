"""The peers benchmark's section: every figure per gateway, ratios and goals against ours."""

from __future__ import annotations

from contextlib import ExitStack

from bench.fastserver import STREAM_CHUNKS
from bench.harness import Figure, Goal, Section, scale, scaled, scaled_rounds
from bench.processes import FastServer, LoadGenerator

from . import gateways, measure
from .gateways import LITELLM, OURS, PORTKEY, SHARED_ONE, WORKERS, Gateway
from .measure import DIRECT, QUANTILES, Target

RATES = (500, 1000)
SEQUENTIAL = 1000
"""Per round: a p99 of 400 rested on its 4 slowest requests (rounds of one run gave 1.76-2.32 ms)."""
STREAMS = 40
SECONDS = 2.0
"""Open-loop seconds at each rate."""
SUSTAINED_SECONDS = 3.0
CACHE_SECONDS = 2.0
CACHE_CONNECTIONS = 16
ROUNDS = 3
WARMUP = 300
"""Untimed requests per gateway first (Node's JIT, pools, lazy imports: the steady state)."""
PEERS = (LITELLM, PORTKEY)


def method(rounds: int, seconds: float) -> str:
    return (
        "The fast server (`bench/fastserver.py`, canned bytes) is the one upstream of three "
        "gateways, one worker process each, on loopback: ours (`cf-aig serve`, the `openai` "
        "provider passed through to the fast server, compat route, logs on), LiteLLM's proxy "
        "(`litellm --config`: an `openai/` deployment with the fast server as `api_base`, a "
        "master key) and Portkey's open-source gateway (`@portkey-ai/gateway` pinned in "
        "`bench/peers/package-lock.json`, on Node, `x-portkey-provider: openai` with "
        "`x-portkey-custom-host`). Every target gets the same body, in each of "
        f"{rounds} rounds, the order rotating; each gateway first gets {scaled(WARMUP, 20)} "
        "untimed requests. Added = a gateway's percentile minus the fast server's direct "
        f"percentile of the same round. Sequential: {scaled(SEQUENTIAL, 20)} requests one at "
        f"a time on one keep-alive connection. At {' and '.join(map(str, RATES))} rps: open "
        f"loop from `bench/loadgen.py` for {seconds:g} s (at most {measure.OPEN_LOOP_CONNECTIONS}"
        " connections; latency from the due time), and a gateway that fell behind finishes "
        f"its backlog before the next target. Sustained: {measure.CONCURRENCY} keep-alive "
        f"connections back to back for {SUSTAINED_SECONDS * min(1.0, scale()):g} s; CPU per "
        "request is the gateway process's user + system time over the requests of that run. "
        f"Streaming: {scaled(STREAMS, 5)} sequential streams of a 200-chunk SSE response; "
        "time to the first event added, and (whole stream through the gateway - direct) / "
        f"200 per chunk. Cache: {CACHE_CONNECTIONS} connections for "
        f"{CACHE_SECONDS * min(1.0, scale()):g} s sending one request with the gateway's cache "
        "asked for (ours `cf-aig-cache-ttl`, LiteLLM an in-memory cache with "
        '`"cache": {"use-cache": true}`, Portkey `x-portkey-config` `{"cache": {"mode": '
        '"simple"}}`); a hit is a response the fast server never saw (its request count). '
        "The load generator shares the machine's cores with the gateway it measures."
    )


def run() -> Section:
    seconds = SECONDS * min(1.0, scale())
    rounds = scaled_rounds(ROUNDS, minimum=1)
    section = Section("peers", "Side by side with LiteLLM's proxy and Portkey's gateway", "")
    section.method = method(rounds, seconds)
    workers = gateways.has_workers_flag()
    with ExitStack() as stack:
        upstream = stack.enter_context(FastServer())
        # LiteLLM's proxy takes tens of seconds to import: every start-up overlaps.
        started = [
            gateways.litellm(upstream.base_url),
            gateways.ours(upstream.base_url),
            gateways.portkey(upstream.base_url),
        ]
        if workers:
            try:
                shared = gateways.shared_stores(stack)
            except RuntimeError as exc:  # redis-server or PostgreSQL not installed
                started.append(Gateway(WORKERS, why=str(exc)))
                started.append(Gateway(SHARED_ONE, why=str(exc)))
            else:
                started.append(gateways.ours(upstream.base_url, *shared, name=SHARED_ONE))
                started.append(gateways.ours(upstream.base_url, "--workers", "2", *shared))
        gen = stack.enter_context(LoadGenerator())
        for gw in started:
            if gw.process is not None:
                stack.callback(gw.process.stop)
        for gw in started:
            gw.ready()
        by_name = {gw.name: gw for gw in started}
        everyone = measure.targets(upstream, [by_name[n] for n in (OURS, LITELLM, PORTKEY)])
        extra = measure.targets(
            upstream, [by_name[SHARED_ONE], by_name[WORKERS]] if workers else []
        )[1:]
        for target in everyone[1:] + extra:
            measure.sequential(target, scaled(WARMUP, 20), stream=False)
            measure.sequential(target, scaled(STREAMS, 5) // 5 + 1, stream=True)
            target.values.clear()
            target.failures = 0
        for r in range(rounds):
            order = everyone[r % len(everyone) :] + everyone[: r % len(everyone)]
            for target in order:
                measure.sequential(target, scaled(SEQUENTIAL, 20), stream=False)
                measure.sequential(target, scaled(STREAMS, 5), stream=True)
            for rate in RATES:
                count = scaled(int(rate * seconds), minimum=20)
                for target in order:
                    measure.open_loop(gen, target, rate, count, scaled(rate // 4, 5))
            for target in order + extra:
                measure.sustained(gen, target, max(0.2, SUSTAINED_SECONDS * min(1.0, scale())))
            cache_seconds = max(0.2, CACHE_SECONDS * min(1.0, scale()))
            for target in order:
                if target.name != DIRECT:
                    measure.cache_hits(gen, upstream, target, cache_seconds, CACHE_CONNECTIONS)
        errors = {
            gw.name: gw.process.first_error()
            for gw in started
            if isinstance(gw.process, gateways.PeerProcess)
        }
    measured = {t.name: t for t in everyone + extra}
    report(section, measured, by_name, workers)
    for name, line in errors.items():
        if line and measured[name].failures:
            section.notes.append(
                f"{name}: {measured[name].failures} non-200 responses; its log: {line}"
            )
    return section


def added(target: Target | None, direct: Target, key: str) -> list[float]:
    """Per round: the gateway's value minus the fast server's, same round."""
    if target is None:
        return []
    return [a - b for a, b in zip(target.values.get(key, []), direct.values[key], strict=True)]


def per_round(values: dict[str, list[float]], pick: str) -> list[float]:
    """Ours over the lowest (``pick="min"``) or highest peer value, round by round."""
    ours = values.get(OURS, [])
    peers = [values[p] for p in PEERS if values.get(p)]
    if not ours or not peers:
        return []
    choose = min if pick == "min" else max
    return [o / choose(vals) for o, *vals in zip(ours, *peers, strict=True)]


def gateway_rows(
    section: Section, name: str, gw: Gateway, tg: Target | None, direct: Target
) -> tuple[dict[int, list[float]], list[float]]:
    """One gateway's rows; returns its sequential added percentiles and sustained rates."""
    v = tg.values if tg else {}
    c = measure.CONCURRENCY
    # A gateway that did not run says why once, on its first row; its other rows stay empty.
    why = [f"{name} did not run here: {gw.why}"] if gw.why else []

    def row(label: str, values: list[float], unit: str, note: str = "", **goal: Goal) -> None:
        text = why.pop() if why else (f"{name}, {label}: {note}" if note else "")
        section.add(Figure(f"{name}: {label}", values, unit, goal.get("goal"), text))

    seq: dict[int, list[float]] = {}
    for q in QUANTILES:
        seq[q] = added(tg, direct, f"p{q} sequential")
        if name == OURS and q == 99:
            row(f"added p{q}, sequential", seq[q], "ms", goal=Goal("<=", 2.0))
        else:
            row(f"added p{q}, sequential", seq[q], "ms")
    for r in RATES:
        cut = sum(v.get(f"cut off at {r} rps", []))
        note = f"{cut:.0f} requests had no response in time (counted at their wait)" if cut else ""
        for q in QUANTILES:
            row(f"added p{q} at {r} rps", added(tg, direct, f"p{q} at {r} rps"), "ms", note)
            note = ""
    rate = v.get("rate", [])
    row(f"sustained rate at {c} concurrent", rate, "/s")
    row(f"p99 at {c} concurrent", v.get("p99 sustained", []), "ms")
    row("CPU per request", v.get("cpu", []), "ms")
    failed = sum(v.get("stream failures", []))
    note = f"{failed:.0f} streamed responses were not 200" if failed else ""
    first = [] if failed else added(tg, direct, "stream first byte")
    totals = [] if failed else added(tg, direct, "stream total")
    known = f"{note}; {gw.known}" if note and gw.known else note
    row("streaming, time to first event added", first, "ms", known)
    per_chunk = [x / STREAM_CHUNKS * 1e3 for x in totals]
    row(f"streaming, added per chunk ({STREAM_CHUNKS}-chunk SSE)", per_chunk, "µs", note)
    hits = v.get("cache hits", [])
    note = "no response came from its cache (every request reached the fast server)"
    row("cache hits per second", hits, "/s", note if hits and not any(hits) else "")
    row("errors and non-200 responses (all runs)", [float(tg.failures)] if tg else [], "")
    return seq, rate


def report(
    section: Section, t: dict[str, Target], by_name: dict[str, Gateway], workers: bool
) -> None:
    direct = t[DIRECT]
    seq: dict[str, dict[int, list[float]]] = {}
    rate: dict[str, list[float]] = {}
    c = measure.CONCURRENCY
    for name in (OURS, LITELLM, PORTKEY):
        seq[name], rate[name] = gateway_rows(section, name, by_name[name], t.get(name), direct)
    for peer in PEERS:
        why = [f"{peer} did not run here"] if by_name[peer].why else []
        for label, mine, theirs in (
            ("added p50, sequential", seq[OURS][50], seq[peer][50]),
            ("added p99, sequential", seq[OURS][99], seq[peer][99]),
            (f"sustained rate at {c} concurrent", rate[OURS], rate[peer]),
            (
                "CPU per request",
                t[OURS].values.get("cpu", []) if OURS in t else [],
                t[peer].values.get("cpu", []) if peer in t else [],
            ),
        ):
            values = [a / b for a, b in zip(theirs, mine, strict=True)] if theirs and mine else []
            section.add(Figure(f"{peer} / ours: {label}", values, "x", None, "".join(why[:1])))
            why.clear()
    goals = (
        (
            "ours / lowest peer: added p50, sequential",
            {n: s[50] for n, s in seq.items()},
            "min",
            Goal("<=", 1.0),
        ),
        (
            "ours / lowest peer: added p99, sequential",
            {n: s[99] for n, s in seq.items()},
            "min",
            Goal("<=", 1.0),
        ),
        (f"ours / highest peer: sustained rate at {c} concurrent", rate, "max", Goal(">=", 1.0)),
    )
    for label, values_by, pick, goal in goals:
        values = per_round(values_by, pick)
        section.add(judged(label, values, goal, "no peer ran here"))
    portkey = (
        [a / b for a, b in zip(rate[OURS], rate[PORTKEY], strict=True)]
        if rate[OURS] and rate[PORTKEY]
        else []
    )
    section.add(
        judged(f"ours / {PORTKEY}: sustained rate", portkey, Goal(">=", 2.0), by_name[PORTKEY].why)
    )
    if not workers:
        section.add(
            judged(
                f"{WORKERS} / one worker: sustained rate", [], Goal(">=", 1.4), "pending --workers"
            )
        )
        return
    two = t[WORKERS].values.get("rate", []) if WORKERS in t else []
    section.add(
        Figure(
            f"{WORKERS}: sustained rate at {c} concurrent",
            two,
            "/s",
            None,
            by_name[WORKERS].why or "",
        )
    )
    one = t[SHARED_ONE].values.get("rate", []) if SHARED_ONE in t else []
    section.add(
        Figure(
            f"{SHARED_ONE}: sustained rate at {c} concurrent",
            one,
            "/s",
            None,
            by_name[SHARED_ONE].why or "",
        )
    )
    ratio = [a / b for a, b in zip(two, one, strict=True)] if two and one else []
    section.add(
        judged(
            f"{WORKERS} / one worker: sustained rate",
            ratio,
            Goal(">=", 1.4),
            by_name[WORKERS].why,
            "against one worker on the same Redis and PostgreSQL; the load generator shares "
            "the machine's cores with both workers",
        ),
    )


def judged(name: str, values: list[float], goal: Goal, why: str | None, note: str = "") -> Figure:
    """A goal figure; where it cannot be measured here, its row stays with the goal unjudged."""
    if values:
        return Figure(name, values, "x", goal, f"{name}: {note}" if note else "")
    return Figure(name, [], "x", None, f"{name}: {why or 'not measured'} (goal {goal}, not judged)")
