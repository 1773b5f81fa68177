"""Two gateways on one Redis (`--state-url`) behave as one gateway.

Two `cf-aig serve` processes (and two `LocalGateway`s) share a redis-server of the test's
own: a rate limit of L admits exactly L across both under concurrent load (fixed and
sliding windows), a gateway or a dynamic route made through one is served by the other,
a fault scripted with `times=3` fires exactly 3 times across both. Redis unreachable at
start stops `cf-aig serve` with one line (exit 2); Redis lost mid-run is HTTP 503,
code 2504, until it is back.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from langchain_cf_gateway.core.dynamic_routes import DynamicRoute
from langchain_cf_gateway.local import LocalGateway
from tests.support.gateway_process import ACCOUNT, MANAGEMENT_TOKEN, GatewayProcess
from tests.support.processes import child_env
from tests.support.rawserver import free_port
from tests.support.redis_server import redis_on

ADMIN = {"authorization": f"Bearer {MANAGEMENT_TOKEN}"}
BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
ROUTE = DynamicRoute.fallback_chain(["openai/gpt-4o-mini"], name="shared")
REDIS = shutil.which("redis-server")
CLI = (sys.executable, "-m", "langchain_cf_gateway.cli")


@pytest.fixture
def workers(shared_url: str) -> Iterator[tuple[GatewayProcess, GatewayProcess]]:
    with (
        GatewayProcess("--state-url", shared_url) as one,
        GatewayProcess("--state-url", shared_url) as two,
    ):
        yield one, two


def _api(process: GatewayProcess, path: str) -> str:
    return f"{process.base_url}/client/v4/accounts/{ACCOUNT}/ai-gateway/{path}"


def _chat(process: GatewayProcess, gateway_id: str) -> str:
    return f"{process.base_url}/v1/{ACCOUNT}/{gateway_id}/compat/chat/completions"


async def _load(urls: list[str], n: int, body: dict[str, Any] = BODY) -> list[httpx.Response]:
    """`n` requests at once, spread over `urls` in turn."""
    async with httpx.AsyncClient(timeout=30) as client:
        sent = (client.post(urls[i % len(urls)], json=body) for i in range(n))
        return list(await asyncio.gather(*sent))


def _codes(responses: list[httpx.Response]) -> list[int]:
    return [r.status_code for r in responses]


@pytest.mark.parametrize("technique", ["fixed", "sliding"])
def test_a_rate_limit_of_l_admits_exactly_l_across_two_processes(
    workers: tuple[GatewayProcess, GatewayProcess], technique: str
) -> None:
    one, two = workers
    settings = {
        "id": "limited",
        "rate_limiting_limit": 10,
        "rate_limiting_interval": 3600,  # one window for the whole test
        "rate_limiting_technique": technique,
    }
    created = httpx.post(_api(one, "gateways"), json=settings, headers=ADMIN)
    assert created.status_code == 200, created.text
    responses = asyncio.run(_load([_chat(one, "limited"), _chat(two, "limited")], 60))
    codes = _codes(responses)
    assert codes.count(200) == 10 and codes.count(429) == 50, codes
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.json()["internalCode"] == 2003


def test_a_gateway_made_through_one_is_served_by_the_other(
    workers: tuple[GatewayProcess, GatewayProcess],
) -> None:
    one, two = workers
    assert httpx.post(_chat(two, "team-a"), json=BODY).json()["internalCode"] == 2001
    created = httpx.post(_api(one, "gateways"), json={"id": "team-a"}, headers=ADMIN)
    assert created.status_code == 200, created.text
    assert httpx.post(_chat(two, "team-a"), json=BODY).status_code == 200
    put = httpx.put(_api(two, "gateways/team-a"), json={"authentication": True}, headers=ADMIN)
    assert put.status_code == 200, put.text
    refused = httpx.post(_chat(one, "team-a"), json=BODY)  # no cf-aig-authorization now
    assert (refused.status_code, refused.json()["internalCode"]) == (401, 2009)
    listed = httpx.get(_api(one, "gateways"), headers=ADMIN).json()["result"]
    assert [g["id"] for g in listed] == ["default", "team-a"]
    assert httpx.delete(_api(one, "gateways/team-a"), headers=ADMIN).status_code == 200
    assert httpx.post(_chat(two, "team-a"), json=BODY).json()["internalCode"] == 2001


async def _creates(urls: list[str], gateway_id: str, n: int) -> list[httpx.Response]:
    """`n` creates of one gateway id at once, spread over `urls` in turn."""
    async with httpx.AsyncClient(timeout=30) as client:
        sent = (
            client.post(urls[i % len(urls)], json={"id": gateway_id}, headers=ADMIN)
            for i in range(n)
        )
        return list(await asyncio.gather(*sent))


def _one_create_wins(responses: list[httpx.Response], gateway_id: str) -> None:
    """One 200; every other create gets the 409 body the check before the create gives."""
    codes = _codes(responses)
    assert codes.count(200) == 1 and codes.count(409) == len(codes) - 1, [r.text for r in responses]
    refusals = {json.dumps(r.json()["errors"]) for r in responses if r.status_code == 409}
    message = f"a gateway {gateway_id!r} already exists"
    assert refusals == {json.dumps([{"code": 7004, "message": message}])}


def test_racing_creates_of_one_id_on_two_processes_give_one_200_and_409s(
    workers: tuple[GatewayProcess, GatewayProcess],
) -> None:
    one, two = workers
    urls = [_api(one, "gateways"), _api(two, "gateways")]
    for gateway_id in ("racer-1", "racer-2", "racer-3"):
        _one_create_wins(asyncio.run(_creates(urls, gateway_id, 20)), gateway_id)
    listed = httpx.get(_api(one, "gateways"), headers=ADMIN).json()["result"]
    assert [g["id"] for g in listed] == ["default", "racer-1", "racer-2", "racer-3"]


def test_racing_creates_of_one_id_on_memory_state_give_one_200_and_409s() -> None:
    with GatewayProcess() as gw:
        _one_create_wins(asyncio.run(_creates([_api(gw, "gateways")], "racer", 20)), "racer")


def test_racing_deletes_of_one_gateway_give_one_200_and_404s(
    workers: tuple[GatewayProcess, GatewayProcess],
) -> None:
    one, two = workers
    for gateway_id in ("doomed-1", "doomed-2", "doomed-3"):
        made = httpx.post(_api(one, "gateways"), json={"id": gateway_id}, headers=ADMIN)
        assert made.status_code == 200, made.text
        urls = [_api(one, f"gateways/{gateway_id}"), _api(two, f"gateways/{gateway_id}")]

        async def deletes(urls: list[str] = urls) -> list[httpx.Response]:
            async with httpx.AsyncClient(timeout=30) as client:
                sent = (client.delete(urls[i % 2], headers=ADMIN) for i in range(20))
                return list(await asyncio.gather(*sent))

        responses = asyncio.run(deletes())
        codes = _codes(responses)
        assert codes.count(200) == 1 and codes.count(404) == 19, codes
        assert [r.json()["result"]["id"] for r in responses if r.status_code == 200] == [gateway_id]


def test_a_route_deployed_through_one_is_served_by_the_other(
    workers: tuple[GatewayProcess, GatewayProcess],
) -> None:
    one, two = workers
    body = {**BODY, "model": "dynamic/shared"}
    assert httpx.post(_chat(two, "default"), json=body).json()["internalCode"] == 2005
    created = httpx.post(_api(one, "gateways/default/routes"), json=ROUTE.to_api(), headers=ADMIN)
    assert created.status_code == 200, created.text
    served = httpx.post(_chat(two, "default"), json=body)
    assert served.status_code == 200, served.text
    route_id = created.json()["result"]["id"]
    seen = httpx.get(_api(two, f"gateways/default/routes/{route_id}"), headers=ADMIN)
    assert seen.status_code == 200 and seen.json()["result"]["name"] == "shared"
    deleted = httpx.delete(_api(two, f"gateways/default/routes/{route_id}"), headers=ADMIN)
    assert deleted.status_code == 200
    assert httpx.post(_chat(one, "default"), json=body).json()["internalCode"] == 2005


def test_a_fault_scripted_times_3_fires_exactly_3_times_across_both(
    workers: tuple[GatewayProcess, GatewayProcess],
) -> None:
    one, two = workers
    script = {"fault": "status=503", "model": "gpt-4o-mini", "times": 3}
    added = httpx.post(f"{two.base_url}/__local/scripts", json=script, headers=ADMIN)
    assert added.status_code == 200, added.text
    headers = {"cf-aig-max-attempts": "1"}
    urls = [_chat(one, "default"), _chat(two, "default")]

    async def load() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            sent = (client.post(urls[i % 2], json=BODY, headers=headers) for i in range(20))
            return list(await asyncio.gather(*sent))

    codes = _codes(asyncio.run(load()))
    assert codes.count(503) == 3 and codes.count(200) == 17, codes
    pending = httpx.get(f"{one.base_url}/__local/scripts", headers=ADMIN).json()["result"]
    assert pending == []


def test_two_local_gateways_on_one_redis_share_a_rate_limit(shared_url: str) -> None:
    limited = {"limited": {"rate_limiting_limit": 4, "rate_limiting_interval": 3600}}
    with (
        LocalGateway(state_url=shared_url, gateways=limited) as one,
        LocalGateway(state_url=shared_url, gateways=limited) as two,
    ):
        urls = [
            f"{gw.base_url}/v1/{gw.account_id}/limited/compat/chat/completions" for gw in (one, two)
        ]
        codes = _codes(asyncio.run(_load(urls, 12)))
        assert codes.count(200) == 4 and codes.count(429) == 8, codes
        one.script("from one", times=2)
        default = f"{two.base_url}/v1/{two.account_id}/default/compat/chat/completions"
        texts = [
            httpx.post(default, json=BODY).json()["choices"][0]["message"]["content"]
            for _ in range(3)
        ]
        assert texts[:2] == ["from one", "from one"] and texts[2] != "from one"


def test_redis_unreachable_at_start_is_one_line_and_exit_2() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    done = subprocess.run(
        [*CLI, "serve", "--port", "0", "--state-url", url],
        capture_output=True,
        text=True,
        timeout=60,
        env=child_env(),
    )
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and url in lines[0] and "--state-url" in lines[0], lines


@pytest.mark.skipif(REDIS is None, reason="redis-server is not installed (.ci/run installs it)")
def test_redis_lost_mid_run_is_503_2504_and_serving_resumes_when_it_is_back() -> None:
    port = free_port()

    def start_redis() -> subprocess.Popen[bytes]:
        return redis_on(port)

    server = start_redis()
    try:
        with GatewayProcess("--state-url", f"redis://127.0.0.1:{port}/0") as gw:
            url = _chat(gw, "default")
            assert httpx.post(url, json=BODY).status_code == 200
            server.terminate()
            server.wait(timeout=10)
            lost = httpx.post(url, json=BODY, timeout=30)
            assert lost.status_code == 503
            assert lost.json()["internalCode"] == 2504
            admin = httpx.get(f"{gw.base_url}/__local/scripts", headers=ADMIN, timeout=30)
            assert (admin.status_code, admin.json()["internalCode"]) == (503, 2504)
            server = start_redis()  # an empty Redis: the start-up gateways are made again
            assert httpx.post(url, json=BODY).status_code == 200
            created = httpx.post(_api(gw, "gateways"), json={"id": "back"}, headers=ADMIN)
            assert created.status_code == 200, created.text
            assert httpx.post(_chat(gw, "back"), json=BODY).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.skipif(REDIS is None, reason="redis-server is not installed (.ci/run installs it)")
def test_a_list_of_gateways_first_after_redis_restarted_empty_has_the_start_up_gateways() -> None:
    port = free_port()
    server = redis_on(port)
    try:
        with GatewayProcess("--state-url", f"redis://127.0.0.1:{port}/0") as gw:
            assert httpx.post(_chat(gw, "default"), json=BODY).status_code == 200
            server.terminate()
            server.wait(timeout=10)
            server = redis_on(port)  # empty; the list is the first request it gets
            listed = httpx.get(_api(gw, "gateways"), headers=ADMIN, timeout=30)
            assert listed.status_code == 200, listed.text
            assert [g["id"] for g in listed.json()["result"]] == ["default"]
    finally:
        server.terminate()
        server.wait(timeout=10)


async def _rounds(url: str, n: int, headers: dict[str, str]) -> list[httpx.Response]:
    """`n` requests, 10 at a time (pooled connections to Redis are made and reused)."""
    limit = asyncio.Semaphore(10)
    async with httpx.AsyncClient(timeout=30) as client:

        async def one() -> httpx.Response:
            async with limit:
                return await client.post(url, json=BODY, headers=headers)

        return list(await asyncio.gather(*(one() for _ in range(n))))


@pytest.mark.skipif(REDIS is None, reason="redis-server is not installed (.ci/run installs it)")
@pytest.mark.parametrize("asked_meanwhile", [True, False])
def test_a_redis_restarted_on_its_port_serves_every_request_once_it_answers(
    caplog: pytest.LogCaptureFixture, asked_meanwhile: bool
) -> None:
    """The pooled connections Redis closed when it stopped are made again, not failed.

    The shared state and the cache share the Redis, which restarts empty. The warnings
    of one outage are one "unreachable" and one "is back" (none when no request met
    it), and the cache answers HIT as soon as Redis does.
    """
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    cached = {"cf-aig-cache-ttl": "60"}
    server = redis_on(port)
    try:
        with LocalGateway(state_url=url, cache_url=url) as gw:
            chat = f"{gw.gateway_url}/compat/chat/completions"
            assert set(_codes(asyncio.run(_rounds(chat, 60, cached)))) == {200}
            server.terminate()
            server.wait(timeout=10)
            if asked_meanwhile:
                lost = httpx.post(chat, json=BODY, timeout=30)
                assert (lost.status_code, lost.json()["internalCode"]) == (503, 2504)
            server = redis_on(port)  # answers PONG: every request from now on is served
            first = asyncio.run(_rounds(chat, 60, cached))
            second = asyncio.run(_rounds(chat, 60, cached))
            codes = _codes(first + second)
            assert codes == [200] * 120, (codes.count(503), [r.text for r in first + second])
            assert {r.headers["cf-aig-cache-status"] for r in second} == {"HIT"}
    finally:
        server.terminate()
        server.wait(timeout=10)
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    state = [m for m in said if m.startswith("shared state at")]
    pair = [" is unreachable", " is back"] if asked_meanwhile else []
    assert [m.split(" (")[0].split(url)[1] for m in state] == pair, said
    assert not [m for m in said if m.startswith("Redis cache at")], said


@pytest.mark.parametrize("technique", ["fixed", "sliding"])
def test_a_route_limiter_counts_across_two_local_gateways(shared_url: str, technique: str) -> None:
    route = DynamicRoute.rate_limit(
        "openai/gpt-4o-mini",
        key="metadata.user",
        limit=3,
        interval=3600,
        technique=technique,
        name="limited",
    )
    with (
        LocalGateway(state_url=shared_url, routes=[route]) as one,
        LocalGateway(state_url=shared_url, routes=[route]) as two,
    ):
        urls = [f"{gw.gateway_url}/compat/chat/completions" for gw in (one, two)]
        body = {**BODY, "model": "dynamic/limited"}

        async def load() -> list[httpx.Response]:
            headers = {"cf-aig-metadata": json.dumps({"user": "alice"})}
            async with httpx.AsyncClient(timeout=30) as client:
                sent = (client.post(urls[i % 2], json=body, headers=headers) for i in range(12))
                return list(await asyncio.gather(*sent))

        codes = _codes(asyncio.run(load()))
        assert codes.count(200) == 3 and codes.count(429) == 9, codes


def test_a_route_budget_is_spent_across_two_local_gateways(shared_url: str) -> None:
    route = DynamicRoute.rate_limit(
        "openai/gpt-4o-mini",
        key="metadata.team",
        limit=0.5,
        interval=3600,
        limit_type="cost",
        fallback="anthropic/claude-3-5-haiku",
        name="budget",
    )
    with (
        LocalGateway(state_url=shared_url, routes=[route]) as one,
        LocalGateway(state_url=shared_url, routes=[route]) as two,
    ):
        headers = {
            "cf-aig-metadata": json.dumps({"team": "t"}),
            "cf-aig-custom-cost": json.dumps({"total_cost": 0.3}),
        }
        body = {**BODY, "model": "dynamic/budget"}
        models = [
            httpx.post(
                f"{gw.gateway_url}/compat/chat/completions", json=body, headers=headers
            ).json()["model"]
            for gw in (one, two, one)
        ]
        assert models[:2] == ["gpt-4o-mini", "gpt-4o-mini"] and "haiku" in models[2], models
