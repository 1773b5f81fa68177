"""The management API (spec section 8) over raw httpx: gateways and logs, v4 envelope."""

from __future__ import annotations

import json
from typing import Any

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.local import LocalGateway
from tests.support.local_calls import chat_body, compat, management


def ok(response: Any) -> Any:
    body = response.json()
    assert response.status_code == 200, body
    assert body["success"] is True and body["errors"] == [] and body["messages"] == []
    return body["result"]


def test_gateways_create_list_get_update_delete(gateway: LocalGateway) -> None:
    created = ok(
        management(
            gateway,
            "POST",
            "gateways",
            json={
                "id": "team-a",
                "cache_ttl": 300,
                "cache_invalidate_on_update": False,
                "collect_logs": True,
                "rate_limiting_limit": 0,
                "rate_limiting_interval": 0,
                "rate_limiting_technique": "fixed",
                "authentication": True,
                "dlp": {"enabled": False},
            },
        )
    )
    assert (created["id"], created["cache_ttl"], created["authentication"]) == ("team-a", 300, True)
    assert created["account_id"] == gateway.account_id and created["dlp"] == {"enabled": False}
    assert created["created_at"].endswith("Z") and created["is_default"] is False

    listing = management(gateway, "GET", "gateways", params={"search": "team"})
    assert [g["id"] for g in ok(listing)] == ["team-a"]
    assert listing.json()["result_info"]["total_count"] == 1

    # A PUT replaces the whole gateway, as Cloudflare's does: what it leaves out (dlp
    # here) is gone, and a setting left out takes its default.
    put = {"cache_ttl": 60, "authentication": True}
    updated = ok(management(gateway, "PUT", "gateways/team-a", json=put))
    assert (updated["cache_ttl"], updated["authentication"]) == (60, True)
    assert "dlp" not in updated
    bare = ok(management(gateway, "PUT", "gateways/team-a", json={"cache_ttl": 60}))
    assert (bare["authentication"], "dlp" in bare) == (False, False)
    ok(management(gateway, "PUT", "gateways/team-a", json=put))
    assert ok(management(gateway, "GET", "gateways/team-a"))["cache_ttl"] == 60
    # The new gateway serves requests with its settings.
    response = compat(
        gateway, gateway_id="team-a", headers={Header.AUTHORIZATION: f"Bearer {gateway.token}"}
    )
    assert response.headers[Header.CACHE_STATUS] == "MISS"

    assert ok(management(gateway, "DELETE", "gateways/team-a"))["id"] == "team-a"
    assert management(gateway, "GET", "gateways/team-a").status_code == 404
    assert compat(gateway, gateway_id="team-a").json()["internalCode"] == 2001


def _seed(gw: LocalGateway) -> list[str]:
    ids = []
    for i, (model, meta) in enumerate(
        [
            ("openai/gpt-4o-mini", {"user": "u1"}),
            ("groq/llama", {"user": "u2"}),
            ("openai/gpt-4o", {"user": "u1", "tier": "pro"}),
            ("openai/gpt-4o-mini~status=500", None),
        ]
    ):
        headers = {Header.METADATA: json.dumps(meta)} if meta else {}
        headers[Header.EVENT_ID] = f"evt-{i}"
        ids.append(compat(gw, chat_body(model), headers).headers[Header.LOG_ID])
        gw.clock.advance(1)  # distinct created_at
    return ids


def test_logs_list_filters_order_and_pagination(gateway: LocalGateway) -> None:
    ids = _seed(gateway)

    def listed(**params: Any) -> list[str]:
        return [
            r["id"] for r in ok(management(gateway, "GET", "gateways/default/logs", params=params))
        ]

    assert listed() == ids[::-1]  # newest first by default
    assert listed(order_by_direction="asc") == ids
    assert listed(per_page=2, page=2, order_by_direction="asc") == ids[2:]
    f = json.dumps([{"key": "provider", "operator": "eq", "value": ["groq"]}])
    assert listed(filters=f) == [ids[1]]
    f = json.dumps([{"key": "success", "operator": "eq", "value": [False]}])
    assert listed(filters=f) == [ids[3]]
    f = json.dumps([{"key": "metadata.value", "operator": "eq", "value": ["u1"]}])
    assert listed(filters=f, order_by_direction="asc") == [ids[0], ids[2]]
    f = json.dumps(
        [
            {"key": "model", "operator": "contains", "value": ["gpt-4o"]},
            {"key": "status_code" if False else "success", "operator": "eq", "value": [True]},
        ]
    )
    assert listed(filters=f, order_by_direction="asc") == [ids[0], ids[2]]
    f = json.dumps([{"key": "event_id", "operator": "eq", "value": ["evt-1", "evt-2"]}])
    assert listed(filters=f, order_by_direction="asc") == ids[1:3]
    assert listed(provider="groq") == [ids[1]]  # the deprecated one-field form
    assert listed(search="llama") == [ids[1]]
    assert listed(order_by="model", order_by_direction="asc")[0] == ids[2]  # gpt-4o first
    page = management(gateway, "GET", "gateways/default/logs", params={"per_page": 1})
    info = page.json()["result_info"]
    assert (info["total_count"], info["count"], info["per_page"], info["page"]) == (4, 1, 1, 1)
    assert info["max_tokens_out"] == 8 and info["min_tokens_in"] == 5


def test_log_get_patch_and_delete(gateway: LocalGateway) -> None:
    ids = _seed(gateway)
    row = ok(management(gateway, "GET", f"gateways/default/logs/{ids[0]}"))
    # The API types metadata as a string of JSON (cloudflare-python's LogGetResponse).
    assert (row["id"], row["event_id"], json.loads(row["metadata"])) == (
        ids[0],
        "evt-0",
        {"user": "u1"},
    )
    patched = ok(
        management(
            gateway,
            "PATCH",
            f"gateways/default/logs/{ids[0]}",
            json={"feedback": 1, "score": 95, "metadata": {"reviewed": True}},
        )
    )
    assert (patched["feedback"], patched["score"], json.loads(patched["metadata"])) == (
        1,
        95,
        {"reviewed": True},
    )
    assert gateway.logs()[0]["feedback"] == 1
    f = json.dumps([{"key": "feedback", "operator": "eq", "value": [1]}])
    assert [
        r["id"]
        for r in ok(management(gateway, "GET", "gateways/default/logs", params={"filters": f}))
    ] == [ids[0]]
    for bad in ({"feedback": 2}, {"score": 101}, {"metadata": {"a": {"b": 1}}}, {"other": 1}, {}):
        response = management(gateway, "PATCH", f"gateways/default/logs/{ids[0]}", json=bad)
        assert (response.status_code, response.json()["errors"][0]["code"]) == (400, 7001), bad

    f = json.dumps([{"key": "provider", "operator": "eq", "value": ["openai"]}])
    deleted = ok(
        management(
            gateway,
            "DELETE",
            "gateways/default/logs",
            params={"filters": f, "limit": 2, "order_by_direction": "asc"},
        )
    )
    assert deleted["success"] is True
    assert [r["id"] for r in gateway.logs()] == [ids[1], ids[3]]
    ok(management(gateway, "DELETE", f"gateways/default/logs/{ids[1]}"))
    assert [r["id"] for r in gateway.logs()] == [ids[3]]
    ok(management(gateway, "DELETE", "gateways/default/logs"))
    assert gateway.logs() == []


def test_logs_of_an_unknown_gateway_are_404(gateway: LocalGateway) -> None:
    response = management(gateway, "GET", "gateways/nope/logs")
    assert (response.status_code, response.json()["errors"][0]["code"]) == (404, 7002)


def test_reset_restores_the_default_gateway(gateway: LocalGateway) -> None:
    ok(management(gateway, "PUT", "gateways/default", json={"cache_ttl": 600}))
    assert compat(gateway).headers[Header.CACHE_STATUS] == "MISS"
    gateway.reset()
    assert Header.CACHE_STATUS not in compat(gateway).headers
    ok(management(gateway, "DELETE", "gateways/default"))
    assert compat(gateway).status_code == 400
    gateway.reset()
    assert compat(gateway).status_code == 200


def test_local_update_gateway_changes_only_what_it_is_given(gateway: LocalGateway) -> None:
    """The Python helper keeps the other settings, as GatewayClient.update_gateway does."""
    guardrails = {"prompt": {"p1": "BLOCK"}}
    gateway.create_gateway("patchy", cache_ttl=60, authentication=True, guardrails=guardrails)
    gateway.update_gateway("patchy", cache_ttl=120)
    got = ok(management(gateway, "GET", "gateways/patchy"))
    assert (got["cache_ttl"], got["authentication"], got["guardrails"]) == (120, True, guardrails)
