"""A closed-loop load generator for the local gateway: N requests, C at a time, each with
its own event id and metadata, recording which responses were acknowledged (HTTP 200 with a
log id) and every error by type."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from langchain_cf_gateway.core import Header


@dataclass
class LoadReport:
    sent: int = 0
    acked: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    """log id -> (event id, metadata) of every 200 response."""
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


async def run_load(
    base_url: str,
    account: str,
    total: int,
    *,
    concurrency: int = 100,
    run_id: str = "run",
    kill_after: int | None = None,
    kill: Callable[[], None] | None = None,
    gateway_id: str = "default",
    stream_every: int = 0,
) -> LoadReport:
    """Send ``total`` requests; with ``kill_after``, call ``kill`` once that many were acked."""
    url = f"{base_url}/v1/{account}/{gateway_id}/compat/chat/completions"
    report = LoadReport()
    counter = iter(range(total))
    killed = asyncio.Event()
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def worker(client: httpx.AsyncClient) -> None:
        for i in counter:
            if killed.is_set() and kill_after is not None:
                return
            event_id = f"{run_id}-{i}"
            metadata: dict[str, Any] = {"run": run_id, "i": i, "even": i % 2 == 0}
            headers = {
                Header.EVENT_ID: event_id,
                Header.METADATA: json.dumps(metadata, separators=(",", ":")),
            }
            stream = bool(stream_every) and i % stream_every == 0
            body = {
                "model": "openai/gpt-4o-mini",
                "stream": stream,
                "messages": [{"role": "user", "content": f"request {i}"}],
            }
            report.sent += 1
            try:
                if stream:
                    async with client.stream("POST", url, json=body, headers=headers) as r:
                        text = "".join([line async for line in r.aiter_lines()])
                        ok = r.status_code == 200 and "[DONE]" in text
                        log_id, status = r.headers.get(Header.LOG_ID), r.status_code
                else:
                    r = await client.post(url, json=body, headers=headers)
                    ok = r.status_code == 200 and r.json()["choices"][0]["message"]["content"]
                    log_id, status = r.headers.get(Header.LOG_ID), r.status_code
            except (httpx.HTTPError, OSError) as exc:
                report.errors[type(exc).__name__] += 1
                continue
            if ok and log_id:
                report.acked[log_id] = (event_id, metadata)
            else:
                report.errors[f"HTTP {status}"] += 1
            if (
                kill is not None
                and kill_after is not None
                and not killed.is_set()
                and len(report.acked) >= kill_after
            ):
                killed.set()
                kill()

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    report.seconds = loop.time() - started
    return report
