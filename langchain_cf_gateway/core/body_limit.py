"""Response bodies read under a cap: every client of the package reads through here.

- `limit_response`: a response whose body is read at most to a cap (however it is
  compressed) and, when the caller set one, by a deadline. The OpenAI SDK's clients, the
  LiteLLM handler and the management client all read their responses through it;
- `MAX_RESPONSE_BYTES` and `ACCEPT_ENCODING`: the default cap and the codings it can bound.

No framework imports here: `httpx` (and `anyio`, which httpx brings) only.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Final, cast

import anyio
import httpx

from .errors import (
    GatewayError,
    GatewayTimeoutError,
    ResponseTooLargeError,
)
from .protocol import Header

MAX_RESPONSE_BYTES: Final = 32 * 1024 * 1024
"""Default cap of one response body (32 MiB), counted after decompression.

Far above any chat response, and above an embeddings response of a hundred 3072-float vectors
(~6 MB); a response past it raises `ResponseTooLargeError`. Every client
takes `max_response_bytes` to change it (a LiteLLM embedding call of 2,048 inputs with
1,536 dimensions gets ~60 MB, for one). Reading a body to the cap holds about twice
the cap at its peak (the pieces, then the joined body or a stream's line buffer).
"""


def _has_zstd() -> bool:
    try:
        import zstandard  # noqa: F401
    except ImportError:
        return False
    return True


ACCEPT_ENCODING: Final = "gzip, deflate, zstd" if _has_zstd() else "gzip, deflate"
"""The `Accept-Encoding` of the clients the package builds: the codings
`limit_response` decodes under its cap. httpx's default adds `br` when brotli is
installed, which the cap could not bound as it decodes."""

_PIECE: Final = 64 * 1024
"""Largest piece a decoder hands on at once: what decoding one chunk may hold in memory."""


class _ZlibDecoder:
    """gzip or deflate, inflated in pieces of at most `_PIECE` bytes."""

    def __init__(self, coding: str) -> None:
        self._deflate = coding == "deflate"
        # gzip: wbits | 32 reads a gzip or zlib header; deflate: zlib first, raw on error
        # (servers send both under that name), as httpx's own decoder does.
        self._inflate = zlib.decompressobj(zlib.MAX_WBITS | (0 if self._deflate else 32))
        self._started = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        while True:
            try:
                out = self._inflate.decompress(data, _PIECE)
            except zlib.error as exc:
                if self._deflate and not self._started:
                    self._deflate = False
                    self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise httpx.DecodingError(
                    f"the response's compressed body is corrupt: {exc}"
                ) from exc
            self._started = True
            if out:
                yield out
            data = self._inflate.unconsumed_tail
            if not data and len(out) < _PIECE:
                return

    def flush(self) -> Iterator[bytes]:
        rest = self._inflate.flush()
        for start in range(0, len(rest), _PIECE):
            yield rest[start : start + _PIECE]


class _Counted:
    """The decoded bytes so far, against the cap; raises the moment the cap is passed."""

    __slots__ = ("done", "limit")

    def __init__(self, limit: _BodyLimit) -> None:
        self.limit = limit
        self.done = 0

    def add(self, size: int) -> None:
        self.done += size
        if self.done > self.limit.max_bytes:
            raise self.limit.too_large()


class _ZstdDecoder:
    """zstd, through `zstandard`'s writer, which hands its output on in pieces.

    The writer decodes a whole input chunk in one call; its sink counts each piece as it
    comes, so a bomb stops at the cap instead of after the chunk.
    """

    def __init__(self, counted: _Counted) -> None:
        import zstandard  # httpx decodes zstd only when it is installed, and so do we

        self._pieces: list[bytes] = []
        sink = self

        class _Sink:
            def write(self, data: bytes) -> int:
                counted.add(len(data))
                sink._pieces.append(bytes(data))
                return len(data)

        self._writer = zstandard.ZstdDecompressor().stream_writer(
            cast(Any, _Sink()), write_size=_PIECE, write_return_read=False
        )

    def decode(self, data: bytes) -> Iterator[bytes]:
        self._writer.write(data)
        pieces, self._pieces = self._pieces, []
        yield from pieces

    def flush(self) -> Iterator[bytes]:
        return iter(())


class _BodyLimit:
    """Decodes one response's body (its `content-encoding`) under a cap and a deadline."""

    def __init__(
        self,
        response: httpx.Response,
        *,
        max_bytes: int,
        deadline: float | None,
        max_bytes_setting: str,
        deadline_setting: str,
        timeout_s: float | None,
        map_error: Callable[[GatewayError, httpx.Response], BaseException],
    ) -> None:
        self.response = response
        self.max_bytes = max_bytes
        self.deadline = deadline
        self._max_bytes_setting = max_bytes_setting
        self._deadline_setting = deadline_setting
        self._timeout_s = timeout_s
        self._map_error = map_error
        self._counted = _Counted(self)
        codings = [
            c.strip().lower()
            for c in response.headers.get("content-encoding", "").split(",")
            if c.strip()
        ]
        self._decoders: list[Any] = []
        for coding in reversed(codings):  # the last coding applied is the first undone
            if coding in ("gzip", "x-gzip", "deflate"):
                self._decoders.append(_ZlibDecoder(coding))
            elif coding == "zstd" and _has_zstd():
                self._decoders.append(_ZstdDecoder(_Counted(self)))
            # Anything else (identity; br, which our clients do not ask for) is passed on
            # as it came, as httpx does with codings it cannot decode; the cap counts it.

    def too_large(self) -> BaseException:
        err = ResponseTooLargeError(
            self.max_bytes,
            self._max_bytes_setting,
            status_code=self.response.status_code,
            log_id=self.response.headers.get(Header.LOG_ID),
        )
        return self._map_error(err, self.response)

    def timed_out(self) -> BaseException:
        err = GatewayTimeoutError(
            f"no whole response within {self._deadline_setting}={self._timeout_s:g} s; "
            "the response was cut off there",
            log_id=self.response.headers.get(Header.LOG_ID),
        )
        return self._map_error(err, self.response)

    def remaining(self) -> float | None:
        if self.deadline is None:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self.timed_out()
        return left

    def feed(self, raw: bytes) -> Iterator[bytes]:
        pieces: Iterator[bytes] = iter((raw,))
        for decoder in self._decoders:
            pieces = _chain(decoder.decode, pieces)
        for piece in pieces:
            self._counted.add(len(piece))
            yield piece

    def flush(self) -> Iterator[bytes]:
        for index, decoder in enumerate(self._decoders):
            pieces: Iterator[bytes] = decoder.flush()
            for later in self._decoders[index + 1 :]:
                pieces = _chain(later.decode, pieces)
            for piece in pieces:
                self._counted.add(len(piece))
                yield piece


def _chain(decode: Callable[[bytes], Iterator[bytes]], pieces: Iterator[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from decode(piece)


DRAIN_S: Final = 0.1
"""How long a stream closed after `data: [DONE]` waits for the end of its response (the
chunked terminator), so that its connection can serve the next request."""
_DRAIN_BYTES: Final = 64 * 1024
"""The most a drain reads: a server still sending after `[DONE]` is not waited for."""
_DONE: Final = b"data: [DONE]"


class _LimitedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """The body of a response, through its `_BodyLimit`; sync or async as the inner.

    A client that stops reading at `data: [DONE]` (the OpenAI SDK does) closes the
    response before the end of the HTTP message, and httpx then drops the connection.
    `close` reads the end first when `[DONE]` came last, for at most `DRAIN_S` seconds and
    `_DRAIN_BYTES` bytes: a connection that ended its response goes back to the pool; one
    that still owes bytes is closed, as before.
    """

    def __init__(self, inner: Any, limit: _BodyLimit) -> None:
        self._inner = inner
        self._limit = limit
        self._chunks: Any = None
        self._before = self._last = b""
        self._ended = False

    def _seen(self, piece: bytes) -> bytes:
        # Per chunk only two references move; the tail is joined once, at close.
        self._before, self._last = self._last, piece
        return piece

    def _after_done(self) -> bool:
        if self._ended:
            return False
        tail = self._last if len(self._last) > len(_DONE) + 8 else self._before + self._last
        return tail.rstrip(b"\r\n").endswith(_DONE)

    def __iter__(self) -> Iterator[bytes]:
        limit = self._limit
        limit.remaining()
        self._chunks = iter(self._inner)
        for raw in self._chunks:
            # A sync read cannot be interrupted: the deadline is checked as each chunk
            # arrives (a server that stops sending is caught by the read timeout).
            limit.remaining()
            for piece in limit.feed(raw):
                yield self._seen(piece)
        self._ended = True
        yield from limit.flush()

    def close(self) -> None:
        if self._chunks is not None and self._after_done():
            self._drain()
        self._inner.close()

    def _drain(self) -> None:
        # A sync read cannot be cancelled, and httpcore fixed its read timeout when the body
        # began: a watchdog stops the socket's reading after `DRAIN_S` instead (the read
        # then fails, and httpcore closes the connection). It is joined before returning.
        sock = _socket_of(self._limit.response)
        if sock is None:
            return
        watchdog = threading.Timer(DRAIN_S, _stop_reading, (sock,))
        watchdog.start()
        left = _DRAIN_BYTES
        try:
            while left > 0:
                left -= len(next(self._chunks))
        except (StopIteration, httpx.HTTPError):
            pass  # the end (the connection is pooled), or given up (it is closed)
        finally:
            watchdog.cancel()
            watchdog.join()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        limit = self._limit
        chunks = self._chunks = self._inner.__aiter__()
        while True:
            left = limit.remaining()
            try:
                if left is None:
                    raw = await chunks.__anext__()
                else:
                    # The scope covers this one read, never a yield to our caller.
                    with anyio.fail_after(left):
                        raw = await chunks.__anext__()
            except StopAsyncIteration:
                break
            except TimeoutError:
                if limit.deadline is not None and time.monotonic() >= limit.deadline:
                    raise limit.timed_out() from None
                raise
            for piece in limit.feed(raw):
                yield self._seen(piece)
        self._ended = True
        for piece in limit.flush():
            yield piece

    async def aclose(self) -> None:
        if self._chunks is not None and self._after_done():
            await self._adrain()
        await self._inner.aclose()

    async def _adrain(self) -> None:
        left = _DRAIN_BYTES
        try:
            with anyio.fail_after(DRAIN_S):
                while left > 0:
                    left -= len(await self._chunks.__anext__())
        except (StopAsyncIteration, TimeoutError, httpx.HTTPError):
            return  # the end (the connection is pooled), or given up (it is closed)


def _socket_of(response: httpx.Response) -> socket.socket | None:
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    return sock if isinstance(sock, socket.socket) else None


def _stop_reading(sock: socket.socket) -> None:
    # The plain socket's shutdown, also under TLS: the blocked read returns end of file.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RD)


def _same(error: GatewayError, response: httpx.Response) -> BaseException:
    return error


def limit_response(
    response: httpx.Response,
    *,
    max_bytes: int = MAX_RESPONSE_BYTES,
    timeout_s: float | None = None,
    started: float | None = None,
    max_bytes_setting: str = "max_response_bytes",
    deadline_setting: str = "timeout",
    map_error: Callable[[GatewayError, httpx.Response], BaseException] = _same,
) -> httpx.Response:
    """Bound the body of `response`, which must not have been read yet.

    The body is decoded here (gzip, deflate, zstd) in pieces of at most 64 KiB, and
    reading stops with `ResponseTooLargeError` once more than
    `max_bytes` have come out: a small compressed body that inflates to gigabytes
    costs at most the cap. With `timeout_s`, the whole body must have arrived
    `timeout_s` seconds after `started` (`time.monotonic()`; now by default), else
    `GatewayTimeoutError`. `map_error` turns either error into the
    exception to raise (an SDK's own class, say). `content-encoding` is removed from
    the headers, as the body now comes decoded.
    """
    deadline = None
    if timeout_s is not None:
        deadline = (time.monotonic() if started is None else started) + timeout_s
    limit = _BodyLimit(
        response,
        max_bytes=max_bytes,
        deadline=deadline,
        max_bytes_setting=max_bytes_setting,
        deadline_setting=deadline_setting,
        timeout_s=timeout_s,
        map_error=map_error,
    )
    if "content-encoding" in response.headers:
        # httpx picks its decoder from this header when the body is first read; the
        # body now comes decoded, and a second decoder would undo it again.
        del response.headers["content-encoding"]
    response.stream = _LimitedStream(response.stream, limit)
    return response
