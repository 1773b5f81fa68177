"""Issue 11: ``cf-aig logs`` never lets a stored value drive the operator's terminal."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from langchain_cf_gateway.cli import main
from langchain_cf_gateway.local import LocalGateway
from tests.support.local_calls import chat_body, compat

HOSTILE = {
    "ansi clear screen": ("evil\x1b[2J", "evil\\x1b[2J"),
    "carriage return": ("fake\rok", "fake\\rok"),
    "bidi override": ("gpt\u202etxt.exe", "gpt\\u202etxt.exe"),
    "C1 control": ("csi\x9b31m", "csi\\x9b31m"),
    "bell and NUL": ("ding\x07\x00", "ding\\x07\\x00"),
}


@pytest.fixture(scope="module")
def gateway() -> Iterator[LocalGateway]:
    with LocalGateway() as gw:
        yield gw


@pytest.mark.parametrize("name", list(HOSTILE))
def test_logs_table_escapes_control_characters_of_stored_values(
    gateway: LocalGateway,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    model, shown = HOSTILE[name]
    answer = compat(gateway, chat_body(model=f"openai/{model}"))
    assert answer.status_code == 200, answer.text
    log_id = answer.headers["cf-aig-log-id"]
    assert any(row["model"] == model for row in gateway.logs())  # stored as sent
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_BASE_URL", gateway.base_url)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", gateway.management_token)

    assert main(["logs", "--limit", "50"]) == 0
    out, _ = capsys.readouterr()
    [line] = [line for line in out.splitlines() if log_id in line]
    assert f"openai/{shown}" in line
    for char in "\x1b\r\x07\x00\x9b\u202e":
        assert char not in out, f"{char!r} reached the terminal"

    assert main(["logs", "--limit", "50", "--json"]) == 0
    out, _ = capsys.readouterr()
    assert all(c.isprintable() for c in out.replace("\n", ""))
    assert any(json.loads(line)["model"] == model for line in out.splitlines())
