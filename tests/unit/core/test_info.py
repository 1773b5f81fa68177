"""GatewayInfo from response headers (spec section 4)."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
import pytest

from langchain_cf_gateway.core import GATEWAY_INFO_KEYS, GatewayInfo

FULL = {
    "cf-aig-cache-status": "HIT",
    "cf-aig-log-id": "01J9ZK3Q7Y2M5V8N4P6R0S1T2U",
    "cf-aig-request-id": "req-1",
    "cf-aig-event-id": "evt-1",
    "cf-aig-step": "1",
    "cf-aig-model": "gpt-4o-mini",
    "cf-aig-provider": "openai",
    "cf-aig-routed-model": "openai/gpt-4o-mini",
    "cf-aig-routing-reason": "cost_optimal_within_pool",
    "cf-aig-routing-decision-id": "rd-1",
    "content-type": "application/json",
}
EXPECTED = GatewayInfo(
    cache_status="HIT",
    log_id="01J9ZK3Q7Y2M5V8N4P6R0S1T2U",
    request_id="req-1",
    event_id="evt-1",
    step=1,
    model="gpt-4o-mini",
    provider="openai",
    routed_model="openai/gpt-4o-mini",
    routing_reason="cost_optimal_within_pool",
    routing_decision_id="rd-1",
)


@pytest.mark.parametrize(
    "headers",
    [
        FULL,
        {k.upper(): v for k, v in FULL.items()},
        {k.title(): v for k, v in FULL.items()},
        httpx.Headers(FULL),
        httpx.Headers({k.upper(): v for k, v in FULL.items()}),
    ],
    ids=["lower", "upper", "title", "httpx", "httpx-upper"],
)
def test_every_header_in_any_case(headers: Mapping[str, str]) -> None:
    assert GatewayInfo.from_headers(headers) == EXPECTED


@pytest.mark.parametrize("headers", [None, {}, {"content-type": "text/plain"}, httpx.Headers()])
def test_missing_headers_give_none(headers: Mapping[str, str] | None) -> None:
    info = GatewayInfo.from_headers(headers)
    assert info == GatewayInfo()
    assert all(value is None for value in info)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HIT", "HIT"),
        ("MISS", "MISS"),
        ("hit", "HIT"),
        (" miss ", "MISS"),
        ("BYPASS", None),
        ("", None),
    ],
)
def test_cache_status(raw: str, expected: str | None) -> None:
    assert GatewayInfo.from_headers({"cf-aig-cache-status": raw}).cache_status == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0", 0), ("2", 2), (" 3 ", 3), ("x", None), ("1.0", None), ("", None), ("-1", None)],
)
def test_step(raw: str, expected: int | None) -> None:
    assert GatewayInfo.from_headers({"cf-aig-step": raw}).step == expected


def test_empty_ids_are_none() -> None:
    info = GatewayInfo.from_headers({"cf-aig-log-id": "", "cf-aig-event-id": ""})
    assert info.log_id is None and info.event_id is None


def test_as_dict_has_exactly_the_documented_keys() -> None:
    assert tuple(GatewayInfo().as_dict()) == GATEWAY_INFO_KEYS
    assert GATEWAY_INFO_KEYS == (
        "cache_status",
        "log_id",
        "request_id",
        "event_id",
        "step",
        "model",
        "provider",
        "routed_model",
        "routing_reason",
        "routing_decision_id",
        "dlp",
    )
    as_dict = EXPECTED.as_dict()
    assert type(as_dict) is dict
    assert as_dict == {
        "cache_status": "HIT",
        "log_id": "01J9ZK3Q7Y2M5V8N4P6R0S1T2U",
        "request_id": "req-1",
        "event_id": "evt-1",
        "step": 1,
        "model": "gpt-4o-mini",
        "provider": "openai",
        "routed_model": "openai/gpt-4o-mini",
        "routing_reason": "cost_optimal_within_pool",
        "routing_decision_id": "rd-1",
        "dlp": None,
    }


def test_with_defaults_fills_only_what_the_gateway_left_out() -> None:
    plain = GatewayInfo(log_id="l").with_defaults(model="m", provider="p", step=None)
    assert (plain.model, plain.provider, plain.step, plain.log_id) == ("m", "p", None, "l")
    told = EXPECTED.with_defaults(model="asked", provider="asked", step=0)
    assert (told.model, told.provider, told.step) == ("gpt-4o-mini", "openai", 1)
    step0 = GatewayInfo(step=0).with_defaults(model=None, provider=None, step=2)
    assert step0.step == 0


ROUTING_REASONS = (
    "cost_optimal_within_pool",
    "forced_by_candidate_pool",
    "pinned_by_turn",
    "fallback_candidate_unavailable",
    "fallback_key_not_in_candidates",
    "fallback_router_error",
    "fallback_router_timeout",
    "fallback_unsupported_input",
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *((reason, reason) for reason in ROUTING_REASONS),
        (" pinned_by_turn ", "pinned_by_turn"),
        ("PINNED_BY_TURN", "pinned_by_turn"),
        ("fallback_new_kind", "fallback_new_kind"),  # unknown: kept, not dropped
        ("", None),
    ],
)
def test_routing_reason(raw: str, expected: str | None) -> None:
    info = GatewayInfo.from_headers(httpx.Headers({"cf-aig-routing-reason": raw}))
    assert info.routing_reason == expected
    assert GatewayInfo.from_headers({"CF-AIG-Routing-Reason": raw}).routing_reason == expected


def test_documented_routing_reasons() -> None:
    from langchain_cf_gateway.core.info import ROUTING_REASONS as documented

    assert documented == ROUTING_REASONS


def test_auto_router_headers_and_defaults() -> None:
    info = GatewayInfo.from_headers(
        {"cf-aig-routed-model": "anthropic/claude-3-5-haiku", "cf-aig-routing-decision-id": "d"}
    )
    assert (info.routed_model, info.routing_decision_id, info.routing_reason) == (
        "anthropic/claude-3-5-haiku",
        "d",
        None,
    )
    # with_defaults fills model/provider only; the routing keys stay what the gateway said.
    filled = info.with_defaults(model="cloudflare/auto", provider="cloudflare", step=None)
    assert filled.routed_model == "anthropic/claude-3-5-haiku"
    empty = GatewayInfo.from_headers({"cf-aig-routed-model": "", "cf-aig-routing-decision-id": ""})
    assert empty.routed_model is None and empty.routing_decision_id is None
