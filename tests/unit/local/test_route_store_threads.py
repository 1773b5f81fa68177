"""`RouteStore` from several threads: every version and deployment kept, readers see whole routes."""

from __future__ import annotations

import threading

from langchain_cf_gateway import DynamicRoute
from langchain_cf_gateway.local.route_store import RouteStore

ROUTES = [
    DynamicRoute.fallback_chain(["openai/gpt-4o-mini"], name="support"),
    DynamicRoute.split(
        {"openai/gpt-4o-mini": 80, "anthropic/claude-3-5-haiku": 20}, name="support"
    ),
]


def test_concurrent_deploys_and_reads_lose_nothing() -> None:
    store = RouteStore()
    threads_n, deploys = 8, 50
    seen_bad: list[object] = []
    start = threading.Barrier(threads_n + 1)

    def deployer(index: int) -> None:
        start.wait()
        for i in range(deploys):
            store.deploy("default", ROUTES[(index + i) % 2])

    def reader() -> None:
        start.wait()
        for _ in range(threads_n * deploys):
            route = store.active("default", "support")
            if route is not None and route not in ROUTES:
                seen_bad.append(route)

    threads = [threading.Thread(target=deployer, args=(i,)) for i in range(threads_n)]
    threads.append(threading.Thread(target=reader))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    [stored] = store.routes_of("default")
    assert len(stored.versions) == len(stored.deployments) == threads_n * deploys
    assert len({v.version_id for v in stored.versions}) == threads_n * deploys
    assert seen_bad == []
    assert store.active("default", "support") == stored.deployed.route
