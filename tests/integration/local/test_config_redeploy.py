"""A changed config file wins over the start-up gateways a persistent Redis kept.

`cf-aig serve` processes with a config file (`[gateways.*]`) on one redis-server of the
test's own, started one after the other as a redeploy does: a setting changed in the
file (authentication, a rate limit) is served by the next start, with one warning line
naming the gateway and the setting; a change made through the management API survives a
process started again with the same file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import redis

from langchain_cf_gateway.local.clock import Clock
from langchain_cf_gateway.local.shared_state import open_shared_state
from langchain_cf_gateway.local.shared_state.redis_state import GATEWAYS_CONFIG
from tests.support.gateway_process import ACCOUNT, MANAGEMENT_TOKEN, TOKEN, GatewayProcess

ADMIN = {"authorization": f"Bearer {MANAGEMENT_TOKEN}"}
BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def _chat(process: GatewayProcess, gateway_id: str) -> str:
    return f"{process.base_url}/v1/{ACCOUNT}/{gateway_id}/compat/chat/completions"


def _serve(url: str, gateways: Mapping[str, Mapping[str, Any]]) -> GatewayProcess:
    return GatewayProcess("--state-url", url, gateways=gateways).start()


def _stop(process: GatewayProcess) -> list[str]:
    """Stop the process; every line it printed."""
    assert process.proc is not None
    process.proc.terminate()
    rest = process.stdout.read()
    process.stop()
    return [line.rstrip("\n") for line in [*process.output, *rest.splitlines()]]


def _warnings(lines: list[str], gateway_id: str) -> list[str]:
    return [line for line in lines if f"'{gateway_id}'" in line and "config file" in line]


def test_authentication_turned_on_in_the_file_is_served_after_a_restart(shared_url: str) -> None:
    before = _serve(shared_url, {"default": {"authentication": False}})
    assert httpx.post(_chat(before, "default"), json=BODY).status_code == 200
    assert _warnings(_stop(before), "default") == []

    after = _serve(shared_url, {"default": {"authentication": True}})
    try:
        refused = [httpx.post(_chat(after, "default"), json=BODY) for _ in range(3)]
        assert [r.status_code for r in refused] == [401, 401, 401]
        assert {r.json()["internalCode"] for r in refused} == {2009}
        token = {"cf-aig-authorization": f"Bearer {TOKEN}"}
        assert httpx.post(_chat(after, "default"), json=BODY, headers=token).status_code == 200
    finally:
        lines = _stop(after)
    warned = _warnings(lines, "default")
    assert len(warned) == 1, lines
    assert "authentication" in warned[0] and "rate_limiting" not in warned[0], warned
    printed = "\n".join(lines)
    assert TOKEN not in printed and MANAGEMENT_TOKEN not in printed


def test_a_rate_limit_tightened_in_the_file_is_served_after_a_restart(shared_url: str) -> None:
    gateways: dict[str, dict[str, Any]] = {"default": {}, "team-a": {}}
    before = _serve(shared_url, gateways)
    assert httpx.post(_chat(before, "team-a"), json=BODY).status_code == 200
    _stop(before)

    gateways["team-a"] = {"rate_limiting_limit": 2, "rate_limiting_interval": 3600}
    after = _serve(shared_url, gateways)
    try:
        codes = [httpx.post(_chat(after, "team-a"), json=BODY).status_code for _ in range(4)]
        assert codes == [200, 200, 429, 429]
        assert httpx.post(_chat(after, "default"), json=BODY).status_code == 200
    finally:
        lines = _stop(after)
    warned = _warnings(lines, "team-a")
    assert len(warned) == 1, lines
    assert "rate_limiting_limit" in warned[0] and "rate_limiting_interval" in warned[0]
    assert _warnings(lines, "default") == [], lines


def test_a_runtime_change_survives_a_process_started_with_the_same_file(shared_url: str) -> None:
    gateways = {"default": {"authentication": False}, "team-a": {"cache_ttl": 0}}
    first = _serve(shared_url, gateways)
    try:
        api = f"{first.base_url}/client/v4/accounts/{ACCOUNT}/ai-gateway/gateways"
        for gateway_id in gateways:
            put = httpx.put(f"{api}/{gateway_id}", json={"authentication": True}, headers=ADMIN)
            assert put.status_code == 200, put.text
        second = _serve(shared_url, gateways)  # a worker replaced, or one more host
        try:
            for gateway_id in gateways:
                refused = httpx.post(_chat(second, gateway_id), json=BODY)
                assert refused.status_code == 401, (gateway_id, refused.text)
        finally:
            lines = _stop(second)
        assert _warnings(lines, "default") == [] and _warnings(lines, "team-a") == [], lines
    finally:
        _stop(first)
    again = _serve(shared_url, gateways)  # every process restarted, the same file
    try:
        assert httpx.post(_chat(again, "default"), json=BODY).status_code == 401
    finally:
        _stop(again)


async def test_a_gateway_kept_without_a_fingerprint_takes_the_files_settings(
    shared_url: str,
) -> None:
    """Redis written before fingerprints were kept: the file wins, once, as on a change."""
    clock = Clock(lambda: 1_700_000_000.0)
    old = open_shared_state(shared_url, clock, {"default": {"authentication": False}})
    await old.start(())
    await old.close()
    client = redis.Redis.from_url(shared_url)
    client.delete(GATEWAYS_CONFIG)  # as an earlier version left Redis
    client.close()
    new = open_shared_state(shared_url, clock, {"default": {"authentication": True}})
    try:
        await new.start(())
        gateway = await new.gateway("default")
        assert gateway is not None and gateway.authentication is True
    finally:
        await new.close()


def test_a_start_whose_file_does_not_name_a_gateway_leaves_it_as_redis_holds_it(
    shared_url: str,
) -> None:
    # A debugging run without a config file on the production Redis must not put the
    # built-in settings (authentication off) over the deployment's `default`.
    deployed = _serve(shared_url, {"default": {"authentication": True}})
    try:
        assert httpx.post(_chat(deployed, "default"), json=BODY).status_code == 401
        other = GatewayProcess("--state-url", shared_url).start()
        try:
            assert httpx.post(_chat(other, "default"), json=BODY).status_code == 401
        finally:
            assert _warnings(_stop(other), "default") == []
        refused = [httpx.post(_chat(deployed, "default"), json=BODY) for _ in range(3)]
        assert [r.status_code for r in refused] == [401, 401, 401]
    finally:
        _stop(deployed)
