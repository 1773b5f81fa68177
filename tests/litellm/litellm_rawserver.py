"""A tiny raw HTTP server for the cases the local gateway does not script: records every
request and answers from a queue of canned responses (status, headers, body or SSE lines)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Canned:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    lines: list[str] | None = None
    """SSE lines, sent chunked one by one (each followed by a blank line)."""


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class RawServer:
    def __init__(self) -> None:
        self.received: list[Seen] = []
        self.queue: list[Canned] = []
        self.default = Canned(500, {}, b'{"error": {"message": "nothing scripted"}}')
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else a 40 ms delayed-ACK stall per answer

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                outer.received.append(
                    Seen("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                canned = outer.queue.pop(0) if outer.queue else outer.default
                self.send_response(canned.status)
                for k, v in canned.headers.items():
                    self.send_header(k, v)
                if canned.lines is None:
                    self.send_header(
                        "content-type", canned.headers.get("content-type", "application/json")
                    )
                    self.send_header("content-length", str(len(canned.body)))
                    self.end_headers()
                    self.wfile.write(canned.body)
                    return
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for line in canned.lines:
                    data = (line + "\n\n").encode()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()


def serve() -> Iterator[RawServer]:
    with RawServer() as server:
        yield server
