"""A raw HTTP server on loopback: canned responses in a queue, and the faults a real
upstream or gateway makes.

It speaks just enough HTTP/1.1 (keep-alive, Content-Length bodies, chunked responses)
and sends, for each request, the next `Act` queued (`then(...)` or `queue.append`), else
`default` (or, with `echo`, a proper completion):

- a status with headers and a body (5xx, 429 with or without `Retry-After`, a
  gateway error body, invalid JSON, an oversized body, what Cloudflare sends and the
  local gateway cannot script, such as a dynamic route's headers);
- an SSE stream of `data:` payloads (`events`) that ends properly (`data: [DONE]`), ends
  cleanly without `[DONE]` or a finish reason (`end="eof"`), is cut mid-way
  (`end="cut"`: the connection is reset before the chunked terminator), or sends
  `data: [DONE]` and withholds the chunked terminator (`end="hold"`); or of SSE lines
  sent as given (`lines`: comments, `data: [DONE]` and all);
- a hang (`hang_s`): the request is read and nothing is sent, for read timeouts.

Every request is recorded (method, path, headers, body, arrival time) and every
connection counted, so tests can assert how many attempts went out, and when.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_cf_gateway.core import ErrorCode, Header
from langchain_cf_gateway.core.protocol import gateway_error_body


@dataclass
class Act:
    """One response, or one fault."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    events: list[str] | None = None
    """SSE `data:` payloads; None for a plain body (or `lines`)."""
    lines: list[str] | None = None
    """SSE lines sent as given, each followed by a blank line; nothing is added after them."""
    end: Literal["done", "eof", "cut", "hold"] = "done"
    """How `events` end: `[DONE]`; the chunked terminator only; a reset connection;
    `[DONE]`, then nothing more on the connection until the client closes it."""
    hang_s: float = 0.0
    """Seconds to wait before responding (no response if the client gives up first)."""


def free_port() -> int:
    """A loopback port nobody listens on (a connection to it is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Seen:
    """One request as the server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    """time.monotonic() when the request was fully read."""
    connection: int = 0
    """Which connection it came on: 1 for the first the server accepted, and so on."""

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def completion(text: str = "Hello there.", model: str = "gpt-4o-mini", **extra: Any) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-raw",
            "object": "chat.completion",
            "created": 1,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
            **extra,
        }
    ).encode()


def chunk(content: str | None = None, finish: str | None = None, usage: bool = False) -> str:
    delta: dict[str, Any] = {} if content is None else {"content": content}
    body: dict[str, Any] = {
        "id": "chatcmpl-raw",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage:
        body["usage"] = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    return json.dumps(body)


def stream_events(words: Iterable[str] = ("Hel", "lo", " there")) -> list[str]:
    """A full, proper stream: role, words, finish reason, usage (then [DONE] via ``end``)."""
    events = [
        json.dumps(
            {
                **json.loads(chunk("")),
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": ""},
                        "finish_reason": None,
                    }
                ],
            }
        )
    ]
    events += [chunk(w) for w in words]
    return [*events, chunk(finish="stop"), chunk(usage=True)]


def ok(text: str = "Hello there.", log_id: str = "log-ok", **headers: str) -> Act:
    return Act(
        200,
        {"content-type": "application/json", Header.LOG_ID: log_id, **headers},
        completion(text),
    )


def gateway_error(code: ErrorCode, log_id: str = "log-err", **headers: str) -> Act:
    from langchain_cf_gateway.core.protocol import ERROR_STATUS

    return Act(
        ERROR_STATUS[code],
        {"content-type": "application/json", Header.LOG_ID: log_id, **headers},
        json.dumps(gateway_error_body(code)).encode(),
    )


def provider_error(
    status: int, message: str = "upstream failed", log_id: str = "log-err", **headers: str
) -> Act:
    body = json.dumps({"error": {"message": message, "type": "server_error"}}).encode()
    return Act(status, {"content-type": "application/json", Header.LOG_ID: log_id, **headers}, body)


class MisbehavingServer:
    """The server, on its own event loop in a background thread."""

    def __init__(self, tls: tuple[str, str] | None = None) -> None:
        """`tls`: a certificate and key file (`tests.support.tls`) to serve HTTPS with."""
        self._tls = tls
        self.queue: deque[Act] = deque()
        """What the next requests get, in order."""
        self.default = provider_error(500, "nothing queued")
        self.echo = False
        """When True and nothing is queued: a proper completion, streamed if asked for."""
        self.received: list[Seen] = []
        self.connections = 0
        """Connections accepted since the last reset."""
        self.open_connections = 0
        """Connections open right now."""
        self._accepted = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> MisbehavingServer:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop

            async def main() -> None:
                context = None
                if self._tls is not None:
                    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                    context.load_cert_chain(*self._tls)
                self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=context)
                self.port = self._server.sockets[0].getsockname()[1]
                ready.set()
                async with self._server:
                    await self._server.serve_forever()

            try:
                loop.run_until_complete(main())
            except asyncio.CancelledError:
                pass
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="misbehaving-server", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        loop = self._loop
        if loop is not None and self._server is not None:

            async def shutdown() -> None:
                assert self._server is not None
                self._server.close()
                for writer in list(self._writers):
                    writer.transport.abort()
                for task in asyncio.all_tasks():
                    if task is not asyncio.current_task():
                        task.cancel()

            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(5)
        if self._thread is not None:
            self._thread.join(5)

    @property
    def base_url(self) -> str:
        scheme = "https" if self._tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def _default(self, seen: Seen) -> Act:
        if not self.echo:
            return self.default
        try:
            streamed = bool(seen.json.get("stream"))
        except (ValueError, AttributeError):
            streamed = False
        return sse(stream_events()) if streamed else ok()

    def then(self, *acts: Act) -> MisbehavingServer:
        """Queue responses, in order."""
        with self._lock:
            self.queue.extend(acts)
        return self

    def reset(self) -> None:
        with self._lock:
            self.queue.clear()
            self.received.clear()
            self.connections = 0
            self.echo = False

    # ------------------------------------------------------------------ HTTP

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self._accepted += 1
            number = self._accepted
            self.connections += 1
            self.open_connections += 1
        self._writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                with self._lock:
                    self.received.append(
                        Seen(method, path, headers, body, time.monotonic(), number)
                    )
                    act = self.queue.popleft() if self.queue else self._default(self.received[-1])
                if act.hang_s:
                    await asyncio.sleep(act.hang_s)
                if not await self._respond(reader, writer, act):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            with self._lock:
                self.open_connections -= 1
            self._writers.discard(writer)
            if not writer.transport.is_closing():
                writer.close()

    async def _respond(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, act: Act
    ) -> bool:
        """Write one response; False when the connection is gone (on purpose or not)."""
        reason = "OK" if act.status < 400 else "Error"
        head = [f"HTTP/1.1 {act.status} {reason}"]
        headers = {k.lower(): v for k, v in act.headers.items()}
        frames = _frames(act)
        if frames is None:
            headers.setdefault("content-type", "application/json")
            size = len(act.body) * (2 if act.end == "cut" else 1)
            headers["content-length"] = str(size)
        else:
            headers.setdefault("content-type", "text/event-stream")
            headers["transfer-encoding"] = "chunked"
        head += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
        if frames is None:
            if act.end == "cut":  # promise twice the body, send half of it, reset
                writer.write(act.body)
                await writer.drain()
                await asyncio.sleep(0.05)
                writer.transport.abort()
                return False
            writer.write(act.body)
            await writer.drain()
            return True
        for frame in frames:
            data = f"{frame}\n\n".encode()
            writer.write(b"%x\r\n%s\r\n" % (len(data), data))
            await writer.drain()
        if act.end == "cut":
            await asyncio.sleep(0.05)  # let the client read what came, then reset
            writer.transport.abort()
            return False
        if act.end == "hold":  # the response never ends: the client must give up on it
            await reader.read()  # until the client closes its end
            return False
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True


def _frames(act: Act) -> list[str] | None:
    """The SSE lines of a streamed `act`, or None for a plain body."""
    if act.lines is not None:
        return act.lines
    if act.events is None:
        return None
    done = ["data: [DONE]"] if act.end in ("done", "hold") else []
    return [*(f"data: {event}" for event in act.events), *done]


def sse(
    events: list[str],
    end: Literal["done", "eof", "cut", "hold"] = "done",
    headers: Mapping[str, str] | None = None,
) -> Act:
    return Act(200, {Header.LOG_ID: "log-stream", **(headers or {})}, events=events, end=end)
