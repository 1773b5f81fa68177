"""The streams the handler returns to LiteLLM: a response body in, LiteLLM chunks out.

Each feeds the lines of one streamed response to a `ChatChunkParser`, runs every step in
the call's `ErrorBoundary`, closes the response when the stream ends, fails or is
dropped, and carries a `StreamMetadata` that LiteLLM's stream wrapper takes its hidden
params from (see `_compat`). The first chunk carries the gateway dict (`chunk.gateway`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable

import httpx
from litellm.types.utils import GenericStreamingChunk

from ..core.protocol import Header
from ._compat import StreamMetadata
from .errors import ErrorBoundary
from .stream_parser import ChatChunkParser
from .transformation import GatewayRequest, raise_for_status, response_info


def _parser(
    request: GatewayRequest, response: httpx.Response, metadata: StreamMetadata
) -> ChatChunkParser:
    info = response_info(request, response.headers)
    metadata.fill(info, response.headers)
    return ChatChunkParser(info, response.headers.get(Header.LOG_ID), request.secrets)


class SyncGatewayStream:
    """The chunks of one streamed response, its request sent and its status below 400."""

    def __init__(
        self, response: httpx.Response, request: GatewayRequest, boundary: ErrorBoundary
    ) -> None:
        """Read `response` as a stream.

        Args:
            response: The streamed response (status below 400), its body unread.
            request: Its request.
            boundary: The call's error boundary, its response recorded.
        """
        self._response = response
        self._boundary = boundary
        self._lines = response.iter_lines()
        self.litellm_metadata = StreamMetadata()
        """What LiteLLM's stream wrapper shows as its hidden params."""
        self._parser = _parser(request, response, self.litellm_metadata)
        self._pending: list[GenericStreamingChunk] = []

    def __iter__(self) -> SyncGatewayStream:
        """Iterate the chunks.

        Returns:
            The stream itself.
        """
        return self

    def __next__(self) -> GenericStreamingChunk:
        """The next chunk.

        Returns:
            LiteLLM's generic chunk.

        Raises:
            StopIteration: The stream ended (`data: [DONE]`, or the body after a finish).
            Exception: What the error boundary makes of a failure (closing the response).
        """
        with self._boundary:
            try:
                while not self._pending:
                    if self._parser.done:
                        self.close()
                        raise StopIteration
                    try:
                        line = next(self._lines)
                    except StopIteration:
                        self.close()
                        self._parser.end()
                        raise
                    self._pending = self._parser.feed(line)
                    self._pending.reverse()
            except BaseException:
                self.close()
                raise
        return self._pending.pop()

    def close(self) -> None:
        """Close the HTTP response (its connection goes back to the pool)."""
        self._response.close()

    def __del__(self) -> None:
        """Close the response of a stream dropped before its end."""
        response = getattr(self, "_response", None)
        if response is not None and not response.is_closed:
            response.close()


class AsyncGatewayStream:
    """The chunks of one streamed response, its request sent on the first `__anext__`.

    LiteLLM calls `astreaming` from a worker thread and iterates the result on the event
    loop, so nothing can be awaited before it returns: the request goes out when the
    first chunk is asked for.
    """

    def __init__(
        self,
        send: Callable[[], Awaitable[httpx.Response]],
        request: GatewayRequest,
        boundary: ErrorBoundary,
    ) -> None:
        """Prepare the stream; nothing is sent yet.

        Args:
            send: Sends the request and returns the response (its body unread).
            request: The request.
            boundary: The call's error boundary.
        """
        self.litellm_metadata = StreamMetadata()
        """What LiteLLM's stream wrapper shows as its hidden params."""
        self._chunks = self._read(send, request, boundary)

    def __aiter__(self) -> AsyncGatewayStream:
        """Iterate the chunks.

        Returns:
            The stream itself.
        """
        return self

    async def __anext__(self) -> GenericStreamingChunk:
        """The next chunk.

        Returns:
            LiteLLM's generic chunk.
        """
        return await self._chunks.__anext__()

    async def aclose(self) -> None:
        """Stop reading and close the HTTP response."""
        await self._chunks.aclose()

    async def _read(
        self,
        send: Callable[[], Awaitable[httpx.Response]],
        request: GatewayRequest,
        boundary: ErrorBoundary,
    ) -> AsyncGenerator[GenericStreamingChunk, None]:
        # A generator, so that a stream dropped unread is closed by the event loop's
        # async-generator finalizer, its response with it.
        with boundary:
            response = await send()
            try:
                raise_for_status(response, request)
                parser = _parser(request, response, self.litellm_metadata)
                async for line in response.aiter_lines():
                    for chunk in parser.feed(line):
                        yield chunk
                    if parser.done:
                        break
                else:
                    parser.end()
            finally:
                await response.aclose()
