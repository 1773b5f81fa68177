"""The dynamic-routing calls: each request on the wire, each response read, for both clients.

Every call runs against an `httpx.MockTransport` playing Cloudflare's API: the test
checks the method, the path, the query and the JSON body sent, and what the caller gets
back from Cloudflare's response shapes (the v4 envelope, and the `{"success", "data"}`
lists the SDK reads without unwrapping).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from langchain_cf_gateway.core import GatewayError, GatewayNotFoundError, InvalidOptionError
from langchain_cf_gateway.core.dynamic_routes import DynamicRoute, InvalidDynamicRouteError
from langchain_cf_gateway.core.errors import InvalidResponseError
from langchain_cf_gateway.management import (
    DeployedRoute,
    ManagementAuthenticationError,
    RouteDeployment,
    RouteNotFoundError,
    RouteRecord,
    RouteVersion,
)

from .conftest import MODES, TOKEN, call

ROUTES = "/client/v4/accounts/acct/ai-gateway/gateways/gw/routes"
ROUTE = DynamicRoute.fallback_chain(
    ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku"], name="support"
)
ELEMENTS = ROUTE.to_api()["elements"]
SPLIT = DynamicRoute.split(
    {"openai/gpt-4o-mini": 80, "anthropic/claude-3-5-haiku": 20}, name="support"
)


def record(route_id: str = "r1", name: str = "support", version: str = "v1") -> dict[str, Any]:
    """A route as Cloudflare's API returns it (`DynamicRoutingGetResponse`)."""
    return {
        "id": route_id,
        "name": name,
        "account_tag": "acct",
        "gateway_id": "gw",
        "created_at": "2026-11-01T10:00:00Z",
        "modified_at": "2026-11-02T10:00:00Z",
        "elements": ELEMENTS,
        "version": {
            "version_id": version,
            "active": "true",
            "created_at": "2026-11-01T10:00:00Z",
            "data": json.dumps({"elements": ELEMENTS}),
        },
        "deployment": {
            "deployment_id": "d1",
            "version_id": version,
            "created_at": "2026-11-01T10:00:01Z",
        },
    }


def envelope(result: Any) -> httpx.Response:
    return httpx.Response(
        200, json={"success": True, "errors": [], "messages": [], "result": result}
    )


def listing(key: str, rows: list[Any]) -> httpx.Response:
    """A list as the SDK reads it: `{"data": {key: rows, ...}, "success": true}`."""
    data = {"order_by": "created_at", "order_by_direction": "desc", "page": 1, "per_page": 20}
    return httpx.Response(200, json={"success": True, "data": {**data, key: rows}})


class Api:
    """A scripted API: `(method, path) -> response`; every request recorded."""

    def __init__(self, table: dict[tuple[str, str], Callable[[], httpx.Response]]) -> None:
        self.table = table
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        answer = self.table.get((request.method, request.url.path))
        if answer is None:
            return httpx.Response(404, json={"success": False, "errors": [{"code": 7003}]})
        return answer()

    def wire(self) -> list[tuple[str, str, Any]]:
        return [
            (r.method, r.url.path, json.loads(r.content) if r.content else None) for r in self.sent
        ]


V1 = {"version_id": "v1", "active": "true", "created_at": "2026-11-01T10:00:00Z", "data": "{}"}
V2 = {"version_id": "v2", "active": "false", "created_at": "2026-11-03T10:00:00Z", "data": "{}"}
D2 = {"deployment_id": "d2", "version_id": "v2", "created_at": "2026-11-03T10:00:01Z"}


@pytest.mark.parametrize("mode", MODES)
def test_list_routes_reads_the_data_object(mode: str) -> None:
    api = Api({("GET", ROUTES): lambda: listing("routes", [record()])})
    routes = call(mode, api, "list_routes", per_page=20)
    assert [(r.method, r.url.path, dict(r.url.params)) for r in api.sent] == [
        ("GET", ROUTES, {"page": "1", "per_page": "20"})
    ]
    assert api.sent[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert isinstance(routes[0], RouteRecord)
    assert routes[0].route == ROUTE.model_copy(update={"id": "r1"})
    assert routes[0].version is not None and routes[0].version.is_active
    assert routes[0].deployment == RouteDeployment(
        deployment_id="d1", version_id="v1", created_at="2026-11-01T10:00:01Z"
    )
    assert routes[0].model_dump()["account_tag"] == "acct"  # a field we do not model, kept


@pytest.mark.parametrize("mode", MODES)
def test_list_routes_reads_the_envelope_too(mode: str) -> None:
    api = Api({("GET", ROUTES): lambda: envelope({"data": {"routes": [record()]}})})
    assert [r.name for r in call(mode, api, "list_routes")] == ["support"]


@pytest.mark.parametrize("mode", MODES)
def test_a_list_that_is_not_one_is_the_servers_fault(mode: str) -> None:
    api = Api({("GET", ROUTES): lambda: httpx.Response(200, json={"success": True, "data": 3})})
    with pytest.raises(InvalidResponseError, match="a list of routes"):
        call(mode, api, "list_routes")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("method", "args", "key"),
    [("list_routes", (), "data"), ("update_route", ("r1",), "route")],
)
def test_a_2xx_that_says_success_false_is_no_result(
    mode: str, method: str, args: tuple[str, ...], key: str
) -> None:
    body = {"success": False, key: {"routes": []} if key == "data" else record()}
    api = Api({})
    api.table = {(m, p): (lambda: httpx.Response(200, json=body)) for m, p in [
        ("GET", ROUTES), ("PATCH", f"{ROUTES}/r1")
    ]}  # fmt: skip
    kwargs = {"name": "n"} if method == "update_route" else {}
    with pytest.raises(InvalidResponseError, match='"success" is false'):
        call(mode, api, method, *args, **kwargs)


@pytest.mark.parametrize("mode", MODES)
def test_get_route(mode: str) -> None:
    api = Api({("GET", f"{ROUTES}/r1"): lambda: envelope(record())})
    got = call(mode, api, "get_route", "r1")
    assert api.wire() == [("GET", f"{ROUTES}/r1", None)]
    assert got.id == "r1" and got.route.elements == ROUTE.elements


@pytest.mark.parametrize("mode", MODES)
def test_create_route_sends_name_and_elements(mode: str) -> None:
    api = Api({("POST", ROUTES): lambda: envelope(record())})
    got = call(mode, api, "create_route", ROUTE)
    assert api.wire() == [("POST", ROUTES, {"elements": ELEMENTS, "name": "support"})]
    assert got.version is not None and got.version.version_id == "v1"


@pytest.mark.parametrize("mode", MODES)
def test_update_route_renames_and_reads_the_route_object(mode: str) -> None:
    renamed = {**record(), "name": "helpdesk"}
    api = Api(
        {
            ("PATCH", f"{ROUTES}/r1"): lambda: httpx.Response(
                200, json={"route": renamed, "success": True}
            )
        }
    )
    got = call(mode, api, "update_route", "r1", name="helpdesk")
    assert api.wire() == [("PATCH", f"{ROUTES}/r1", {"name": "helpdesk"})]
    assert got.name == "helpdesk"


@pytest.mark.parametrize("mode", MODES)
def test_delete_route(mode: str) -> None:
    gone = {k: v for k, v in record().items() if k not in ("version", "deployment")}
    api = Api({("DELETE", f"{ROUTES}/r1"): lambda: envelope(gone)})
    got = call(mode, api, "delete_route", "r1")
    assert api.wire() == [("DELETE", f"{ROUTES}/r1", None)]
    assert got.id == "r1" and got.deployment is None


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("comment", [None, "80/20 test"])
def test_create_route_version_sends_the_elements(mode: str, comment: str | None) -> None:
    api = Api({("POST", f"{ROUTES}/r1/versions"): lambda: envelope(record())})
    call(mode, api, "create_route_version", "r1", SPLIT, comment=comment)
    body: dict[str, Any] = {"elements": SPLIT.to_api()["elements"]}
    if comment is not None:
        body["comment"] = comment
    assert api.wire() == [("POST", f"{ROUTES}/r1/versions", body)]


@pytest.mark.parametrize("mode", MODES)
def test_list_route_versions_keeps_active_a_string(mode: str) -> None:
    api = Api({("GET", f"{ROUTES}/r1/versions"): lambda: listing("versions", [V1, V2])})
    versions = call(mode, api, "list_route_versions", "r1")
    assert api.wire() == [("GET", f"{ROUTES}/r1/versions", None)]
    assert [(v.version_id, v.active, v.is_active) for v in versions] == [
        ("v1", "true", True),
        ("v2", "false", False),
    ]


@pytest.mark.parametrize("mode", MODES)
def test_get_route_version_reads_its_route(mode: str) -> None:
    body = {
        **V2,
        "id": "r1",
        "name": "support",
        "data": json.dumps(SPLIT.to_api()),
        "elements": SPLIT.to_api()["elements"],
        "comment": "80/20",
    }
    api = Api({("GET", f"{ROUTES}/r1/versions/v2"): lambda: envelope(body)})
    version = call(mode, api, "get_route_version", "r1", "v2")
    assert api.wire() == [("GET", f"{ROUTES}/r1/versions/v2", None)]
    assert isinstance(version, RouteVersion) and version.comment == "80/20"
    assert version.route().elements == SPLIT.elements


def test_a_version_without_elements_is_read_from_its_data() -> None:
    version = RouteVersion.model_validate({**V2, "data": json.dumps(SPLIT.to_api())})
    assert version.route().elements == SPLIT.elements


def test_a_version_whose_data_is_no_route_is_the_servers_fault() -> None:
    version = RouteVersion.model_validate({**V2, "data": "{}"})
    with pytest.raises(InvalidResponseError, match="version 'v2'"):
        version.route(name="support")


@pytest.mark.parametrize("mode", MODES)
def test_create_route_deployment_sends_the_version_id(mode: str) -> None:
    api = Api({("POST", f"{ROUTES}/r1/deployments"): lambda: envelope(record(version="v2"))})
    call(mode, api, "create_route_deployment", "r1", "v2")
    assert api.wire() == [("POST", f"{ROUTES}/r1/deployments", {"version_id": "v2"})]


@pytest.mark.parametrize("mode", MODES)
def test_list_route_deployments(mode: str) -> None:
    api = Api({("GET", f"{ROUTES}/r1/deployments"): lambda: listing("deployments", [D2])})
    got = call(mode, api, "list_route_deployments", "r1")
    assert api.wire() == [("GET", f"{ROUTES}/r1/deployments", None)]
    assert got == [RouteDeployment(**D2)]


# --------------------------------------------------------------------------- deploy


@pytest.mark.parametrize("mode", MODES)
def test_deploy_creates_a_route_the_gateway_lacks(mode: str) -> None:
    api = Api(
        {
            ("GET", ROUTES): lambda: listing("routes", [record("r9", "other")]),
            ("POST", ROUTES): lambda: envelope(record()),
            ("POST", f"{ROUTES}/r1/deployments"): lambda: envelope(record()),
            ("GET", f"{ROUTES}/r1/deployments"): lambda: listing(
                "deployments", [{"deployment_id": "d1", "version_id": "v1", "created_at": "x"}]
            ),
        }
    )
    done = call(mode, api, "deploy", ROUTE, comment="first")
    assert api.wire() == [
        ("GET", ROUTES, None),
        ("POST", ROUTES, {"elements": ELEMENTS, "name": "support"}),
        ("POST", f"{ROUTES}/r1/deployments", {"version_id": "v1", "comment": "first"}),
        ("GET", f"{ROUTES}/r1/deployments", None),
    ]
    assert isinstance(done, DeployedRoute)
    assert (done.created, done.version_id, done.route.id) == (True, "v1", "r1")
    assert done.deployment is not None and done.deployment.deployment_id == "d1"


@pytest.mark.parametrize("mode", MODES)
def test_deploy_adds_a_version_to_the_route_of_that_name(mode: str) -> None:
    api = Api(
        {
            ("GET", ROUTES): lambda: listing("routes", [record("r9", "other"), record()]),
            ("POST", f"{ROUTES}/r1/versions"): lambda: envelope(record()),
            ("GET", f"{ROUTES}/r1/versions"): lambda: listing("versions", [V2, V1]),
            ("POST", f"{ROUTES}/r1/deployments"): lambda: envelope(record(version="v2")),
            ("GET", f"{ROUTES}/r1/deployments"): lambda: listing(
                "deployments",
                [{"deployment_id": "d1", "version_id": "v1", "created_at": "a"}, D2],
            ),
        }
    )
    done = call(mode, api, "deploy", SPLIT)
    assert api.wire() == [
        ("GET", ROUTES, None),
        ("POST", f"{ROUTES}/r1/versions", {"elements": SPLIT.to_api()["elements"]}),
        ("GET", f"{ROUTES}/r1/versions", None),
        ("POST", f"{ROUTES}/r1/deployments", {"version_id": "v2"}),
        ("GET", f"{ROUTES}/r1/deployments", None),
    ]
    assert (done.created, done.version_id) == (False, "v2")
    assert done.deployment == RouteDeployment(**D2)


@pytest.mark.parametrize("mode", MODES)
def test_deploy_takes_the_version_id_a_create_version_response_carries(mode: str) -> None:
    made = {**record(), "version_id": "v7"}  # the new version, as GET versions/{id} shows it
    api = Api(
        {
            ("GET", ROUTES): lambda: listing("routes", [record()]),
            ("POST", f"{ROUTES}/r1/versions"): lambda: envelope(made),
            ("POST", f"{ROUTES}/r1/deployments"): lambda: envelope(record(version="v7")),
            ("GET", f"{ROUTES}/r1/deployments"): lambda: listing("deployments", []),
        }
    )
    done = call(mode, api, "deploy", SPLIT)
    assert ("GET", f"{ROUTES}/r1/versions", None) not in api.wire()
    assert api.wire()[2] == ("POST", f"{ROUTES}/r1/deployments", {"version_id": "v7"})
    assert (done.version_id, done.deployment) == ("v7", None)


@pytest.mark.parametrize("mode", MODES)
def test_deploy_reads_every_page_of_routes_to_find_the_name(mode: str) -> None:
    pages = {
        "1": [record(f"r{i}", f"other-{i}") for i in range(50)],
        "2": [record()],
    }
    api = Api({})
    api.table = {
        ("POST", f"{ROUTES}/r1/versions"): lambda: envelope(record()),
        ("GET", f"{ROUTES}/r1/versions"): lambda: listing("versions", [V2]),
        ("POST", f"{ROUTES}/r1/deployments"): lambda: envelope(record()),
        ("GET", f"{ROUTES}/r1/deployments"): lambda: listing("deployments", [D2]),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == ROUTES:
            api.sent.append(request)
            return listing("routes", pages[request.url.params["page"]])
        return api(request)

    done = call(mode, handler, "deploy", SPLIT)
    assert [r.url.params.get("page") for r in api.sent[:2]] == ["1", "2"]
    assert done.created is False


@pytest.mark.parametrize("mode", MODES)
def test_deploy_of_a_broken_route_sends_nothing(mode: str) -> None:
    broken = ROUTE.model_copy(update={"elements": ROUTE.elements[1:]})  # no start
    api = Api({})
    with pytest.raises(InvalidDynamicRouteError):
        call(mode, api, "deploy", broken)
    assert api.sent == []


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("get_route", ("r404",)),
        ("list_route_versions", ("r404",)),
        ("get_route_version", ("r404", "v1")),
        ("delete_route", ("r404",)),
    ],
)
def test_a_404_names_the_route_and_the_gateway(
    mode: str, method: str, args: tuple[str, ...]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"success": False, "errors": [{"code": 7002, "message": "Route not found"}]}
        return httpx.Response(404, json=body)

    with pytest.raises(RouteNotFoundError) as caught:
        call(mode, handler, method, *args, max_retries=2)
    assert isinstance(caught.value, GatewayNotFoundError)
    assert "route 'r404' on gateway 'gw' not found" in str(caught.value)
    assert "cf-aig routes list" in str(caught.value)
    assert caught.value.status_code == 404


@pytest.mark.parametrize("mode", MODES)
def test_a_401_is_the_management_class_and_hides_the_token(mode: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"success": False, "errors": [{"code": 10000, "message": f"bad {TOKEN}"}]}
        return httpx.Response(401, json=body)

    with pytest.raises(ManagementAuthenticationError) as caught:
        call(mode, handler, "list_routes")
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize("mode", MODES)
def test_a_write_is_never_sent_twice(mode: str) -> None:
    api = Api({("POST", ROUTES): lambda: httpx.Response(503, json={"success": False})})
    with pytest.raises(GatewayError):
        call(mode, api, "create_route", ROUTE, max_retries=2)
    assert len(api.sent) == 1


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("method", "args", "field"),
    [
        ("get_route", ("../gateways",), "route_id"),
        ("get_route_version", ("r1", "v/1"), "version_id"),
        ("create_route_deployment", ("r1", ""), "version_id"),
        ("list_routes", (), "page"),
    ],
)
def test_a_bad_id_sends_nothing(mode: str, method: str, args: tuple[str, ...], field: str) -> None:
    api = Api({})
    kwargs = {"page": 0} if method == "list_routes" else {}
    with pytest.raises(InvalidOptionError, match=field):
        call(mode, api, method, *args, **kwargs)
    assert api.sent == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["success", "result", "data", "routes", "versions", "route", "id", "x"]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None)
@given(
    body=json_values,
    method=st.sampled_from(
        [("list_routes", ()), ("list_route_versions", ("r1",)), ("update_route", ("r1",))]
    ),
)
def test_any_2xx_body_is_a_value_or_invalid_response(body: Any, method: tuple[str, Any]) -> None:
    name, args = method
    kwargs = {"name": "n"} if name == "update_route" else {}
    try:
        got = call("sync", lambda r: httpx.Response(200, json=body), name, *args, **kwargs)
    except InvalidResponseError as exc:
        assert exc.status_code == 200
    else:
        assert isinstance(got, (list, RouteRecord))
