"""`cf-aig routes test`: what is refused before a gateway starts, and the printout's shape.

No socket: bad input exits 2 before the local gateway would start; the counts are
rendered from a `DryRun` built here.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx
import pytest

from langchain_cf_gateway.cli import main
from langchain_cf_gateway.cli.route_dry_run import DryRun, _code, fallback_only_models
from langchain_cf_gateway.core.dynamic_routes import (
    DynamicRoute,
    EndElement,
    LimitElement,
    ModelElement,
    StartElement,
)

MINI = "openai/gpt-4o-mini"
HAIKU = "anthropic/claude-3-5-haiku"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["routes", "test", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def route_file(tmp_path: Path) -> Path:
    path = tmp_path / "route.json"
    path.write_text(json.dumps(DynamicRoute.split({MINI: 80, HAIKU: 20}, name="ab").to_api()))
    return path


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (
            {"name": "r", "elements": [{"id": "start", "type": "start", "outputs": {}}, {"id": "m", "type": "teleport"}]},
            "element 'm' type: unknown type 'teleport'",
        ),
        (
            {"name": "r", "elements": [{"id": "m", "type": "model", "properties": {"provider": "openai", "model": "x", "timeout": "soon"}}]},
            "element 'm' timeout",
        ),
        ({"elements": []}, "--name NAME"),
        ("{not json", "not JSON"),
    ],
)  # fmt: skip
def test_a_bad_file_is_one_line_naming_the_element_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: object, named: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    code, out, err = run(capsys, str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"cf-aig: error: {path}: ")
    assert named in err and err.count("\n") == 1


def test_a_missing_file_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, str(tmp_path / "nope.json"))
    assert code == 2 and "cannot read the route file" in err


def test_the_file_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys)
    assert code == 2 and "needs FILE: cf-aig routes test FILE" in err


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--n", "0"], "--n: must be from 1 to 100000; got 0"),
        (["--n", "100001"], "--n: must be from 1"),
        (["--body", "[1]"], "--body: must be a JSON object; got list"),
        (["--body", "{oops"], "--body: not JSON"),
        (["--header", "x-team"], "--header: write KEY=VALUE, such as x-team=core"),
        (["--metadata", "=free"], "--metadata: write KEY=VALUE"),
    ],
)
def test_bad_flags_are_refused_before_a_gateway_starts(
    capsys: pytest.CaptureFixture[str], route_file: Path, flags: list[str], named: str
) -> None:
    code, out, err = run(capsys, str(route_file), *flags)
    assert (code, out) == (2, "")
    assert named in err and err.count("\n") == 1


def test_a_model_reached_only_through_fallback_outputs_is_a_fallback() -> None:
    limited = DynamicRoute.rate_limit(
        MINI, key="metadata.user", limit=1, interval=60, fallback=HAIKU, name="rl"
    )
    assert fallback_only_models(limited) == {HAIKU}
    chain = DynamicRoute.fallback_chain([f"{MINI}~status=503", HAIKU], name="c")
    assert fallback_only_models(chain) == {HAIKU}
    assert fallback_only_models(DynamicRoute.split({MINI: 50, HAIKU: 50})) == set()


def test_a_model_also_reached_another_way_is_not_a_fallback() -> None:
    route = DynamicRoute(
        name="both",
        elements=[
            StartElement(id="start", outputs={"next": "limit"}),
            LimitElement(
                id="limit",
                key="metadata.user",
                limit=1,
                interval=60,
                outputs={"success": "a", "fallback": "b"},
            ),
            ModelElement(
                id="a",
                provider="openai",
                model="gpt-4o-mini",
                timeout=1000,
                retries=0,
                outputs={"success": "end"},
            ),
            ModelElement(
                id="b",
                provider="openai",
                model="gpt-4o-mini",
                timeout=1000,
                retries=0,
                outputs={"success": "end"},
            ),
            EndElement(id="end"),
        ],
    )
    assert fallback_only_models(route) == set()


@pytest.mark.parametrize(
    ("response", "code"),
    [
        (httpx.Response(429, json={"internalCode": 2003, "error": [{"code": 2003}]}), 2003),
        (httpx.Response(400, json={"error": [{"code": 2008, "message": "x"}]}), 2008),
        (httpx.Response(500, json={"error": {"code": 500, "message": "x"}}), 500),
        (httpx.Response(500, json={"error": {"code": "server_error"}}), None),
        (httpx.Response(502, text="not json"), None),
        (httpx.Response(502, json=[1]), None),
    ],
)
def test_the_code_of_an_error_response(response: httpx.Response, code: int | None) -> None:
    assert _code(response) == code


def counted() -> DryRun:
    return DryRun(
        "ab",
        10,
        "7",
        models=Counter({HAIKU: 2, MINI: 7}),
        fallbacks=3,
        errors=Counter({(429, 2003): 1}),
    )


def test_the_json_shape() -> None:
    assert counted().to_json() == {
        "route": "ab",
        "requests": 10,
        "seed": "7",
        "models": [
            {"model": MINI, "provider": "openai", "count": 7, "share": 0.7},
            {"model": HAIKU, "provider": "anthropic", "count": 2, "share": 0.2},
        ],
        "fallbacks": {"count": 3, "share": 0.3},
        "errors": [{"status": 429, "code": 2003, "count": 1, "share": 0.1}],
    }


def test_the_table() -> None:
    assert counted().render().splitlines() == [
        "route 'ab' on a local gateway: 10 requests, seed '7'",
        "MODEL                       RESPONSES  SHARE",
        "openai/gpt-4o-mini                  7  70.0%",
        "anthropic/claude-3-5-haiku          2  20.0%",
        "error 429/2003                      1  10.0%",
        "fallbacks taken: 3 (30.0%)",
    ]
