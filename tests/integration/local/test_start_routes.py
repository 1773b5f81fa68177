"""Dynamic routes deployed at start: `cf-aig serve --routes FILE`, the config file's
`[[routes]]` and `LocalGateway(routes=[...])`, each serving `dynamic/<name>` from the first
request on, and a bad route refusing the start with one line naming file, element and field.

https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/json-configuration/
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from langchain_cf_gateway import DynamicRoute
from langchain_cf_gateway.core import ConfigError, Header
from langchain_cf_gateway.local import LocalGateway
from langchain_cf_gateway.local.config import load_config, load_routes
from tests.support.local_calls import chat_body, compat, http

MINI, HAIKU = "openai/gpt-4o-mini", "anthropic/claude-3-5-haiku"
ROOT = Path(__file__).resolve().parents[3]


def route_json(name: str, model: str, **extra: Any) -> dict[str, Any]:
    return {**DynamicRoute.fallback_chain([model], name=name).to_api(), **extra}


def answered(response: Any) -> str:
    assert response.status_code == 200, response.text
    return f"{response.headers[Header.PROVIDER]}/{response.headers[Header.MODEL]}"


def serve(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return subprocess.Popen(
        [sys.executable, "-m", "langchain_cf_gateway.cli", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_serve_deploys_route_files_and_config_routes_before_serving(tmp_path: Path) -> None:
    routes = tmp_path / "routes"
    routes.mkdir()
    (routes / "one.json").write_text(json.dumps(route_json("from-config", MINI)))
    listed = [route_json("listed", HAIKU), route_json("elsewhere", MINI, gateway="secure")]
    (tmp_path / "list.json").write_text(json.dumps(listed))
    config = tmp_path / "local.toml"
    config.write_text(
        'account_id = "acct"\n[gateways.secure]\ncache_ttl = 0\n'
        '[[routes]]\nfile = "routes/one.json"\n'
        '[[routes]]\nname = "inline"\ngateway = "secure"\nelements = '
        + json.dumps(route_json("x", HAIKU)["elements"]).replace('":', '" =').replace("{", "{ ")
        + "\n"
    )
    process = serve("--config", str(config), "--routes", str(tmp_path / "list.json"))
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        base = banner.strip().rsplit(" ", 1)[-1]
        assert base.startswith("http://127.0.0.1:"), banner + (process.stderr.read() or "")
        url = f"{base}/v1/acct/{{}}/compat/chat/completions"

        def call(gateway: str, name: str) -> Any:
            return http.post(url.format(gateway), json=chat_body(f"dynamic/{name}"))

        assert answered(call("default", "from-config")) == MINI
        assert answered(call("default", "listed")) == HAIKU
        assert answered(call("secure", "elsewhere")) == MINI
        assert answered(call("secure", "inline")) == HAIKU
        assert call("default", "elsewhere").status_code == 400  # a route of another gateway
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.mark.parametrize(
    ("elements_change", "named"),
    [
        ({"timeout": "soon"}, "element 'm0' timeout"),
        ({"retries": 1.5}, "element 'm0' retries"),
    ],
)
def test_serve_refuses_a_bad_route_with_one_line(
    tmp_path: Path, elements_change: dict[str, Any], named: str
) -> None:
    body = route_json("bad", MINI)
    model = next(e for e in body["elements"] if e["type"] == "model")
    model["id"] = "m0"
    for e in body["elements"]:
        for out in e["outputs"].values():
            if out["elementId"] == model["id"] or out["elementId"] not in {
                x["id"] for x in body["elements"]
            }:
                out["elementId"] = "m0"
    model["properties"].update(elements_change)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(body))
    process = serve("--routes", str(bad))
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert str(bad) in lines[0] and named in lines[0], lines[0]


def test_serve_refuses_a_route_of_a_gateway_not_created(tmp_path: Path) -> None:
    file = tmp_path / "r.json"
    file.write_text(json.dumps(route_json("r", MINI, gateway="nowhere")))
    process = serve("--routes", str(file))
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert str(file) in err and "'nowhere'" in err and "[gateways.nowhere]" in err


def test_load_routes_reads_one_route_or_a_list_with_gateways(tmp_path: Path) -> None:
    one = tmp_path / "one.json"
    one.write_text(json.dumps(route_json("a", MINI)))
    assert [(g, r.name) for g, r in load_routes(one)] == [("default", "a")]
    many = tmp_path / "many.json"
    many.write_text(json.dumps([route_json("a", MINI), route_json("b", HAIKU, gateway="g2")]))
    assert [(g, r.name) for g, r in load_routes(many)] == [("default", "a"), ("g2", "b")]
    for text, fragment in (
        ("{", "is not valid JSON"),
        ("[1]", "route 0: a route is a JSON object"),
        (json.dumps(route_json("a", MINI, gateway=3)), "'gateway' must be a gateway id"),
        (json.dumps({"name": "a"}), "elements"),
    ):
        many.write_text(text)
        with pytest.raises(ConfigError, match=fragment):
            load_routes(many)
    with pytest.raises(ConfigError, match="cannot read the route file"):
        load_routes(tmp_path / "missing.json")


def test_config_routes_in_yaml_inline_and_by_file(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text(json.dumps(route_json("by-file", MINI)))
    config = tmp_path / "local.yaml"
    config.write_text(
        "gateways: {g2: {}}\nroutes:\n  - file: r.json\n    gateway: g2\n"
        f"  - {json.dumps(route_json('inline', HAIKU))}\n"
    )
    loaded = load_config(config)
    assert [(g, r.name) for g, r in loaded.routes] == [("g2", "by-file"), ("default", "inline")]
    for text, fragment in (
        (
            "routes: {file: r.json}\n",
            "must be a list of tables",
        ),
        (
            "routes: [{file: r.json, extra: 1}]\n",
            r"unknown key\(s\) extra in routes\[0\]",
        ),
        (
            "routes: [{file: r.json, gateway: g3}]\n",
            "gateway 'g3', which the server does not create",
        ),
        ("routes: [3]\n", r"routes\[0\] in .* must be a table"),
    ):
        config.write_text(text)
        with pytest.raises(ConfigError, match=fragment):
            load_config(config)


def test_local_gateway_deploys_its_routes_at_start_and_again_at_reset() -> None:
    first = DynamicRoute.fallback_chain([MINI], name="first")
    other = DynamicRoute.fallback_chain([HAIKU], name="other")
    with LocalGateway(routes=[first, ("g2", other)], gateways={"g2": {}}) as gw:
        body = chat_body("dynamic/first")
        assert answered(compat(gw, body)) == MINI
        assert answered(compat(gw, chat_body("dynamic/other"), gateway_id="g2")) == HAIKU
        gw.deploy_route(DynamicRoute.fallback_chain([HAIKU], name="first"))
        assert answered(compat(gw, body)) == HAIKU
        gw.reset()
        assert answered(compat(gw, body)) == MINI


def test_local_gateway_refuses_a_route_of_a_gateway_it_does_not_create() -> None:
    route = DynamicRoute.fallback_chain([MINI], name="r")
    with pytest.raises(ValueError, match="gateway 'g9', which is not created at start"):
        LocalGateway(routes=[("g9", route)])


def test_the_shipped_support_route_loads() -> None:
    path = ROOT / "litellm_config" / "routes" / "support.json"
    [(gateway, route)] = load_routes(path)
    assert (gateway, route.name) == ("default", "support")
    models = [f"{e.provider}/{e.model}" for e in route.elements if e.type == "model"]
    assert models == [MINI, HAIKU, "workers-ai/@cf/meta/llama-3.1-8b-instruct"]


def test_the_litellm_readme_starts_the_gateway_with_the_support_route() -> None:
    readme = (ROOT / "litellm_config" / "README.md").read_text(encoding="utf-8")
    assert "cf-aig serve --port 8787 --routes litellm_config/routes/support.json" in readme
