"""The response cache (spec section 6): key, TTL, skip, custom key, streams, injected clock."""

from __future__ import annotations

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.local import LocalGateway
from tests.support.local_calls import chat_body, compat, http, management

TTL = {Header.CACHE_TTL: "60"}


def status(response: object) -> str | None:
    return response.headers.get(Header.CACHE_STATUS)  # type: ignore[attr-defined,no-any-return]


def test_miss_then_hit_returns_the_stored_answer(gateway: LocalGateway) -> None:
    first, second = compat(gateway, headers=TTL), compat(gateway, headers=TTL)
    assert (status(first), status(second)) == ("MISS", "HIT")
    assert second.content == first.content
    assert second.headers[Header.LOG_ID] != first.headers[Header.LOG_ID]
    rows = gateway.logs()
    assert [(r["cached"], r["tokens_out"], r["cost"]) for r in rows] == [
        (False, 8, 0.0),
        (True, 8, 0.0),
    ]


def test_no_cache_header_without_ttl_or_key(gateway: LocalGateway) -> None:
    assert status(compat(gateway)) is None
    assert status(compat(gateway)) is None


def test_any_change_of_body_or_model_is_a_different_entry(gateway: LocalGateway) -> None:
    assert status(compat(gateway, headers=TTL)) == "MISS"
    assert status(compat(gateway, chat_body(temperature=0.5), TTL)) == "MISS"
    assert status(compat(gateway, chat_body("openai/gpt-4o"), TTL)) == "MISS"
    assert status(compat(gateway, chat_body("groq/gpt-4o-mini"), TTL)) == "MISS"
    assert status(compat(gateway, chat_body(temperature=0.5), TTL)) == "HIT"


def test_two_provider_keys_never_share_an_entry(gateway: LocalGateway) -> None:
    alice = {**TTL, "authorization": "Bearer sk-alice"}
    bob = {**TTL, "authorization": "Bearer sk-bob"}
    assert status(compat(gateway, headers=alice)) == "MISS"
    assert status(compat(gateway, headers=bob)) == "MISS"
    assert status(compat(gateway, headers=alice)) == "HIT"
    assert status(compat(gateway, headers=bob)) == "HIT"


def test_skip_cache_neither_reads_nor_writes(gateway: LocalGateway) -> None:
    skip = {**TTL, Header.SKIP_CACHE: "true"}
    assert status(compat(gateway, headers=TTL)) == "MISS"
    assert status(compat(gateway, headers=skip)) == "MISS"  # an entry exists, but skipped
    fresh = chat_body(temperature=0.1)
    assert status(compat(gateway, fresh, skip)) == "MISS"
    assert status(compat(gateway, fresh, TTL)) == "MISS"  # the skipped answer was not stored
    assert [r["cached"] for r in gateway.logs()] == [False] * 4


def test_custom_key_replaces_the_key_and_defaults_to_five_minutes(gateway: LocalGateway) -> None:
    keyed = {Header.CACHE_KEY: "greeting"}
    first = compat(gateway, chat_body(), keyed)
    other_body = compat(gateway, chat_body("openai/gpt-4o", temperature=1), keyed)
    assert (status(first), status(other_body)) == ("MISS", "HIT")
    assert other_body.json()["choices"] == first.json()["choices"]
    gateway.clock.advance(299)
    assert status(compat(gateway, chat_body(), keyed)) == "HIT"
    gateway.clock.advance(2)
    assert status(compat(gateway, chat_body(), keyed)) == "MISS"


def test_ttl_expiry_follows_the_injected_clock(gateway: LocalGateway) -> None:
    headers = {Header.CACHE_TTL: "120"}
    assert status(compat(gateway, headers=headers)) == "MISS"
    gateway.clock.advance(119)
    assert status(compat(gateway, headers=headers)) == "HIT"
    gateway.clock.advance(2)
    assert status(compat(gateway, headers=headers)) == "MISS"
    assert status(compat(gateway, headers=headers)) == "HIT"


def test_gateway_cache_ttl_applies_without_a_header(gateway: LocalGateway) -> None:
    gateway.create_gateway("cached", cache_ttl=600)
    assert status(compat(gateway, gateway_id="cached")) == "MISS"
    assert status(compat(gateway, gateway_id="cached")) == "HIT"
    # The header wins over the gateway setting.
    assert status(compat(gateway, chat_body(n=1), {Header.CACHE_TTL: "60"}, "cached")) == "MISS"
    gateway.clock.advance(61)
    assert status(compat(gateway, chat_body(n=1), gateway_id="cached")) == "MISS"
    assert status(compat(gateway, gateway_id="cached")) == "HIT"  # 600 s not over yet
    # Entries are per gateway.
    assert status(compat(gateway, headers=TTL)) == "MISS"


def test_legacy_header_names_still_work(gateway: LocalGateway) -> None:
    legacy = {Header.LEGACY_CACHE_TTL: "60"}
    assert status(compat(gateway, headers=legacy)) == "MISS"
    assert status(compat(gateway, headers=legacy)) == "HIT"
    assert status(compat(gateway, headers={**legacy, Header.LEGACY_SKIP_CACHE: "true"})) == "MISS"


def test_streams_are_not_cached(gateway: LocalGateway) -> None:
    body = chat_body(stream=True)
    url = f"{gateway.gateway_url}/compat/chat/completions"
    for _ in range(2):
        response = http.post(url, json=body, headers=TTL)
        assert response.status_code == 200 and Header.CACHE_STATUS not in response.headers
        assert response.text.rstrip().endswith("data: [DONE]")
    assert [r["cached"] for r in gateway.logs()] == [False, False]


def test_errors_are_not_cached(gateway: LocalGateway) -> None:
    body = chat_body("openai/gpt-4o-mini~status=500")
    assert compat(gateway, body, TTL).status_code == 500
    assert compat(gateway, body, TTL).status_code == 500
    assert [r["cached"] for r in gateway.logs()] == [False, False]


def test_native_embeddings_are_cached_too(gateway: LocalGateway) -> None:
    url = f"{gateway.gateway_url}/openai/embeddings"
    body = {"model": "text-embedding-3-small", "input": "alpha"}
    first = http.post(url, json=body, headers=TTL)
    second = http.post(url, json=body, headers=TTL)
    assert (status(first), status(second)) == ("MISS", "HIT")
    assert second.json() == first.json()


def test_update_with_cache_invalidate_on_update_drops_the_entries(gateway: LocalGateway) -> None:
    gateway.create_gateway("inv", cache_ttl=600, cache_invalidate_on_update=True)
    gateway.create_gateway("keep", cache_ttl=600)
    for gw_id in ("inv", "keep"):
        assert status(compat(gateway, gateway_id=gw_id)) == "MISS"
        assert status(compat(gateway, gateway_id=gw_id)) == "HIT"
        assert management(gateway, "PUT", f"gateways/{gw_id}", json={"cache_ttl": 300}).is_success
    assert status(compat(gateway, gateway_id="inv")) == "MISS"
    assert status(compat(gateway, gateway_id="keep")) == "HIT"
