"""A recording upstream: a raw asyncio HTTP/1.1 server that keeps every byte it receives.

It parses requests the way an upstream does, by the bytes on each connection (a request
line, a head ending in an empty line, ``content-length`` bytes of body), so a request
smuggled inside another shows up as two requests. Each request is answered on the same
keep-alive connection with an OpenAI chat completion whose content echoes the last user
message it carried (``ECHO[...]``), so a client that gets someone else's answer can tell.

A user message starting with ``MODE:`` asks for a misbehaving answer (see ``_answer``).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Final

REQUEST_LINE: Final = re.compile(
    rb"(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \S+ HTTP/1\.[01]\r\n"
)
"""What a request line looks like, wherever it appears in the received bytes."""


@dataclass
class Received:
    """One request as the upstream parsed it from a connection's bytes."""

    connection: int
    request_line: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes

    @property
    def content(self) -> str | None:
        """The last user message's content, or None if the body carries none."""
        try:
            messages = json.loads(self.body)["messages"]
            return str(messages[-1]["content"])
        except (ValueError, KeyError, IndexError, TypeError):
            return None


@dataclass
class Connection:
    raw: bytearray = field(default_factory=bytearray)
    closed: bool = False


def echo(content: str | None) -> str:
    return f"ECHO[{content}]"


def completion(content: str | None) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-rec",
            "object": "chat.completion",
            "created": 0,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": echo(content)},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        },
        separators=(",", ":"),
    ).encode()


def keep_alive(body: bytes, *, length: int | None = None) -> bytes:
    declared = len(body) if length is None else length
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + f"content-length: {declared}\r\n\r\n".encode()
        + body
    )


class RecordingUpstream:
    """The server, on 127.0.0.1 and a port chosen at run time, in its own thread."""

    def __init__(self) -> None:
        self.connections: list[Connection] = []
        self.requests: list[Received] = []
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0

    def __enter__(self) -> RecordingUpstream:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        )
        self._server = started.result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            assert self._server is not None
            self._server.close()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def base_url(self) -> str:
        """The pass-through ``base_url`` for ``openai`` (``/v1`` + ``/chat/completions``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def request_lines_in_bytes(self) -> int:
        """Every request line in every byte received, parsed as a request or not."""
        return sum(len(REQUEST_LINE.findall(bytes(c.raw))) for c in self.connections)

    def wait_closed(self, connection: int, timeout: float = 10.0) -> bool:
        """Whether the client closed ``connection`` within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.connections[connection].closed:
                return True
            time.sleep(0.02)
        return self.connections[connection].closed

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = len(self.connections)
        conn = Connection()
        self.connections.append(conn)
        buffer = bytearray()
        try:
            while data := await reader.read(65536):
                conn.raw += data
                buffer += data
                while (request := _take_request(buffer, index)) is not None:
                    self.requests.append(request)
                    await self._answer(request, writer)
        except (ConnectionError, OSError):
            pass
        finally:
            conn.closed = True
            writer.close()

    async def _answer(self, request: Received, writer: asyncio.StreamWriter) -> None:
        """Answer keep-alive; ``MODE:`` contents ask for a misbehaving answer.

        - ``MODE:extra-response``: the body is followed by a whole second answer that
          no request asked for (a body longer than its ``content-length``).
        - ``MODE:short-body``: ``content-length`` promises more than is sent; the
          rest never comes.
        - ``MODE:stream``: an SSE stream in chunks, slowly, for as long as the
          connection stays open (up to ~10 s).
        - ``MODE:cookie``: the answer sets a cookie.
        - ``MODE:redirect``: a 307 to another path of this server.
        """
        content = request.content
        if content == "MODE:cookie":
            body = completion(content)
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                b"set-cookie: session=attacker; Path=/\r\n"
                + f"content-length: {len(body)}\r\n\r\n".encode()
                + body
            )
        elif content == "MODE:redirect":
            body = b'{"redirected":true}'
            writer.write(
                b"HTTP/1.1 307 Temporary Redirect\r\ncontent-type: application/json\r\n"
                b"location: /v1/elsewhere\r\n"
                + f"content-length: {len(body)}\r\n\r\n".encode()
                + body
            )
        elif content == "MODE:extra-response":
            writer.write(keep_alive(completion(content)) + keep_alive(completion("SMUGGLED")))
        elif content == "MODE:short-body":
            body = completion(content)
            writer.write(keep_alive(body[:20], length=len(body)))
        elif content == "MODE:stream":
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            for i in range(500):
                frame = _chunk(
                    {
                        "id": "chatcmpl-rec",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": "m",
                        "choices": [{"index": 0, "delta": {"content": f"part {i} "}}],
                    }
                )
                writer.write(f"{len(frame):x}\r\n".encode() + frame + b"\r\n")
                await writer.drain()
                await asyncio.sleep(0.02)
            writer.write(b"0\r\n\r\n")
        else:
            writer.write(keep_alive(completion(content)))
        await writer.drain()


def _chunk(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"


def _take_request(buffer: bytearray, connection: int) -> Received | None:
    """Take one whole request off the front of ``buffer``, or None if it is not all here."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = bytes(buffer[:end]).split(b"\r\n")
    headers = [
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(b":") for line in lines[1:])
    ]
    lengths = [int(v) for k, v in headers if k == b"content-length"]
    length = lengths[0] if lengths else 0  # the first one counts, as a naive upstream does
    if len(buffer) < end + 4 + length:
        return None
    body = bytes(buffer[end + 4 : end + 4 + length])
    del buffer[: end + 4 + length]
    return Received(connection, lines[0], headers, body)
