"""Gateway-made responses on request: Policies' 403/429 and the gateway's error table.

https://developers.cloudflare.com/ai-gateway/features/policies/
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.core.protocol import ERROR_MESSAGE, ERROR_STATUS, ErrorCode
from langchain_cf_gateway.local import LocalGateway, PassThrough
from tests.support.local_calls import HELLO, chat_body, compat, gateway_error, http, universal

DENY = {"success": False, "error": {"message": "Access denied by policy"}}
SPEND = {
    "success": False,
    "error": {
        "message": "Spending limit exceeded",
        "bucket": "local-spend-cap",
        "spent": 10.5,
        "limit": 10,
    },
}


def test_policy_deny_in_the_model_name(gateway: LocalGateway) -> None:
    response = compat(gateway, chat_body("openai/gpt-4o-mini~policy=deny"))
    assert response.status_code == 403
    assert response.content == b'{"success":false,"error":{"message":"Access denied by policy"}}'
    [row] = gateway.logs()
    assert (row["status_code"], row["success"]) == (403, False)


def test_policy_spend_by_script(gateway: LocalGateway) -> None:
    gateway.script(fault="policy=spend")
    response = compat(gateway)
    assert (response.status_code, response.json()) == (429, SPEND)
    [row] = gateway.logs()
    assert (row["status_code"], row["success"]) == (429, False)
    assert compat(gateway).status_code == 200  # the script is used up


def test_policy_by_the_admin_route(gateway: LocalGateway) -> None:
    added = http.post(
        f"{gateway.base_url}/__local/scripts",
        json={"fault": "policy=deny", "model": "gpt-4o-mini"},
        headers={"authorization": f"Bearer {gateway.management_token}"},
    )
    assert added.status_code in (200, 201), added.text
    response = compat(gateway)
    assert (response.status_code, response.json()) == (403, DENY)


def test_policy_on_native_and_universal_routes(gateway: LocalGateway) -> None:
    native = http.post(
        f"{gateway.gateway_url}/openai/chat/completions",
        json=chat_body("gpt-4o-mini~policy=deny"),
    )
    assert (native.status_code, native.json()) == (403, DENY)
    anthropic = http.post(
        f"{gateway.gateway_url}/anthropic/v1/messages",
        json={"model": "claude-3-5-haiku~policy=spend", "max_tokens": 16, "messages": HELLO},
    )
    assert (anthropic.status_code, anthropic.json()) == (429, SPEND)
    step = {
        "provider": "openai",
        "endpoint": "chat/completions",
        "query": chat_body("gpt-4o-mini~policy=deny"),
    }
    assert universal(gateway, [step]).json() == DENY


def test_policy_on_the_rest_api(gateway: LocalGateway) -> None:
    url = f"{gateway.base_url}/client/v4/accounts/{gateway.account_id}/ai/v1/chat/completions"
    response = http.post(
        url,
        json=chat_body("openai/gpt-4o-mini~policy=spend"),
        headers={"authorization": f"Bearer {gateway.token}"},
    )
    assert (response.status_code, response.json()) == (429, SPEND)


def test_policy_is_not_retried(gateway: LocalGateway) -> None:
    script = gateway.script(fault="policy=spend", times=None)
    headers = {Header.MAX_ATTEMPTS: "3", Header.RETRY_DELAY: "0"}
    response = compat(gateway, headers=headers)
    assert response.status_code == 429
    assert script.used == 1
    assert gateway.logs()[0]["attempts"] == 0
    assert gateway.received[-1].path.endswith("/compat/chat/completions")


def test_a_cache_hit_skips_policies(gateway: LocalGateway) -> None:
    headers = {Header.CACHE_TTL: "600"}
    assert compat(gateway, headers=headers).status_code == 200
    script = gateway.script(fault="policy=deny")
    hit = compat(gateway, headers=headers)
    assert hit.status_code == 200 and hit.headers[Header.CACHE_STATUS] == "HIT"
    assert script.used == 0
    miss = compat(gateway, headers={**headers, Header.SKIP_CACHE: "true"})
    assert (miss.status_code, miss.json()) == (403, DENY)


@pytest.mark.parametrize("code", list(ErrorCode))
def test_error_directive_serves_the_table(gateway: LocalGateway, code: ErrorCode) -> None:
    response = compat(gateway, chat_body(f"openai/gpt-4o-mini~error={int(code)}"))
    assert gateway_error(response) == (ERROR_STATUS[code], int(code), ERROR_MESSAGE[code])
    [row] = gateway.logs()
    assert (row["status_code"], row["success"]) == (ERROR_STATUS[code], False)


def test_error_outside_the_table_keeps_what_it_is_given(gateway: LocalGateway) -> None:
    gateway.script(fault="error=9999~status=418~message=Teapot is out of tea")
    response = compat(gateway)
    assert gateway_error(response) == (418, 9999, "Teapot is out of tea")


def test_error_directive_is_per_attempt(gateway: LocalGateway) -> None:
    body = chat_body("openai/gpt-4o-mini~error=3040~attempts=1")
    first = compat(gateway, body)
    assert gateway_error(first)[:2] == (429, 3040)
    retried = compat(gateway, body, {Header.MAX_ATTEMPTS: "2", Header.RETRY_DELAY: "0"})
    assert retried.status_code == 200
    assert gateway.logs()[-1]["attempts"] == 2


def test_error_on_a_stream_and_a_native_route(gateway: LocalGateway) -> None:
    streamed = compat(gateway, chat_body("openai/gpt-4o-mini~error=2016", stream=True))
    assert gateway_error(streamed)[:2] == (424, 2016)
    native = http.post(
        f"{gateway.gateway_url}/workers-ai/run/@cf/meta/llama-3.1-8b-instruct~error=3007",
        json={"messages": HELLO},
    )
    assert gateway_error(native)[:2] == (408, 3007)
    responses = http.post(
        f"{gateway.gateway_url}/openai/responses",
        json={"model": "gpt-4o-mini~error=5007", "input": "hi"},
    )
    assert gateway_error(responses)[:2] == (400, 5007)


@pytest.mark.parametrize("fault", ["error=9999", "error=x", "policy=maybe"])
def test_bad_directives_are_refused_with_the_fix(gateway: LocalGateway, fault: str) -> None:
    response = compat(gateway, chat_body(f"openai/gpt-4o-mini~{fault}"))
    status, code, message = gateway_error(response)
    assert (status, code) == (400, 7001)
    assert fault.split("=")[0] in message


# ------------------------------------------------------------------ pass-through upstreams


@pytest.fixture(scope="module")
def upstream() -> Iterator[LocalGateway]:
    with LocalGateway() as server:
        yield server


@pytest.fixture(scope="module")
def front(upstream: LocalGateway) -> Iterator[LocalGateway]:
    targets = {"openai": PassThrough(base_url=f"{upstream.gateway_url}/openai", api_key="sk-up")}
    with LocalGateway(upstreams=targets) as gw:
        yield gw


@pytest.mark.parametrize(
    ("fault", "status"), [("policy=deny", 403), ("policy=spend", 429), ("error=3040", 429)]
)
def test_made_locally_with_a_pass_through_upstream(
    upstream: LocalGateway, front: LocalGateway, fault: str, status: int
) -> None:
    upstream.reset()
    front.reset()
    by_name = compat(front, chat_body(f"openai/gpt-4o-mini~{fault}"))
    front.script(fault=fault)
    by_script = compat(front)
    assert by_name.status_code == by_script.status_code == status
    assert json.loads(by_name.content) == json.loads(by_script.content)
    assert upstream.received == []
    assert compat(front).status_code == 200 and len(upstream.received) == 1
