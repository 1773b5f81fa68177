"""A loopback HTTP/1.1 load generator, run in its own process: ``python -m bench.loadgen``.

Two modes, both over keep-alive connections and prebuilt request bytes, so the
generator costs little and never shares an interpreter with the server it measures:

- ``--rate R --count N``: open loop. Request ``i`` is due at ``t0 + i / R`` whether or
  not earlier ones have had their responses; it goes out on an idle connection, or a new one up to
  ``--connections``, else waits for one. Latency runs from the due time to the last byte
  of the response, so a server that falls behind is charged for the queue it builds
  (no coordinated omission). Responses still missing ``--drain`` seconds after the last
  request was due are cut off and counted as ``cut_off``, their latency as the time
  they had waited (a lower bound), so a run never outlasts its schedule by much.
- ``--duration S --connections C``: closed loop. C connections send back to back for S
  seconds; the result is the rate of completed requests (and of cache hits) and each
  request's latency from its sending to the last byte of its response.

``--serve`` keeps one process for many runs (a JSON list of arguments per stdin line).
Writes one JSON object to stdout: latencies in ms (open loop), counts, statuses,
``cache_hits`` (responses with ``cf-aig-cache-status: HIT``), elapsed seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from langchain_cf_gateway.core import Header

_HIT = f"\r\n{Header.CACHE_STATUS}: hit".encode()


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def request(self, raw: bytes) -> tuple[int, bool]:
        """Send one request, read the whole response: (status, cache hit)."""
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        start = lower.find(b"\r\ncontent-length:")
        if start >= 0:
            end = lower.find(b"\r\n", start + 2)
            await self.reader.readexactly(int(lower[start + 17 : end]))
        elif b"\r\ntransfer-encoding: chunked" in lower:
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        return status, _HIT in lower


def build_request(url: str, body: bytes, headers: dict[str, str]) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    lines = [
        f"POST {parts.path or '/'} HTTP/1.1",
        f"host: {host}:{port}",
        "content-type: application/json",
        f"content-length: {len(body)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return host, port, ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def open_loop(
    host: str,
    port: int,
    raw: bytes,
    rate: float,
    count: int,
    warmup: int,
    max_connections: int,
    drain: float,
) -> dict[str, Any]:
    idle: list[Connection] = []
    opened = 0
    waiters: asyncio.Queue[Connection] = asyncio.Queue()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    hits = 0

    async def acquire() -> Connection:
        nonlocal opened
        if idle:
            return idle.pop()
        if opened < max_connections:
            opened += 1
            return Connection(*await asyncio.open_connection(host, port))
        return await waiters.get()

    def release(conn: Connection) -> None:
        if waiters._getters:  # type: ignore[attr-defined]  # someone is waiting: hand over
            waiters.put_nowait(conn)
        else:
            idle.append(conn)

    async def one(due: float, record: bool) -> None:
        nonlocal hits, opened
        conn = await acquire()
        try:
            status, hit = await conn.request(raw)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            errors.append(repr(exc))
            conn.writer.close()
            opened -= 1
            return
        done = time.perf_counter()
        release(conn)
        if record:
            latencies.append((done - due) * 1e3)
            statuses[status] = statuses.get(status, 0) + 1
            hits += hit

    tasks: dict[asyncio.Task[None], tuple[float, bool]] = {}
    total = warmup + count
    t0 = time.perf_counter()
    for i in range(total):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks[asyncio.create_task(one(due, i >= warmup))] = (due, i >= warmup)
    # Bounded: what a server has not responded to `drain` seconds after the last request was
    # due is cut off, and its latency counts as at least the time it waited.
    _, pending = await asyncio.wait(tasks, timeout=drain)
    cut = time.perf_counter()
    cut_off = 0
    for task in pending:
        task.cancel()
        due, record = tasks[task]
        if record:
            cut_off += 1
            latencies.append((cut - due) * 1e3)
    await asyncio.gather(*pending, return_exceptions=True)
    elapsed = time.perf_counter() - t0
    for conn in idle:
        conn.writer.close()
    return {
        "mode": "open",
        "rate": rate,
        "count": count,
        "latencies_ms": latencies,
        "statuses": statuses,
        "errors": errors[:5],
        "error_count": len(errors),
        "cut_off": cut_off,
        "cache_hits": hits,
        "elapsed_s": elapsed,
        "connections": opened,
    }


async def closed_loop(
    host: str, port: int, raw: bytes, duration: float, connections: int
) -> dict[str, Any]:
    done = 0
    hits = 0
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    conns = [Connection(*await asyncio.open_connection(host, port)) for _ in range(connections)]
    for conn in conns:  # warm: the first response may be a cache MISS
        await conn.request(raw)
    stop = time.perf_counter() + duration

    async def worker(conn: Connection) -> None:
        nonlocal done, hits
        while (sent := time.perf_counter()) < stop:
            status, hit = await conn.request(raw)
            latencies.append((time.perf_counter() - sent) * 1e3)
            done += 1
            hits += hit
            statuses[status] = statuses.get(status, 0) + 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    elapsed = time.perf_counter() - t0
    for conn in conns:
        conn.writer.close()
    return {
        "mode": "closed",
        "count": done,
        "latencies_ms": latencies,
        "cache_hits": hits,
        "statuses": statuses,
        "elapsed_s": elapsed,
        "connections": connections,
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--body", required=True, help="the JSON body, sent as is")
    parser.add_argument("--headers", default="{}", help="a JSON object of extra headers")
    parser.add_argument("--rate", type=float)
    parser.add_argument("--count", type=int)
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--duration", type=float)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--drain",
        type=float,
        default=3.0,
        help="open loop: seconds to wait for responses after the last request was due",
    )
    return parser


def run(argv: list[str]) -> dict[str, Any]:
    parser = _parser()
    args = parser.parse_args(argv)
    host, port, raw = build_request(args.url, args.body.encode(), json.loads(args.headers))
    if args.rate and args.count:
        coro = open_loop(
            host, port, raw, args.rate, args.count, args.warmup, args.connections, args.drain
        )
    elif args.duration:
        coro = closed_loop(host, port, raw, args.duration, args.connections)
    else:
        parser.error("give --rate and --count (open loop) or --duration (closed loop)")
    return asyncio.run(coro)


def main() -> None:
    if sys.argv[1:] == ["--serve"]:
        # One process for many runs: each stdin line is a JSON list of arguments, each
        # result one JSON line (saves an interpreter start-up per run).
        sys.stdout.write("listening on stdin\n")
        sys.stdout.flush()
        for line in sys.stdin:
            sys.stdout.write(json.dumps(run(json.loads(line))) + "\n")
            sys.stdout.flush()
        return
    json.dump(run(sys.argv[1:]), sys.stdout)


if __name__ == "__main__":
    main()
