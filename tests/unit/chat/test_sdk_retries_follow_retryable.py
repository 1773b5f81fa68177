"""The OpenAI SDK's own retries (`max_retries`) follow `GatewayError.retryable`.

The SDK resends every 408, 409, 429 and 5xx. A policy's spend cap is a 429 that no
resend can pass (https://developers.cloudflare.com/ai-gateway/features/policies/), and
the error table says which other codes at those statuses cannot succeed again: those
are sent once. A retryable 429 (the gateway's rate limit, 2003) is still resent.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from langchain_cf_gateway import (
    ChatCloudflareGateway,
    GatewayRateLimitError,
    SpendLimitExceededError,
)
from langchain_cf_gateway.core import GatewayError

from .scripted import Script, completion_body, respond, transports

SPEND_CAP = json.dumps(
    {
        "success": False,
        "error": {"message": "Spending limit exceeded", "bucket": "b1", "spent": 10.5, "limit": 10},
    }
).encode()
RATE_LIMIT = json.dumps(
    {"success": False, "error": [{"code": 2003, "message": "Rate limited"}]}
).encode()
BAD_RUN_ID_500 = json.dumps(
    {"success": False, "error": [{"code": 2002, "message": "Invalid run id"}]}
).encode()


def _chat(script: Script) -> ChatCloudflareGateway:
    sync_client, async_client = transports(script)
    return ChatCloudflareGateway(
        model="openai/gpt-4o-mini",
        account_id="acct",
        base_url="http://gateway.test",
        max_retries=2,
        http_client=sync_client,
        http_async_client=async_client,
    )


@pytest.mark.parametrize("call", ["invoke", "ainvoke", "stream"])
def test_a_spend_cap_is_sent_once(call: str) -> None:
    script = Script(respond(429, SPEND_CAP, **{"retry-after": "0"}))
    model = _chat(script)
    with pytest.raises(SpendLimitExceededError) as err:
        if call == "invoke":
            model.invoke("hi")
        elif call == "ainvoke":
            asyncio.run(model.ainvoke("hi"))
        else:
            list(model.stream("hi"))
    assert not err.value.retryable
    assert len(script.requests) == 1


def test_a_retryable_rate_limit_is_still_resent() -> None:
    script = Script(
        respond(429, RATE_LIMIT, **{"retry-after": "0"}),
        respond(200, completion_body("ok")),
    )
    assert _chat(script).invoke("hi").content == "ok"
    assert len(script.requests) == 2


def test_a_code_the_table_calls_final_is_sent_once_at_5xx() -> None:
    script = Script(respond(500, BAD_RUN_ID_500, **{"retry-after": "0"}))
    with pytest.raises(GatewayError) as err:
        _chat(script).invoke("hi")
    assert err.value.retryable is False
    assert not isinstance(err.value, GatewayRateLimitError)
    assert len(script.requests) == 1
