"""Request smuggling through the pass-through pool (issue 11, item 1): the client half.

A real ``cf-aig serve`` subprocess passes ``openai`` through to a recording upstream that
parses requests by the bytes it receives. Whatever a client sends, the upstream must
receive exactly the requests the gateway meant to forward, one per forwarded call, and
each user must get the answer to their own request. A pooled connection that still owes
bytes (a stream the client abandoned, a body longer or shorter than its
``content-length``) is never used again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from langchain_cf_gateway.core import Header
from tests.support.gateway_process import ACCOUNT, GatewayProcess

from .upstreams import RecordingUpstream, echo

SMUGGLED_PATH = b"/v1/chat/completions"
ATTACK_HEADERS = {
    "x-a": "1\r\ncontent-length: 0\r\n\r\nPOST /v1/chat/completions HTTP/1.1\r\nx-b: 2"
}
"""The step header of the issue: ends the request early and starts a second one."""


@pytest.fixture(scope="module")
def gateway(upstream: RecordingUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of ``/v1/{account}/default`` on a ``cf-aig serve`` subprocess."""
    config = tmp_path_factory.mktemp("smuggling") / "local.json"
    config.write_text(
        json.dumps({"upstreams": {"openai": {"base_url": upstream.base_url, "api_key": "sk-held"}}})
    )
    Path(config).chmod(0o600)
    with GatewayProcess("--config", str(config)) as process:
        yield f"{process.base_url}/v1/{ACCOUNT}/default"


@pytest.fixture()
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def answer_of(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["choices"][0]["message"]["content"])


def assert_gateway_error(response: httpx.Response) -> None:
    """A gateway-made error: 4xx/5xx in the gateway's error body shape."""
    assert 400 <= response.status_code < 600, response.text
    body = response.json()
    assert body["success"] is False and body["result"] == [] and body["messages"] == []
    [error] = body["error"]
    assert isinstance(error["code"], int) and isinstance(error["message"], str)


def assert_one_request_per_forward(upstream: RecordingUpstream, first: int, sent: int) -> None:
    """The upstream parsed exactly ``sent`` requests since ``first``, none hidden in another."""
    parsed = upstream.requests[first:]
    assert len(parsed) == sent, [r.request_line for r in parsed]
    assert upstream.request_lines_in_bytes() == len(upstream.requests)
    for request in parsed:
        assert request.request_line.count(SMUGGLED_PATH) <= 1
        assert not any(name in (b"x-a", b"x-b") for name, _ in request.headers)


@pytest.mark.parametrize("cached", [False, True], ids=["no-cache", "cache"])
def test_two_victims_after_a_smuggling_attempt(
    upstream: RecordingUpstream, gateway: str, http: httpx.Client, cached: bool
) -> None:
    tag = "cached" if cached else "plain"
    headers = {Header.CACHE_TTL: "300"} if cached else {}
    first = len(upstream.requests)
    attack = http.post(
        gateway,
        json=[
            {
                "provider": "openai",
                "endpoint": "chat/completions",
                "headers": {**ATTACK_HEADERS, **headers},
                "query": {"model": "m", "messages": user("ATTACKER TEXT")},
            }
        ],
        headers=headers,
    )
    one, two = f"victim one {tag}", f"victim two {tag}"
    first_victim = http.post(
        f"{gateway}/compat/chat/completions",
        json={"model": "openai/m", "messages": user(one)},
        headers=headers,
    )
    second_victim = http.post(
        f"{gateway}/openai/chat/completions",
        json={"model": "m", "messages": user(two)},
        headers=headers,
    )
    assert answer_of(first_victim) == echo(one)
    assert answer_of(second_victim) == echo(two)
    assert_gateway_error(attack)
    assert_one_request_per_forward(upstream, first, sent=2)
    assert [r.content for r in upstream.requests[first:]] == [one, two]
    assert all(b"ATTACKER" not in bytes(c.raw) for c in upstream.connections)
    if cached:  # the entry under the victim's key is the victim's own answer
        again = http.post(
            f"{gateway}/compat/chat/completions",
            json={"model": "openai/m", "messages": user(one)},
            headers=headers,
        )
        assert again.headers.get(Header.CACHE_STATUS) == "HIT"
        assert answer_of(again) == echo(one)
        assert len(upstream.requests) == first + 2


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("header value, LF only", {"headers": {"x-a": "1\ncontent-length: 0\n\nGET /x HTTP/1.1"}}),
        ("header value, NUL", {"headers": {"x-a": "1\x00POST /v1/chat/completions HTTP/1.1"}}),
        (
            "header name",
            {"headers": {"x-a: 1\r\n\r\nPOST /v1/chat/completions HTTP/1.1\r\nx": "2"}},
        ),
        ("endpoint", {"endpoint": "chat/completions HTTP/1.1\r\nx: 1\r\n\r\nPOST /v1/x"}),
    ],
    ids=["lf", "nul", "name", "endpoint"],
)
def test_no_client_string_writes_a_second_request(
    upstream: RecordingUpstream,
    gateway: str,
    http: httpx.Client,
    where: str,
    value: dict[str, Any],
) -> None:
    first = len(upstream.requests)
    step = {
        "provider": "openai",
        "endpoint": "chat/completions",
        "query": {"model": "m", "messages": user(f"attack in {where}")},
        **value,
    }
    attack = http.post(gateway, json=[step])
    if attack.status_code != 200:
        assert_gateway_error(attack)
    after = http.post(
        f"{gateway}/compat/chat/completions",
        json={"model": "openai/m", "messages": user(f"after {where}")},
    )
    assert answer_of(after) == echo(f"after {where}")
    # At most the attack as ONE request (its bad string encoded, not interpreted), then ours.
    sent = len(upstream.requests) - first
    assert sent in (1, 2)
    assert_one_request_per_forward(upstream, first, sent=sent)
    assert upstream.requests[-1].content == f"after {where}"


def test_an_encoded_crlf_in_the_path_stays_one_request(
    upstream: RecordingUpstream, gateway: str, http: httpx.Client
) -> None:
    first = len(upstream.requests)
    attack = http.post(
        f"{gateway}/openai/chat/completions%20HTTP/1.1%0d%0ax:%201%0d%0a%0d%0aPOST%20/v1/x",
        json={"model": "m", "messages": user("path attack")},
    )
    if attack.status_code != 200:
        assert 400 <= attack.status_code < 600
    after = http.post(
        f"{gateway}/openai/chat/completions",
        json={"model": "m", "messages": user("after the path attack")},
    )
    assert answer_of(after) == echo("after the path attack")
    sent = len(upstream.requests) - first
    assert sent in (1, 2)
    assert_one_request_per_forward(upstream, first, sent=sent)


def _last_connection_of(upstream: RecordingUpstream, content: str) -> int:
    return next(r.connection for r in reversed(upstream.requests) if r.content == content)


@pytest.mark.parametrize("mode", ["MODE:extra-response", "MODE:short-body"])
def test_a_connection_that_owes_bytes_is_not_reused(
    upstream: RecordingUpstream, gateway: str, http: httpx.Client, mode: str
) -> None:
    headers = {Header.MAX_ATTEMPTS: "1"}
    if mode == "MODE:short-body":
        headers[Header.REQUEST_TIMEOUT] = "1500"  # the rest of the body never comes
    odd = http.post(
        f"{gateway}/compat/chat/completions",
        json={"model": "openai/m", "messages": user(mode)},
        headers=headers,
    )
    if mode == "MODE:extra-response":
        assert answer_of(odd) == echo(mode)
    else:
        assert_gateway_error(odd)
    odd_connection = _last_connection_of(upstream, mode)
    for n in range(3):
        text = f"next after {mode} #{n}"
        answer = http.post(
            f"{gateway}/compat/chat/completions",
            json={"model": "openai/m", "messages": user(text)},
        )
        assert answer_of(answer) == echo(text)
        assert _last_connection_of(upstream, text) != odd_connection
    if mode == "MODE:short-body":
        assert upstream.wait_closed(odd_connection)


def test_an_abandoned_stream_closes_its_connection(
    upstream: RecordingUpstream, gateway: str
) -> None:
    with (
        httpx.Client(timeout=30) as client,
        client.stream(
            "POST",
            f"{gateway}/compat/chat/completions",
            json={"model": "openai/m", "messages": user("MODE:stream"), "stream": True},
        ) as stream,
    ):
        assert stream.status_code == 200
        first_bytes = next(stream.iter_raw())
        assert b"part 0" in first_bytes
        # leaving the block mid-body closes the client's connection
    stream_connection = _last_connection_of(upstream, "MODE:stream")
    assert upstream.wait_closed(stream_connection), "the gateway kept a connection owing bytes"
    with httpx.Client(timeout=30) as client:
        answer = client.post(
            f"{gateway}/compat/chat/completions",
            json={"model": "openai/m", "messages": user("after the stream")},
        )
    assert answer_of(answer) == echo("after the stream")
    assert _last_connection_of(upstream, "after the stream") != stream_connection


# --------------------------------------------------------------------- the client itself


def _call(
    headers: dict[str, str], content: str, path: str = "chat/completions", *, stream: bool = False
) -> Any:
    from langchain_cf_gateway.core.providers import find_provider
    from langchain_cf_gateway.local.upstream import ProviderCall

    provider = find_provider("openai")
    assert provider is not None
    body = {"model": "m", "messages": user(content)}
    return ProviderCall(
        provider=provider,
        operation="chat",
        path=path,
        model="m",
        fault=None,
        body=body,
        raw_body=json.dumps(body).encode(),
        headers=headers,
        stream=stream,
        log_path=path,
    )


async def _send_all(upstream: RecordingUpstream, calls: list[Any]) -> list[Any]:
    """Each call through one pass-through client (one pool); an exception is a result."""
    from langchain_cf_gateway.local.upstream import PassThrough, PassThroughUpstream

    target = PassThrough(upstream.base_url, api_key="sk-held")
    client = PassThroughUpstream({"openai": target})
    results: list[Any] = []
    try:
        for call in calls:
            try:
                results.append(await client.send(call, target))
            except Exception as exc:
                results.append(exc)
    finally:
        await client.close()
    return results


@pytest.mark.parametrize(
    "headers",
    [
        {"x-a": "1\r\ncontent-length: 0\r\n\r\nPOST /v1/chat/completions HTTP/1.1\r\nx-b: 2"},
        {"x-a": "1\ncontent-length: 0\n\nGET /x HTTP/1.1"},
        {"x-a": "1\rx"},
        {"x-a": "1\x00POST /v1/chat/completions HTTP/1.1\r\n"},
        {"x-a\r\n\r\nPOST /v1/chat/completions HTTP/1.1\r\nx": "2"},
        {"api-key": "sk-secret\r\nx-b: 2"},
    ],
    ids=["crlf", "lf", "cr", "nul", "name", "credential"],
)
async def test_the_client_refuses_a_header_it_cannot_write(
    upstream: RecordingUpstream, headers: dict[str, str]
) -> None:
    """Below the edge's own checks: the HTTP client itself never writes such a header.

    The refusal is the gateway's 400 naming the header (never its value, which may be a
    credential), and the pooled connection still serves the next call correctly.
    """
    from langchain_cf_gateway.core import ErrorCode
    from langchain_cf_gateway.local.request_error import GatewayRequestError

    first = len(upstream.requests)
    refused, after = await _send_all(
        upstream, [_call(headers, "REFUSED TEXT"), _call({}, "the next call")]
    )
    assert isinstance(refused, GatewayRequestError), refused
    assert refused.code == ErrorCode.INVALID_REQUEST
    assert repr(next(iter(headers))) in str(refused)
    assert "sk-secret" not in str(refused)
    assert json.loads(after.body)["choices"][0]["message"]["content"] == echo("the next call")
    assert_one_request_per_forward(upstream, first, sent=1)
    assert all(b"REFUSED TEXT" not in bytes(c.raw) for c in upstream.connections)


async def test_the_client_adds_no_surprises(
    upstream: RecordingUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No cookie carried from one answer to the next call, no redirect followed, no
    headers of the client library's own (user-agent, accept, accept-encoding), no proxy
    taken from the environment (one that does not exist is set: the calls still arrive)."""
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    first = len(upstream.requests)
    cookie, redirect, _ = await _send_all(
        upstream,
        [_call({}, "MODE:cookie"), _call({}, "MODE:redirect"), _call({"x-mine": "1"}, "plain")],
    )
    assert cookie.status == 200 and redirect.status == 307
    assert json.loads(redirect.body) == {"redirected": True}
    received = upstream.requests[first:]
    assert [r.content for r in received] == ["MODE:cookie", "MODE:redirect", "plain"]
    names = {name for name, _ in received[-1].headers}
    assert names == {b"host", b"content-length", b"authorization", b"x-mine"}
    assert all(b"attacker" not in value for r in received for _, value in r.headers)
    assert received[-1].request_line == b"POST /v1/chat/completions HTTP/1.1"


async def test_a_stream_dropped_before_its_first_chunk_closes_its_connection(
    upstream: RecordingUpstream,
) -> None:
    """A relayed stream closed before anyone read from it (the caller went away first)
    still closes the upstream connection that owes the rest of it."""
    from langchain_cf_gateway.local.upstream import PassThrough, PassThroughUpstream

    target = PassThrough(upstream.base_url)
    client = PassThroughUpstream({"openai": target})
    try:
        reply = await client.send(_call({}, "MODE:stream", stream=True), target)
        assert reply.status == 200 and reply.chunks is not None
        connection = _last_connection_of(upstream, "MODE:stream")
        await reply.chunks.aclose()  # type: ignore[attr-defined]
        closed = await asyncio.to_thread(upstream.wait_closed, connection)
        assert closed, "a connection owing the rest of a stream stayed open"
    finally:
        await client.close()
