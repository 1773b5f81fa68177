"""The fault grammar on the wire, scripts through the admin route, and real retries."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.local import Fault, LocalGateway
from tests.support.local_calls import HELLO, chat_body, compat, gateway_error, http


def test_fault_grammar_parses_every_directive() -> None:
    fault = Fault.parse("status=429~delay=100~chunk-delay=5~disconnect=2~malformed~attempts=1")
    assert fault == Fault(429, 100, 5, 2, True, 1)
    assert Fault.parse("disconnect").disconnect_after == 1
    for bad in ("status=99", "delay=-1", "boom", "attempts=0", "status=abc"):
        with pytest.raises(ValueError, match=r"fault|directive"):
            Fault.parse(bad)


def test_malformed_json_body(gateway: LocalGateway) -> None:
    response = compat(gateway, chat_body("openai/gpt-4o-mini~malformed"))
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_malformed_chunk_in_a_stream(gateway: LocalGateway) -> None:
    url = f"{gateway.gateway_url}/compat/chat/completions"
    body = chat_body("openai/gpt-4o-mini~malformed", stream=True)
    text = http.post(url, json=body).text
    assert "data: {malformed json" in text and text.rstrip().endswith("data: [DONE]")


def test_disconnect_mid_stream(gateway: LocalGateway) -> None:
    url = f"{gateway.gateway_url}/compat/chat/completions"
    received: list[str] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        http.stream(
            "POST", url, json=chat_body("openai/gpt-4o-mini~disconnect=3", stream=True)
        ) as response,
    ):
        for line in response.iter_lines():
            if line.startswith("data:"):
                received.append(line)
    assert len(received) == 3
    [row] = gateway.logs()
    assert row["success"] is False


def test_disconnect_in_a_plain_body(gateway: LocalGateway) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        compat(gateway, chat_body("openai/gpt-4o-mini~disconnect"))


def test_chunk_delay_keeps_the_stream_whole(gateway: LocalGateway) -> None:
    url = f"{gateway.gateway_url}/compat/chat/completions"
    text = http.post(url, json=chat_body("openai/gpt-4o-mini~chunk-delay=5", stream=True)).text
    pieces = [
        json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
        for line in text.splitlines()
        if line.startswith("data: {") and '"choices":[{' in line
    ]
    assert "".join(pieces) == "Mock answer: Hello there, world!"


def test_sdk_retries_are_requests_gateway_retries_are_attempts(gateway: LocalGateway) -> None:
    gateway.script(fault="status=503", times=2)
    client = openai.OpenAI(
        base_url=f"{gateway.gateway_url}/compat",
        api_key="k",
        max_retries=0,
        default_headers={Header.MAX_ATTEMPTS: "3", Header.RETRY_DELAY: "0"},
    )
    answer = client.chat.completions.create(model="openai/gpt-4o-mini", messages=HELLO)
    assert answer.choices[0].message.content == "Mock answer: Hello there, world!"
    assert len(gateway.received) == 1  # one request to the gateway...
    [row] = gateway.logs()
    assert (row["attempts"], row["success"]) == (3, True)  # ...three to the upstream


def test_retries_stop_at_max_attempts(gateway: LocalGateway) -> None:
    script = gateway.script(fault="status=500", times=None)
    response = compat(gateway, headers={Header.MAX_ATTEMPTS: "2"})
    assert response.status_code == 500
    assert script.used == 2
    assert gateway.logs()[0]["attempts"] == 2


def test_client_errors_are_not_retried(gateway: LocalGateway) -> None:
    script = gateway.script(fault="status=400", times=None)
    assert compat(gateway, headers={Header.MAX_ATTEMPTS: "5"}).status_code == 400
    assert script.used == 1


def test_attempts_directive_faults_only_the_first_attempts(gateway: LocalGateway) -> None:
    body = chat_body("openai/gpt-4o-mini~status=429~attempts=1")
    assert compat(gateway, body).status_code == 429
    retried = compat(gateway, body, {Header.MAX_ATTEMPTS: "2", Header.BACKOFF: "exponential"})
    assert retried.status_code == 200
    assert gateway.logs()[-1]["attempts"] == 2


def test_timeout_then_retry_succeeds(gateway: LocalGateway) -> None:
    # The first attempt is slower than the timeout; the last attempt waits unbounded.
    gateway.script(fault="delay=2000", times=1)
    response = compat(gateway, headers={Header.REQUEST_TIMEOUT: "50", Header.MAX_ATTEMPTS: "2"})
    assert response.status_code == 200
    assert gateway.logs()[0]["attempts"] == 2


def test_gateway_retry_settings_apply_without_headers(gateway: LocalGateway) -> None:
    gateway.create_gateway("retrying", retry_max_attempts=3, retry_delay=0)
    gateway.script(fault="status=502", times=2)
    assert compat(gateway, gateway_id="retrying").status_code == 200
    assert gateway.logs("retrying")[0]["attempts"] == 3


def _admin(gw: LocalGateway, method: str, path: str, **kwargs: object) -> httpx.Response:
    headers = {"authorization": f"Bearer {gw.management_token}"}
    return http.request(method, f"{gw.base_url}/__local/{path}", headers=headers, **kwargs)  # type: ignore[arg-type]


def test_admin_route_scripts_text_tool_calls_and_faults(gateway: LocalGateway) -> None:
    added = _admin(
        gateway,
        "POST",
        "scripts",
        json=[
            {"text": "Scripted.", "model": "gpt-4o-mini"},
            {"tool_calls": [{"name": "lookup", "arguments": {"q": "x"}}], "provider": "groq"},
            {"fault": "status=418", "model": "openai/gpt-4o"},
        ],
    )
    assert added.status_code == 200 and len(added.json()["result"]) == 3
    assert len(_admin(gateway, "GET", "scripts").json()["result"]) == 3
    assert compat(gateway).json()["choices"][0]["message"]["content"] == "Scripted."
    call = compat(gateway, chat_body("groq/llama"))
    assert call.json()["choices"][0]["message"]["tool_calls"][0]["function"] == {
        "name": "lookup",
        "arguments": '{"q":"x"}',
    }
    assert compat(gateway, chat_body("openai/gpt-4o")).status_code == 418
    assert _admin(gateway, "GET", "scripts").json()["result"] == []
    bad = _admin(gateway, "POST", "scripts", json={"fault": "boom"})
    assert (bad.status_code, bad.json()["errors"][0]["code"]) == (400, 7001)


def test_admin_routes_reset_clock_and_received(gateway: LocalGateway) -> None:
    compat(gateway, headers={"authorization": "Bearer sk-secret", Header.CACHE_TTL: "60"})
    seen = _admin(gateway, "GET", "received").json()["result"]
    assert seen[0]["path"].endswith("/compat/chat/completions")
    assert seen[0]["headers"]["authorization"] == "[REDACTED]"
    assert _admin(gateway, "POST", "clock", json={"advance": 61}).json()["result"]["offset"] == 61
    assert compat(gateway, headers={Header.CACHE_TTL: "60"}).headers[Header.CACHE_STATUS] == "MISS"
    assert _admin(gateway, "POST", "reset").status_code == 200
    assert gateway.logs() == [] and gateway.clock.offset == 0


def test_scripts_match_by_model_and_provider_in_order(gateway: LocalGateway) -> None:
    gateway.script("for anthropic", provider="anthropic")
    gateway.script("first")
    gateway.script("second")
    texts = [compat(gateway).json()["choices"][0]["message"]["content"] for _ in range(3)]
    assert texts == ["first", "second", "Mock answer: Hello there, world!"]
    assert gateway_error(compat(gateway, chat_body("openai/x~status=abc")))[:2] == (400, 7001)
