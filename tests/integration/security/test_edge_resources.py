"""Item 6: what a request that is refused, or never finishes, can cost the gateway.

A rejected request keeps nothing; what is kept is bounded; request heads are bounded
(431), a head that never ends is cut off, connections are bounded, and bodies that
would crash or stall a JSON parser (deep nesting, NaN, 1e309) get the gateway's 400.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from langchain_cf_gateway.local import LocalGateway

from .edge_helpers import RawResponse, exchange, gateway_error, raw_request, strict_json

CHAT = b'{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'


@pytest.fixture(scope="module")
def gw() -> Iterator[LocalGateway]:
    with LocalGateway() as gateway:
        gateway.create_gateway("secure", authentication=True)
        yield gateway


def _compat(gw: LocalGateway, body: bytes, gateway_id: str = "default") -> RawResponse:
    target = f"/v1/{gw.account_id}/{gateway_id}/compat/chat/completions".encode()
    return raw_request(gw.port, target, headers=[(b"content-type", b"application/json")], body=body)


def test_requests_refused_before_authentication_keep_nothing(gw: LocalGateway) -> None:
    gw.reset()
    big = b'{"model":"openai/gpt-4o-mini","pad":"' + b"x" * 2_000_000 + b'"}'
    for _ in range(5):
        response = _compat(gw, big, gateway_id="secure")
        assert gateway_error(response)[:2] == (401, 2009)
    response = _compat(gw, big, gateway_id="no-such-gateway")
    assert gateway_error(response)[:2] == (400, 2001)
    refused = exchange(
        gw.port,
        f"POST /v1/{gw.account_id}/default/compat/chat/completions HTTP/1.1\r\n"
        "host: 127.0.0.1\r\ncontent-length: 30000000\r\nconnection: close\r\n\r\n".encode()
        + b"x" * 1000,
    )
    assert gateway_error(refused)[0] == 413
    assert gw.received == []
    assert gw.logs() == []


def test_what_received_keeps_is_bounded_in_bytes() -> None:
    with LocalGateway(received_max_bytes=1_000_000) as gw:
        body = (
            b'{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"'
            + b"y" * 300_000
            + b'"}]}'
        )
        for _ in range(6):
            assert _compat(gw, body).status == 200
        kept = gw.received
        assert kept and sum(len(r.body) for r in kept) <= 1_000_000
        assert len(kept) < 6


def _long_head(size: int) -> bytes:
    return (
        b"GET /v1/a/default/compat/models HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        + b"x-pad: "
        + b"p" * size
        + b"\r\nconnection: close\r\n\r\n"
    )


def test_a_request_head_past_the_default_bound_gets_431(gw: LocalGateway) -> None:
    response = exchange(gw.port, _long_head(100 * 1024))
    status, code, message = gateway_error(response)
    assert (status, code) == (431, 7001)
    assert "KB" in message and "--max-head-bytes" in message
    assert exchange(gw.port, _long_head(1000)).status == 200


def test_the_head_bound_is_a_parameter() -> None:
    with LocalGateway(max_head_bytes=4096) as gw:
        assert gateway_error(exchange(gw.port, _long_head(5000)))[0] == 431
        assert exchange(gw.port, _long_head(1000)).status == 200


def _closed_within(sock: socket.socket, seconds: float, trickle: bytes = b"") -> bytes:
    """Everything the server sent before it closed the connection (fails if it never does)."""
    sock.settimeout(0.2)
    got = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if trickle:
                sock.sendall(trickle)
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return got
        if not chunk:
            return got
        got += chunk
    raise AssertionError(f"the connection was still open after {seconds} s; got {got!r}")


def test_a_head_that_never_ends_is_cut_off() -> None:
    with LocalGateway(head_timeout_s=0.5) as gw:
        with socket.create_connection(("127.0.0.1", gw.port)) as slow:
            slow.sendall(b"POST /v1/a/default HTTP/1.1\r\nhost: 127.0.0.1\r\n")
            answer = _closed_within(slow, 15, trickle=b"x")  # one byte every 0.2 s
            assert answer == b"" or answer.startswith(b"HTTP/1.1 408")
        with socket.create_connection(("127.0.0.1", gw.port)) as silent:
            _closed_within(silent, 15)
        assert exchange(gw.port, _long_head(10)).status == 200


def test_connections_past_the_bound_get_a_gateway_503() -> None:
    with LocalGateway(max_connections=2) as gw:
        idle = [socket.create_connection(("127.0.0.1", gw.port)) for _ in range(2)]
        try:
            time.sleep(0.2)  # let the server accept both
            status, _, _ = gateway_error(exchange(gw.port, _long_head(10)))
            assert status == 503
        finally:
            for sock in idle:
                sock.close()
        for _ in range(50):  # the server notices the closes
            response = exchange(gw.port, _long_head(10))
            if response.status == 200:
                break
            time.sleep(0.1)
        assert response.status == 200


def test_cf_aig_serve_has_flags_for_the_bounds() -> None:
    import argparse

    from langchain_cf_gateway.cli.serve import configure

    parser = argparse.ArgumentParser()
    configure(parser)
    args = parser.parse_args(
        [
            "--max-head-bytes",
            "8192",
            "--head-timeout",
            "3",
            "--max-connections",
            "50",
            "--backlog",
            "64",
            "--allowed-host",
            "gw.internal",
            "--allowed-host",
            "10.0.0.5",
        ]
    )
    assert args.max_head_bytes == 8192 and args.head_timeout == 3
    assert args.max_connections == 50 and args.backlog == 64
    assert args.allowed_host == ["gw.internal", "10.0.0.5"]


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"model":"openai/gpt-4o-mini","messages":' + b"[" * 500 + b"]" * 500 + b"}",
        b'{"model":"openai/gpt-4o-mini","messages":[],"x":'
        + b'{"a":' * 300
        + b"1"
        + b"}" * 300
        + b"}",
    ],
    ids=["100k-deep", "500-deep-list", "300-deep-object"],
)
def test_deeply_nested_json_gets_the_gateway_400_and_a_log_row(
    gw: LocalGateway, body: bytes
) -> None:
    gw.reset()
    for target in (
        f"/v1/{gw.account_id}/default/compat/chat/completions",
        f"/v1/{gw.account_id}/default/openai/chat/completions",
        f"/v1/{gw.account_id}/default",
    ):
        response = raw_request(gw.port, target.encode(), body=body)
        status, code, message = gateway_error(response)
        assert (status, code) == (400, 7001)
        assert "deep" in message or "nest" in message, message
    rows = gw.logs()
    assert len(rows) == 3 and all(r["success"] is False for r in rows)


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e309", b"-1e400"])
def test_non_finite_numbers_are_refused_at_the_edge(gw: LocalGateway, number: bytes) -> None:
    gw.reset()
    body = (
        b'{"model":"openai/gpt-4o-mini","temperature":'
        + number
        + b',"messages":[{"role":"user","content":"hi"}]}'
    )
    status, code, message = gateway_error(_compat(gw, body))
    assert (status, code) == (400, 7001)
    assert "temperature" in message, message
    steps = b'[{"provider":"openai","endpoint":"chat/completions","query":' + body + b"}]"
    response = raw_request(gw.port, f"/v1/{gw.account_id}/default".encode(), body=steps)
    assert gateway_error(response)[:2] == (400, 7001)
    metadata = raw_request(
        gw.port,
        f"/v1/{gw.account_id}/default/compat/chat/completions".encode(),
        headers=[(b"cf-aig-metadata", b'{"n":' + number + b"}")],
        body=CHAT,
    )
    assert gateway_error(metadata)[:2] == (400, 7001)
    rows = gw.logs()
    assert len(rows) == 3 and all(r["success"] is False for r in rows)
    listed = raw_request(
        gw.port,
        f"/client/v4/accounts/{gw.account_id}/ai-gateway/gateways/default/logs".encode(),
        method=b"GET",
        headers=[(b"authorization", f"Bearer {gw.management_token}".encode())],
    )
    assert listed.status == 200
    strict_json(listed.body)  # no NaN / Infinity anywhere


def test_an_unparsable_request_gets_the_gateway_error_body(gw: LocalGateway) -> None:
    response = exchange(gw.port, b"GET /v1/a/default\x01 HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
    status, code, _ = gateway_error(response)
    assert (status, code) == (400, 7001)


def test_the_logs_api_stays_strict_json_after_odd_bodies(gw: LocalGateway) -> None:
    gw.reset()
    body = json.dumps(
        {
            "model": "openai/gpt-4o-mini",
            "messages": [{"role": "user", "content": "ok"}],
            "n": 10**30,
        }
    )
    assert _compat(gw, body.encode()).status in (200, 400)
    rows = gw.logs()
    assert rows
    strict_json(json.dumps(rows, allow_nan=False).encode())


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"model":"openai/gpt-4o-mini","x":[' + b"1," * 1_100_000 + b"1]}", "values"),
        (b'{"model":"openai/gpt-4o-mini","x":[' + b"[]," * 250_000 + b"[]]}", "arrays and objects"),
    ],
    ids=["1.1M-values", "250k-arrays"],
)
def test_bodies_too_costly_to_parse_are_refused_before_parsing(
    gw: LocalGateway, body: bytes, words: str
) -> None:
    gw.reset()
    status, code, message = gateway_error(_compat(gw, body))
    assert (status, code) == (400, 7001) and words in message, message
    assert [r["success"] for r in gw.logs()] == [False]


def test_a_large_embeddings_request_of_token_arrays_is_still_served(gw: LocalGateway) -> None:
    inputs = [[i % 50_000 for i in range(146)] for _ in range(2048)]  # ~300k tokens
    body = json.dumps({"model": "openai/text-embedding-3-small", "input": inputs}).encode()
    target = f"/v1/{gw.account_id}/default/compat/embeddings".encode()
    response = raw_request(
        gw.port, target, headers=[(b"content-type", b"application/json")], body=body
    )
    assert response.status == 200, response


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--max-head-bytes", "10"], "--max-head-bytes"),
        (["--head-timeout", "0"], "--head-timeout"),
        (["--allowed-host", "a b:x:y"], "allowed host"),
    ],
)
def test_cf_aig_serve_names_a_bad_bound_without_a_traceback(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from langchain_cf_gateway.cli import main

    assert main(["serve", "--port", "0", *argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert named in err, err
