"""``make soak``: the local gateway and the clients under sustained load and faults.

Run with ``python -m tests.integration.reliability.soak`` (``--requests N`` to change the main count).
Phases, each bounded; the whole run takes a few minutes on a 2-core machine:

1. **No loss**: ``cf-aig serve`` with a file-backed log store takes 10,000 requests at
   concurrency 100 (one in ten streamed); every acknowledged response must have its row,
   with its own event id and metadata.
2. **Faults under load**: 2,000 requests of which a quarter are faulted (upstream 503,
   429, a stream cut after two chunks, malformed JSON); every response that carried a
   log id must have a row with the same status.
3. **Crash**: three rounds of ``kill -9`` mid-load and a restart on the same SQLite file;
   every acknowledged row must be there and ``PRAGMA integrity_check`` must say ok.
4. **Faulted store**: ``cf-aig serve --log-path`` under steady load (concurrency 20, one
   in ten streamed) while another process holds the database locked for 4 s, then while
   the gateway's writes are refused as on a full disk for 4 s (its RLIMIT_FSIZE lowered,
   then restored); no request may hang, a 503 (code 2503) or a cut stream may only come
   to a request in flight during a fault, and every acknowledged response must have its row.
5. **Client leaks**: 1,000 calls over every client path (chat model and LiteLLM, sync and
   async, plain and streamed) against a raw server; open sockets and threads are counted
   before and after.
6. **Many workers** and 7. **Memory**: ``cf-aig serve --workers 2`` on Redis and
   PostgreSQL, and the gateway's resident memory over 120,000 requests with the default
   log retention (``soak_workers.py``).

It prints the counts of each phase (requests, rows, errors by type, leaked connections)
and exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from langchain_cf_gateway.core import Header
from tests.support.gateway_process import ACCOUNT, GatewayProcess

from .load import run_load
from .soak_workers import phase_many_workers, phase_memory

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

FAULTS = ["status=503", "status=429", "disconnect=2", "malformed"]


def say(text: str) -> None:
    print(text, flush=True)


def stored_rows(db: Path) -> dict[str, dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        return {
            row_id: json.loads(data) for row_id, data in conn.execute("SELECT id, data FROM logs")
        }


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


# --------------------------------------------------------------------------- phases


def phase_no_loss(workdir: Path, total: int, concurrency: int) -> list[str]:
    db = workdir / "no-loss.sqlite"
    with GatewayProcess(log_path=db) as gw:
        report = asyncio.run(
            run_load(
                gw.base_url, ACCOUNT, total, concurrency=concurrency, run_id="soak", stream_every=10
            )
        )
        peak = gw.rss_peak_kib()
    rows = stored_rows(db)
    wrong = [
        i
        for i, (event, meta) in report.acked.items()
        if i not in rows or rows[i]["event_id"] != event or rows[i]["metadata"] != meta
    ]
    say(
        f"[1 no loss] requests={report.sent} acknowledged={len(report.acked)} rows={len(rows)} "
        f"missing_or_wrong_rows={len(wrong)} errors={dict(report.errors) or 0} "
        f"seconds={report.seconds:.1f} rps={report.sent / max(report.seconds, 1e-9):.0f} "
        f"gateway_peak_rss_mib={peak / 1024:.0f} integrity={integrity(db)}"
    )
    failures = []
    if wrong or len(report.acked) != total or len(rows) != total:
        failures.append(
            f"no loss: {len(wrong)} rows missing or wrong, {len(rows)} rows for {total}"
        )
    return failures


async def faulted_load(
    base_url: str, total: int, concurrency: int
) -> tuple[Counter[str], list[tuple[str, int]]]:
    url = f"{base_url}/v1/{ACCOUNT}/default/compat/chat/completions"
    outcomes: Counter[str] = Counter()
    logged: list[tuple[str, int]] = []
    counter = iter(range(total))

    async def worker(client: httpx.AsyncClient) -> None:
        for i in counter:
            fault = FAULTS[(i // 4) % len(FAULTS)] if i % 4 == 0 else None
            stream = fault == "disconnect=2" or i % 10 == 1
            model = "openai/gpt-4o-mini" + (f"~{fault}" if fault else "")
            body = {
                "model": model,
                "stream": stream,
                "messages": [{"role": "user", "content": f"f{i}"}],
            }
            try:
                async with client.stream(
                    "POST", url, json=body, headers={Header.EVENT_ID: f"fault-{i}"}
                ) as r:
                    log_id = r.headers.get(Header.LOG_ID)
                    try:
                        await r.aread()
                        outcomes[f"HTTP {r.status_code}"] += 1
                    except httpx.HTTPError as exc:
                        outcomes[f"cut: {type(exc).__name__}"] += 1
                    if log_id:
                        logged.append((log_id, r.status_code))
            except httpx.HTTPError as exc:
                outcomes[type(exc).__name__] += 1

    async with httpx.AsyncClient(
        limits=httpx.Limits(max_connections=concurrency), timeout=30
    ) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return outcomes, logged


def phase_faults(workdir: Path, total: int, concurrency: int) -> list[str]:
    db = workdir / "faults.sqlite"
    started = time.monotonic()
    with GatewayProcess(log_path=db) as gw:
        outcomes, logged = asyncio.run(faulted_load(gw.base_url, total, concurrency))
    rows = stored_rows(db)
    missing = [log_id for log_id, _ in logged if log_id not in rows]
    wrong = [
        log_id
        for log_id, status in logged
        if log_id in rows and rows[log_id]["status_code"] != status
    ]
    say(
        f"[2 faults] requests={total} responses_with_log_id={len(logged)} rows={len(rows)} "
        f"missing_rows={len(missing)} wrong_status_rows={len(wrong)} "
        f"outcomes={dict(sorted(outcomes.items()))} seconds={time.monotonic() - started:.1f} "
        f"integrity={integrity(db)}"
    )
    return [f"faults: {len(missing)} missing, {len(wrong)} wrong rows"] if missing or wrong else []


def phase_crash(workdir: Path, rounds: int, concurrency: int) -> list[str]:
    db = workdir / "crash.sqlite"
    acked: dict[str, str] = {}
    errors: Counter[str] = Counter()
    failures: list[str] = []
    for round_no in range(rounds):
        gw = GatewayProcess(log_path=db).start()
        try:
            report = asyncio.run(
                run_load(
                    gw.base_url,
                    ACCOUNT,
                    100_000,
                    concurrency=concurrency,
                    run_id=f"crash{round_no}",
                    kill_after=500,
                    kill=gw.kill,
                )
            )
        finally:
            gw.stop()
        errors.update(report.errors)
        acked.update({log_id: event for log_id, (event, _) in report.acked.items()})
        check = integrity(db)
        rows = stored_rows(db)
        lost = [i for i in acked if i not in rows]
        say(
            f"[3 crash {round_no + 1}/{rounds}] acknowledged_so_far={len(acked)} rows={len(rows)} "
            f"lost_acknowledged={len(lost)} in_flight_errors={dict(report.errors) or 0} integrity={check}"
        )
        if lost or check != "ok":
            failures.append(
                f"crash round {round_no + 1}: {len(lost)} acknowledged rows lost, integrity {check}"
            )
    with GatewayProcess(log_path=db):  # the store reopens after the last kill
        pass
    return failures


@dataclass
class _Exchange:
    """One request of the steady load, and what came of it."""

    started: float
    ended: float
    outcome: str
    """``ok``, ``HTTP <status>``, ``cut`` (a stream that broke off) or an exception name."""
    log_id: str | None
    stream: bool


LOCK_S = 4.0
REFUSED_S = 4.0
COMMIT_TIMEOUT_S = 2.0
GRACE_S = COMMIT_TIMEOUT_S + 1.5
"""A request that started this long after a fault ended may still meet it (back-off)."""


async def _steady_load(
    base_url: str, concurrency: int, stop: asyncio.Event, exchanges: list[_Exchange]
) -> None:
    url = f"{base_url}/v1/{ACCOUNT}/default/compat/chat/completions"
    loop = asyncio.get_running_loop()
    counter = iter(range(10**9))

    async def worker(client: httpx.AsyncClient) -> None:
        for i in counter:
            if stop.is_set():
                return
            stream = i % 10 == 0
            body = {"model": "openai/gpt-4o-mini", "stream": stream, "messages": [
                {"role": "user", "content": f"store fault {i}"}
            ]}  # fmt: skip
            started = loop.time()
            log_id = None
            try:
                async with client.stream("POST", url, json=body) as r:
                    log_id = r.headers.get(Header.LOG_ID)
                    text = (await r.aread()).decode()
                if r.status_code == 200:
                    outcome = "ok" if not stream or "[DONE]" in text else "cut"
                else:
                    outcome = f"HTTP {r.status_code}"
                    if r.status_code == 503 and json.loads(text)["internalCode"] != 2503:
                        outcome += " (not 2503)"
            except httpx.RemoteProtocolError:
                outcome = "cut"
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            exchanges.append(_Exchange(started, loop.time(), outcome, log_id, stream))

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))


async def _faulted_run(
    gw: GatewayProcess, db: Path, concurrency: int
) -> tuple[list[_Exchange], list[tuple[float, float]]]:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    exchanges: list[_Exchange] = []
    windows: list[tuple[float, float]] = []
    load = asyncio.create_task(_steady_load(gw.base_url, concurrency, stop, exchanges))
    await asyncio.sleep(2)
    # Another process (this one) holds the write lock.
    holder = sqlite3.connect(db, isolation_level=None, timeout=30, check_same_thread=False)
    await asyncio.to_thread(holder.execute, "BEGIN EXCLUSIVE")
    begun = loop.time()
    await asyncio.sleep(LOCK_S)
    await asyncio.to_thread(holder.execute, "ROLLBACK")
    holder.close()
    windows.append((begun, loop.time()))
    await asyncio.sleep(3)
    # Writes refused as on a full disk: no file of the gateway may grow past one byte.
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    begun = loop.time()
    resource.prlimit(gw.pid, resource.RLIMIT_FSIZE, (1, hard))
    await asyncio.sleep(REFUSED_S)
    resource.prlimit(gw.pid, resource.RLIMIT_FSIZE, (soft, hard))
    windows.append((begun, loop.time()))
    await asyncio.sleep(4)
    stop.set()
    await load
    return exchanges, windows


def phase_faulted_store(workdir: Path, concurrency: int) -> list[str]:
    db = workdir / "faulted.sqlite"
    started = time.monotonic()
    gw = GatewayProcess("--log-commit-timeout", str(COMMIT_TIMEOUT_S), log_path=db).start()
    try:
        exchanges, windows = asyncio.run(_faulted_run(gw, db, concurrency))
    finally:
        gw.stop()
    rows = stored_rows(db)

    def during_fault(a: _Exchange) -> bool:
        return any(a.started <= end + GRACE_S and a.ended >= begin for begin, end in windows)

    outcomes = Counter(a.outcome for a in exchanges)
    faulted = [a for a in exchanges if a.outcome != "ok"]
    outside = [a for a in faulted if not during_fault(a)]
    unexpected = [a for a in faulted if a.outcome not in ("HTTP 503", "cut")]
    acked = [a for a in exchanges if a.outcome == "ok"]
    missing = [a for a in acked if a.log_id not in rows or rows[a.log_id]["status_code"] != 200]
    marked = [a for a in faulted if a.log_id in rows and rows[a.log_id]["status_code"] == 503]
    slowest = max((a.ended - a.started for a in exchanges), default=0.0)
    say(
        f"[4 faulted store] requests={len(exchanges)} acknowledged={len(acked)} "
        f"outcomes={dict(sorted(outcomes.items()))} faulted_outside_a_fault={len(outside)} "
        f"unexpected_errors={len(unexpected)} missing_acknowledged_rows={len(missing)} "
        f"rows={len(rows)} rows_of_503_responses_saying_503={len(marked)} "
        f"slowest_response_s={slowest:.1f} faults=lock {LOCK_S:g} s + refused writes "
        f"{REFUSED_S:g} s seconds={time.monotonic() - started:.1f} integrity={integrity(db)}"
    )
    failures = []
    if outside or unexpected or missing or not acked or not faulted:
        failures.append(
            f"faulted store: {len(outside)} faults outside a fault window, {len(unexpected)} "
            f"unexpected errors, {len(missing)} acknowledged rows missing, "
            f"{len(faulted)} faulted responses in all"
        )
    return failures


def open_sockets() -> int:
    count = 0
    for fd in list(Path("/proc/self/fd").iterdir()):
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            continue
    return count


def phase_client_leaks(calls: int) -> list[str]:
    from tests.support.rawserver import MisbehavingServer

    from .test_concurrency import POOLS, calls_on_every_path

    with MisbehavingServer() as raw:
        calls_on_every_path(raw, 0, 100)
        sockets, threads = open_sockets(), threading.active_count()
        started = time.monotonic()
        calls_on_every_path(raw, 100, calls)
        seconds = time.monotonic() - started
        after_sockets, after_threads = open_sockets(), threading.active_count()
        # Both ends of each connection live in this process (two sockets); keep-alive pools
        # may hold up to POOLS connections more after a burst. Beyond that is a leak.
        leaked = max(0, (after_sockets - sockets) // 2 - POOLS)
        say(
            f"[5 client leaks] calls={calls} responded={len(raw.received) - 100} "
            f"connections_opened={raw.connections} open_now={raw.open_connections} "
            f"sockets {sockets}->{after_sockets} leaked_connections={leaked} "
            f"threads {threads}->{after_threads} seconds={seconds:.1f}"
        )
        if leaked or after_threads > threads + 8:
            return [
                f"client leaks: sockets {sockets}->{after_sockets}, threads {threads}->{after_threads}"
            ]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.integration.reliability.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--requests", type=int, default=10_000, help="phase 1 (default 10,000)")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--fault-requests", type=int, default=2_000)
    parser.add_argument("--crash-rounds", type=int, default=3)
    parser.add_argument("--client-calls", type=int, default=1_000)
    parser.add_argument("--workers-requests", type=int, default=10_000, help="phase 6")
    parser.add_argument("--memory-requests", type=int, default=120_000, help="phase 7")
    args = parser.parse_args(argv)
    started = time.monotonic()
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cf-aig-soak-") as tmp:
        workdir = Path(tmp)
        failures += phase_no_loss(workdir, args.requests, args.concurrency)
        failures += phase_faults(workdir, args.fault_requests, args.concurrency)
        failures += phase_crash(workdir, args.crash_rounds, 50)
        failures += phase_faulted_store(workdir, 20)
    failures += phase_client_leaks(args.client_calls)
    failures += phase_many_workers(args.workers_requests, args.concurrency)
    failures += phase_memory(args.memory_requests, 50)
    say(f"soak: {'FAILED' if failures else 'ok'} in {time.monotonic() - started:.0f} s")
    for failure in failures:
        say(f"  - {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
