"""The pass-through connection pool against a tiny raw HTTP server with awkward habits."""

from __future__ import annotations

import json
import socket
import socketserver
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.local import LocalGateway, PassThrough
from tests.support.local_calls import chat_body, compat, gateway_error, http

ANSWER = json.dumps(
    {
        "id": "x",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "raw"}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }
).encode()


class RawUpstream(socketserver.ThreadingTCPServer):
    """Answers one request per connection as told by ``mode``, then closes it."""

    daemon_threads = True
    allow_reuse_address = True
    mode = "close-delimited"
    requests: list[bytes]


class Handler(socketserver.StreamRequestHandler):
    server: RawUpstream

    def handle(self) -> None:
        while True:
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                byte = self.rfile.read(1)
                if not byte:
                    return
                head += byte
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            self.server.requests.append(head + self.rfile.read(length))
            mode = self.server.mode
            if mode == "close-delimited":  # no length, no chunks: the body ends at close
                self.wfile.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n" + ANSWER
                )
                return
            if mode == "keep-alive-then-drop":  # a keep-alive answer, then a silent close
                self.wfile.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    + f"content-length: {len(ANSWER)}\r\n\r\n".encode()
                    + ANSWER
                )
                return
            if mode == "cut":  # promises more than it sends
                self.wfile.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"content-length: 1000\r\n\r\n" + ANSWER[:10]
                )
                return
            if mode == "split-usage":  # an SSE stream whose usage line spans two chunks
                usage = (
                    b'data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":5}}\n\n'
                )
                frames = [b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n']
                frames += [usage[:30], usage[30:], b"data: [DONE]\n\n"]
                self.wfile.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                    b"transfer-encoding: chunked\r\n\r\n"
                )
                for frame in frames:
                    self.wfile.write(f"{len(frame):x}\r\n".encode() + frame + b"\r\n")
                    self.wfile.flush()
                    time.sleep(0.05)  # separate reads at the gateway
                self.wfile.write(b"0\r\n\r\n")
                continue
            if mode == "garbage":
                self.wfile.write(b"SSH-2.0-OpenSSH\r\n\r\n")
                return


@pytest.fixture(scope="module")
def raw() -> Iterator[RawUpstream]:
    server = RawUpstream(("127.0.0.1", 0), Handler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def front(raw: RawUpstream) -> Iterator[LocalGateway]:
    port = raw.server_address[1]
    with LocalGateway(upstreams={"openai": PassThrough(f"http://127.0.0.1:{port}/v1")}) as gw:
        yield gw


def test_close_delimited_body(raw: RawUpstream, front: LocalGateway) -> None:
    raw.mode, raw.requests = "close-delimited", []
    answer = compat(front, chat_body())
    assert answer.json()["choices"][0]["message"]["content"] == "raw"
    assert raw.requests[0].startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
    assert b"cf-aig-" not in raw.requests[0]
    assert front.logs()[-1]["tokens_in"] == 3


def test_a_dropped_keep_alive_connection_is_replaced(raw: RawUpstream, front: LocalGateway) -> None:
    raw.mode, raw.requests = "keep-alive-then-drop", []
    for _ in range(3):  # each reuse finds the pooled connection closed, and reconnects
        assert compat(front, chat_body()).json()["choices"][0]["message"]["content"] == "raw"
    assert len(raw.requests) == 3


@pytest.mark.parametrize("mode", ["cut", "garbage"])
def test_a_broken_upstream_is_2005(raw: RawUpstream, front: LocalGateway, mode: str) -> None:
    raw.mode = mode
    status, code, message = gateway_error(compat(front, chat_body(), {Header.MAX_ATTEMPTS: "1"}))
    assert (status, code) == (502, 2005)
    assert "unreachable" in message


def test_a_usage_line_split_across_reads_is_counted(raw: RawUpstream, front: LocalGateway) -> None:
    raw.mode = "split-usage"
    url = f"{front.base_url}/v1/{front.account_id}/default/compat/chat/completions"
    with http.stream("POST", url, json=chat_body(stream=True)) as stream:
        body = b"".join(stream.iter_raw())
    assert b"[DONE]" in body
    row = front.logs()[-1]
    assert (row["tokens_in"], row["tokens_out"]) == (7, 5)


class TlsUpstream(RawUpstream):
    """The same awkward server behind TLS, with a self-signed certificate for 127.0.0.1."""

    context: ssl.SSLContext

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        try:
            return self.context.wrap_socket(sock, server_side=True), address
        except (ssl.SSLError, OSError):
            sock.close()
            raise


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TlsUpstream, Path]]:
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    server = TlsUpstream(("127.0.0.1", 0), Handler)
    server.requests, server.mode = [], "keep-alive-then-drop"
    server.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.context.load_cert_chain(cert, key)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, cert
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("trusted", [True, False], ids=["trusted", "untrusted"])
def test_an_https_upstream_is_verified(
    tls: tuple[TlsUpstream, Path], monkeypatch: pytest.MonkeyPatch, trusted: bool
) -> None:
    """TLS for https:// with the system's verification: a certificate nobody vouches for is
    a 502/2005 and the upstream never sees the request; trusted (SSL_CERT_FILE), it answers."""
    server, cert = tls
    if trusted:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    else:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    server.requests = []
    port = server.server_address[1]
    upstreams = {"openai": PassThrough(f"https://127.0.0.1:{port}/v1")}
    with LocalGateway(upstreams=upstreams) as gw:
        answer = compat(gw, chat_body(), {Header.MAX_ATTEMPTS: "1"})
    if trusted:
        assert answer.json()["choices"][0]["message"]["content"] == "raw"
        assert len(server.requests) == 1
    else:
        status, code, _ = gateway_error(answer)
        assert (status, code) == (502, 2005)
        assert server.requests == []
