"""Fresh attack, findings F1, F2, F6: request bodies that never end, or come without a token.

- F1: a body that is never finished holds its connection slot only until the body
  deadline (``--body-timeout``); then 408 in the gateway's error shape, the connection is
  closed and its slot serves the next client.
- F2: with authentication on, every route decides the gateway and the token from the
  head: a refused request is answered at once, with no ``100 Continue`` first and no body
  read (a 20 MB ``content-length`` that never comes still gets its 401).
- F6: a client that disconnects mid-body costs no traceback in the server's output.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from langchain_cf_gateway.local import LocalGateway
from tests.support.gateway_process import TOKEN, GatewayProcess

from .edge_helpers import gateway_error, read_response

PARTIAL = b"content-type: application/json\r\ncontent-length: 100\r\n\r\n{"  # 99 bytes never come


def _head(target: str, *extra: str, length: int = 100) -> bytes:
    lines = [f"POST {target} HTTP/1.1", "host: 127.0.0.1", "content-type: application/json"]
    lines += [*extra, f"content-length: {length}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _closed_within(sock: socket.socket, seconds: float) -> bytes:
    """Everything the server sent before it closed the connection (fails if it never does)."""
    sock.settimeout(0.2)
    got = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return got
        if not chunk:
            return got
        got += chunk
    raise AssertionError(f"the connection was still open after {seconds} s; got {got!r}")


def _parse(data: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def _gateway_error_of(data: bytes) -> tuple[int, int]:
    import json

    status, headers, body = _parse(data)
    parsed = json.loads(body[: int(headers["content-length"])])
    assert parsed["success"] is False and parsed["name"] == "AiGatewayError", parsed
    assert parsed["httpCode"] == status
    return status, parsed["internalCode"]


# ---------------------------------------------------------------------------- F1


def test_bodies_never_finished_get_408_and_free_their_slots() -> None:
    with LocalGateway(max_connections=3, body_timeout_s=0.5) as gw:
        target = f"/v1/{gw.account_id}/default/compat/chat/completions"
        holders = [socket.create_connection(("127.0.0.1", gw.port)) for _ in range(3)]
        try:
            for sock in holders:
                sock.sendall(_head(target) + b"{")
            for sock in holders:
                answer = _closed_within(sock, 15)
                assert _gateway_error_of(answer) == (408, 7001)
                assert b"--body-timeout" in answer
        finally:
            for sock in holders:
                sock.close()
        body = b'{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'
        for _ in range(50):  # the server notices the closes
            with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as sock:
                sock.sendall(_head(target, "connection: close", length=len(body)) + body)
                response = read_response(sock)
            if response.status == 200:
                break
            time.sleep(0.1)
        assert response.status == 200, response


def test_a_body_dripped_byte_by_byte_is_cut_off_at_the_deadline() -> None:
    with LocalGateway(body_timeout_s=1) as gw:
        target = f"/v1/{gw.account_id}/default/compat/chat/completions"
        with socket.create_connection(("127.0.0.1", gw.port)) as sock:
            sock.sendall(_head(target, length=10_000))
            sock.settimeout(0.2)
            got = b""
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                try:
                    sock.sendall(b" ")  # one byte every 0.2 s: never idle, never done
                    chunk = sock.recv(65536)
                except TimeoutError:
                    continue
                except (ConnectionResetError, BrokenPipeError):
                    break
                if not chunk:
                    break
                got += chunk
            else:
                raise AssertionError(f"still open after 15 s; got {got!r}")
        assert _gateway_error_of(got) == (408, 7001)


def test_the_body_timeout_is_a_flag_and_a_bad_one_is_named() -> None:
    import argparse

    from langchain_cf_gateway.cli import main
    from langchain_cf_gateway.cli.serve import configure

    parser = argparse.ArgumentParser()
    configure(parser)
    assert parser.parse_args(["--body-timeout", "7"]).body_timeout == 7
    assert parser.parse_args([]).body_timeout == 60
    assert main(["serve", "--port", "0", "--body-timeout", "0"]) == 2


def _drain(process: GatewayProcess, into: list[str]) -> threading.Thread:
    def run() -> None:
        for line in process.stdout:
            into.append(line)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_cf_aig_serve_frees_slots_and_stays_quiet_about_aborted_uploads() -> None:
    """F1 and F6 on ``cf-aig serve``: 408 past --body-timeout; aborted uploads log nothing."""
    process = GatewayProcess("--max-connections", "3", "--body-timeout", "0.5").start()
    output: list[str] = list(process.output)
    reader = _drain(process, output)
    try:
        port = int(process.base_url.rsplit(":", 1)[1])
        target = "/v1/acct/default/compat/chat/completions"
        for _ in range(20):  # aborted uploads: the client hangs up mid-body
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(_head(target) + b'{"model":')
                time.sleep(0.02)
        holders = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        try:
            for sock in holders:
                sock.sendall(_head(target) + b"{")
            for sock in holders:
                assert _gateway_error_of(_closed_within(sock, 15)) == (408, 7001)
        finally:
            for sock in holders:
                sock.close()
        body = b'{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'
        for _ in range(50):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(_head(target, "connection: close", length=len(body)) + body)
                response = read_response(sock)
            if response.status == 200:
                break
            time.sleep(0.1)
        assert response.status == 200, response
    finally:
        process.stop()
        reader.join(10)
    text = "".join(output)
    assert "Traceback" not in text and "ClientDisconnect" not in text, text[-3000:]
    assert len(output) < 20, text


# ---------------------------------------------------------------------------- F2


@pytest.fixture(scope="module")
def gw() -> Iterator[LocalGateway]:
    with LocalGateway() as gateway:
        gateway.create_gateway("secure", authentication=True)
        yield gateway


def _refused_at_once(gw: LocalGateway, head: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send a head announcing 20 MB and no body; the whole answer must come without it."""
    with socket.create_connection(("127.0.0.1", gw.port), timeout=5) as sock:
        sock.sendall(head)
        got = b""
        while b"\r\n\r\n" not in got or len(got.partition(b"\r\n\r\n")[2]) < int(
            _parse(got)[1].get("content-length", "1")
        ):
            chunk = sock.recv(65536)  # a 5 s timeout: never waits for the 20 MB
            if not chunk:
                break
            got += chunk
    return _parse(got)


def _routes(gw: LocalGateway) -> list[tuple[str, list[str], int]]:
    """(target, extra headers, expected status) of a refused request on every route kind."""
    a = gw.account_id
    wrong = "authorization: Bearer wrong"
    return [
        (f"/v1/{a}/secure/compat/chat/completions", [], 401),
        (f"/v1/{a}/secure/openai/chat/completions", ["cf-aig-authorization: Bearer no"], 401),
        (f"/v1/{a}/secure", [], 401),
        (f"/v1/{a}/secure/", [], 401),
        (f"/v1/{a}/no-such-gateway/compat/chat/completions", [], 400),
        (f"/client/v4/accounts/{a}/ai/v1/chat/completions", [wrong], 401),
        (f"/client/v4/accounts/{a}/ai-gateway/gateways", [wrong], 401),
        (f"/client/v4/accounts/{a}/ai-gateway/gateways/default", [], 401),
        ("/__local/scripts", [wrong], 401),
        ("/__local/clock", [], 401),
    ]


@pytest.mark.parametrize("expect", [False, True], ids=["plain", "expect-100-continue"])
def test_a_refused_request_is_answered_from_its_head(gw: LocalGateway, expect: bool) -> None:
    gw.reset()
    for target, extra, status in _routes(gw):
        if "ai-gateway/gateways/default" in target:
            head = _head(target, *extra, length=20_000_000).replace(b"POST", b"PUT", 1)
        else:
            head = _head(target, *extra, length=20_000_000)
        if expect:
            head = head.replace(b"\r\n\r\n", b"\r\nexpect: 100-continue\r\n\r\n", 1)
        try:
            got_status, headers, _ = _refused_at_once(gw, head)
        except TimeoutError:
            raise AssertionError(f"{target}: no answer without the body") from None
        assert got_status == status, (target, got_status)  # a 100 Continue would show here
        assert headers.get("connection") == "close", (target, headers)
    assert gw.received == []


def test_a_chunked_body_without_a_token_is_not_read_first(gw: LocalGateway) -> None:
    target = f"/v1/{gw.account_id}/secure/compat/chat/completions"
    head = (
        f"POST {target} HTTP/1.1\r\nhost: 127.0.0.1\r\ntransfer-encoding: chunked\r\n\r\n"
        '10\r\n{"model":"x"    \r\n'  # one chunk, and the body never ends
    ).encode()
    with socket.create_connection(("127.0.0.1", gw.port), timeout=5) as sock:
        sock.sendall(head)
        try:
            response = read_response(sock)
        except TimeoutError:
            raise AssertionError("no answer before the chunked body ended") from None
    assert gateway_error(response)[:2] == (401, 2009)


def test_with_the_token_expect_100_continue_still_gets_its_answer(gw: LocalGateway) -> None:
    body = b'{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'
    target = f"/v1/{gw.account_id}/secure/compat/chat/completions"
    head = _head(
        target,
        f"cf-aig-authorization: Bearer {gw.token}",
        "expect: 100-continue",
        "connection: close",
        length=len(body),
    )
    with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as sock:
        sock.sendall(head)
        interim = b""
        while b"\r\n\r\n" not in interim:
            interim += sock.recv(1)
        assert interim.startswith(b"HTTP/1.1 100"), interim
        sock.sendall(body)
        assert read_response(sock).status == 200


def test_cf_aig_serve_answers_a_tokenless_20_mb_announcement_at_once() -> None:
    process = GatewayProcess().start()
    try:
        port = int(process.base_url.rsplit(":", 1)[1])
        head = _head(
            "/client/v4/accounts/acct/ai/v1/chat/completions",
            "expect: 100-continue",
            length=20_000_000,
        )
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(head)
            first = sock.recv(12)
        assert first.startswith(b"HTTP/1.1 401"), first
        assert TOKEN  # the process has a token: the REST route always checks it
    finally:
        process.stop()
