"""`cf-aig serve` prints the exact `cf-aig logs` command and `GatewayClient(...)` line that
read its logs, and both work as printed; a token it did not generate is never printed."""

from __future__ import annotations

import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import langchain_cf_gateway.local
from tests.support.local_calls import chat_body, http

CLI = [sys.executable, "-m", "langchain_cf_gateway.cli"]
LOCAL_README = Path(langchain_cf_gateway.local.__file__).with_name("README.md")


@contextmanager
def serving(*argv: str, env: dict[str, str] | None = None) -> Iterator[list[str]]:
    """`cf-aig serve --port 0 ...`; yields its banner, up to the `GatewayClient(` line."""
    process = subprocess.Popen(
        [*CLI, "serve", "--port", "0", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", **(env or {})},
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        banner: list[str] = []
        while not banner or "GatewayClient(" not in banner[-1]:
            try:
                banner.append(lines.get(timeout=20))
            except queue.Empty:
                pytest.fail(f"no GatewayClient(...) line in the banner: {banner}")
        yield banner
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def line_of(banner: list[str], marker: str) -> str:
    [line] = [line for line in banner if marker in line]
    return line[line.index(marker) :].strip()


def base_url(banner: list[str]) -> str:
    return banner[0].split("listening on ")[1].strip()


def run_logs_command(command: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["bash", "-c", command.replace("cf-aig ", shlex.join(CLI) + " ", 1)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, (command, done.stderr)
    return done.stdout


def run_client_line(line: str, env: dict[str, str] | None = None) -> int:
    code = f"import os\nfrom langchain_cf_gateway import GatewayClient\nclient = {line}\n"
    code += "print(len(client.list_logs().result))\n"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, (line, done.stderr)
    return int(done.stdout)


def test_a_generated_admin_token_is_shown_in_lines_that_read_the_logs() -> None:
    with serving() as banner:
        http.post(f"{base_url(banner)}/v1/acct/default/compat/chat/completions", json=chat_body())
        command = line_of(banner, "cf-aig logs ")
        assert f"--base-url {base_url(banner)}" in command
        assert "1 log in gateway 'default'" in run_logs_command(command)
        assert run_client_line(line_of(banner, "GatewayClient(")) == 1


def test_an_admin_token_from_the_environment_is_named_not_printed() -> None:
    env = {"CF_AIG_LOCAL_MANAGEMENT_TOKEN": "admin-from-env-secret"}
    with serving(env=env) as banner:
        text = "".join(banner)
        assert "admin-from-env-secret" not in text
        command = line_of(banner, "cf-aig logs ")
        assert '--token "$CF_AIG_LOCAL_MANAGEMENT_TOKEN"' in command
        assert "0 logs in gateway 'default'" in run_logs_command(command, env)
        client = line_of(banner, "GatewayClient(")
        assert 'os.environ["CF_AIG_LOCAL_MANAGEMENT_TOKEN"]' in client
        assert run_client_line(client, env) == 0


def test_an_admin_token_from_the_config_file_is_named_not_printed(tmp_path: Path) -> None:
    config = tmp_path / "local.toml"
    config.write_text('management_token = "admin-from-file-secret"\n')
    config.chmod(0o600)
    with serving("--config", str(config)) as banner:
        text = "".join(banner)
        assert "admin-from-file-secret" not in text
        assert f"management_token in {config}" in text
        command = line_of(banner, "cf-aig logs ")
        assert "--token" in command


def test_cf_aig_logs_without_an_account_id_names_the_flag(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDFLARE_")}
    done = subprocess.run(
        [*CLI, "logs"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "HOME": str(tmp_path)},
    )
    assert done.returncode == 2
    assert "--account-id" in done.stderr and "account_id=" not in done.stderr


def test_the_local_readme_documents_reading_the_logs() -> None:
    text = LOCAL_README.read_text()
    assert "cf-aig logs --base-url http://127.0.0.1:8787" in text
    client = text.split("with GatewayClient(", 1)[1]
    assert client.lstrip().startswith('base_url="http://127.0.0.1:8787"')


def test_a_bad_flag_value_is_said_to_come_from_the_command_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [*CLI, "logs", "--account-id", "a b"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert done.returncode == 2
    assert done.stderr.startswith("cf-aig: error: --account-id must be")
    assert "(from the command line)" in done.stderr and "argument" not in done.stderr
