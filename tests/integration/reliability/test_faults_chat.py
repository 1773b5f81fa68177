"""Faults seen by ChatCloudflareGateway, sync and async, from a raw server and the local gateway.

Expected everywhere: the core's typed error with status, code and log id; retries only
before the first byte of a response (and after Retry-After); a cut or unfinished stream
raises instead of returning a short response; fallbacks engage.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import openai
import pytest

from langchain_cf_gateway import ChatCloudflareGateway
from langchain_cf_gateway.core import (
    ErrorCode,
    GatewayError,
    GatewayRateLimitError,
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


def model_at(base_url: str, **kwargs: Any) -> ChatCloudflareGateway:
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("timeout", 5)
    return ChatCloudflareGateway(
        model=kwargs.pop("model", "openai/gpt-4o-mini"),
        account_id="acct",
        base_url=base_url,
        **kwargs,
    )


def call(model: ChatCloudflareGateway, mode: str, *, stream: bool = False) -> str:
    """One call the way a user makes it; returns the whole response text."""
    if mode == "sync":
        if stream:
            return "".join(str(c.content) for c in model.stream("hi"))
        return str(model.invoke("hi").content)

    async def run() -> str:
        if stream:
            return "".join([str(c.content) async for c in model.astream("hi")])
        return str((await model.ainvoke("hi")).content)

    return asyncio.run(run())


# --------------------------------------------------------------------------- raw server


@pytest.mark.parametrize(("status", "mode"), [(500, "sync"), (502, "async"), (503, "sync")])
def test_upstream_5xx_is_typed_and_retried_before_any_byte(
    raw: MisbehavingServer, mode: str, status: int
) -> None:
    raw.then(*[provider_error(status, f"down {status}", log_id=f"log-{i}") for i in range(2)])
    with pytest.raises(ProviderUnavailableError) as err:
        call(model_at(raw.base_url, max_retries=1), mode)
    assert err.value.status_code == status
    assert err.value.log_id == "log-1"  # the last attempt's log id
    assert f"down {status}" in str(err.value) and "[log id log-1]" in str(err.value)
    assert err.value.retryable
    assert len(raw.received) == 2  # max_retries=1: one retry, no more


@pytest.mark.parametrize("mode", MODES)
def test_retry_after_is_honoured(raw: MisbehavingServer, mode: str) -> None:
    raw.then(provider_error(429, "slow down", **{"retry-after": "1"}), ok("after the wait"))
    assert call(model_at(raw.base_url, max_retries=1), mode) == "after the wait"
    first, second = raw.received
    assert second.at - first.at >= 0.9  # the SDK waited as told (lower bound only)
    assert first.body == second.body  # the same request, again


@pytest.mark.parametrize("mode", MODES)
def test_429_without_retry_after(raw: MisbehavingServer, mode: str) -> None:
    raw.then(provider_error(429, "slow down", log_id="log-429"))
    with pytest.raises(GatewayRateLimitError) as err:
        call(model_at(raw.base_url, max_retries=0), mode)
    assert (err.value.status_code, err.value.log_id, err.value.retry_after) == (
        429,
        "log-429",
        None,
    )
    assert isinstance(err.value, openai.RateLimitError)  # existing except clauses still work
    raw.then(provider_error(429, "slow down"), ok("second try"))
    assert call(model_at(raw.base_url, max_retries=1), mode) == "second try"


@pytest.mark.parametrize("mode", MODES)
def test_connection_refused(mode: str) -> None:
    with pytest.raises(openai.APIConnectionError):
        call(model_at(f"http://127.0.0.1:{free_port()}", max_retries=0), mode)


@pytest.mark.parametrize("mode", MODES)
def test_read_timeout_retries_before_the_first_byte(raw: MisbehavingServer, mode: str) -> None:
    raw.then(Act(hang_s=3), Act(hang_s=3))
    with pytest.raises(openai.APITimeoutError):
        call(model_at(raw.base_url, max_retries=1, timeout=0.3), mode)
    assert len(raw.received) == 2


@pytest.mark.parametrize("mode", MODES)
def test_stream_cut_in_the_middle_raises(raw: MisbehavingServer, mode: str) -> None:
    raw.then(sse(stream_events(["one", " two"])[:2], end="cut"))
    with pytest.raises(Exception) as err:
        call(model_at(raw.base_url, max_retries=2), mode, stream=True)
    assert "incomplete" in str(err.value) or isinstance(err.value, InvalidResponseError)
    assert len(raw.received) == 1  # bytes were delivered: never retried


@pytest.mark.parametrize("mode", MODES)
def test_stream_without_done_or_finish_reason_raises(raw: MisbehavingServer, mode: str) -> None:
    raw.then(sse(stream_events(["Hel", "lo"])[:3], end="eof"))  # role, "Hel", "lo"; no end
    with pytest.raises(InvalidResponseError) as err:
        call(model_at(raw.base_url), mode, stream=True)
    assert err.value.status_code == 200 and err.value.log_id == "log-stream"


@pytest.mark.parametrize("mode", MODES)
def test_stream_with_done_but_no_finish_reason_is_complete_only_with_finish(
    raw: MisbehavingServer, mode: str
) -> None:
    # A proper stream: finish reason and [DONE] - the whole text comes back.
    raw.then(sse(stream_events(["Hel", "lo"]), end="done"))
    assert call(model_at(raw.base_url), mode, stream=True) == "Hello"


@pytest.mark.parametrize("mode", MODES)
def test_invalid_json_body(raw: MisbehavingServer, mode: str) -> None:
    raw.then(Act(200, {"content-type": "application/json", "cf-aig-log-id": "log-bad"}, b"{not"))
    with pytest.raises(InvalidResponseError) as err:
        call(model_at(raw.base_url), mode)
    assert err.value.status_code == 200 and err.value.log_id == "log-bad"


@pytest.mark.parametrize("mode", MODES)
def test_malformed_chunk_in_a_stream_raises(raw: MisbehavingServer, mode: str) -> None:
    raw.then(sse([*stream_events(["a"])[:2], "{not json"], end="done"))
    with pytest.raises(InvalidResponseError) as err:
        call(model_at(raw.base_url), mode, stream=True)
    assert err.value.status_code == 200 and err.value.log_id == "log-stream"


@pytest.mark.parametrize("mode", MODES)
def test_oversized_error_body_keeps_the_message_short(raw: MisbehavingServer, mode: str) -> None:
    raw.then(
        Act(500, {"content-type": "text/html", "cf-aig-log-id": "log-big"}, b"<p>" * 2_000_000)
    )
    with pytest.raises(ProviderUnavailableError) as err:
        call(model_at(raw.base_url), mode)
    assert err.value.status_code == 500 and err.value.log_id == "log-big"
    assert len(str(err.value)) < 1_000  # a 6 MB page is not pasted into the message


# Each code once, sync and async alternating: both paths share the error mapping, and
# every other fault here runs both ways.
@pytest.mark.parametrize(
    ("code", "mode"),
    [(c, MODES[i % 2]) for i, c in enumerate(ErrorCode)],
    ids=[f"{c.name}-{MODES[i % 2]}" for i, c in enumerate(ErrorCode)],
)
def test_gateway_error_body_of_each_code(
    raw: MisbehavingServer, mode: str, code: ErrorCode
) -> None:
    raw.then(gateway_error(code, log_id=f"log-{int(code)}"))
    expected = error_from_response(ERROR_STATUS[code], {}, gateway_error_body(code))
    with pytest.raises(GatewayError) as err:
        call(model_at(raw.base_url), mode)
    assert type(err.value).__name__ == type(expected).__name__
    assert isinstance(err.value, type(expected))
    assert err.value.status_code == ERROR_STATUS[code]
    assert err.value.code == int(code)
    assert err.value.log_id == f"log-{int(code)}"
    assert len(raw.received) == 1  # max_retries=0


# --------------------------------------------------------------------------- local gateway


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_local_gateway_upstream_status(gateway: LocalGateway, mode: str, status: int) -> None:
    model = model_at(gateway.base_url, model=f"openai/gpt-4o-mini~status={status}")
    with pytest.raises(GatewayError) as err:
        call(model, mode)
    assert err.value.status_code == status
    row = gateway.logs()[-1]
    assert err.value.log_id == row["id"] and row["status_code"] == status and not row["success"]


@pytest.mark.parametrize("mode", MODES)
def test_local_gateway_503_then_success_on_the_sdk_retry(gateway: LocalGateway, mode: str) -> None:
    gateway.script(fault="status=503", times=1)  # the next attempt only
    assert call(model_at(gateway.base_url, max_retries=1), mode)
    assert [r["status_code"] for r in gateway.logs()] == [503, 200]


@pytest.mark.parametrize("mode", MODES)
def test_local_gateway_stream_disconnect_raises(gateway: LocalGateway, mode: str) -> None:
    model = model_at(gateway.base_url, model="openai/gpt-4o-mini~disconnect=2", max_retries=2)
    with pytest.raises(Exception):  # noqa: B017 - any error, never a short response
        call(model, mode, stream=True)
    assert len(gateway.received) == 1


@pytest.mark.parametrize("mode", MODES)
def test_local_gateway_timeout(gateway: LocalGateway, mode: str) -> None:
    model = model_at(gateway.base_url, model="openai/gpt-4o-mini~delay=3000", timeout=0.3)
    with pytest.raises(openai.APITimeoutError):
        call(model, mode)


@pytest.mark.parametrize("mode", MODES)
def test_local_gateway_read_timeout_mid_stream_is_a_timeout(
    gateway: LocalGateway, mode: str
) -> None:
    # The stream's head comes at once, its chunks 2 s apart: the read timeout strikes in
    # the middle of the response, over a real socket (httpcore's ReadTimeout).
    model = model_at(gateway.base_url, model="openai/gpt-4o-mini~chunk-delay=2000", timeout=0.5)
    with pytest.raises(GatewayTimeoutError) as err:
        call(model, mode, stream=True)
    assert isinstance(err.value, openai.APITimeoutError)
    assert err.value.status_code == 408
    assert err.value.log_id  # the response's head had come, with its log id
    assert len(gateway.received) == 1  # the response had begun: never retried


@pytest.mark.parametrize("mode", MODES)
def test_fallbacks_engage(gateway: LocalGateway, mode: str) -> None:
    model = model_at(
        gateway.base_url,
        model="openai/gpt-4o-mini~status=503",
        fallbacks=["anthropic/claude-3-5-haiku"],
    )
    message = model.invoke("hi") if mode == "sync" else asyncio.run(model.ainvoke("hi"))
    info = message.response_metadata["gateway"]
    assert info["step"] == 1 and info["provider"] == "anthropic"
    rows = gateway.logs()
    assert [(r["step"], r["status_code"]) for r in rows] == [(0, 503), (1, 200)]
    assert info["log_id"] == rows[-1]["id"]
    body = json.loads(gateway.received[-1].body)
    assert [s["provider"] for s in body] == ["compat", "compat"]
