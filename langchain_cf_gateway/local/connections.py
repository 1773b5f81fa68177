"""Keep-alive HTTP/1.1 connections to pass-through upstreams, over asyncio streams.

The gateway's own hop must stay cheap (issue 7: p50 added <= 1 ms at 500 rps); httpx's
async client costs ~2 ms of CPU per request, this ~0.1 ms. It does only what a
pass-through needs: one request per connection at a time, the whole head and body in
one write (with ``TCP_NODELAY``), ``Content-Length``, chunked and read-to-close
bodies, TLS for ``https://``, and one silent retry when a pooled connection turns out
to have been closed by the upstream before it answered. No proxies, no HTTP/2, no
redirects: an upstream is a base URL the user configured.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

_MAX_HEAD: Final = 64 * 1024
_READ: Final = 64 * 1024
_IDLE_PER_ORIGIN: Final = 512


class ConnectionFailed(Exception):
    """No answer: the upstream could not be reached or closed before its status line."""


class BodyBroken(Exception):
    """The upstream closed the connection in the middle of a body."""


@dataclass(slots=True)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    reused: bool = False

    def close(self) -> None:
        self.writer.close()


@dataclass(slots=True)
class UpstreamResponse:
    """Status, headers (lowercase names) and the body as an async iterator of bytes."""

    status: int
    headers: dict[str, str]
    body: AsyncIterator[bytes]

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.body])

    async def aclose(self) -> None:
        close = getattr(self.body, "aclose", None)
        if close is not None:
            await close()


class ConnectionPool:
    """Idle keep-alive connections per origin (scheme, host, port)."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._tls: ssl.SSLContext | None = None

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        connect_timeout: float = 10.0,
    ) -> UpstreamResponse:
        """Send one request; return once the status line and headers have arrived."""
        parts = urlsplit(url)
        scheme = parts.scheme
        if scheme not in ("http", "https") or not parts.hostname:
            raise ConnectionFailed(f"not an http(s) URL: {url!r}")
        host = parts.hostname
        port = parts.port or (443 if scheme == "https" else 80)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        origin = (scheme, host, port)
        authority = host if parts.port is None else f"{host}:{port}"
        head = [f"{method} {target} HTTP/1.1", f"host: {authority}"]
        head += [f"{k}: {v}" for k, v in headers.items() if k not in ("host", "content-length")]
        if body or method in ("POST", "PUT", "PATCH"):
            head.append(f"content-length: {len(body)}")
        payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        for _ in range(2):
            conn = await self._acquire(origin, connect_timeout)
            try:
                conn.writer.write(payload)
                await conn.writer.drain()
                status, response_headers = await _read_head(conn.reader)
            except (OSError, asyncio.IncompleteReadError, ConnectionFailed) as exc:
                conn.close()
                if conn.reused:
                    continue  # the upstream dropped an idle connection: one fresh try
                raise ConnectionFailed(f"{type(exc).__name__}: {exc}") from exc
            return UpstreamResponse(
                status, response_headers, self._body(origin, conn, method, status, response_headers)
            )
        raise ConnectionFailed("the upstream closed the connection before answering")

    async def _acquire(self, origin: tuple[str, str, int], timeout: float) -> _Connection:
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            if not conn.reader.at_eof() and not conn.writer.is_closing():
                conn.reused = True
                return conn
            conn.close()
        scheme, host, port = origin
        tls = self._tls_context() if scheme == "https" else None
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=tls, limit=_MAX_HEAD), timeout
            )
        except (OSError, asyncio.TimeoutError) as exc:
            raise ConnectionFailed(f"cannot connect to {host}:{port}: {exc}") from exc
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Connection(reader, writer)

    def _release(self, origin: tuple[str, str, int], conn: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if len(idle) < _IDLE_PER_ORIGIN:
            conn.reused = False
            idle.append(conn)
        else:
            conn.close()

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    async def _body(
        self,
        origin: tuple[str, str, int],
        conn: _Connection,
        method: str,
        status: int,
        headers: Mapping[str, str],
    ) -> AsyncIterator[bytes]:
        reader = conn.reader
        reusable = headers.get("connection", "").lower() != "close"
        done = False
        try:
            if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
                done = True
            elif "chunked" in headers.get("transfer-encoding", "").lower():
                while True:
                    size_line = await reader.readline()
                    if not size_line:
                        raise BodyBroken("the upstream closed the connection mid-body")
                    size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                    if size == 0:
                        while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        break
                    yield await reader.readexactly(size)
                    await reader.readexactly(2)
                done = True
            elif "content-length" in headers:
                remaining = int(headers["content-length"])
                while remaining:
                    chunk = await reader.read(min(remaining, _READ))
                    if not chunk:
                        raise BodyBroken("the upstream closed the connection mid-body")
                    remaining -= len(chunk)
                    yield chunk
                done = True
            else:  # the body ends when the upstream closes the connection
                reusable = False
                while chunk := await reader.read(_READ):
                    yield chunk
                done = True
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            raise BodyBroken(f"{type(exc).__name__}: {exc}") from exc
        finally:
            if done and reusable:
                self._release(origin, conn)
            else:
                conn.close()

    async def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    while True:
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except asyncio.LimitOverrunError as exc:
            raise ConnectionFailed("the upstream's response head is too large") from exc
        lines = raw.decode("latin-1").split("\r\n")
        status_line = lines[0].split(" ", 2)
        if (
            len(status_line) < 2
            or not status_line[0].startswith("HTTP/1.")
            or not status_line[1].isdigit()
        ):
            raise ConnectionFailed(f"not an HTTP/1.1 answer: {lines[0][:80]!r}")
        status = int(status_line[1])
        if status == 100:
            continue  # 100 Continue: the real head follows
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return status, headers
