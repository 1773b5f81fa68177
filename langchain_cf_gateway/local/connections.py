"""Keep-alive HTTP/1.1 connections to pass-through upstreams, through aiohttp's client.

A well-kept client writes every request: it refuses a header name or value with a
control character (CR, LF, NUL...) instead of writing it, so no string a client
supplies can end one request early and start another on a pooled connection, and it
puts a connection back in the pool only when its response was read to the end and
nothing more arrived; a connection that still owes bytes (an abandoned stream, a body
longer or shorter than its `content-length`) is closed, never reused.

What the gateway asks of it: per-origin keep-alive pooling, bodies streamed as they
arrive, a connect timeout (the overall deadline is the caller's), TLS for
`https://`. And no surprises upstream: no proxies from the environment
(`trust_env=False`), no redirects followed, bodies relayed as received (no
decompression), and no headers added beyond `host` and `content-length`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import aiohttp

_MAX_HEAD: Final = 64 * 1024
"""Longest status line or header line accepted from an upstream."""
_IDLE_SECONDS: Final = 4.0
"""How long an idle keep-alive connection is kept: less than the 5 s after which uvicorn
and Node.js close theirs, so that the pool seldom picks a connection the upstream is
closing at that moment (aiohttp does not retry a POST that met a closed connection)."""
_SKIP_AUTO_HEADERS: Final = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")
"""Headers aiohttp would add on its own; the upstream gets the client's, or none."""


class ConnectionFailed(Exception):
    """No response: the upstream could not be reached or closed before its status line."""


class BodyBroken(Exception):
    """The upstream closed the connection in the middle of a body."""


class RequestRefused(Exception):
    """The HTTP client refused to write the request (a header or URL it cannot carry)."""


@dataclass(slots=True)
class UpstreamResponse:
    """Status, headers (lowercase names) and the body as an async iterator of bytes."""

    status: int
    headers: dict[str, str]
    body: AsyncIterator[bytes]
    close_connection: Callable[[], None] = lambda: None
    """Closes the connection unless the body was read to the end (then it is pooled)."""

    async def read(self) -> bytes:
        """The whole response body."""
        return b"".join([chunk async for chunk in self.body])

    async def aclose(self) -> None:
        """Stop reading; a connection that still owes bytes is closed, started or not."""
        close = getattr(self.body, "aclose", None)
        if close is not None:
            await close()
        self.close_connection()


def _as_written(headers: Mapping[str, str]) -> dict[str, str]:
    """Header values as aiohttp must be given them to write what the client meant.

    Values arrive as text whose code points are the bytes received (ASGI decodes
    headers as latin-1), or as JSON text (a universal step's `headers`, held to
    printable latin-1 at the edge); aiohttp writes every value as UTF-8. So bytes that
    already form UTF-8 are handed over decoded, and aiohttp writes them unchanged (not
    encoded twice); other non-ASCII text goes as its UTF-8 encoding. ASCII is as given.
    """
    written: dict[str, str] = {}
    for name, value in headers.items():
        if not value.isascii():
            # latin-1 text that is not UTF-8 bytes is sent as its UTF-8 encoding
            with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
                value = value.encode("latin-1").decode("utf-8")
        written[name] = value
    return written


def _joined(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header pairs as one dict, lowercase names, repeated headers joined with ", "."""
    headers: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


class ConnectionPool:
    """Idle keep-alive connections per origin, kept by an aiohttp session.

    The session is made on first use, on the event loop that uses it (aiohttp binds a
    session to its loop; the gateway's loop runs in its own thread).
    """

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    def _client(self) -> aiohttp.ClientSession:
        import aiohttp  # ~0.1 s: only once a pass-through upstream is called

        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=0,  # no cap: the gateway's callers are its own back-pressure
                keepalive_timeout=_IDLE_SECONDS,
                ssl=ssl.create_default_context(),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                # A cookie one upstream response sets must never ride on another user's call.
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
                auto_decompress=False,
                skip_auto_headers=_SKIP_AUTO_HEADERS,
                timeout=aiohttp.ClientTimeout(total=None),
                raise_for_status=False,
                max_line_size=_MAX_HEAD,
                max_field_size=_MAX_HEAD,
            )
        return self._session

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        connect_timeout: float = 10.0,
    ) -> UpstreamResponse:
        """Send one request upstream; its response once the head has arrived.

        Raises:
            ConnectionFailed: no connection could be made (or it broke before the head).
            RequestRefused: the request cannot be sent as given.
        """
        import aiohttp

        timeout = self._timeouts.get(connect_timeout)
        if timeout is None:
            timeout = self._timeouts[connect_timeout] = aiohttp.ClientTimeout(
                total=None, connect=connect_timeout
            )
        try:
            response = await self._client().request(
                method,
                url,
                headers=_as_written(headers),
                data=body if body or method in ("POST", "PUT", "PATCH") else None,
                allow_redirects=False,
                timeout=timeout,
            )
        except aiohttp.InvalidURL as exc:
            raise RequestRefused(str(exc)) from None
        # Before ValueError: a certificate that fails verification is both.
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            raise ConnectionFailed(f"{type(exc).__name__}: {exc}") from exc
        except ValueError as exc:  # a header it will not write (control characters)
            raise RequestRefused(str(exc)) from None
        return UpstreamResponse(
            response.status,
            _joined(response.headers.items()),
            self._body(response),
            response.close,  # a no-op once the body was read and the connection released
        )

    @staticmethod
    async def _body(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
        import aiohttp

        done = False
        try:
            async for chunk in response.content.iter_any():
                yield chunk
            done = True
        except (aiohttp.ClientError, OSError) as exc:
            raise BodyBroken(f"{type(exc).__name__}: {exc}") from exc
        finally:
            if done:
                response.release()  # read to the end: back to the pool if it is clean
            else:
                response.close()  # it still owes bytes: never reused

    async def close(self) -> None:
        """Close every pooled connection."""
        if self._session is not None:
            await self._session.close()
            self._session = None
