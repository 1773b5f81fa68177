"""``make soak``'s phases on many workers and on memory (see ``soak.py``, which runs them).

6. **Many workers**: ``cf-aig serve --workers 2 --state-url redis://... --log-store
   postgresql://...`` (redis-server and PostgreSQL started here on free loopback ports).
   A rate limit of L per window (fixed and sliding) admits exactly L of 3 L requests sent
   at once across both workers; then 10,000 acknowledged requests, one worker killed with
   ``kill -9`` halfway, replaced by uvicorn's supervisor while the load goes on; every
   acknowledged response must have its row, with its own event id.
7. **Memory**: ``cf-aig serve`` with the default bounds (log rows in memory, 100,000;
   the received requests it keeps, 100,000) takes 120,000 requests; its resident memory
   is read every 10,000. Flat means: from the sample where the row bound is reached to
   the last, RSS grows by at most ``FLAT_SLACK_MIB`` (allocator noise, not a per-request
   cost: 20,000 more requests would otherwise add ~1/5 of what the first 100,000 did).
   Measured here (2 cores, shared): 49 MiB at start, ~4.4 MiB per 1,000 requests up to
   490 MiB at 100,000, then 491 and 492 MiB at 110,000 and 120,000.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psutil

from langchain_cf_gateway.local.logstore import DEFAULT_MAX_ROWS
from tests.support.gateway_process import ACCOUNT, MANAGEMENT_TOKEN, GatewayProcess
from tests.support.postgres import MISSING, find_binaries, start_postgres
from tests.support.redis_server import RedisMissing, start_redis
from tests.support.supervised import log_rows, wait_for_workers

from .load import LoadReport, run_load

RATE_LIMIT = 100
"""L: requests a gateway admits per window in the many-workers phase."""
FLAT_SLACK_MIB = 16
"""The RSS growth allowed once the log store holds its bound of rows."""
SAMPLE_EVERY = 10_000


def say(text: str) -> None:
    print(text, flush=True)


def _management(gw: GatewayProcess) -> tuple[str, dict[str, str]]:
    url = f"{gw.base_url}/client/v4/accounts/{ACCOUNT}/ai-gateway/gateways"
    return url, {"authorization": f"Bearer {MANAGEMENT_TOKEN}"}


def _rate_limit_burst(gw: GatewayProcess, technique: str) -> dict[int, int]:
    """3 L requests at once on a gateway admitting L per hour; their statuses counted."""
    url, auth = _management(gw)
    gateway_id = f"limited-{technique}"
    settings = {
        "id": gateway_id,
        "rate_limiting_limit": RATE_LIMIT,
        "rate_limiting_interval": 3600,
        "rate_limiting_technique": technique,
    }
    httpx.post(url, json=settings, headers=auth, timeout=30).raise_for_status()
    chat = f"{gw.base_url}/v1/{ACCOUNT}/{gateway_id}/compat/chat/completions"
    body = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "limit"}]}

    def send(_: int) -> int:
        with httpx.Client(timeout=30) as client:  # a connection each: both workers accept
            return client.post(chat, json=body).status_code

    with ThreadPoolExecutor(32) as pool:
        statuses = list(pool.map(send, range(3 * RATE_LIMIT)))
    return {status: statuses.count(status) for status in sorted(set(statuses))}


def _cpu(pids: list[int]) -> list[float]:
    return [sum(psutil.Process(pid).cpu_times()[:2]) for pid in pids]


def phase_many_workers(total: int, concurrency: int) -> list[str]:
    """Phase 6; skipped (said so, not failed) where Redis, PostgreSQL or the flags are missing."""
    if find_binaries() is None:
        say(f"[6 many workers] SKIPPED: {MISSING}")
        return []
    try:
        with start_redis() as redis_url, start_postgres() as postgres_url:
            return _many_workers(redis_url, postgres_url, total, concurrency)
    except RedisMissing as exc:
        say(f"[6 many workers] SKIPPED: {exc}")
        return []


def _many_workers(redis_url: str, postgres_url: str, total: int, concurrency: int) -> list[str]:
    started = time.monotonic()
    failures: list[str] = []
    shared = ("--workers", "2", "--state-url", redis_url, "--log-store", postgres_url)
    with GatewayProcess(*shared) as gw:
        first = wait_for_workers(gw.pid, 2)
        cpu_before = _cpu(first)
        bursts = {t: _rate_limit_burst(gw, t) for t in ("fixed", "sliding")}
        cpu_used = [after - before for after, before in zip(_cpu(first), cpu_before, strict=True)]
        for technique, counts in bursts.items():
            if counts != {200: RATE_LIMIT, 429: 2 * RATE_LIMIT}:
                failures.append(
                    f"many workers: a limit of {RATE_LIMIT} ({technique}) gave {counts} "
                    f"for {3 * RATE_LIMIT} requests"
                )
        if min(cpu_used) <= 0:
            failures.append(f"many workers: a worker served nothing (CPU s {cpu_used})")

        killed = first[0]
        half = asyncio.run(
            run_load(
                gw.base_url,
                ACCOUNT,
                total,
                concurrency=concurrency,
                run_id="workers-a",
                kill_after=total // 2,
                kill=lambda: os.kill(killed, signal.SIGKILL),
            )
        )
        rest = asyncio.run(
            run_load(
                gw.base_url,
                ACCOUNT,
                total - len(half.acked),
                concurrency=concurrency,
                run_id="workers-b",
                stream_every=10,
            )
        )
        try:
            replaced = wait_for_workers(gw.pid, 2, other_than=killed, timeout=30)
        except RuntimeError as exc:
            replaced = []
            failures.append(f"many workers: the killed worker was not replaced ({exc})")
        rows = {r["id"]: r for r in log_rows(gw.base_url, ACCOUNT, "default", MANAGEMENT_TOKEN)}
    acked = {**half.acked, **rest.acked}
    lost = [i for i, (event, _) in acked.items() if i not in rows or rows[i]["event_id"] != event]
    errors = half.errors + rest.errors
    say(
        f"[6 many workers] workers=2 rate_limit={RATE_LIMIT}/window "
        f"admitted={ {t: c.get(200, 0) for t, c in bursts.items()} } "
        f"worker_cpu_s_during_burst={[round(c, 2) for c in cpu_used]} "
        f"requests={half.sent + rest.sent} acknowledged={len(acked)} rows={len(rows)} "
        f"lost_acknowledged={len(lost)} killed={killed} replaced_by="
        f"{[p for p in replaced if p not in first]} in_flight_errors={dict(errors) or 0} "
        f"seconds={time.monotonic() - started:.1f}"
    )
    if lost or len(acked) != total:
        failures.append(f"many workers: {len(lost)} acknowledged rows lost, {len(acked)} acked")
    return failures


def _rss_mib(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / 2**20


def _row_count(gw: GatewayProcess) -> int:
    url, auth = _management(gw)
    listed = httpx.get(
        f"{url}/default/logs", params={"per_page": 1}, headers=auth, timeout=30
    ).json()
    count: Any = listed["result_info"]["total_count"]
    return int(count)


def phase_memory(total: int, concurrency: int) -> list[str]:
    """Phase 7: RSS every `SAMPLE_EVERY` requests; flat after the row bound is reached.

    Args:
        total: requests sent (past `DEFAULT_MAX_ROWS`, or nothing is checked).
        concurrency: requests at once.

    Returns:
        The failures.
    """
    started = time.monotonic()
    max_rows = DEFAULT_MAX_ROWS
    samples: list[tuple[int, float, int]] = []  # (requests sent, RSS MiB, rows)
    with GatewayProcess() as gw:
        samples.append((0, _rss_mib(gw.pid), 0))
        sent = 0
        while sent < total:
            chunk = min(SAMPLE_EVERY, total - sent)
            report: LoadReport = asyncio.run(
                run_load(
                    gw.base_url,
                    ACCOUNT,
                    chunk,
                    concurrency=concurrency,
                    run_id=f"memory-{sent}",
                    stream_every=10,
                )
            )
            sent += report.sent
            samples.append((sent, _rss_mib(gw.pid), _row_count(gw)))
    # The bound is reached once that many requests were sent (a failed one may have no row).
    at_bound = next((s for s in samples if s[0] >= max_rows or s[2] >= max_rows), None)
    shown = " ".join(f"{n // 1000}k:{rss:.0f}" for n, rss, _ in samples)
    growth = samples[-1][1] - at_bound[1] if at_bound else float("nan")
    say(
        f"[7 memory] requests={sent} max_rows={max_rows} rows={samples[-1][2]} "
        f"rss_mib_by_requests={shown} bound_reached_at={at_bound[0] if at_bound else None} "
        f"growth_after_bound_mib={growth:.1f} (flat: <= {FLAT_SLACK_MIB}) "
        f"seconds={time.monotonic() - started:.0f}"
    )
    if at_bound is None or at_bound is samples[-1]:
        return [f"memory: the row bound {max_rows} was not passed in {sent} requests"]
    if max(rss for _, rss, _ in samples[samples.index(at_bound) :]) - at_bound[1] > FLAT_SLACK_MIB:
        return [f"memory: RSS grew more than {FLAT_SLACK_MIB} MiB after the row bound: {shown}"]
    return []
