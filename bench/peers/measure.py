"""The rounds of the peers benchmark: what is measured against each gateway, and how.

Every target (the fast server directly, then each gateway) gets the same request in the
same round, in an order that rotates from round to round; a gateway's *added* latency is
its percentile minus the direct percentile of that round. A gateway that falls behind an
open-loop load is left to finish its backlog (its CPU time stops growing) before the next
target is measured, so no target pays for another's queue.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from bench import clients
from bench.harness import percentile
from bench.processes import FastServer, LoadGenerator
from tests.support.processes import ServerProcess

from .gateways import Gateway
from .wire import Sequential

DIRECT = "direct"
QUANTILES = (50, 95, 99)
CONCURRENCY = 32
OPEN_LOOP_CONNECTIONS = 64
"""Bounds a slow gateway's backlog: requests beyond it wait (and are charged) at the client."""
REQUEST = {"model": clients.MODEL_ID, "messages": [{"role": "user", "content": clients.PROMPT}]}


def body(**extra: object) -> str:
    """The request every target receives (the fast server never reads the model)."""
    return json.dumps({**REQUEST, **extra}, separators=(",", ":"))


@dataclass
class Target:
    """The fast server or a running gateway, with what the round collects from it."""

    name: str
    url: str
    headers: dict[str, str]
    process: ServerProcess
    gateway: Gateway | None = None
    values: dict[str, list[float]] = field(default_factory=dict)
    failures: int = 0

    def record(self, key: str, value: float) -> None:
        self.values.setdefault(key, []).append(value)

    def settle(self, limit: float = 60.0) -> None:
        """Wait until the process stops using CPU (its backlog is done), at most `limit` s."""
        deadline = time.monotonic() + limit
        before = self.process.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = self.process.cpu_seconds()
            if now - before < 0.02:
                return
            before = now


def targets(upstream: FastServer, gateways: list[Gateway]) -> list[Target]:
    out = [Target(DIRECT, f"{upstream.base_url}/chat/completions", {}, upstream)]
    for gw in gateways:
        if gw.process is not None:
            out.append(Target(gw.name, gw.url, gw.headers, gw.process, gw))
    return out


def sequential(target: Target, count: int, stream: bool) -> None:
    """`count` requests one at a time: latency percentiles, or stream first byte and total."""
    raw = body(stream=True) if stream else body()
    with Sequential(target.url, raw.encode(), target.headers) as client:
        timings = client.run(count)
    failed = sum(t.status != 200 for t in timings)
    target.failures += failed
    if stream:
        target.record("stream failures", float(failed))
        firsts = sorted(t.first_byte * 1e3 for t in timings)
        totals = sorted(t.total * 1e3 for t in timings)
        target.record("stream first byte", percentile(firsts, 50))
        target.record("stream total", percentile(totals, 50))
        return
    lat = sorted(t.total * 1e3 for t in timings)
    for q in QUANTILES:
        target.record(f"p{q} sequential", percentile(lat, q))


def _load(gen: LoadGenerator, target: Target, *args: str, **extra: object) -> dict[str, Any]:
    argv = ["--url", target.url, "--body", body(**extra), *args]
    if target.headers:
        argv += ["--headers", json.dumps(target.headers)]
    result = gen.run(*argv)
    target.failures += result.get("error_count", 0)
    target.failures += sum(n for status, n in result["statuses"].items() if status != "200")
    return result


def open_loop(gen: LoadGenerator, target: Target, rate: int, count: int, warmup: int) -> None:
    """Requests due at `rate` per second whether or not earlier ones had responses."""
    result = _load(
        gen,
        target,
        *("--rate", str(rate), "--count", str(count), "--warmup", str(warmup)),
        *("--connections", str(OPEN_LOOP_CONNECTIONS)),
    )
    lat = sorted(result["latencies_ms"])
    for q in QUANTILES:
        target.record(f"p{q} at {rate} rps", percentile(lat, q))
    target.record(f"cut off at {rate} rps", float(result["cut_off"]))
    target.settle()


def sustained(gen: LoadGenerator, target: Target, seconds: float, key: str = "") -> None:
    """`CONCURRENCY` connections back to back: rate, p99, and the process's CPU per request."""
    cpu = target.process.cpu_seconds()
    result = _load(gen, target, "--duration", f"{seconds:.3f}", "--connections", str(CONCURRENCY))
    served = result["count"] + CONCURRENCY  # with each connection's first request
    target.record(f"{key}rate", result["count"] / result["elapsed_s"])
    target.record(f"{key}p99 sustained", percentile(sorted(result["latencies_ms"]), 99))
    target.record(f"{key}cpu", (target.process.cpu_seconds() - cpu) / served * 1e3)
    target.settle()


def cache_hits(
    gen: LoadGenerator, upstream: FastServer, target: Target, seconds: float, connections: int
) -> None:
    """Closed loop with the gateway's cache on: hits are responses the upstream never saw."""
    assert target.gateway is not None
    gw = target.gateway
    before = upstream.stats()["requests"]
    result = _load(
        gen,
        Target(target.name, target.url, {**target.headers, **gw.cache_headers}, target.process),
        *("--duration", f"{seconds:.3f}", "--connections", str(connections)),
        **gw.cache_body,
    )
    forwarded = upstream.stats()["requests"] - before - 1  # the /stats request itself
    answered = result["count"] + connections  # with each connection's first request
    hits = max(0, min(result["count"], answered - forwarded))
    target.record("cache hits", hits / result["elapsed_s"])
    target.record("cache share", hits / max(1, result["count"]))
    target.settle()
