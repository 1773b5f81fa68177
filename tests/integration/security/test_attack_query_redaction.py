"""A credential in a query string written inside a request is redacted (attack finding F4).

A query string is not only the request's own: a universal step's ``endpoint`` may carry
one (``...:generateContent?key=...``, Google AI Studio's key,
https://ai.google.dev/gemini-api/docs/api-key), a prompt may hold a URL with
``?access_token=...``, a ``Referer`` header a page URL with ``?token=...``, and the mock
echoes the prompt back. The values of credential names in any of them are hidden in every
surface: ``/__local/received``, log rows (``path``, ``request_head``), the stored request
and response bodies, and ``cf-aig logs`` - while the upstream still gets them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from langchain_cf_gateway.cli import main
from langchain_cf_gateway.local import LocalGateway, PassThrough

from .creds_helpers import RecordingUpstream

http = httpx.Client(timeout=30)
SHORT = "Zq-7x"
"""A credential shorter than the 8 characters free-text scrubbing looks for."""


def secret(label: str) -> str:
    return f"AIzaSy-{label}-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def gw(upstream: RecordingUpstream) -> Iterator[LocalGateway]:
    # google-ai-studio goes to the recorder (it must still get the key); openai is the mock
    targets = {"google-ai-studio": PassThrough(base_url=upstream.base_url)}
    with LocalGateway(upstreams=targets) as gateway:
        yield gateway


def surfaces(gw: LocalGateway, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> dict[str, str]:
    """What an operator can read: received requests, log rows, stored bodies, the CLI."""
    auth = {"authorization": f"Bearer {gw.management_token}"}
    received = http.get(f"{gw.base_url}/__local/received", headers=auth)
    assert received.status_code == 200
    base = f"{gw.base_url}/client/v4/accounts/{gw.account_id}/ai-gateway/gateways/default/logs"
    rows = http.get(base, headers=auth).json()["result"]
    assert rows, "nothing was logged"
    stored = []
    for row in rows:
        stored.append(http.get(f"{base}/{row['id']}", headers=auth).text)
        for part in ("request", "response"):
            stored.append(http.get(f"{base}/{row['id']}/{part}", headers=auth).text)
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_BASE_URL", gw.base_url)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", gw.management_token)
    capsys.readouterr()
    assert main(["logs", "--limit", "50", "--json"]) == 0
    cli = capsys.readouterr().out
    assert cli.strip(), "cf-aig logs printed nothing"
    return {
        "received": received.text,
        "log rows": json.dumps(rows) + "\n".join(stored[0::3]),
        "stored bodies": "\n".join(stored),
        "cf-aig logs": cli,
    }


def assert_hidden(views: dict[str, str], *values: str) -> None:
    for surface, text in views.items():
        for value in values:
            assert value not in text, f"{value} shown in {surface}"
    assert "[REDACTED]" in views["received"]


def _step(endpoint: str) -> dict[str, Any]:
    return {
        "provider": "google-ai-studio",
        "endpoint": endpoint,
        "headers": {"content-type": "application/json"},
        "query": {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]},
    }


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_key_in_a_step_endpoint_is_redacted_everywhere(
    gw: LocalGateway,
    upstream: RecordingUpstream,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    encoding: str,
) -> None:
    gw.reset()
    upstream.clear()
    key = secret("step-key")
    endpoint = f"v1beta/models/gemini-2.0-flash:generateContent?alt=json&key={key}"
    body = json.dumps([_step(endpoint)]).encode(encoding)
    response = http.post(gw.gateway_url, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    [sent] = upstream.requests
    assert key in sent.path  # the provider still gets its key
    assert_hidden(surfaces(gw, monkeypatch, capsys), key)


def test_a_short_key_in_a_step_endpoint_is_redacted_in_received(gw: LocalGateway) -> None:
    gw.reset()
    endpoint = f"v1beta/models/gemini-2.0-flash:generateContent?key={SHORT}"
    response = http.post(gw.gateway_url, json=[_step(endpoint)])
    assert response.status_code == 200, response.text
    view = http.get(
        f"{gw.base_url}/__local/received",
        headers={"authorization": f"Bearer {gw.management_token}"},
    ).text
    assert SHORT not in view
    assert "key=[REDACTED]" in view


@pytest.mark.parametrize("escaped", [False, True], ids=["plain-json", "escaped-json"])
def test_a_url_with_a_token_in_a_prompt_is_redacted_everywhere(
    gw: LocalGateway,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    escaped: bool,
) -> None:
    gw.reset()
    token = secret("url-token")
    url = f"https://files.example/doc?x=1&access_token={token}&sig={SHORT}"
    text = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": url}]})
    if escaped:  # as PHP and Go write JSON: "\/" and "\u0026"
        text = text.replace("/", "\\/").replace("&", "\\u0026")
    response = http.post(
        f"{gw.gateway_url}/openai/chat/completions",
        content=text.encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert token in response.text  # the mock echoed it: the stored response held it
    assert_hidden(surfaces(gw, monkeypatch, capsys), token, SHORT)


def test_a_token_in_a_header_url_is_redacted_everywhere(
    gw: LocalGateway, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    gw.reset()
    token = secret("referer-token")
    response = http.post(
        f"{gw.gateway_url}/compat/chat/completions",
        json={"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]},
        headers={"referer": f"https://app.example/page?token={token}&tab={SHORT}x"},
    )
    assert response.status_code == 200, response.text
    views = surfaces(gw, monkeypatch, capsys)
    assert_hidden(views, token)
    [row] = gw.logs()
    assert (
        row["request_head"]["referer"] == f"https://app.example/page?token=[REDACTED]&tab={SHORT}x"
    )


def test_a_token_in_a_url_carried_by_a_query_value_is_redacted(
    gw: LocalGateway, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    gw.reset()
    token = secret("nested-token")
    response = http.post(
        f"{gw.gateway_url}/compat/chat/completions",
        params={"redirect": f"https://app.example/back?token={token}&sig={SHORT}"},
        json={"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]},
    )
    assert response.status_code == 200, response.text
    views = surfaces(gw, monkeypatch, capsys)
    assert_hidden(views, token, SHORT)
    [item] = [i for i in json.loads(views["received"])["result"] if i["query"]]
    assert item["query"]["redirect"] == "https://app.example/back?token=[REDACTED]&sig=[REDACTED]"
