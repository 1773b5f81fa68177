"""What one request costs the shared state in Redis (`--state-url`), counted by Redis itself.

Every command is a round trip that the gateway's event loop pays for (bench/PROFILES.md,
"Many workers"): a request reads its gateway's settings and takes the scripted fault that
applies to it, if any, once. A policy script and a fault for the first attempt are the same
take: the first live script that matches, whichever it is.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import redis

from tests.support.gateway_process import ACCOUNT, MANAGEMENT_TOKEN, GatewayProcess

ADMIN = {"authorization": f"Bearer {MANAGEMENT_TOKEN}"}
BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
ONE_ATTEMPT = {"cf-aig-max-attempts": "1"}


@pytest.fixture
def gateway(redis_url: str) -> Iterator[tuple[GatewayProcess, redis.Redis]]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    with GatewayProcess("--state-url", redis_url) as process:
        yield process, client
    client.close()


def _chat(process: GatewayProcess) -> str:
    return f"{process.base_url}/v1/{ACCOUNT}/default/compat/chat/completions"


def _commands(client: redis.Redis) -> dict[str, int]:
    stats = client.info("commandstats")
    return {
        name.removeprefix("cmdstat_"): int(value["calls"])
        for name, value in stats.items()
        if not name.startswith(("cmdstat_info", "cmdstat_config"))
    }


def _script(process: GatewayProcess, fault: str, times: int = 1) -> None:
    script = {"fault": fault, "model": "gpt-4o-mini", "times": times}
    added = httpx.post(f"{process.base_url}/__local/scripts", json=script, headers=ADMIN)
    assert added.status_code == 200, added.text


def test_a_request_is_two_round_trips_to_redis(
    gateway: tuple[GatewayProcess, redis.Redis],
) -> None:
    process, client = gateway
    with httpx.Client(timeout=30) as http:
        for _ in range(5):
            assert http.post(_chat(process), json=BODY).status_code == 200
        client.config_resetstat()
        for _ in range(50):
            assert http.post(_chat(process), json=BODY).status_code == 200
    commands = _commands(client)
    # Two round trips: the gateway's settings (HGET, pipelined with an EXISTS that tells
    # an emptied Redis), then one take of the scripts (EVALSHA). The commands a script
    # runs inside Redis are counted too, under their own names.
    sent = {name: n for name, n in commands.items() if name in ("hget", "exists", "evalsha")}
    assert sent == {"hget": 50, "exists": 50, "evalsha": 50}, commands


@pytest.mark.parametrize(
    ("fault", "status"),
    [("status=503", 503), ("policy=deny", 403)],
)
def test_the_first_matching_script_applies_once_whichever_it_is(
    gateway: tuple[GatewayProcess, redis.Redis], fault: str, status: int
) -> None:
    process, _ = gateway
    _script(process, fault)
    with httpx.Client(timeout=30) as http:
        first = http.post(_chat(process), json=BODY, headers=ONE_ATTEMPT)
        second = http.post(_chat(process), json=BODY, headers=ONE_ATTEMPT)
        pending = http.get(f"{process.base_url}/__local/scripts", headers=ADMIN)
    assert (first.status_code, second.status_code) == (status, 200), first.text
    assert pending.json()["result"] == []


def test_a_policy_named_by_the_model_leaves_a_queued_fault_for_a_later_request(
    gateway: tuple[GatewayProcess, redis.Redis],
) -> None:
    # The model's own directive makes the policy response; the queued fault is not used
    # up by a request that never reached an attempt.
    process, _ = gateway
    _script(process, "status=503")
    denied = {**BODY, "model": "openai/gpt-4o-mini~policy=deny"}
    with httpx.Client(timeout=30) as http:
        first = http.post(_chat(process), json=denied, headers=ONE_ATTEMPT)
        second = http.post(_chat(process), json=BODY, headers=ONE_ATTEMPT)
        third = http.post(_chat(process), json=BODY, headers=ONE_ATTEMPT)
    assert [first.status_code, second.status_code, third.status_code] == [403, 503, 200]
