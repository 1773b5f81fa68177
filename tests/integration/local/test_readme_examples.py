"""Every curl example of langchain_cf_gateway/local/README.md against a real ``cf-aig serve``."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import langchain_cf_gateway.local

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
            )
            assert done.returncode == 0, (block, done.stderr)
            assert expected in done.stdout.replace("\r", ""), (block, done.stdout)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)
