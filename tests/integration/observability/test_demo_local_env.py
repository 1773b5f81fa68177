"""`cf-aig demo` with the LiteLLM guide's local-gateway variables still exported.

The guide (`litellm_config/README.md`, "Against the local gateway") exports
`CLOUDFLARE_AI_GATEWAY_BASE_URL=http://127.0.0.1:8787`, `CLOUDFLARE_ACCOUNT_ID=local`,
`OPENAI_API_KEY=sk-local` and `CLOUDFLARE_API_TOKEN=local`. With a local gateway running
there, the demo used to treat it as Cloudflare: its admin route and logs API refused the
token, and 3 of 8 steps failed. It now tells a local gateway behind `base_url` and runs
the local variant: on that gateway when the token opens its admin routes, else on an
embedded one, saying so (and `--local`) in one line.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from langchain_cf_gateway.cli import main
from langchain_cf_gateway.local import LocalGateway

from .test_demo import assert_full_report


@pytest.fixture
def served() -> Iterator[LocalGateway]:
    with LocalGateway() as gw:
        yield gw


def _export_the_guide(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, base_url: str, api_token: str
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no config file of the user's
    for name in ("CLOUDFLARE_AI_GATEWAY_TOKEN", "CF_AIG_TOKEN", "CF_AIG_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        "CLOUDFLARE_AI_GATEWAY_BASE_URL": base_url,
        "CLOUDFLARE_ACCOUNT_ID": "local",
        "OPENAI_API_KEY": "sk-local",
        "CLOUDFLARE_API_TOKEN": api_token,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.mark.timeout(150)
def test_the_guide_variables_with_a_local_gateway_run_all_eight_steps(
    served: LocalGateway,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _export_the_guide(monkeypatch, tmp_path, served.base_url, "local")
    assert main(["demo"]) == 0
    out, err = capsys.readouterr()
    assert_full_report(out)
    said = [line for line in out.splitlines() if "--local" in line]
    assert len(said) == 1, out
    assert served.base_url in said[0] and "local gateway" in said[0]
    assert "CLOUDFLARE_API_TOKEN" in said[0]
    assert "Traceback" not in err
    assert served.management_token not in out + err


@pytest.mark.timeout(150)
def test_with_its_admin_token_the_demo_runs_on_that_local_gateway(
    served: LocalGateway,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _export_the_guide(monkeypatch, tmp_path, served.base_url, served.management_token)
    assert main(["demo"]) == 0
    out, err = capsys.readouterr()
    assert f"Gateway 'default' of account local on {served.base_url}" in out
    assert_full_report(out)
    assert len(served.logs("default")) == 8  # the agent step makes two calls
    assert served.management_token not in out + err


@pytest.mark.timeout(60)
def test_nothing_listening_at_base_url_stops_at_once_saying_serve_and_local(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _export_the_guide(monkeypatch, tmp_path, f"http://127.0.0.1:{port}", "local")
    assert main(["demo"]) == 1
    out, err = capsys.readouterr()
    assert "[1/8]" not in out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"cf-aig: cannot reach the gateway at http://127.0.0.1:{port}")
    assert f"cf-aig serve --port {port}" in lines[0] and "cf-aig demo --local" in lines[0]
