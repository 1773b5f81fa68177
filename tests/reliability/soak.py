"""``make soak``: the local gateway and the clients under sustained load and faults.

Run with ``python -m tests.reliability.soak`` (``--requests N`` to change the main count).
Phases, each bounded; the whole run takes a few minutes on a 2-core machine:

1. **No loss**: ``cf-aig serve`` with a file-backed log store takes 10,000 requests at
   concurrency 100 (one in ten streamed); every acknowledged answer must have its row,
   with its own event id and metadata.
2. **Faults under load**: 2,000 requests of which a quarter are faulted (upstream 503,
   429, a stream cut after two chunks, malformed JSON); every answer that carried a
   log id must have a row with the same status.
3. **Crash**: three rounds of ``kill -9`` mid-load and a restart on the same SQLite file;
   every acknowledged row must be there and ``PRAGMA integrity_check`` must say ok.
4. **Client leaks**: 1,000 calls over every client path (chat model and LiteLLM, sync and
   async, plain and streamed) against a raw server; open sockets and threads are counted
   before and after.

It prints the counts of each phase (requests, rows, errors by type, leaked connections)
and exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from langchain_cf_gateway.core import Header

from .gateway_process import ACCOUNT, GatewayProcess
from .load import run_load

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
    answered: list[tuple[str, int]] = []
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
                        answered.append((log_id, r.status_code))
            except httpx.HTTPError as exc:
                outcomes[type(exc).__name__] += 1

    async with httpx.AsyncClient(
        limits=httpx.Limits(max_connections=concurrency), timeout=30
    ) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return outcomes, answered


def phase_faults(workdir: Path, total: int, concurrency: int) -> list[str]:
    db = workdir / "faults.sqlite"
    started = time.monotonic()
    with GatewayProcess(log_path=db) as gw:
        outcomes, answered = asyncio.run(faulted_load(gw.base_url, total, concurrency))
    rows = stored_rows(db)
    missing = [log_id for log_id, _ in answered if log_id not in rows]
    wrong = [
        log_id
        for log_id, status in answered
        if log_id in rows and rows[log_id]["status_code"] != status
    ]
    say(
        f"[2 faults] requests={total} answers_with_log_id={len(answered)} rows={len(rows)} "
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


def open_sockets() -> int:
    count = 0
    for fd in list(Path("/proc/self/fd").iterdir()):
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            continue
    return count


def phase_client_leaks(calls: int) -> list[str]:
    from .rawserver import MisbehavingServer
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
            f"[4 client leaks] calls={calls} answered={len(raw.received) - 100} "
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
        prog="python -m tests.reliability.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--requests", type=int, default=10_000, help="phase 1 (default 10,000)")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--fault-requests", type=int, default=2_000)
    parser.add_argument("--crash-rounds", type=int, default=3)
    parser.add_argument("--client-calls", type=int, default=1_000)
    args = parser.parse_args(argv)
    started = time.monotonic()
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cf-aig-soak-") as tmp:
        workdir = Path(tmp)
        failures += phase_no_loss(workdir, args.requests, args.concurrency)
        failures += phase_faults(workdir, args.fault_requests, args.concurrency)
        failures += phase_crash(workdir, args.crash_rounds, 50)
    failures += phase_client_leaks(args.client_calls)
    say(f"soak: {'FAILED' if failures else 'ok'} in {time.monotonic() - started:.0f} s")
    for failure in failures:
        say(f"  - {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
