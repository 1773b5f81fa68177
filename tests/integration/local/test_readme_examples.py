"""The README examples run.

Every curl example of langchain_cf_gateway/local/README.md against a real ``cf-aig serve``;
every ```python block of README.md and the local README, section by section (a section's
blocks share one namespace, in order), against an in-process ``LocalGateway`` with the
environment pointed at it. A block marked ``# needs: cloudflare`` is compiled only
(tests/unit/test_readme_code_blocks.py).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import langchain_cf_gateway.local
from langchain_cf_gateway.local import LocalGateway
from tests.unit.test_readme_code_blocks import READMES, Block, sections

from .test_serve import free_port

README = Path(langchain_cf_gateway.local.__file__).with_name("README.md")
BLOCK = re.compile(r"```sh\n(.*?)```", re.S)


def examples() -> list[tuple[str, str]]:
    found = []
    for block in BLOCK.findall(README.read_text()):
        expect = re.search(r"^# expect: (.+)$", block, re.M)
        assert expect, f"a README example without '# expect:': {block[:60]}"
        found.append((block, expect.group(1)))
    return found


def test_the_readme_has_examples() -> None:
    assert len(examples()) >= 10


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_cf_aig_serve_answers_every_readme_example() -> None:
    port = free_port()
    env = {**os.environ, "CF_AIG_LOCAL_MANAGEMENT_TOKEN": "dev-admin"}
    # `cf-aig` of this interpreter, as a user's shell would find it in the venv.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    process = subprocess.Popen(
        [sys.executable, "-m", "langchain_cf_gateway.cli", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        assert "listening on" in process.stdout.readline()
        for block, expected in examples():
            command = block.replace("127.0.0.1:8787", f"127.0.0.1:{port}")
            done = subprocess.run(
                ["bash", "-o", "pipefail", "-ec", command],
                capture_output=True,
                text=True,
                timeout=30,
                env=env,
            )
            assert done.returncode == 0, (block, done.stderr)
            assert expected in done.stdout.replace("\r", ""), (block, done.stdout)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)


SECTIONS = [
    (readme, name, blocks) for readme in READMES for name, blocks in sections(readme).items()
]


@pytest.fixture(scope="module")
def gateway() -> Iterator[LocalGateway]:
    with LocalGateway(management_token="dev-admin") as gw:
        yield gw


def importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def run(block: Block, namespace: dict[str, object], gw: LocalGateway) -> None:
    code = block.code.replace("127.0.0.1:8787", gw.base_url.removeprefix("http://"))
    exec(compile(code, block.name, "exec"), namespace)


@pytest.mark.parametrize(
    ("readme", "section", "blocks"),
    SECTIONS,
    ids=[f"{readme.name}:{name}" for readme, name, _ in SECTIONS],
)
def test_every_python_block_of_the_readmes_runs(
    readme: Path,
    section: str,
    blocks: list[Block],
    gateway: LocalGateway,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", gateway.account_id)
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_BASE_URL", gateway.base_url)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", gateway.management_token)
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    if "langchain_cf_gateway.litellm_provider" in sys.modules:
        # The LiteLLM handler reads the environment once per deployment (README: refresh());
        # an earlier test may have resolved one against another gateway.
        sys.modules["langchain_cf_gateway.litellm_provider"].handler.refresh()
    namespace: dict[str, object] = {"__name__": "__readme__", "gw": gateway}
    for block in blocks:
        if "cloudflare" in block.needs or not all(map(importable, block.needs)):
            continue  # compiled only, by the unit test
        run(block, namespace, gateway)
