"""The minimal fast OpenAI-compatible server the client benchmarks talk to.

Client benchmarks must measure the client, so the peer has to cost next to nothing:
a raw :class:`asyncio.Protocol` speaking HTTP/1.1 with keep-alive, responding to every
``POST .../chat/completions`` with canned bytes built once at start-up. It runs in
ANOTHER PROCESS (``python -m bench.fastserver``), so its work never shares a core's
time slice with the client under test in the same interpreter.

- non-stream: one chat completion with usage, and the ``cf-aig-*`` response headers a
  gateway sends (listed in https://developers.cloudflare.com/ai-gateway/glossary/), so a
  gateway-aware client does its real parsing work;
- ``"stream": true`` in the body: a Server-Sent Events stream of
  :data:`STREAM_CHUNKS` content chunks, a finish chunk, a usage chunk and ``[DONE]``, in
  chunked transfer encoding (one HTTP chunk per event), as streaming servers send it;
- ``GET /stats``: ``{"connections": n, "requests": m, "open": k}``, the TCP
  connections accepted since start, so the concurrency benchmark can prove that
  connections are reused (count them where they are made, at the server).

It never parses JSON: the only question asked of a body is whether it streams.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import ssl
import sys

from langchain_cf_gateway.core import Header

STREAM_CHUNKS = 200
"""Content chunks per streamed response (a 200-chunk stream)."""
MODEL = "gpt-4o-mini"
CONTENT = "Hello from the bench server."
_STREAM_FLAG = re.compile(rb'"stream"\s*:\s*true')
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)
_GATEWAY_HEADERS = (
    f"{Header.CACHE_STATUS}: MISS\r\n"
    f"{Header.LOG_ID}: 019ab000-0000-7000-8000-000000000001\r\n"
    f"{Header.REQUEST_ID}: 019ab000-0000-7000-8000-000000000001\r\n"
    f"{Header.EVENT_ID}: 019ab000-0000-7000-8000-000000000001\r\n"
)


def _response(status: str, content_type: str, body: bytes, extra: str = "") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\n"
        f"content-length: {len(body)}\r\n{extra}\r\n"
    )
    return head.encode() + body


def completion_body() -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": CONTENT},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 9, "completion_tokens": 6, "total_tokens": 15},
        }
    ).encode()


def stream_events(chunks: int = STREAM_CHUNKS) -> list[bytes]:
    """The SSE events of one streamed response, one ``data: ...\\n\\n`` each."""

    def event(choices: list[object], usage: object = None) -> bytes:
        data: dict[str, object] = {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000,
            "model": MODEL,
            "choices": choices,
        }
        if usage is not None:
            data["usage"] = usage
        return b"data: " + json.dumps(data).encode() + b"\n\n"

    parts = [
        event(
            [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": "tok0 "}
                    if i == 0
                    else {"content": f"tok{i} "},
                    "logprobs": None,
                    "finish_reason": None,
                }
            ]
        )
        for i in range(chunks)
    ]
    parts.append(event([{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]))
    parts.append(
        event([], {"prompt_tokens": 9, "completion_tokens": chunks, "total_tokens": 9 + chunks})
    )
    parts.append(b"data: [DONE]\n\n")
    return parts


def chunked(parts: list[bytes]) -> bytes:
    """HTTP/1.1 chunked framing, one chunk per event, as streaming servers send it."""
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


COMPLETION = _response("200 OK", "application/json", completion_body(), _GATEWAY_HEADERS)
STREAM = (
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n"
    f"{_GATEWAY_HEADERS}\r\n"
).encode() + chunked(stream_events())
NOT_FOUND = _response("404 Not Found", "application/json", b'{"error":"not found"}')


class Stats:
    connections = 0
    requests = 0
    open = 0


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        Stats.connections += 1
        Stats.open += 1

    def connection_lost(self, exc: Exception | None) -> None:
        Stats.open -= 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        # Pipelined or split requests: respond to every complete one in the buffer.
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            match = _CONTENT_LENGTH.search(head)
            length = int(match.group(1)) if match else 0
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            body = self.buffer[end + 4 : total]
            self.buffer = self.buffer[total:]
            self._respond(head, body)

    def _respond(self, head: bytes, body: bytes) -> None:
        assert self.transport is not None
        Stats.requests += 1
        line = head[: head.find(b"\r\n")]
        if line.startswith(b"POST ") and b"/chat/completions " in line:
            self.transport.write(STREAM if _STREAM_FLAG.search(body) else COMPLETION)
        elif line.startswith(b"GET /stats "):
            stats = json.dumps(
                {"connections": Stats.connections, "requests": Stats.requests, "open": Stats.open}
            ).encode()
            self.transport.write(_response("200 OK", "application/json", stats))
        else:
            self.transport.write(NOT_FOUND)


async def serve(host: str, port: int, tls: ssl.SSLContext | None = None) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Connection, host, port, backlog=4096, ssl=tls)
    bound = server.sockets[0].getsockname()[1]
    # The parent reads this line to learn the port.
    scheme = "https" if tls is not None else "http"
    sys.stdout.write(f"listening on {scheme}://{host}:{bound}\n")
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS")
    args = parser.parse_args()
    tls = None
    if args.tls:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(*args.tls)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, tls))


if __name__ == "__main__":
    main()
