"""One request at a time over one keep-alive connection, timed at the client.

The sequential and streaming figures of the peers benchmark: a blocking socket and
prebuilt request bytes (`bench.loadgen.build_request`), so the client costs the same
microseconds whichever server it talks to. For each request: the time to the first byte
of the response body (for a stream, its first Server-Sent Event) and to its last byte.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

from bench.loadgen import build_request


@dataclass(frozen=True)
class Timing:
    """One request: seconds to the first body byte and to the last, and the status."""

    first_byte: float
    total: float
    status: int


class Sequential:
    """A keep-alive HTTP/1.1 connection sending one prebuilt request again and again."""

    def __init__(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        host, port, self.raw = build_request(url, body, headers)
        self.sock = socket.create_connection((host, port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb")

    def close(self) -> None:
        self.reader.close()
        self.sock.close()

    def __enter__(self) -> Sequential:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def once(self) -> Timing:
        """Send the request, read its whole response (content-length or chunked)."""
        start = time.perf_counter()
        self.sock.sendall(self.raw)
        status_line = self.reader.readline()
        status = int(status_line[9:12])
        length: int | None = None
        chunked = False
        while (line := self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        first = 0.0
        if chunked:
            while True:
                size = int(self.reader.readline().split(b";")[0].strip(), 16)
                self.reader.read(size + 2)
                if not first:
                    first = time.perf_counter()
                if size == 0:
                    break
        else:
            self.reader.read(length or 0)
            first = time.perf_counter()
        end = time.perf_counter()
        return Timing(first - start, end - start, status)

    def run(self, n: int) -> list[Timing]:
        """`n` requests back to back."""
        return [self.once() for _ in range(n)]
