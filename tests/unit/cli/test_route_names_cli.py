"""`cf-aig routes test|diff|deploy FILE` refuse a route name `dynamic/<name>` cannot call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from langchain_cf_gateway.cli import main
from langchain_cf_gateway.core.dynamic_routes import DynamicRoute

ROUTE = DynamicRoute.fallback_chain(["openai/gpt-4o-mini"], name="support")


@pytest.mark.parametrize("name", ["a b", "süppört", " lead", "a\nb", "a" * 1000], ids=repr)
@pytest.mark.parametrize("command", ["test", "diff", "deploy"])
def test_a_file_naming_an_uncallable_route_is_refused_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, command: str
) -> None:
    path = tmp_path / "route.json"
    path.write_text(json.dumps({**ROUTE.to_api(), "name": name}))
    code = main(
        ["routes", command, str(path), "--yes"]
        if command == "deploy"
        else ["routes", command, str(path)]
    )
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert "name: " in err
    assert "dynamic/<name>" in err or "at most 64 characters" in err
    assert err.count("\n") == 1
