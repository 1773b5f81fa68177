"""Fixtures of the HTTP-edge security tests: a recording upstream and a raw HTTP client.

The recording upstream is a plain socket server on loopback that keeps every byte of
every connection and parses them with h11 (a well-kept HTTP/1.1 parser), so a test can
say exactly how many requests an upstream saw and what their heads held. The raw
client writes the bytes a test gives it (httpx would normalise ``..`` and refuse bad
header values before they left the test) and parses the answer with h11.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import h11


@dataclass
class UpstreamRequest:
    """One request the recording upstream parsed."""

    method: bytes
    target: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None


@dataclass
class UpstreamConnection:
    """Every byte one connection brought, and what h11 made of them."""

    raw: bytearray = field(default_factory=bytearray)
    requests: list[UpstreamRequest] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class RecordingUpstream:
    """An OpenAI-compatible upstream on loopback that records every byte per connection.

    Each request gets a chat completion whose content is ``echo:`` plus the last
    message's content of the request body, and whose ``id`` is ``rec-{n}`` (n counts
    the requests parsed), so a test can tell an upstream answer from a gateway-made one
    and check that an answer belongs to its own request.
    """

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port: int = self._sock.getsockname()[1]
        self.connections: list[UpstreamConnection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[UpstreamRequest]:
        with self._lock:
            return [r for c in self.connections for r in c.requests]

    @property
    def errors(self) -> list[str]:
        with self._lock:
            return [e for c in self.connections for e in c.errors]

    @property
    def raw_bytes(self) -> int:
        with self._lock:
            return sum(len(c.raw) for c in self.connections)

    def close(self) -> None:
        self._closed = True
        self._sock.close()

    def __enter__(self) -> RecordingUpstream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            record = UpstreamConnection()
            with self._lock:
                self.connections.append(record)
            threading.Thread(target=self._serve, args=(conn, record), daemon=True).start()

    def _serve(self, conn: socket.socket, record: UpstreamConnection) -> None:
        parser = h11.Connection(h11.SERVER)
        current: UpstreamRequest | None = None
        try:
            while True:
                data = conn.recv(65536)
                with self._lock:
                    record.raw += data
                parser.receive_data(data)
                while True:
                    try:
                        event = parser.next_event()
                    except h11.RemoteProtocolError as exc:
                        with self._lock:
                            record.errors.append(f"unparsable bytes: {exc}")
                        return
                    if event is h11.NEED_DATA or event is h11.PAUSED:
                        break
                    if isinstance(event, h11.ConnectionClosed):
                        return
                    if isinstance(event, h11.Request):
                        current = UpstreamRequest(event.method, event.target, list(event.headers))
                    elif isinstance(event, h11.Data) and current is not None:
                        current.body += bytes(event.data)
                    elif isinstance(event, h11.EndOfMessage) and current is not None:
                        with self._lock:
                            record.requests.append(current)
                            number = sum(len(c.requests) for c in self.connections)
                        conn.sendall(_answer(parser, current, number))
                        current = None
                        if parser.our_state is h11.MUST_CLOSE:
                            return
                        parser.start_next_cycle()
                if not data:
                    return
        except OSError:
            return
        finally:
            conn.close()


def _answer(parser: h11.Connection, request: UpstreamRequest, number: int) -> bytes:
    content = ""
    try:
        body = json.loads(request.body) if request.body else {}
        messages = body.get("messages") if isinstance(body, dict) else None
        if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
            content = str(messages[-1].get("content", ""))
    except ValueError:
        pass
    payload = json.dumps(
        {
            "id": f"rec-{number}",
            "object": "chat.completion",
            "created": 0,
            "model": "recorded",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": f"echo:{content}"},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        }
    ).encode()
    head = h11.Response(
        status_code=200,
        headers=[("content-type", "application/json"), ("content-length", str(len(payload)))],
    )
    return parser.send(head) + parser.send(h11.Data(data=payload)) + parser.send(h11.EndOfMessage())


@dataclass
class RawResponse:
    """An answer as it came over the wire."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return strict_json(self.body)


def strict_json(data: bytes) -> Any:
    """``json.loads`` that refuses NaN and Infinity, as a strict JSON parser would."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(data, parse_constant=refuse)


def raw_request(
    port: int,
    target: bytes,
    *,
    method: bytes = b"POST",
    headers: Iterable[tuple[bytes, bytes]] = (),
    body: bytes = b"",
    host: bytes | None = b"127.0.0.1",
    timeout: float = 20.0,
) -> RawResponse:
    """Send exactly these bytes as one request (``connection: close``); parse the answer."""
    lines = [method + b" " + target + b" HTTP/1.1"]
    if host is not None:
        lines.append(b"host: " + host)
    lines += [name + b": " + value for name, value in headers]
    lines += [b"content-length: " + str(len(body)).encode(), b"connection: close"]
    data = b"\r\n".join(lines) + b"\r\n\r\n" + body
    return exchange(port, data, timeout=timeout)


def exchange(port: int, data: bytes, *, timeout: float = 20.0) -> RawResponse:
    """Write ``data`` on a new connection and parse the first answer (h11)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        return read_response(sock)


def read_response(sock: socket.socket) -> RawResponse:
    parser = h11.Connection(h11.CLIENT)
    # h11 must believe it sent a request before it parses an answer
    parser.send(h11.Request(method="GET", target="/", headers=[("host", "x")]))
    parser.send(h11.EndOfMessage())
    status = 0
    headers: dict[str, str] = {}
    body = bytearray()
    while True:
        event = parser.next_event()
        if event is h11.NEED_DATA:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            parser.receive_data(chunk)
            continue
        if isinstance(event, h11.Response):
            status = event.status_code
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in event.headers}
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
            break
    return RawResponse(status, headers, bytes(body))


def gateway_error(response: RawResponse) -> tuple[int, int, str]:
    """(status, internal code, message) of a gateway-made error, checking its whole shape."""
    assert response.headers.get("content-type", "").startswith("application/json"), response
    body = response.json()
    assert body["success"] is False and body["name"] == "AiGatewayError", body
    assert body["result"] == [] and body["messages"] == [], body
    assert body["httpCode"] == response.status, body
    assert body["error"] == [{"code": body["internalCode"], "message": body["message"]}], body
    return response.status, body["internalCode"], body["message"]


def universal_body(steps: list[dict[str, Any]]) -> bytes:
    return json.dumps(steps).encode()


def chat_step(content: str = "hi", **extra: Any) -> dict[str, Any]:
    """A universal step to the ``openai`` pass-through."""
    return {
        "provider": "openai",
        "endpoint": "chat/completions",
        "query": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}]},
        **extra,
    }
