"""Faults seen by the LiteLLM handler, sync and async, from a raw server and the local gateway.

LiteLLM turns a handler error into its own class by HTTP status (so Router retries and
cooldowns work); `gateway_error` recovers the core's typed error (status, code,
log id) from it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from langchain_cf_gateway.core import (
    ErrorCode,
    GatewayError,
    GatewayTimeoutError,
    InvalidResponseError,
    ProviderUnavailableError,
    error_from_response,
)
from langchain_cf_gateway.core.protocol import ERROR_STATUS, gateway_error_body
from langchain_cf_gateway.local import LocalGateway
from tests.support.rawserver import (
    Act,
    MisbehavingServer,
    free_port,
    gateway_error,
    ok,
    provider_error,
    sse,
    stream_events,
)

MODES = ["sync", "async"]
MODEL = "cloudflare-ai-gateway/openai/gpt-4o-mini"


def complete(litellm: Any, base_url: str, mode: str, *, stream: bool = False, **kw: Any) -> str:
    kw = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "hi"}],
        "api_base": base_url,
        "account_id": "acct",
        "num_retries": 0,
        "timeout": 5,
        **kw,
    }
    if mode == "sync":
        if stream:
            return "".join(
                c.choices[0].delta.content or "" for c in litellm.completion(stream=True, **kw)
            )
        return str(litellm.completion(**kw).choices[0].message.content)

    async def run() -> str:
        if stream:
            response = await litellm.acompletion(stream=True, **kw)
            return "".join([c.choices[0].delta.content or "" async for c in response])
        return str((await litellm.acompletion(**kw)).choices[0].message.content)

    return asyncio.run(run())


def typed(exc: BaseException) -> GatewayError:
    from langchain_cf_gateway.litellm_provider import gateway_error as recover

    found = recover(exc)
    assert found is not None, f"no core error behind {type(exc).__name__}: {exc}"
    return found


@pytest.mark.parametrize(("status", "mode"), [(500, "sync"), (502, "async"), (503, "sync")])
def test_upstream_5xx(litellm: Any, raw: MisbehavingServer, mode: str, status: int) -> None:
    raw.then(provider_error(status, f"down {status}", log_id="log-5xx"))
    with pytest.raises(Exception) as err:
        complete(litellm, raw.base_url, mode)
    core = typed(err.value)
    assert isinstance(core, ProviderUnavailableError)
    assert (core.status_code, core.log_id) == (status, "log-5xx")
    assert isinstance(
        err.value,
        litellm.InternalServerError
        | litellm.BadGatewayError
        | litellm.ServiceUnavailableError
        | litellm.APIError,
    )
    assert len(raw.received) == 1


@pytest.mark.parametrize("mode", MODES)
def test_5xx_retried_by_num_retries(litellm: Any, raw: MisbehavingServer, mode: str) -> None:
    raw.then(provider_error(503, "down"), ok("second try"))
    assert complete(litellm, raw.base_url, mode, num_retries=1) == "second try"
    assert len(raw.received) == 2 and raw.received[0].body == raw.received[1].body


@pytest.mark.parametrize("mode", MODES)
def test_429_with_and_without_retry_after(litellm: Any, raw: MisbehavingServer, mode: str) -> None:
    raw.then(provider_error(429, "slow down", log_id="log-429", **{"retry-after": "7"}))
    with pytest.raises(litellm.RateLimitError) as err:
        complete(litellm, raw.base_url, mode)
    core = typed(err.value)
    assert (core.status_code, core.log_id, core.retry_after) == (429, "log-429", 7.0)
    raw.then(provider_error(429, "slow down"))
    with pytest.raises(litellm.RateLimitError) as err:
        complete(litellm, raw.base_url, mode)
    assert typed(err.value).retry_after is None


def test_retry_after_is_honoured_by_the_router(litellm: Any, raw: MisbehavingServer) -> None:
    # LiteLLM's Router is where LiteLLM retries by the response's headers; plain
    # completion(num_retries=...) retries at once whatever Retry-After says (LiteLLM's own
    # policy, see the README's reliability section).
    router = litellm.Router(
        model_list=[
            {
                "model_name": "m",
                "litellm_params": {"model": MODEL, "api_base": raw.base_url, "account_id": "acct"},
            }
        ],
        num_retries=1,
    )
    raw.then(provider_error(429, "slow down", **{"retry-after": "1"}), ok("after the wait"))
    response = router.completion(model="m", messages=[{"role": "user", "content": "hi"}])
    assert response.choices[0].message.content == "after the wait"
    first, second = raw.received
    assert second.at - first.at >= 0.9


@pytest.mark.parametrize("mode", MODES)
def test_connection_refused(litellm: Any, mode: str) -> None:
    with pytest.raises(litellm.APIConnectionError):
        complete(litellm, f"http://127.0.0.1:{free_port()}", mode)


@pytest.mark.parametrize("mode", MODES)
def test_read_timeout(litellm: Any, raw: MisbehavingServer, mode: str) -> None:
    raw.then(Act(hang_s=3))
    with pytest.raises(litellm.Timeout) as err:
        complete(litellm, raw.base_url, mode, timeout=0.3)
    assert isinstance(typed(err.value), GatewayTimeoutError)  # as in the chat model
    assert len(raw.received) == 1


@pytest.mark.parametrize("mode", MODES)
def test_stream_cut_in_the_middle_raises(litellm: Any, raw: MisbehavingServer, mode: str) -> None:
    raw.then(sse(stream_events(["one", " two"])[:2], end="cut"))
    with pytest.raises(Exception) as err:
        complete(litellm, raw.base_url, mode, stream=True)
    assert "peer closed" in str(err.value) or isinstance(err.value, litellm.APIError)
    assert isinstance(typed(err.value), InvalidResponseError)  # as in the chat model
    assert len(raw.received) == 1


@pytest.mark.parametrize("mode", MODES)
def test_stream_without_done_or_finish_reason_raises(
    litellm: Any, raw: MisbehavingServer, mode: str
) -> None:
    raw.then(sse(stream_events(["Hel", "lo"])[:3], end="eof"))
    with pytest.raises(Exception) as err:
        complete(litellm, raw.base_url, mode, stream=True)
    core = typed(err.value)
    assert isinstance(core, InvalidResponseError) and core.log_id == "log-stream"


@pytest.mark.parametrize("mode", MODES)
def test_complete_stream(litellm: Any, raw: MisbehavingServer, mode: str) -> None:
    raw.then(sse(stream_events(["Hel", "lo"]), end="done"))
    assert complete(litellm, raw.base_url, mode, stream=True) == "Hello"


@pytest.mark.parametrize("mode", MODES)
def test_invalid_json_body(litellm: Any, raw: MisbehavingServer, mode: str) -> None:
    raw.then(Act(200, {"content-type": "application/json", "cf-aig-log-id": "log-bad"}, b"{not"))
    with pytest.raises(Exception) as err:
        complete(litellm, raw.base_url, mode)
    core = typed(err.value)
    assert isinstance(core, InvalidResponseError)
    assert (core.status_code, core.log_id) == (200, "log-bad")


@pytest.mark.parametrize("mode", MODES)
def test_malformed_chunk_raises(litellm: Any, raw: MisbehavingServer, mode: str) -> None:
    raw.then(sse([*stream_events(["a"])[:2], "{not json"], end="done"))
    with pytest.raises(Exception) as err:
        complete(litellm, raw.base_url, mode, stream=True)
    assert typed(err.value) is not None


@pytest.mark.parametrize("mode", MODES)
def test_oversized_error_body(litellm: Any, raw: MisbehavingServer, mode: str) -> None:
    raw.then(
        Act(500, {"content-type": "text/html", "cf-aig-log-id": "log-big"}, b"<p>" * 2_000_000)
    )
    with pytest.raises(Exception) as err:
        complete(litellm, raw.base_url, mode)
    assert typed(err.value).log_id == "log-big"
    assert len(str(err.value)) < 2_000


# Each code once, sync and async alternating: both paths share the error mapping, and
# every other fault here runs both ways.
@pytest.mark.parametrize(
    ("code", "mode"),
    [(c, MODES[i % 2]) for i, c in enumerate(ErrorCode)],
    ids=[f"{c.name}-{MODES[i % 2]}" for i, c in enumerate(ErrorCode)],
)
def test_gateway_error_body_of_each_code(
    litellm: Any, raw: MisbehavingServer, mode: str, code: ErrorCode
) -> None:
    raw.then(gateway_error(code, log_id=f"log-{int(code)}"))
    expected = error_from_response(ERROR_STATUS[code], {}, gateway_error_body(code))
    with pytest.raises(Exception) as err:
        complete(litellm, raw.base_url, mode)
    core = typed(err.value)
    assert type(core) is type(expected)
    assert (core.status_code, core.code, core.log_id) == (
        ERROR_STATUS[code],
        int(code),
        f"log-{int(code)}",
    )
    # LiteLLM picks its class by status (424, which it has no class for, is a 400).
    assert getattr(err.value, "status_code", None) in (ERROR_STATUS[code], 400)
    assert len(raw.received) == 1


# --------------------------------------------------------------------------- local gateway


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [500, 503, 429])
def test_local_gateway_upstream_status(
    litellm: Any, gateway: LocalGateway, mode: str, status: int
) -> None:
    with pytest.raises(Exception) as err:
        complete(
            litellm,
            gateway.base_url,
            mode,
            model=f"{MODEL}~status={status}",
            account_id=gateway.account_id,
        )
    core = typed(err.value)
    row = gateway.logs()[-1]
    assert (core.status_code, core.log_id) == (status, row["id"])
    assert row["status_code"] == status and not row["success"]


@pytest.mark.parametrize("mode", MODES)
def test_local_gateway_stream_disconnect_raises(
    litellm: Any, gateway: LocalGateway, mode: str
) -> None:
    with pytest.raises(Exception):  # noqa: B017 - any error, never a short response
        complete(
            litellm,
            gateway.base_url,
            mode,
            stream=True,
            model=f"{MODEL}~disconnect=2",
            account_id=gateway.account_id,
        )
    assert len(gateway.received) == 1


@pytest.mark.parametrize("mode", MODES)
def test_fallbacks_engage(litellm: Any, gateway: LocalGateway, mode: str) -> None:
    kw = {
        "model": f"{MODEL}~status=503",
        "messages": [{"role": "user", "content": "hi"}],
        "api_base": gateway.base_url,
        "account_id": gateway.account_id,
        "gateway_fallbacks": ["anthropic/claude-3-5-haiku"],
    }
    if mode == "sync":
        response = litellm.completion(**kw)
    else:
        response = asyncio.run(litellm.acompletion(**kw))
    info = response._hidden_params["gateway"]
    assert (info["step"], info["provider"]) == (1, "anthropic")
    rows = gateway.logs()
    assert [(r["step"], r["status_code"]) for r in rows] == [(0, 503), (1, 200)]
    assert info["log_id"] == rows[-1]["id"]
