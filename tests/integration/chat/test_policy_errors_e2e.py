"""Policies errors, the whole error table and `byok_only`, end to end through the chat model
against the local gateway (https://developers.cloudflare.com/ai-gateway/features/policies/)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from langchain_cf_gateway import (
    ChatCloudflareGateway,
    CloudflareGatewayEmbeddings,
    GatewayError,
    PolicyDeniedError,
    ProviderError,
    SpendLimitExceededError,
)
from langchain_cf_gateway.core.error_codes import NO_CREDENTIALS_FIX, RETRYABLE_CODES
from langchain_cf_gateway.core.errors import GatewayRateLimitError, error_from_response
from langchain_cf_gateway.core.protocol import ERROR_STATUS, ErrorCode, gateway_error_body
from langchain_cf_gateway.local import LocalGateway


def _model(gw: LocalGateway, gateway_id: str | None = None) -> ChatCloudflareGateway:
    return ChatCloudflareGateway(
        model="openai/gpt-4o-mini",
        base_url=gw.base_url,
        account_id=gw.account_id,
        gateway_id=gateway_id or gw.gateway_id,
        gateway_token=gw.token,
        max_retries=0,
    )


def _invoke(model: ChatCloudflareGateway) -> None:
    model.invoke("hi")


def _stream(model: ChatCloudflareGateway) -> None:
    for _ in model.stream("hi"):
        pass


def _ainvoke(model: ChatCloudflareGateway) -> None:
    asyncio.run(model.ainvoke("hi"))


def _astream(model: ChatCloudflareGateway) -> None:
    async def run() -> None:
        async for _ in model.astream("hi"):
            pass

    asyncio.run(run())


PATHS: dict[str, Callable[[ChatCloudflareGateway], None]] = {
    "invoke": _invoke,
    "stream": _stream,
    "ainvoke": _ainvoke,
    "astream": _astream,
}


@pytest.fixture(autouse=True)
def _no_provider_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDFLARE_AI_GATEWAY_PROVIDER_KEY", raising=False)


@pytest.mark.parametrize("path", PATHS)
def test_policy_deny_is_policy_denied(gateway: LocalGateway, path: str) -> None:
    gateway.script(fault="policy=deny")
    with pytest.raises(PolicyDeniedError) as info:
        PATHS[path](_model(gateway))
    err = info.value
    assert (err.status_code, err.message) == (403, "Access denied by policy")
    assert not isinstance(err, ProviderError) and not err.retryable
    assert err.log_id


@pytest.mark.parametrize("path", PATHS)
def test_policy_spend_carries_bucket_spent_limit(gateway: LocalGateway, path: str) -> None:
    gateway.script(fault="policy=spend")
    with pytest.raises(SpendLimitExceededError) as info:
        PATHS[path](_model(gateway))
    err = info.value
    assert isinstance(err, GatewayRateLimitError) and not isinstance(err, ProviderError)
    assert err.status_code == 429
    assert (err.bucket, err.spent, err.limit) == ("local-spend-cap", 10.5, 10)


def _expected(code: ErrorCode) -> GatewayError:
    return error_from_response(ERROR_STATUS[code], None, gateway_error_body(code))


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: str(int(c)))
def test_every_error_code_through_invoke(gateway: LocalGateway, code: ErrorCode) -> None:
    gateway.script(fault=f"error={int(code)}")
    with pytest.raises(GatewayError) as info:
        _invoke(_model(gateway))
    err = info.value
    # the chat model raises a class made of the core's class and the OpenAI SDK's
    assert type(err).__bases__[0] is type(_expected(code))
    assert (err.code, err.status_code) == (int(code), ERROR_STATUS[code])
    assert err.retryable is (code in RETRYABLE_CODES)


@pytest.mark.parametrize("path", ["stream", "astream"])
def test_an_error_code_through_a_stream(gateway: LocalGateway, path: str) -> None:
    gateway.script(fault="error=3040")
    with pytest.raises(GatewayRateLimitError) as info:
        PATHS[path](_model(gateway))
    assert (info.value.code, info.value.status_code, info.value.retryable) == (3040, 429, True)


def test_a_code_outside_the_table_keeps_what_it_was_given(gateway: LocalGateway) -> None:
    gateway.script(fault="error=9999~status=418~message=Teapot is out of tea")
    with pytest.raises(GatewayError) as info:
        _invoke(_model(gateway))
    err = info.value
    assert (err.code, err.status_code, err.message) == (9999, 418, "Teapot is out of tea")


@pytest.mark.parametrize("path", PATHS)
def test_byok_only_without_a_provider_key_says_the_fix(gateway: LocalGateway, path: str) -> None:
    gateway.create_gateway("byok-only", byok_only=True)
    with pytest.raises(GatewayError) as info:
        PATHS[path](_model(gateway, "byok-only"))
    err = info.value
    assert err.status_code == 400 and err.hint == NO_CREDENTIALS_FIX
    with_key = ChatCloudflareGateway(
        model="openai/gpt-4o-mini",
        base_url=gateway.base_url,
        account_id=gateway.account_id,
        gateway_id="byok-only",
        gateway_token=gateway.token,
        api_key="sk-provider",
        max_retries=0,
    )
    assert with_key.invoke("hi").content


@pytest.mark.parametrize("kind", ["chat", "embeddings"])
def test_the_sdk_does_not_resend_a_spend_cap(gateway: LocalGateway, kind: str) -> None:
    """The OpenAI SDK resends a 429 (max_retries=2 by default); a spend cap cannot pass on a
    resend, so the gateway sees one request (it used to see three)."""
    with pytest.raises(SpendLimitExceededError):
        if kind == "chat":
            ChatCloudflareGateway(
                model="openai/gpt-4o-mini~policy=spend",
                base_url=gateway.base_url,
                account_id=gateway.account_id,
                gateway_token=gateway.token,
            ).invoke("hi")
        else:
            CloudflareGatewayEmbeddings(
                model="openai/text-embedding-3-small~policy=spend",
                base_url=gateway.base_url,
                account_id=gateway.account_id,
                gateway_token=gateway.token,
            ).embed_query("hi")
    assert len(gateway.received) == 1
