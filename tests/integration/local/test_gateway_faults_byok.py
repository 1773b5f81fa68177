"""`byok_only` and `cf-aig-no-wholesale: true` without provider credentials: the gateway's 400.

https://developers.cloudflare.com/ai-gateway/configuration/bring-your-own-keys/
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.core.error_codes import NO_CREDENTIALS_FIX, fix_of_400
from langchain_cf_gateway.local import LocalGateway, PassThrough
from tests.support.local_calls import HELLO, chat_body, compat, gateway_error, http, universal

NO_WHOLESALE = {Header.NO_WHOLESALE: "true"}
KEY = {"authorization": "Bearer sk-client"}


def _refused(response: object) -> None:
    status, code, message = gateway_error(response)  # type: ignore[arg-type]
    assert (status, code) == (400, 7001)
    assert fix_of_400(message) == NO_CREDENTIALS_FIX
    assert "sk-" not in message


def test_byok_only_gateway_without_credentials(gateway: LocalGateway) -> None:
    gateway.create_gateway("byok", byok_only=True)
    _refused(compat(gateway, gateway_id="byok"))
    [row] = gateway.logs("byok")
    assert (row["status_code"], row["success"]) == (400, False)
    assert compat(gateway, headers=KEY, gateway_id="byok").status_code == 200


def test_no_wholesale_header_without_credentials(gateway: LocalGateway) -> None:
    _refused(compat(gateway, headers=NO_WHOLESALE))
    assert gateway.logs()[0]["status_code"] == 400
    assert compat(gateway, headers={**NO_WHOLESALE, **KEY}).status_code == 200
    assert compat(gateway, headers={Header.NO_WHOLESALE: "false"}).status_code == 200
    assert compat(gateway).status_code == 200


def test_the_gateway_token_is_not_a_provider_credential(gateway: LocalGateway) -> None:
    url = f"{gateway.base_url}/client/v4/accounts/{gateway.account_id}/ai/v1/chat/completions"
    token = {"authorization": f"Bearer {gateway.token}"}
    _refused(http.post(url, json=chat_body(), headers={**token, **NO_WHOLESALE}))
    with_cf_aig = {Header.AUTHORIZATION: f"Bearer {gateway.token}", **NO_WHOLESALE}
    _refused(compat(gateway, headers=with_cf_aig))


def test_native_and_universal_routes(gateway: LocalGateway) -> None:
    anthropic = f"{gateway.gateway_url}/anthropic/v1/messages"
    body = {"model": "claude-3-5-haiku", "max_tokens": 16, "messages": HELLO}
    _refused(http.post(anthropic, json=body, headers=NO_WHOLESALE))
    keyed = http.post(anthropic, json=body, headers={**NO_WHOLESALE, "x-api-key": "sk-ant"})
    assert keyed.status_code == 200
    step = {"provider": "openai", "endpoint": "chat/completions", "query": chat_body("gpt-4o")}
    _refused(universal(gateway, [step], headers=NO_WHOLESALE))
    keyed_step = {**step, "headers": {"authorization": "Bearer sk-step"}}
    assert universal(gateway, [keyed_step], headers=NO_WHOLESALE).status_code == 200


@pytest.fixture(scope="module")
def upstream() -> Iterator[LocalGateway]:
    with LocalGateway() as server:
        yield server


@pytest.fixture(scope="module")
def front(upstream: LocalGateway) -> Iterator[LocalGateway]:
    targets = {
        "openai": PassThrough(base_url=f"{upstream.gateway_url}/openai", api_key="sk-up"),
        "mistral": PassThrough(base_url=f"{upstream.gateway_url}/mistral"),
    }
    with LocalGateway(upstreams=targets) as gw:
        yield gw


def test_a_pass_through_key_is_a_credential(upstream: LocalGateway, front: LocalGateway) -> None:
    upstream.reset()
    front.reset()
    assert compat(front, headers=NO_WHOLESALE).status_code == 200
    assert len(upstream.received) == 1
    _refused(compat(front, chat_body("mistral/mistral-small"), NO_WHOLESALE))
    assert len(upstream.received) == 1
