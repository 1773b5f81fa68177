"""What the gateway reads of an inbound request: its head, and its body within bounds.

Every route decides the gateway and the authentication from the head (`head`) before
it reads the body (`read_body`), so that a refused request gets its response at once,
with no `100 Continue` first and nothing of its body read or kept. `BodyLimit` holds
the body to `MAX_BODY_BYTES`.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Final

from starlette.requests import ClientDisconnect, Request

from ..core.protocol import Bounds, ErrorCode, Header, gateway_error_body
from . import edge
from .clock import Clock
from .upstream import JSON

_log = logging.getLogger(__name__)


MAX_BODY_BYTES: Final = Bounds.CACHEABLE_BODY_MAX_BYTES
"""Largest request body the local gateway reads (25 MB, the cacheable limit).

https://developers.cloudflare.com/ai-gateway/reference/limits/
"""


class BodyLimit:
    """ASGI wrapper: a body over `MAX_BODY_BYTES` gets 413 without being kept.

    A declared `content-length` over the limit is refused before the body is read; a
    chunked body is counted as the application reads it and refused as soon as it
    passes the limit (the application then sees a disconnect). Nothing is read here
    before the application asks for it, so a route can refuse a request from its head
    (authentication) without a byte of the body being read. A 413 goes out with
    `connection: close`; `listener.EdgeProtocol` then drops what the client
    still sends before closing.

    A client that disconnects before its body is complete ends its request quietly (one
    debug line): Starlette raises `ClientDisconnect`, which would otherwise be logged
    with a full traceback by the server.
    """

    def __init__(self, app: Any, clock: Clock) -> None:
        self.app = app
        self._clock = clock

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)  # .routes, .state... of the Starlette app inside

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Serve one ASGI call, holding an HTTP request body to `MAX_BODY_BYTES`."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = chunked = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        try:
            if length is not None:
                if length.isdigit() and int(length) > MAX_BODY_BYTES:
                    await self._refuse(send)
                else:
                    await self.app(scope, receive, send)
            elif chunked:
                await self._counted(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        except ClientDisconnect:
            _log.debug(
                "client disconnected before its request body was complete: %s %s",
                scope.get("method"),
                edge.printable(scope.get("path", ""))[:200],
            )

    async def _counted(self, scope: Any, receive: Any, send: Any) -> None:
        size = 0
        started = refused = False

        async def counted_receive() -> Any:
            nonlocal size, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            size += len(message.get("body", b""))
            if size > MAX_BODY_BYTES and not started:
                refused = True
                await self._refuse(send)
                return {"type": "http.disconnect"}
            return message

        async def watched_send(message: Any) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out instead
            started = True
            await send(message)

        await self.app(scope, counted_receive, watched_send)

    async def _refuse(self, send: Any) -> None:
        body = gateway_error_body(
            ErrorCode.INVALID_REQUEST,
            f"Invalid request: the body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB",
        )
        body["httpCode"] = 413
        payload = json.dumps(body, separators=(",", ":")).encode()
        log_id = self._clock.uuid7().encode()
        headers = [
            (b"content-type", JSON.encode()),
            (b"content-length", str(len(payload)).encode()),
            (b"connection", b"close"),
            (Header.LOG_ID.encode(), log_id),
            (Header.REQUEST_ID.encode(), log_id),
            (Header.EVENT_ID.encode(), log_id),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def head(request: Request) -> dict[str, str]:
    """The request's headers (lowercase names), from its head: no body byte is read.

    Args:
        request: the Starlette request.

    Returns:
        Name to value, both decoded as latin-1.
    """
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in request.scope["headers"]}


async def read_body(request: Request) -> bytes:
    """The request body; Starlette's `Request.body` for all but one-message bodies.

    Almost every body arrives in one `http.request` message; taking it directly skips
    Starlette's async generator (a tenth of a cache hit's route time in cProfile).

    Raises:
        ClientDisconnect: the client went away before its body was complete.
    """
    if request._stream_consumed or hasattr(request, "_body"):
        return await request.body()
    message = await request.receive()
    if message["type"] == "http.request" and not message.get("more_body", False):
        body: bytes = message.get("body", b"")
        request._stream_consumed = True
        request._body = body
        return body
    if message["type"] == "http.disconnect":
        raise ClientDisconnect()
    pieces = [message.get("body", b"")]
    async for piece in request.stream():
        pieces.append(piece)
    body = b"".join(pieces)
    request._body = body
    return body
