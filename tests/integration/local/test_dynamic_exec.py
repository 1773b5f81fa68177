"""The local gateway runs deployed dynamic routes: each element over loopback.

https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from langchain_cf_gateway import DynamicRoute
from langchain_cf_gateway.core import Header
from langchain_cf_gateway.core.dynamic_routes import (
    ConditionalElement,
    EndElement,
    LimitElement,
    ModelElement,
    StartElement,
)
from langchain_cf_gateway.local import LocalGateway
from langchain_cf_gateway.local.dynamic_exec import ROUTE_SEED_HEADER
from tests.support.local_calls import chat_body, compat, gateway_error, http, universal

HAIKU = "anthropic/claude-3-5-haiku"
MINI = "openai/gpt-4o-mini"


def answered(response: httpx.Response) -> str:
    """`provider/model` of the model that answered, from the response headers."""
    assert response.status_code == 200, response.text
    return f"{response.headers[Header.PROVIDER]}/{response.headers[Header.MODEL]}"


def call(
    gw: LocalGateway, name: str, metadata: dict[str, Any] | None = None, **headers: str
) -> httpx.Response:
    sent = dict(headers)
    if metadata is not None:
        sent[Header.METADATA] = json.dumps(metadata)
    return compat(gw, chat_body(f"dynamic/{name}"), sent)


def test_a_fallback_chain_answers_with_the_first_model_and_names_it(gateway: LocalGateway) -> None:
    gateway.deploy_route(DynamicRoute.fallback_chain([MINI, HAIKU], name="chain"))
    response = call(gateway, "chain")
    assert answered(response) == MINI
    assert response.json()["choices"][0]["message"]["content"]
    [row] = gateway.logs()
    assert (row["provider"], row["model"], row["success"]) == ("openai", "gpt-4o-mini", True)
    assert row["id"] == response.headers[Header.LOG_ID]
    assert row["path"] == "compat/chat/completions"


def test_a_failing_model_falls_back_and_every_model_tried_has_its_row(
    gateway: LocalGateway,
) -> None:
    gateway.deploy_route(DynamicRoute.fallback_chain([f"{MINI}~status=503", HAIKU], name="fb"))
    response = call(gateway, "fb")
    assert answered(response) == HAIKU
    rows = sorted(gateway.logs(), key=lambda r: r["created_at"])
    assert [(r["provider"], r["status_code"]) for r in rows] == [
        ("openai", 503),
        ("anthropic", 200),
    ]
    assert response.headers[Header.LOG_ID] == next(
        r["id"] for r in rows if r["provider"] == "anthropic"
    )
    assert {r["request_id"] for r in rows} == {response.headers[Header.REQUEST_ID]}


def test_a_model_without_a_fallback_ends_the_route_with_its_error(gateway: LocalGateway) -> None:
    route = DynamicRoute(
        name="bare",
        elements=[
            StartElement(id="start", outputs={"next": "m"}),
            ModelElement(
                id="m",
                provider="openai",
                model="gpt-4o-mini~status=500",
                timeout=5000,
                retries=0,
                outputs={"success": "end"},
            ),
            EndElement(id="end"),
        ],
    )
    gateway.deploy_route(route)
    response = call(gateway, "bare")
    assert response.status_code == 500
    assert response.headers[Header.MODEL] == "gpt-4o-mini"


def test_a_slow_model_times_out_into_its_fallback(gateway: LocalGateway) -> None:
    route = DynamicRoute.fallback_chain([f"{MINI}~delay=1500", HAIKU], name="slow", timeout_ms=100)
    gateway.deploy_route(route)
    began = time.perf_counter()
    response = call(gateway, "slow")
    assert answered(response) == HAIKU
    assert time.perf_counter() - began < 1.2
    slow = next(r for r in gateway.logs() if r["provider"] == "openai")
    assert (slow["success"], slow["status_code"]) == (False, 502)


def test_retries_are_more_attempts_of_the_same_model(gateway: LocalGateway) -> None:
    route = DynamicRoute.fallback_chain(
        [f"{MINI}~status=503~attempts=1", HAIKU], name="retry", retries=1
    )
    gateway.deploy_route(route)
    assert answered(call(gateway, "retry")) == MINI
    [row] = gateway.logs()
    assert row["attempts"] == 2


def test_a_conditional_routes_on_metadata_body_and_headers(gateway: LocalGateway) -> None:
    condition = {
        "$or": [
            {"metadata.plan": {"$eq": "paid"}},
            {"body.temperature": {"$gte": 1}},
            {"headers.x-team": {"$in": ["core"]}},
        ]
    }
    gateway.deploy_route(DynamicRoute.conditional(condition, then=MINI, otherwise=HAIKU, name="c"))
    assert answered(call(gateway, "c", {"plan": "paid"})) == MINI
    assert answered(call(gateway, "c", {"plan": "free"})) == HAIKU
    assert answered(call(gateway, "c")) == HAIKU
    assert answered(call(gateway, "c", **{"x-team": "core"})) == MINI
    hot = compat(gateway, chat_body("dynamic/c", temperature=1.5))
    assert answered(hot) == MINI


def test_a_seeded_split_is_repeatable_and_seeds_spread(gateway: LocalGateway) -> None:
    gateway.deploy_route(DynamicRoute.split({MINI: 50, HAIKU: 50}, name="ab"))
    first = [answered(call(gateway, "ab", **{ROUTE_SEED_HEADER: str(i)})) for i in range(20)]
    again = [answered(call(gateway, "ab", **{ROUTE_SEED_HEADER: str(i)})) for i in range(20)]
    assert first == again
    assert set(first) == {MINI, HAIKU}


@pytest.mark.parametrize("technique", ["fixed", "sliding"])
def test_a_rate_limit_falls_back_per_key_and_its_window_rolls_over(
    gateway: LocalGateway, technique: str
) -> None:
    route = DynamicRoute.rate_limit(
        MINI,
        key="metadata.user",
        limit=2,
        interval=60,
        technique=technique,
        fallback=HAIKU,
        name="rl",
    )
    gateway.deploy_route(route)
    alice = [answered(call(gateway, "rl", {"user": "alice"})) for _ in range(3)]
    assert alice == [MINI, MINI, HAIKU]
    assert answered(call(gateway, "rl", {"user": "bob"})) == MINI
    gateway.clock.advance(61)
    assert answered(call(gateway, "rl", {"user": "alice"})) == MINI


def test_a_rate_limit_without_a_key_value_counts_the_whole_gateway(gateway: LocalGateway) -> None:
    route = DynamicRoute.rate_limit(
        MINI, key="metadata.user", limit=1, interval=60, fallback=HAIKU, name="rlg"
    )
    gateway.deploy_route(route)
    assert [answered(call(gateway, "rlg")) for _ in range(2)] == [MINI, HAIKU]


def test_over_the_limit_without_a_fallback_is_cloudflares_429(gateway: LocalGateway) -> None:
    gateway.deploy_route(
        DynamicRoute.rate_limit(MINI, key="metadata.user", limit=1, interval=60, name="hard")
    )
    assert answered(call(gateway, "hard", {"user": "u"})) == MINI
    response = call(gateway, "hard", {"user": "u"})
    assert gateway_error(response)[:2] == (429, 2003)
    rows = gateway.logs()
    assert len(rows) == 2
    assert response.headers[Header.LOG_ID] in {r["id"] for r in rows}


def test_a_cost_limit_counts_the_custom_cost_of_responses(gateway: LocalGateway) -> None:
    route = DynamicRoute.rate_limit(
        MINI,
        key="metadata.team",
        limit=0.5,
        interval=60,
        limit_type="cost",
        fallback=HAIKU,
        name="budget",
    )
    gateway.deploy_route(route)
    cost = {Header.CUSTOM_COST: json.dumps({"total_cost": 0.3})}
    results = [answered(call(gateway, "budget", {"team": "t"}, **cost)) for _ in range(3)]
    assert results == [MINI, MINI, HAIKU]


def test_counters_start_afresh_when_a_route_is_deployed_again(gateway: LocalGateway) -> None:
    def build() -> DynamicRoute:
        return DynamicRoute.rate_limit(
            MINI, key="metadata.user", limit=1, interval=60, fallback=HAIKU, name="again"
        )

    gateway.deploy_route(build())
    assert [answered(call(gateway, "again")) for _ in range(2)] == [MINI, HAIKU]
    gateway.deploy_route(build())
    assert answered(call(gateway, "again")) == MINI


def test_a_route_element_by_element_from_the_api_json(gateway: LocalGateway) -> None:
    route = DynamicRoute(
        name="json",
        elements=[
            StartElement(id="start", outputs={"next": "cond"}),
            ConditionalElement(
                id="cond",
                condition={"metadata.tier": {"$exists": True}},
                outputs={"true": "limit", "false": "end"},
            ),
            LimitElement(
                id="limit",
                key="metadata.tier",
                limit=5,
                interval=10,
                outputs={"success": "m", "fallback": "end"},
            ),
            ModelElement(
                id="m",
                provider="anthropic",
                model="claude-3-5-haiku",
                timeout=5000,
                retries=0,
                outputs={"success": "end", "fallback": "end"},
            ),
            EndElement(id="end"),
        ],
    )
    gateway.deploy_route(DynamicRoute.from_api(route.to_api()))
    assert answered(call(gateway, "json", {"tier": "gold"})) == HAIKU
    status, code, message = gateway_error(call(gateway, "json"))
    assert (status, code) == (502, 2005) and "'json'" in message


def test_a_stream_is_passed_through_from_the_model_that_answered(gateway: LocalGateway) -> None:
    gateway.deploy_route(DynamicRoute.fallback_chain([f"{MINI}~status=503", HAIKU], name="s"))
    url = f"{gateway.base_url}/v1/{gateway.account_id}/default/compat/chat/completions"
    with http.stream("POST", url, json=chat_body("dynamic/s", stream=True)) as response:
        assert answered(response) == HAIKU
        text = b"".join(response.iter_bytes()).decode()
    assert text.count("data: ") > 2 and "[DONE]" in text


def test_a_request_that_is_not_the_chat_shape_is_400(gateway: LocalGateway) -> None:
    gateway.deploy_route(DynamicRoute.fallback_chain([MINI], name="shape"))
    no_messages = compat(gateway, {"model": "dynamic/shape", "prompt": "hi"})
    assert gateway_error(no_messages)[:2] == (400, 7001)
    url = f"{gateway.base_url}/v1/{gateway.account_id}/default/compat/embeddings"
    embeddings = http.post(url, json={"model": "dynamic/shape", "input": "hi"})
    status, code, message = gateway_error(embeddings)
    assert (status, code) == (400, 7001) and "chat completions" in message


def test_a_route_in_a_universal_compat_step(gateway: LocalGateway) -> None:
    gateway.deploy_route(DynamicRoute.fallback_chain([f"{MINI}~status=503", HAIKU], name="u"))
    step = {
        "provider": "compat",
        "endpoint": "chat/completions",
        "headers": {},
        "query": chat_body("dynamic/u"),
    }
    response = universal(gateway, [step])
    assert answered(response) == HAIKU
    assert response.headers[Header.STEP] == "0"
    assert len(gateway.logs()) == 2


def test_a_route_is_still_its_gateways_only(gateway: LocalGateway) -> None:
    gateway.create_gateway("owner")
    gateway.deploy_route(DynamicRoute.fallback_chain([MINI], name="mine"), "owner")
    assert answered(compat(gateway, chat_body("dynamic/mine"), gateway_id="owner")) == MINI
    assert gateway_error(call(gateway, "mine"))[:2] == (400, 2005)


def test_a_route_on_the_rest_api(gateway: LocalGateway) -> None:
    gateway.create_gateway("rest-owner")
    gateway.deploy_route(
        DynamicRoute.fallback_chain([f"{MINI}~status=503", HAIKU], name="r"), "rest-owner"
    )
    url = f"{gateway.base_url}/client/v4/accounts/{gateway.account_id}/ai/v1/chat/completions"
    headers = {"authorization": f"Bearer {gateway.token}", Header.GATEWAY_ID: "rest-owner"}
    response = http.post(url, json=chat_body("dynamic/r"), headers=headers)
    assert answered(response) == HAIKU
    rows = gateway.logs("rest-owner")
    assert {r["path"] for r in rows} == {"ai/v1/chat/completions"} and len(rows) == 2
    del headers[Header.GATEWAY_ID]
    assert gateway_error(http.post(url, json=chat_body("dynamic/r"), headers=headers))[:2] == (
        404,
        2005,
    )


def test_a_stream_that_started_is_not_fallen_back_from(gateway: LocalGateway) -> None:
    gateway.deploy_route(
        DynamicRoute.fallback_chain([f"{MINI}~chunk-delay=5~disconnect=2", HAIKU], name="cut")
    )
    url = f"{gateway.base_url}/v1/{gateway.account_id}/default/compat/chat/completions"
    received = b""
    with http.stream("POST", url, json=chat_body("dynamic/cut", stream=True)) as response:
        assert answered(response) == MINI
        with pytest.raises(httpx.HTTPError):
            for chunk in response.iter_bytes():
                received += chunk
    assert b"[DONE]" not in received
    assert [r["provider"] for r in gateway.logs()] == ["openai"]
