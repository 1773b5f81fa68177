"""Loopback servers for the credential tests: a recording upstream and a Redis that never answers.

``RecordingUpstream`` is an OpenAI-compatible pass-through target built on the standard
library's ``http.server``: it records the head and body of every request it gets and
answers a fixed chat completion (or embeddings list), so a test can read exactly which
headers left the gateway. ``SilentRedis`` accepts TCP connections, reads what it is sent
and never answers; it counts connections, so a test sees how often the gateway tried.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_ANSWER = {
    "id": "chatcmpl-rec",
    "object": "chat.completion",
    "created": 0,
    "model": "m",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "recorded"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}


@dataclass(frozen=True)
class Recorded:
    """One request as the upstream received it."""

    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header_text(self) -> str:
        """The whole head as text (path and every header line), for scanning."""
        return self.path + "\n" + "\n".join(f"{k}: {v}" for k, v in self.headers)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the gateway pools its upstream connections
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return None

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append(
            Recorded(self.command, self.path, list(self.headers.items()), body)
        )
        data: Any = CHAT_ANSWER
        if "echo" in self.path:  # like an upstream error page that shows the request back
            data = {**CHAT_ANSWER, "echo": {"path": self.path, "headers": dict(self.headers)}}
        elif "embeddings" in self.path:
            data = {
                "object": "list",
                "data": [{"object": "embedding", "index": 0, "embedding": [0.5]}],
            }
        payload = json.dumps(data).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    requests: list[Recorded]


class RecordingUpstream:
    """An upstream on loopback that records each request; ``base_url`` for ``PassThrough``."""

    def __init__(self) -> None:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.requests = []
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self) -> list[Recorded]:
        return list(self._server.requests)

    def clear(self) -> None:
        self._server.requests.clear()

    def __enter__(self) -> RecordingUpstream:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._server.shutdown()
        self._server.server_close()


class SilentRedis:
    """Accepts connections, reads everything, never answers; counts the connections."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.connections = 0
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"redis://:hunter2-redis-pw@127.0.0.1:{self._sock.getsockname()[1]}/0"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            self.connections += 1
            self._held.append(conn)  # never answered, never closed until the end

    def __enter__(self) -> SilentRedis:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self._held:
            conn.close()
        self._sock.close()


@contextmanager
def recording_upstream() -> Iterator[RecordingUpstream]:
    with RecordingUpstream() as upstream:
        yield upstream
