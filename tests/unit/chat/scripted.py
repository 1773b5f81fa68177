"""Scripted gateway responses for `httpx.MockTransport`: bodies, SSE streams, and failures.

A `Script` is a MockTransport handler (sync and async) that plays one response per
request, in order. A streamed body can stop half-way with an exception, as a read
timeout or a reset connection does on a real socket.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import httpx

LOG_ID = "01LOG-SCRIPTED"
"""The `cf-aig-log-id` of every scripted response."""


def completion_body(text: str = "Hello there.") -> bytes:
    """A whole chat completion (OpenAI shape)."""
    return json.dumps(
        {
            "id": "chatcmpl-unit",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        }
    ).encode()


def embeddings_body(count: int = 1) -> bytes:
    """An embeddings response with `count` two-dimensional vectors."""
    data = [{"object": "embedding", "index": i, "embedding": [0.5, float(i)]} for i in range(count)]
    return json.dumps(
        {
            "object": "list",
            "data": data,
            "model": "m",
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        }
    ).encode()


def sse_events(words: Iterable[str] = ("Hel", "lo")) -> list[bytes]:
    """The SSE events of a stream of `words`, without its finish reason and `[DONE]`."""
    events = []
    for word in words:
        chunk = {
            "id": "chatcmpl-unit",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}],
        }
        events.append(f"data: {json.dumps(chunk)}\n\n".encode())
    return events


class Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body sent piece by piece, then ended by `fail` (an exception) if given."""

    def __init__(self, pieces: list[bytes], fail: Exception | None = None) -> None:
        self._pieces = pieces
        self._fail = fail

    def __iter__(self) -> Iterator[bytes]:
        yield from self._pieces
        if self._fail is not None:
            raise self._fail

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self._pieces:
            yield piece
        if self._fail is not None:
            raise self._fail


class Script:
    """A MockTransport handler playing one step per request; records the requests."""

    def __init__(self, *steps: Any) -> None:
        self.steps: deque[Any] = deque(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        step = self.steps.popleft() if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        response: httpx.Response = step(request)
        return response


def respond(
    status: int,
    body: bytes | list[bytes] = b"",
    *,
    content_type: str = "application/json",
    fail: Callable[[httpx.Request], Exception] | None = None,
    **headers: str,
) -> Any:
    """A step responding with `status` and `body` (pieces: a stream) ended by `fail`."""

    def step(request: httpx.Request) -> httpx.Response:
        pieces = body if isinstance(body, list) else [body]
        return httpx.Response(
            status,
            headers={"content-type": content_type, "cf-aig-log-id": LOG_ID, **headers},
            stream=Body(pieces, fail(request) if fail is not None else None),
            request=request,
        )

    return step


def transports(script: Script) -> tuple[httpx.Client, httpx.AsyncClient]:
    """A sync and an async client of the user's, both sending through `script`."""
    mock = httpx.MockTransport(script)
    return httpx.Client(transport=mock), httpx.AsyncClient(transport=mock)
