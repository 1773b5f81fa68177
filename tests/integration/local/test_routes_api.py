"""The dynamic-routing management API over raw httpx: routes, versions, deployments.

Paths, bodies and response shapes as Cloudflare's SDK declares them
(`cloudflare/types/ai_gateway/dynamic_routing_*.py`); what a deploy does is checked
where the executor reads it, `GatewayState.routes.active`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
import pytest

from langchain_cf_gateway import DynamicRoute
from langchain_cf_gateway.local import LocalGateway
from tests.support.local_calls import api_error, management

CHAIN = DynamicRoute.fallback_chain(
    ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku"], name="support"
)
SPLIT = DynamicRoute.split(
    {"openai/gpt-4o-mini": 80, "anthropic/claude-3-5-haiku": 20}, name="support"
)
ROUTE_FIELDS = {
    "id",
    "account_tag",
    "gateway_id",
    "name",
    "created_at",
    "modified_at",
    "elements",
    "version",
    "deployment",
}


def routes(path: str = "") -> str:
    return f"gateways/default/routes{path}"


def ok(response: httpx.Response) -> Any:
    """The `result` of a v4 envelope (create, get, delete, versions, deployments)."""
    body = response.json()
    assert response.status_code == 200, body
    assert body["success"] is True and body["errors"] == [] and body["messages"] == []
    return body["result"]


def bare(response: httpx.Response, key: str) -> Any:
    """The lists and the rename: `{"success": true, key: ...}`, no `result` envelope."""
    body = response.json()
    assert response.status_code == 200, body
    assert set(body) == {"success", key} and body["success"] is True
    return body[key]


def create(gw: LocalGateway, route: DynamicRoute = CHAIN) -> dict[str, Any]:
    return ok(management(gw, "POST", routes(), json=route.to_api()))


def elements(route: DynamicRoute) -> list[dict[str, Any]]:
    return route.to_api()["elements"]


def is_timestamp(value: str) -> bool:
    return value.endswith("Z") and datetime.fromisoformat(value.replace("Z", "+00:00")) is not None


def error_message(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["message"])


# ---------------------------------------------------------------------------- routes


def test_create_returns_the_route_with_its_first_version_deployed(gateway: LocalGateway) -> None:
    route = create(gateway)
    assert set(route) == ROUTE_FIELDS
    assert (route["name"], route["gateway_id"], route["account_tag"]) == (
        "support",
        "default",
        gateway.account_id,
    )
    assert route["elements"] == elements(CHAIN)
    assert is_timestamp(route["created_at"]) and route["modified_at"] >= route["created_at"]
    version, deployment = route["version"], route["deployment"]
    assert version["active"] == "true" and version["is_valid"] is True
    assert json.loads(version["data"]) == {"elements": elements(CHAIN)}
    assert deployment["version_id"] == version["version_id"]
    assert is_timestamp(deployment["created_at"]) and is_timestamp(version["created_at"])
    assert len({route["id"], version["version_id"], deployment["deployment_id"]}) == 3
    # Deployed at once: the executor serves dynamic/support with it.
    assert gateway._state.routes.active("default", "support") == CHAIN


def test_create_takes_the_docs_spellings_and_returns_the_schemas(gateway: LocalGateway) -> None:
    body = DynamicRoute.rate_limit(
        "openai/gpt-4o-mini", key="metadata.user", limit=3, interval=60, name="limited"
    ).to_api()
    limiter = next(e for e in body["elements"] if e["type"] == "rate")
    limiter["type"] = "rate_limit"
    limiter["properties"]["interval"] = limiter["properties"].pop("window")
    route = create(gateway, DynamicRoute.from_api(body))
    stored = ok(management(gateway, "POST", routes(), json={**body, "name": "docs"}))
    served = next(e for e in stored["elements"] if e["id"] == limiter["id"])
    assert served["type"] == "rate" and served["properties"]["window"] == 60
    assert stored["elements"] == route["elements"]


def test_get_returns_what_create_returned(gateway: LocalGateway) -> None:
    created = create(gateway)
    assert ok(management(gateway, "GET", routes(f"/{created['id']}"))) == created


def test_list_is_newest_first_paged_and_outside_the_result_envelope(
    gateway: LocalGateway,
) -> None:
    ids = [create(gateway, CHAIN.model_copy(update={"name": f"r{i}"}))["id"] for i in range(3)]
    data = bare(management(gateway, "GET", routes()), "data")
    assert [r["id"] for r in data["routes"]] == ids[::-1]
    assert (data["page"], data["per_page"], data["order_by"], data["order_by_direction"]) == (
        1,
        20,
        "created_at",
        "desc",
    )
    assert all(set(r) == ROUTE_FIELDS for r in data["routes"])
    paged = bare(management(gateway, "GET", routes(), params={"page": 2, "per_page": 2}), "data")
    assert [r["id"] for r in paged["routes"]] == [ids[0]]
    ascending = bare(
        management(gateway, "GET", routes(), params={"order_by_direction": "asc"}), "data"
    )
    assert [r["id"] for r in ascending["routes"]] == ids
    by_name = bare(management(gateway, "GET", routes(), params={"order_by": "name"}), "data")
    assert [r["name"] for r in by_name["routes"]] == ["r2", "r1", "r0"]


@pytest.mark.parametrize(
    "params",
    [
        {"per_page": "0"},
        {"per_page": "1001"},
        {"page": "x"},
        {"order_by": "cost"},
        {"order_by_direction": "up"},
        {"search": "support"},
    ],
)
def test_a_bad_list_query_is_a_400(gateway: LocalGateway, params: dict[str, str]) -> None:
    created = create(gateway)
    for path in (routes(), routes(f"/{created['id']}/versions")):
        response = management(gateway, "GET", path, params=params)
        assert api_error(response) == (400, 7001)
        assert next(iter(params)) in error_message(response)


def test_routes_are_per_gateway(gateway: LocalGateway) -> None:
    gateway.create_gateway("other")
    created = create(gateway)
    other = management(gateway, "GET", f"gateways/other/routes/{created['id']}")
    assert api_error(other) == (404, 7002)
    assert bare(management(gateway, "GET", "gateways/other/routes"), "data")["routes"] == []
    # The same name on another gateway is another route.
    on_other = ok(management(gateway, "POST", "gateways/other/routes", json=CHAIN.to_api()))
    assert on_other["id"] != created["id"] and on_other["gateway_id"] == "other"
    assert gateway._state.routes.active("other", "support") == CHAIN


def test_a_name_taken_on_the_gateway_is_a_409(gateway: LocalGateway) -> None:
    create(gateway)
    response = management(gateway, "POST", routes(), json=SPLIT.to_api())
    assert api_error(response) == (409, 7004)
    assert "support" in error_message(response)
    assert gateway._state.routes.active("default", "support") == CHAIN


def test_rename_moves_dynamic_name_and_keeps_the_history(gateway: LocalGateway) -> None:
    created = create(gateway)
    renamed = bare(
        management(gateway, "PATCH", routes(f"/{created['id']}"), json={"name": "help"}), "route"
    )
    assert set(renamed) == ROUTE_FIELDS
    assert (renamed["id"], renamed["name"]) == (created["id"], "help")
    assert (
        renamed["version"] == created["version"] and renamed["created_at"] == created["created_at"]
    )
    assert renamed["modified_at"] >= created["modified_at"]
    routes_state = gateway._state.routes
    assert routes_state.active("default", "support") is None
    served = routes_state.active("default", "help")
    assert served is not None and served.elements == CHAIN.elements and served.name == "help"


def test_rename_refusals(gateway: LocalGateway) -> None:
    created = create(gateway)
    create(gateway, SPLIT.model_copy(update={"name": "other"}))
    path = routes(f"/{created['id']}")
    taken = management(gateway, "PATCH", path, json={"name": "other"})
    assert api_error(taken) == (409, 7004)
    slash = management(gateway, "PATCH", path, json={"name": "a/b"})
    assert api_error(slash) == (400, 7001) and "name" in error_message(slash)
    missing = management(gateway, "PATCH", path, json={})
    assert api_error(missing) == (400, 7001) and "name" in error_message(missing)
    extra = management(gateway, "PATCH", path, json={"name": "x", "elements": []})
    assert api_error(extra) == (400, 7001) and "'elements'" in error_message(extra)
    assert ok(management(gateway, "GET", path))["name"] == "support"


def test_delete_removes_the_route_and_what_it_served(gateway: LocalGateway) -> None:
    created = create(gateway)
    deleted = ok(management(gateway, "DELETE", routes(f"/{created['id']}")))
    assert (deleted["id"], deleted["name"], deleted["elements"]) == (
        created["id"],
        "support",
        created["elements"],
    )
    assert gateway._state.routes.active("default", "support") is None
    for method in ("GET", "PATCH", "DELETE"):
        gone = management(gateway, method, routes(f"/{created['id']}"), json={"name": "x"})
        assert api_error(gone) == (404, 7002)
    assert bare(management(gateway, "GET", routes()), "data")["routes"] == []
    # The name is free again.
    assert create(gateway)["id"] != created["id"]


# ---------------------------------------------------------------------------- versions


def test_a_version_is_saved_but_not_served_until_deployed(gateway: LocalGateway) -> None:
    created = create(gateway)
    path = routes(f"/{created['id']}/versions")
    version = ok(management(gateway, "POST", path, json={"elements": elements(SPLIT)}))
    assert (version["id"], version["name"], version["gateway_id"]) == (
        created["id"],
        "support",
        "default",
    )
    assert version["elements"] == elements(SPLIT) and version["active"] == "false"
    assert version["version_id"] != created["version"]["version_id"]
    assert is_timestamp(version["created_at"]) and is_timestamp(version["modified_at"])
    assert gateway._state.routes.active("default", "support") == CHAIN
    assert ok(management(gateway, "GET", routes(f"/{created['id']}")))["elements"] == elements(
        CHAIN
    )

    listed = bare(management(gateway, "GET", path), "data")
    assert [(v["version_id"], v["active"]) for v in listed["versions"]] == [
        (version["version_id"], "false"),
        (created["version"]["version_id"], "true"),
    ]
    assert set(listed["versions"][0]) == {"version_id", "active", "created_at", "data", "is_valid"}
    assert (listed["page"], listed["per_page"], listed["order_by"]) == (1, 20, "created_at")
    assert json.loads(listed["versions"][0]["data"]) == {"elements": elements(SPLIT)}

    one = ok(management(gateway, "GET", f"{path}/{version['version_id']}"))
    # The create response is the version as GET shows it, plus the list's version object.
    assert one == {k: v for k, v in version.items() if k != "version"}
    assert version["version"] == listed["versions"][0]


def test_a_version_is_checked_before_it_is_stored(gateway: LocalGateway) -> None:
    created = create(gateway)
    path = routes(f"/{created['id']}/versions")
    broken = elements(CHAIN)
    model = next(e for e in broken if e["type"] == "model")
    model["outputs"]["success"] = {"elementId": "nowhere"}
    response = management(gateway, "POST", path, json={"elements": broken})
    assert api_error(response) == (400, 7001)
    message = error_message(response)
    assert repr(model["id"]) in message and "success" in message and "nowhere" in message
    assert len(bare(management(gateway, "GET", path), "data")["versions"]) == 1
    for body in ({}, {"elements": "x"}, {"elements": [], "name": "x"}, [1]):
        assert api_error(management(gateway, "POST", path, json=body)) == (400, 7001)
    not_json = management(gateway, "POST", path, content=b"{")
    assert api_error(not_json) == (400, 7001)


@pytest.mark.parametrize(
    ("change", "element_type", "field"),
    [
        (lambda e: e["properties"].pop("timeout"), "model", "timeout"),
        (lambda e: e["properties"].update(retries="two"), "model", "retries"),
        (lambda e: e.update(type="teleport"), "model", "type"),
    ],
)
def test_a_bad_element_on_create_is_a_400_naming_element_and_field(
    gateway: LocalGateway, change: Any, element_type: str, field: str
) -> None:
    body = CHAIN.to_api()
    element = next(e for e in body["elements"] if e["type"] == element_type)
    change(element)
    response = management(gateway, "POST", routes(), json=body)
    assert api_error(response) == (400, 7001)
    message = error_message(response)
    assert repr(element["id"]) in message and field in message
    assert gateway._state.routes.active("default", "support") is None


def test_a_create_without_start_or_name_is_a_400(gateway: LocalGateway) -> None:
    no_start = [e for e in elements(CHAIN) if e["type"] != "start"]
    response = management(gateway, "POST", routes(), json={"name": "x", "elements": no_start})
    assert api_error(response) == (400, 7001) and "start" in error_message(response)
    nameless = management(gateway, "POST", routes(), json={"elements": elements(CHAIN)})
    assert api_error(nameless) == (400, 7001) and "name" in error_message(nameless)
    extra = management(gateway, "POST", routes(), json={**CHAIN.to_api(), "comment": "x"})
    assert api_error(extra) == (400, 7001) and "'comment'" in error_message(extra)
    assert bare(management(gateway, "GET", routes()), "data")["routes"] == []


def test_an_unknown_version_is_a_404(gateway: LocalGateway) -> None:
    created = create(gateway)
    response = management(gateway, "GET", routes(f"/{created['id']}/versions/nope"))
    assert api_error(response) == (404, 7002) and "nope" in error_message(response)


# ---------------------------------------------------------------------------- deployments


def test_deploying_a_version_makes_it_the_served_one_and_rolls_back(
    gateway: LocalGateway,
) -> None:
    created = create(gateway)
    first = created["version"]["version_id"]
    path = routes(f"/{created['id']}")
    second = ok(management(gateway, "POST", f"{path}/versions", json={"elements": elements(SPLIT)}))
    deployed = ok(
        management(
            gateway, "POST", f"{path}/deployments", json={"version_id": second["version_id"]}
        )
    )
    assert set(deployed) == ROUTE_FIELDS and deployed["elements"] == elements(SPLIT)
    assert deployed["deployment"]["version_id"] == second["version_id"]
    assert deployed["version"]["version_id"] == second["version_id"]
    assert deployed["version"]["active"] == "true"
    assert gateway._state.routes.active("default", "support") == SPLIT
    assert ok(management(gateway, "GET", f"{path}/versions/{first}"))["active"] == "false"

    # Deploying an earlier version rolls back.
    back = ok(management(gateway, "POST", f"{path}/deployments", json={"version_id": first}))
    assert back["elements"] == elements(CHAIN)
    assert gateway._state.routes.active("default", "support") == CHAIN

    listed = bare(management(gateway, "GET", f"{path}/deployments"), "data")
    assert [d["version_id"] for d in listed["deployments"]] == [first, second["version_id"], first]
    assert set(listed["deployments"][0]) == {"deployment_id", "version_id", "created_at"}
    assert listed["deployments"][0]["deployment_id"] == back["deployment"]["deployment_id"]
    assert (listed["page"], listed["order_by_direction"]) == (1, "desc")


def test_deployment_refusals(gateway: LocalGateway) -> None:
    created = create(gateway)
    path = routes(f"/{created['id']}/deployments")
    unknown = management(gateway, "POST", path, json={"version_id": "nope"})
    assert api_error(unknown) == (404, 7002) and "nope" in error_message(unknown)
    for body in ({}, {"version_id": 3}, {"version_id": ""}):
        response = management(gateway, "POST", path, json=body)
        assert api_error(response) == (400, 7001) and "version_id" in error_message(response)
    assert len(bare(management(gateway, "GET", path), "data")["deployments"]) == 1


# ---------------------------------------------------------------------------- every endpoint

ENDPOINTS = [
    ("GET", ""),
    ("POST", ""),
    ("GET", "/{id}"),
    ("PATCH", "/{id}"),
    ("DELETE", "/{id}"),
    ("GET", "/{id}/versions"),
    ("POST", "/{id}/versions"),
    ("GET", "/{id}/versions/{version}"),
    ("GET", "/{id}/deployments"),
    ("POST", "/{id}/deployments"),
]


@pytest.mark.parametrize(("method", "tail"), ENDPOINTS)
def test_every_endpoint_needs_the_management_token(
    gateway: LocalGateway, method: str, tail: str
) -> None:
    created = create(gateway)
    path = routes(tail.format(id=created["id"], version=created["version"]["version_id"]))
    assert api_error(management(gateway, method, path, token=None, json={})) == (401, 10000)
    assert api_error(management(gateway, method, path, token="wrong", json={})) == (401, 10000)
    # The gateway token is not a management token.
    response = management(gateway, method, path, token=gateway.token, json={})
    assert api_error(response) == (401, 10000)
    assert gateway._state.routes.active("default", "support") == CHAIN


@pytest.mark.parametrize(("method", "tail"), ENDPOINTS)
def test_every_endpoint_on_an_unknown_gateway_is_a_404(
    gateway: LocalGateway, method: str, tail: str
) -> None:
    created = create(gateway)
    path = tail.format(id=created["id"], version=created["version"]["version_id"])
    response = management(gateway, method, f"gateways/nope/routes{path}", json=CHAIN.to_api())
    assert api_error(response) == (404, 7002) and "nope" in error_message(response)


@pytest.mark.parametrize(("method", "tail"), [e for e in ENDPOINTS if "{id}" in e[1]])
def test_every_endpoint_on_an_unknown_route_is_a_404(
    gateway: LocalGateway, method: str, tail: str
) -> None:
    created = create(gateway)
    path = routes(tail.format(id="nope", version=created["version"]["version_id"]))
    body = {"name": "x"} if method == "PATCH" else {"elements": elements(SPLIT)}
    if tail.endswith("deployments"):
        body = {"version_id": created["version"]["version_id"]}
    response = management(gateway, method, path, json=body)
    assert api_error(response) == (404, 7002) and "nope" in error_message(response)


# ---------------------------------------------------------------------------- the store


def test_deploy_route_shows_as_a_route_with_one_version_and_one_deployment(
    gateway: LocalGateway,
) -> None:
    gateway.deploy_route(CHAIN)
    [route] = bare(management(gateway, "GET", routes()), "data")["routes"]
    assert (route["name"], route["elements"]) == ("support", elements(CHAIN))
    path = routes(f"/{route['id']}")
    [version] = bare(management(gateway, "GET", f"{path}/versions"), "data")["versions"]
    [deployment] = bare(management(gateway, "GET", f"{path}/deployments"), "data")["deployments"]
    assert version["active"] == "true" and deployment["version_id"] == version["version_id"]
    # Deploying the name again saves and deploys a second version of the same route.
    gateway.deploy_route(SPLIT)
    again = ok(management(gateway, "GET", path))
    assert again["elements"] == elements(SPLIT)
    assert len(bare(management(gateway, "GET", f"{path}/versions"), "data")["versions"]) == 2
    assert gateway._state.routes.active("default", "support") == SPLIT


def test_reset_forgets_every_route(gateway: LocalGateway) -> None:
    created = create(gateway)
    gateway.reset()
    assert bare(management(gateway, "GET", routes()), "data")["routes"] == []
    assert api_error(management(gateway, "GET", routes(f"/{created['id']}"))) == (404, 7002)
    assert gateway._state.routes.active("default", "support") is None


def test_ids_and_times_come_from_the_gateways_clock(gateway: LocalGateway) -> None:
    before = create(gateway, CHAIN.model_copy(update={"name": "before"}))
    gateway.clock.advance(400 * 86400)
    after = create(gateway)
    year = int(before["created_at"][:4])
    assert int(after["created_at"][:4]) >= year + 1
    assert after["version"]["created_at"] == after["created_at"]
    # UUIDv7: the first 48 bits are the clock's milliseconds.
    ms = int(after["id"].replace("-", "")[:12], 16)
    stamp = datetime.fromisoformat(after["created_at"].replace("Z", "+00:00")).timestamp()
    assert abs(ms / 1000 - stamp) < 1


def test_a_comment_is_kept_on_versions_and_deployments(gateway: LocalGateway) -> None:
    created = create(gateway)
    path = routes(f"/{created['id']}")
    body = {"elements": elements(SPLIT), "comment": "80/20"}
    version = ok(management(gateway, "POST", f"{path}/versions", json=body))
    assert version["version"] == {
        "version_id": version["version_id"],
        "active": "false",
        "created_at": version["created_at"],
        "data": json.dumps({"elements": elements(SPLIT)}, separators=(",", ":")),
        "is_valid": True,
        "comment": "80/20",
    }
    deploy = {"version_id": version["version_id"], "comment": "go"}
    deployed = ok(management(gateway, "POST", f"{path}/deployments", json=deploy))
    assert deployed["deployment"]["comment"] == "go"
    assert deployed["version"]["comment"] == "80/20"
    listed = bare(management(gateway, "GET", f"{path}/versions"), "data")["versions"]
    assert [v.get("comment") for v in listed] == ["80/20", None]
    history = bare(management(gateway, "GET", f"{path}/deployments"), "data")["deployments"]
    assert [d.get("comment") for d in history] == ["go", None]
    for tail, bad in (
        ("versions", {**body, "comment": 1}),
        ("deployments", {**deploy, "comment": []}),
    ):
        response = management(gateway, "POST", f"{path}/{tail}", json=bad)
        assert api_error(response) == (400, 7001) and "comment" in error_message(response)
