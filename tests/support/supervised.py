"""The worker processes of `cf-aig serve --workers N`, found as children of the serve process.

uvicorn's supervisor starts each worker with `multiprocessing`'s spawn context, which also
starts a resource tracker: a child that is no worker, told apart by its command line.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import psutil


def worker_pids(serve_pid: int) -> list[int]:
    """The pids of the live workers of the serve process `serve_pid`, sorted."""
    pids = []
    for child in psutil.Process(serve_pid).children():
        try:
            command = " ".join(child.cmdline())
            alive = child.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            continue
        if alive and "spawn_main" in command and "resource_tracker" not in command:
            pids.append(child.pid)
    return sorted(pids)


def wait_for_workers(
    serve_pid: int, count: int, *, other_than: int = 0, timeout: float = 60
) -> list[int]:
    """Wait until `serve_pid` has `count` live workers, none of them `other_than`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = worker_pids(serve_pid)
        if len(pids) == count and other_than not in pids:
            return pids
        time.sleep(0.1)
    raise RuntimeError(
        f"serve process {serve_pid} has workers {worker_pids(serve_pid)}, not {count}"
    )


def log_rows(base_url: str, account: str, gateway_id: str, token: str) -> Iterator[dict[str, Any]]:
    """Every log row of a gateway, through the logs API (whatever store holds them)."""
    url = f"{base_url}/client/v4/accounts/{account}/ai-gateway/gateways/{gateway_id}/logs"
    headers = {"authorization": f"Bearer {token}"}
    with httpx.Client(timeout=60) as client:
        page = 1
        while True:
            body = client.get(url, params={"page": page, "per_page": 50}, headers=headers).json()
            yield from body["result"]
            if page * 50 >= body["result_info"]["total_count"]:
                return
            page += 1
