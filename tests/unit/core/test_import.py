"""``import langchain_cf_gateway`` (and ``cf-aig route``) load neither LiteLLM nor the server.

Checked in a fresh interpreter, since this test process has imported everything by now.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("litellm", "starlette", "uvicorn")

PROBE = """
import json, sys
{statement}
heavy = {heavy!r}
loaded = sorted(m for m in sys.modules if m.split(".")[0] in heavy)
ours = sorted(m for m in sys.modules if m.startswith("langchain_cf_gateway"))
print(json.dumps({{"heavy": loaded, "ours": ours}}))
"""


def probe(statement: str) -> dict[str, list[str]]:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(statement=statement, heavy=HEAVY)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    "statement",
    [
        "import langchain_cf_gateway",
        "from langchain_cf_gateway import GatewayConfig, GatewayOptions, provider_base_url",
        "import langchain_cf_gateway.core",
        "import langchain_cf_gateway.cli",
    ],
)
def test_import_is_light(statement: str) -> None:
    assert probe(statement)["heavy"] == []


def test_cf_aig_route_and_help_load_only_what_they_use() -> None:
    result = probe(
        "import contextlib, io\n"
        "from langchain_cf_gateway.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['route', 'openai/gpt-4o-mini', '--account-id', 'a']) == 0\n"
        "    assert main(['--help']) == 0"
    )
    assert result["heavy"] == []
    assert "langchain_cf_gateway.cli.route" in result["ours"]
    # Other subcommands' modules are not imported to build the parser.
    assert "langchain_cf_gateway.cli.demo" not in result["ours"]
    assert not [m for m in result["ours"] if m.startswith("langchain_cf_gateway.local")]
