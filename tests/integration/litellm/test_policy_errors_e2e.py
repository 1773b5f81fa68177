"""Policies errors, the whole error table and `byok_only`, end to end through LiteLLM against
the local gateway (https://developers.cloudflare.com/ai-gateway/features/policies/)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from litellm.exceptions import MidStreamFallbackError

from langchain_cf_gateway.core import GatewayError, PolicyDeniedError, SpendLimitExceededError
from langchain_cf_gateway.core.error_codes import NO_CREDENTIALS_FIX, RETRYABLE_CODES
from langchain_cf_gateway.core.errors import (
    GatewayRateLimitError,
    ProviderError,
    error_from_response,
)
from langchain_cf_gateway.core.protocol import ERROR_STATUS, ErrorCode, gateway_error_body
from langchain_cf_gateway.litellm_provider import PROVIDER, gateway_error
from langchain_cf_gateway.local import LocalGateway

MINI = f"{PROVIDER}/openai/gpt-4o-mini"
HELLO = [{"role": "user", "content": "hello"}]


def _completion(litellm: Any, kw: dict[str, Any]) -> None:
    litellm.completion(model=MINI, messages=HELLO, num_retries=0, **kw)


def _stream(litellm: Any, kw: dict[str, Any]) -> None:
    for _ in litellm.completion(model=MINI, messages=HELLO, stream=True, num_retries=0, **kw):
        pass


def _acompletion(litellm: Any, kw: dict[str, Any]) -> None:
    asyncio.run(litellm.acompletion(model=MINI, messages=HELLO, num_retries=0, **kw))


def _astream(litellm: Any, kw: dict[str, Any]) -> None:
    async def run() -> None:
        stream = await litellm.acompletion(
            model=MINI, messages=HELLO, stream=True, num_retries=0, **kw
        )
        async for _ in stream:
            pass

    asyncio.run(run())


PATHS: dict[str, Callable[[Any, dict[str, Any]], None]] = {
    "completion": _completion,
    "stream": _stream,
    "acompletion": _acompletion,
    "astream": _astream,
}


def _raised(path: str, litellm: Any, kw: dict[str, Any]) -> tuple[Exception, GatewayError]:
    """What LiteLLM raised (unwrapped from a MidStreamFallbackError) and the typed error."""
    with pytest.raises(Exception) as info:
        PATHS[path](litellm, kw)
    exc: Exception = info.value
    if isinstance(exc, MidStreamFallbackError):  # an async stream's error before any chunk
        assert exc.is_pre_first_chunk
        exc = exc.original_exception
    typed = gateway_error(exc)
    assert typed is not None, repr(exc)
    return exc, typed


@pytest.mark.parametrize("path", PATHS)
def test_policy_deny(litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any], path: str) -> None:
    gw.script(fault="policy=deny")
    exc, typed = _raised(path, litellm_mod, cf)
    assert getattr(exc, "status_code", None) == 403
    assert "Access denied by policy" in str(exc)
    assert isinstance(exc, litellm_mod.PermissionDeniedError)
    assert isinstance(typed, PolicyDeniedError) and not isinstance(typed, ProviderError)
    assert typed.message == "Access denied by policy"


@pytest.mark.parametrize("path", PATHS)
def test_policy_spend(litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any], path: str) -> None:
    gw.script(fault="policy=spend")
    exc, typed = _raised(path, litellm_mod, cf)
    assert isinstance(exc, litellm_mod.RateLimitError)
    assert getattr(exc, "status_code", None) == 429
    assert isinstance(typed, SpendLimitExceededError) and not isinstance(typed, ProviderError)
    assert (typed.bucket, typed.spent, typed.limit) == ("local-spend-cap", 10.5, 10)


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: str(int(c)))
def test_every_error_code_through_completion(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any], code: ErrorCode
) -> None:
    gw.script(fault=f"error={int(code)}")
    exc, typed = _raised("completion", litellm_mod, cf)
    expected = error_from_response(ERROR_STATUS[code], None, gateway_error_body(code))
    assert type(typed) is type(expected)
    assert (typed.code, typed.status_code) == (int(code), ERROR_STATUS[code])
    assert typed.retryable is (code in RETRYABLE_CODES)
    # LiteLLM has no class for 405, 413 or 424: it raises BadRequestError (400) for them;
    # the typed error behind it keeps the real status
    assert getattr(exc, "status_code", None) in (ERROR_STATUS[code], 400)


@pytest.mark.parametrize("path", ["stream", "astream"])
def test_an_error_code_through_a_stream(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any], path: str
) -> None:
    gw.script(fault="error=3040")
    exc, typed = _raised(path, litellm_mod, cf)
    assert isinstance(exc, litellm_mod.RateLimitError)
    assert isinstance(typed, GatewayRateLimitError)
    assert (typed.code, typed.status_code, typed.retryable) == (3040, 429, True)


def test_a_code_outside_the_table(litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]) -> None:
    gw.script(fault="error=9999~status=418~message=Teapot is out of tea")
    exc, typed = _raised("completion", litellm_mod, cf)
    assert (typed.code, typed.status_code, typed.message) == (9999, 418, "Teapot is out of tea")
    assert "Teapot is out of tea" in str(exc)


@pytest.mark.parametrize("path", PATHS)
def test_byok_only_without_a_provider_key(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any], path: str
) -> None:
    gw.create_gateway("byok-only", byok_only=True)
    exc, typed = _raised(path, litellm_mod, {**cf, "gateway_id": "byok-only"})
    assert getattr(exc, "status_code", None) == 400
    assert typed.hint == NO_CREDENTIALS_FIX
    keyed = {**cf, "gateway_id": "byok-only", "api_key": "sk-provider"}
    answer = litellm_mod.completion(model=MINI, messages=HELLO, **keyed)
    assert answer.choices[0].message.content
