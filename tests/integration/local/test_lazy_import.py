"""`import langchain_cf_gateway.local` loads nothing of the server stack until a name is used.

Checked in a fresh interpreter (this test process has imported everything by now), so
that the CLI can find the package with `importlib.util.find_spec` and import it only
for `cf-aig serve`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SERVER_STACK = ("starlette", "uvicorn", "aiohttp")

PROBE = """
import json, sys
{statement}
stack = {stack!r}
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in stack)))
"""


def loaded_after(statement: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(statement=statement, stack=SERVER_STACK)],
        capture_output=True,
        text=True,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize(
    "statement",
    [
        "import langchain_cf_gateway.local",
        "import langchain_cf_gateway.local; dir(langchain_cf_gateway.local)",
        "from langchain_cf_gateway.local import Clock, Fault, Script, count_tokens",
        "from langchain_cf_gateway.local.config import ENV_LOCAL_TOKEN, LOCAL_ACCOUNT_ID",
    ],
)
def test_the_package_loads_no_server_stack(statement: str) -> None:
    assert loaded_after(statement) == []


def test_a_server_name_loads_the_stack() -> None:
    loaded = loaded_after("from langchain_cf_gateway.local import LocalGateway")
    assert {m.split(".")[0] for m in loaded} >= {"starlette", "uvicorn"}
