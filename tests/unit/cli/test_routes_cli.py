"""`cf-aig routes list|show|diff|deploy`: what the user reads, what is sent, the exit status.

The management API is an `httpx.MockTransport` behind the client the command builds
from its own flags (`GatewayClient._new_http` patched), so `--account-id`,
`--gateway-id`, `--token` and `--base-url` are resolved as the user gives them.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from langchain_cf_gateway.cli import main
from langchain_cf_gateway.core.dynamic_routes import DynamicRoute
from langchain_cf_gateway.management import GatewayClient

TOKEN = "routes-token-0123456789"
ROUTES = "/client/v4/accounts/acct/ai-gateway/gateways/gw/routes"
FLAGS = ["--account-id", "acct", "--gateway-id", "gw", "--token", TOKEN]
FLAGS += ["--base-url", "http://gw.test"]
DEPLOYED = DynamicRoute.fallback_chain(
    ["openai/gpt-4o-mini", "anthropic/claude-3-5-haiku"], name="support"
)
PROPOSED = DynamicRoute.fallback_chain(
    ["openai/gpt-4o", "anthropic/claude-3-5-haiku"], name="support"
)


def record(deployed: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "r1",
        "name": "support",
        "gateway_id": "gw",
        "modified_at": "2026-11-02T10:00:00Z",
        "elements": DEPLOYED.to_api()["elements"],
    }
    if deployed:
        body["version"] = {"version_id": "v1", "active": "true", "data": "{}"}
        body["deployment"] = {"deployment_id": "d1", "version_id": "v1", "created_at": "t1"}
    return body


def envelope(result: Any) -> httpx.Response:
    return httpx.Response(
        200, json={"success": True, "errors": [], "messages": [], "result": result}
    )


def listing(key: str, rows: list[Any]) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "data": {key: rows}})


VERSION_1 = {
    "id": "r1",
    "name": "support",
    "version_id": "v1",
    "active": "true",
    "data": json.dumps(DEPLOYED.to_api()),
    "elements": DEPLOYED.to_api()["elements"],
}


class Api:
    """Cloudflare's API, scripted: `(method, path) -> response`; every request recorded."""

    def __init__(self, table: dict[tuple[str, str], Callable[[], httpx.Response]]) -> None:
        self.table = table
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        answer = self.table.get((request.method, request.url.path))
        if answer is None:
            return httpx.Response(404, json={"success": False, "errors": [{"message": "no"}]})
        return answer()

    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.url.path) for r in self.sent]


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Api:
    scripted = Api({})

    def new_http(self: GatewayClient) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(scripted))

    monkeypatch.setattr(GatewayClient, "_new_http", new_http)
    return scripted


def existing(api: Api, deployed: bool = True) -> None:
    api.table[("GET", ROUTES)] = lambda: listing("routes", [record(deployed)])
    api.table[("GET", f"{ROUTES}/r1/versions/v1")] = lambda: envelope(VERSION_1)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["routes", *argv, *FLAGS])
    out, err = capsys.readouterr()
    assert TOKEN not in out + err
    return code, out, err


@pytest.fixture
def route_file(tmp_path: Path) -> Path:
    path = tmp_path / "support.json"
    path.write_text(json.dumps(PROPOSED.to_api()))
    return path


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


# --------------------------------------------------------------------------- list, show


def test_list_prints_a_table(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    existing(api)
    code, out, err = run(capsys, "list")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "NAME     ID  DEPLOYED VERSION  MODIFIED",
        "support  r1  v1                2026-11-02T10:00:00Z",
        "1 route on gateway 'gw'",
    ]
    assert api.calls() == [("GET", ROUTES)]
    assert api.sent[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_list_json_is_one_object_per_line(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    existing(api)
    code, out, _ = run(capsys, "list", "--json")
    assert code == 0
    assert [json.loads(line)["name"] for line in out.splitlines()] == ["support"]


def test_show_prints_the_deployed_version(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    existing(api)
    code, out, err = run(capsys, "show", "support")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "route 'support' (id r1) on gateway 'gw'"
    assert lines[1] == "deployed version v1 (deployment d1, t1)"
    assert '  element "model": model provider="openai" model="gpt-4o-mini"' in out
    assert api.calls() == [("GET", ROUTES), ("GET", f"{ROUTES}/r1/versions/v1")]


def test_show_json_is_a_file_deploy_takes(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    existing(api)
    code, out, _ = run(capsys, "show", "support", "--json")
    assert code == 0
    assert DynamicRoute.from_api(out) == DEPLOYED.model_copy(update={"id": "r1"})


def test_show_of_an_unknown_name_says_so(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    existing(api)
    code, out, err = run(capsys, "show", "nope")
    assert (code, out) == (1, "")
    assert err == "cf-aig: no route named 'nope' on gateway 'gw' (cf-aig routes list lists them)\n"


def test_show_needs_a_name(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "show")
    assert code == 2
    assert err == "cf-aig: error: show: needs NAME: cf-aig routes show NAME\n"
    assert api.sent == []


# --------------------------------------------------------------------------- diff


def test_diff_prints_the_changes_and_sends_no_write(
    api: Api, capsys: pytest.CaptureFixture[str], route_file: Path
) -> None:
    existing(api)
    code, out, err = run(capsys, "diff", str(route_file))
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        '~ element "model" properties.model: "gpt-4o-mini" -> "gpt-4o"',
        "1 change; `cf-aig routes deploy` applies them",
    ]
    assert {m for m, _ in api.calls()} == {"GET"}


def test_diff_json(api: Api, capsys: pytest.CaptureFixture[str], route_file: Path) -> None:
    existing(api)
    code, out, _ = run(capsys, "diff", str(route_file), "--json")
    assert code == 0
    assert json.loads(out) == {
        "route": "support",
        "route_id": "r1",
        "deployed_version": "v1",
        "changes": [
            {
                "kind": "changed",
                "element_id": "model",
                "field": "properties.model",
                "old": "gpt-4o-mini",
                "new": "gpt-4o",
            }
        ],
    }


def test_diff_of_a_new_route_adds_every_element(
    api: Api, capsys: pytest.CaptureFixture[str], route_file: Path
) -> None:
    api.table[("GET", ROUTES)] = lambda: listing("routes", [])
    code, out, _ = run(capsys, "diff", str(route_file))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "route 'support' on gateway 'gw' does not exist: a deploy creates it"
    assert [line[:2] for line in lines[1:5]] == ["+ "] * 4
    assert lines[-1] == "4 changes; `cf-aig routes deploy` applies them"


def test_diff_of_the_same_route_says_no_changes(
    api: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    existing(api)
    path = tmp_path / "same.json"
    path.write_text(json.dumps(DEPLOYED.to_api()))
    code, out, _ = run(capsys, "diff", str(path))
    assert (code, out) == (0, "No changes: route 'support' on gateway 'gw' already serves this.\n")


# --------------------------------------------------------------------------- bad FILE


@pytest.mark.parametrize("action", ["diff", "deploy"])
@pytest.mark.parametrize(
    ("content", "named"),
    [
        (
            {"name": "support", "elements": [{"id": "start", "type": "start", "outputs": {}}, {"id": "m", "type": "teleport"}]},
            "element 'm' type: unknown type 'teleport'",
        ),
        (
            {"name": "support", "elements": [{"id": "m", "type": "model", "properties": {"provider": "openai", "model": "x", "timeout": "soon"}}]},
            "element 'm' timeout",
        ),
        ({"elements": []}, "--name NAME"),
        ("{not json", "json: not JSON"),
    ],
)  # fmt: skip
def test_a_bad_file_names_the_element_and_sends_nothing(
    api: Api,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    action: str,
    content: Any,
    named: str,
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    code, out, err = run(capsys, action, str(path), "--yes")
    assert (code, out) == (2, "")
    assert err.startswith(f"cf-aig: error: {path}: ")
    assert named in err
    assert err.count("\n") == 1
    assert api.sent == []


def test_a_control_character_in_the_file_reaches_the_terminal_escaped(
    api: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "evil.json"
    bad = {"id": "start\x1b[2J", "type": "start", "outputs": {"\n": None}}
    path.write_text(json.dumps({"name": "s", "elements": [bad]}))
    code, _, err = run(capsys, "diff", str(path))
    assert code == 2
    assert "\x1b" not in err and err.count("\n") == 1
    assert "\\x1b[2J" in err
    assert api.sent == []


def test_a_missing_file_is_named(
    api: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "diff", str(tmp_path / "nope.json"))
    assert code == 2
    assert (
        err
        == f"cf-aig: error: {tmp_path / 'nope.json'}: cannot read the route file: No such file or directory\n"
    )
    assert api.sent == []


# --------------------------------------------------------------------------- deploy


def deployable(api: Api) -> None:
    existing(api)
    api.table[("POST", f"{ROUTES}/r1/versions")] = lambda: envelope(record())
    api.table[("GET", f"{ROUTES}/r1/versions")] = lambda: listing(
        "versions",
        [
            {"version_id": "v1", "active": "true", "created_at": "2026-11-01", "data": "{}"},
            {"version_id": "v2", "active": "false", "created_at": "2026-11-03", "data": "{}"},
        ],
    )
    api.table[("POST", f"{ROUTES}/r1/deployments")] = lambda: envelope(record())
    api.table[("GET", f"{ROUTES}/r1/deployments")] = lambda: listing(
        "deployments", [{"deployment_id": "d2", "version_id": "v2", "created_at": "t2"}]
    )


def writes(api: Api) -> list[tuple[str, str, Any]]:
    return [(r.method, r.url.path, json.loads(r.content)) for r in api.sent if r.method != "GET"]


def test_deploy_with_yes_prints_the_diff_then_deploys(
    api: Api, capsys: pytest.CaptureFixture[str], route_file: Path
) -> None:
    deployable(api)
    code, out, err = run(capsys, "deploy", str(route_file), "--yes", "--comment", "gpt-4o")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        '~ element "model" properties.model: "gpt-4o-mini" -> "gpt-4o"',
        "deployed version v2 of route 'support' on gateway 'gw' (deployment d2)",
    ]
    assert writes(api) == [
        (
            "POST",
            f"{ROUTES}/r1/versions",
            {"elements": PROPOSED.to_api()["elements"], "comment": "gpt-4o"},
        ),
        ("POST", f"{ROUTES}/r1/deployments", {"version_id": "v2", "comment": "gpt-4o"}),
    ]


def test_deploy_json(api: Api, capsys: pytest.CaptureFixture[str], route_file: Path) -> None:
    deployable(api)
    code, out, _ = run(capsys, "deploy", str(route_file), "--yes", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["deployed"]["version_id"] == "v2"
    assert report["deployed"]["deployment"]["deployment_id"] == "d2"
    assert [c["field"] for c in report["changes"]] == ["properties.model"]


def test_deploy_without_yes_and_no_terminal_refuses_before_sending(
    api: Api,
    capsys: pytest.CaptureFixture[str],
    route_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", _Pipe("y\n"))
    code, out, err = run(capsys, "deploy", str(route_file))
    assert (code, out) == (2, "")
    assert err == (
        "cf-aig: error: --yes: stdin is not a terminal to confirm at: pass --yes to deploy\n"
    )
    assert api.sent == []


@pytest.mark.parametrize(
    ("typed", "deployed"),
    [("y\n", True), ("yes\n", True), ("n\n", False), ("\n", False), ("", False)],
)
def test_deploy_at_a_terminal_asks_first(
    api: Api,
    capsys: pytest.CaptureFixture[str],
    route_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    typed: str,
    deployed: bool,
) -> None:
    deployable(api)
    monkeypatch.setattr("sys.stdin", _Terminal(typed))
    code, out, err = run(capsys, "deploy", str(route_file))
    assert "Deploy 1 change(s) to route 'support' on gateway 'gw'? [y/N] " in out
    assert out.startswith('~ element "model" properties.model: "gpt-4o-mini" -> "gpt-4o"\n')
    if deployed:
        assert (code, err) == (0, "")
        assert [m for m, _, _ in writes(api)] == ["POST", "POST"]
    else:
        assert (code, err) == (1, "cf-aig: not deployed\n")
        assert writes(api) == []


def test_deploy_of_an_unchanged_route_deploys_nothing(
    api: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    deployable(api)
    path = tmp_path / "same.json"
    path.write_text(json.dumps(DEPLOYED.to_api()))
    code, out, _ = run(capsys, "deploy", str(path), "--yes")
    assert (code, out) == (0, "No changes: route 'support' on gateway 'gw' already serves this.\n")
    assert writes(api) == []


def test_deploy_creates_a_route_the_gateway_lacks(
    api: Api, capsys: pytest.CaptureFixture[str], route_file: Path
) -> None:
    created = {**record(), "version": {"version_id": "v1", "active": "true", "data": "{}"}}
    api.table[("GET", ROUTES)] = lambda: listing("routes", [])
    api.table[("POST", ROUTES)] = lambda: envelope(created)
    api.table[("POST", f"{ROUTES}/r1/deployments")] = lambda: envelope(created)
    api.table[("GET", f"{ROUTES}/r1/deployments")] = lambda: listing("deployments", [])
    code, out, _ = run(capsys, "deploy", str(route_file), "--yes")
    assert code == 0
    assert (
        out.splitlines()[-1] == "created and deployed version v1 of route 'support' on gateway 'gw'"
    )
    assert writes(api)[0] == (
        "POST",
        ROUTES,
        {"elements": PROPOSED.to_api()["elements"], "name": "support"},
    )


def test_an_error_response_is_one_line_and_exit_1(
    api: Api, capsys: pytest.CaptureFixture[str], route_file: Path
) -> None:
    api.table[("GET", ROUTES)] = lambda: httpx.Response(
        403, json={"success": False, "errors": [{"code": 10000, "message": f"denied {TOKEN}"}]}
    )
    code, out, err = run(capsys, "diff", str(route_file))
    assert (code, out) == (1, "")
    assert err.startswith("cf-aig: ") and err.count("\n") == 1


def test_an_unreachable_api_is_exit_1(
    capsys: pytest.CaptureFixture[str], route_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    monkeypatch.setattr(
        GatewayClient,
        "_new_http",
        lambda self: httpx.Client(transport=httpx.MockTransport(refuse)),
    )
    code, _, err = run(capsys, "list")
    assert code == 1
    assert err.startswith("cf-aig: cannot reach the management API at http://gw.test/client/v4")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
element_like = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["start", "m", "end", ""]),
        "type": st.sampled_from(["start", "model", "end", "rate", "x"]),
    },
    optional={"outputs": json_values, "properties": json_values},
)
file_json = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"name": st.text(max_size=8), "elements": st.lists(element_like, max_size=4)}
    ),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=file_json)
def test_any_file_is_a_diff_or_exit_2_with_nothing_sent(
    api: Api, capsys: pytest.CaptureFixture[str], tmp_path: Path, content: Any
) -> None:
    api.sent.clear()
    api.table[("GET", ROUTES)] = lambda: listing("routes", [])
    path = tmp_path / "any.json"
    path.write_text(json.dumps(content))
    code, out, err = run(capsys, "diff", str(path))
    if code == 2:
        assert (out, api.sent) == ("", [])
        assert err.startswith(f"cf-aig: error: {path}: ") and err.count("\n") == 1
    else:
        assert (code, err) == (0, "")
        assert out.startswith("route ") and {r.method for r in api.sent} == {"GET"}
