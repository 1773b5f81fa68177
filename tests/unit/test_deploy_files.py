"""The `Dockerfile` and `compose.yaml` read as Docker would, without Docker (none runs here).

compose.yaml is parsed with PyYAML: its services, images, healthchecks and volumes; every
flag of the gateway's command is a flag of `cf-aig serve --help`. The Dockerfile: every
file a `COPY` or `RUN` names exists in the repository, and its `CMD` is `cf-aig serve`
with valid flags.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from langchain_cf_gateway.cli import main
from langchain_cf_gateway.local.config import load_config

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
"""Flags another part of the same change adds: checked once `cf-aig serve` has them."""


def serve_flags(capsys: pytest.CaptureFixture[str]) -> set[str]:
    assert main(["serve", "--help"]) == 0
    listed = capsys.readouterr().out
    return set(re.findall(r"^\s+(--[a-z][a-z-]*)", listed, re.MULTILINE)) | {"--help"}


def check_flags(argv: list[str], flags: set[str]) -> None:
    assert argv[:2] == ["cf-aig", "serve"], argv
    for word in argv[2:]:
        if not word.startswith("--"):
            continue
        assert word in flags, f"{word} is not a flag of cf-aig serve"


def test_compose_services_images_and_health() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"gateway", "redis", "postgres"}
    assert services["gateway"]["build"] == "."
    assert services["redis"]["image"].startswith("redis:")
    assert services["postgres"]["image"].startswith("postgres:")
    for name in ("redis", "postgres"):
        assert services[name]["healthcheck"]["test"], name
        assert services["gateway"]["depends_on"][name] == {"condition": "service_healthy"}
    volume = services["postgres"]["volumes"][0].split(":")
    assert volume == ["postgres-data", "/var/lib/postgresql/data"]
    assert set(COMPOSE["volumes"]) == {"redis-data", "postgres-data"}


def test_compose_gateway_command(capsys: pytest.CaptureFixture[str]) -> None:
    gateway = COMPOSE["services"]["gateway"]
    command = [str(word) for word in gateway["command"]]
    check_flags(command, serve_flags(capsys))
    assert command[command.index("--workers") + 1] == "2"
    assert command[command.index("--state-url") + 1].startswith("redis://redis:")
    log_store = command[command.index("--log-store") + 1]
    assert log_store.startswith("postgresql://") and ":" not in log_store.split("@")[0][13:]
    # Secrets come from the environment, never the command line or the image.
    assert set(gateway["environment"]) == {
        "CF_AIG_LOCAL_TOKEN",
        "CF_AIG_LOCAL_MANAGEMENT_TOKEN",
        "PGPASSWORD",
    }
    assert gateway["ports"] == ["127.0.0.1:8787:8787"]


def dockerfile() -> list[tuple[str, str]]:
    """`(INSTRUCTION, arguments)` per instruction, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    text = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in text.splitlines()
        if line.strip()
    ]


def test_dockerfile_base_user_and_copies() -> None:
    steps = dockerfile()
    assert steps[0] == ("FROM", "python:3.11-slim")
    users = [args for name, args in steps if name == "USER"]
    assert users == ["cfaig"]  # the server runs as a user of its own, not root
    for name, args in steps:
        if name == "COPY":
            *sources, _ = args.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: no such file"


def test_dockerfile_runs_name_files_that_exist() -> None:
    """A relative path a `RUN` names is a file `COPY` brought from the repository."""
    steps = dockerfile()
    copied = {source for name, args in steps if name == "COPY" for source in args.split()[:-1]}
    runs = [args for name, args in steps if name == "RUN"]
    relative = re.compile(r"[\w-]+(/[\w-]+)*\.(lock|toml|txt|md|cfg)|\.")
    # shlex reads each RUN's commands, joined by &&, as one list of words.
    named = {word for run in runs for word in shlex.split(run) if relative.fullmatch(word)}
    assert named == {"requirements.lock", "."}  # the lock, and the package (pyproject.toml)
    for word in named:
        target = "pyproject.toml" if word == "." else word
        assert target in copied and (ROOT / target).exists(), word
    install = " ".join(runs)
    assert "--require-hashes --no-deps -r requirements.lock" in install
    # uv itself from the lock (one entry, cut whole as the Makefile's awk does), by pip
    assert (
        "awk '/^uv==/" in install
        and "--require-hashes --no-deps -r /tmp/uv-requirement.txt" in install
    )
    assert (ROOT / "requirements.lock").read_text().count("\nuv==") == 1


def test_dockerfile_cmd_serves_on_every_interface(capsys: pytest.CaptureFixture[str]) -> None:
    [cmd] = [json.loads(args) for name, args in dockerfile() if name == "CMD"]
    check_flags(cmd, serve_flags(capsys))
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0"
    config = cmd[cmd.index("--config") + 1]
    copies = [args.split() for name, args in dockerfile() if name == "COPY"]
    [[source, _]] = [c for c in copies if c[-1] == config]
    loaded = load_config(ROOT / source, environ={})  # the image's config, as the gateway reads it
    assert loaded.gateways["default"]["authentication"] is True
    assert "gateway" in loaded.allowed_hosts  # the compose service name clients use
    # The tokens come from the environment, never from a file baked into the image.
    assert loaded.token is None and loaded.management_token is None
