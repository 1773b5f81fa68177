"""The handler's HTTP clients, and sending one request with its body capped.

One pooled `httpx.Client` per handler and one `httpx.AsyncClient` per event loop (an
async client's connections belong to the loop that opened them); a client LiteLLM passes
in is used instead. Every response body is read through `core.body_limit.limit_response`:
capped at `max_response_bytes` after decompression, and due by the call's deadline.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from typing import Any, Final

import httpx

from ..core.body_limit import ACCEPT_ENCODING, limit_response
from .errors import ErrorBoundary
from .transformation import GatewayRequest

_HEADERS: Final = {"accept-encoding": ACCEPT_ENCODING}
"""Only the codings the body cap decodes (see `core.body_limit.limit_response`)."""

TimeoutSetting = float | httpx.Timeout | None
"""LiteLLM's `timeout` of a call: a deadline in seconds, or httpx's per-phase timeouts."""


class HTTPClients:
    """The pooled clients of one handler, opened on first use."""

    def __init__(
        self,
        limits: httpx.Limits | None = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Prepare the pool; nothing is opened yet.

        Args:
            limits: Connection pool bounds of every client opened here.
            transport: The sync client's transport (httpx's default when None).
            async_transport: The async clients' transport (httpx's default when None).
        """
        self._limits = limits or httpx.Limits(max_connections=200, max_keepalive_connections=50)
        self._transport = transport
        self._async_transport = async_transport
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._async_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, httpx.AsyncClient
        ] = weakref.WeakKeyDictionary()

    def sync(self, client: Any) -> httpx.Client:
        """The client to send with: `client` if LiteLLM passed an httpx one, else the pool's.

        Args:
            client: LiteLLM's `client` argument (`HTTPHandler`, an `httpx.Client`, None).

        Returns:
            An open client.
        """
        given = getattr(client, "client", client)  # litellm's HTTPHandler wraps an httpx.Client
        if isinstance(given, httpx.Client):
            return given
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = httpx.Client(
                        limits=self._limits,
                        timeout=None,
                        headers=_HEADERS,
                        transport=self._transport,
                    )
        return self._client

    def async_(self, client: Any) -> httpx.AsyncClient:
        """The async twin of `sync`: the running event loop's client.

        Args:
            client: LiteLLM's `client` argument (`AsyncHTTPHandler`, an `httpx.AsyncClient`).

        Returns:
            An open client.
        """
        given = getattr(client, "client", client)
        if isinstance(given, httpx.AsyncClient):
            return given
        loop = asyncio.get_running_loop()
        found = self._async_clients.get(loop)
        if found is None:
            with self._lock:
                found = self._async_clients.get(loop)
                if found is None:
                    found = httpx.AsyncClient(
                        limits=self._limits,
                        timeout=None,
                        headers=_HEADERS,
                        transport=self._async_transport,
                    )
                    self._async_clients[loop] = found
        return found

    def close(self) -> None:
        """Close the sync client."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close this event loop's async client and the sync client."""
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._async_clients.pop(loop, None)
        if client is not None:
            await client.aclose()
        self.close()


def _build(
    http: httpx.Client | httpx.AsyncClient, request: GatewayRequest, timeout: TimeoutSetting
) -> httpx.Request:
    return http.build_request(
        "POST", request.url, content=request.content, headers=request.headers, timeout=timeout
    )


def _bound(response: httpx.Response, request: GatewayRequest, timeout: Any, started: float) -> None:
    """Cap the body of `response`, and make it due by the call's deadline.

    LiteLLM's `timeout`, when it is a number, is "the maximum execution time" of the call:
    past it the body (a stream's last chunk included) raises `GatewayTimeoutError`.
    """
    total = float(timeout) if isinstance(timeout, int | float) and timeout > 0 else None
    limit_response(
        response,
        max_bytes=request.max_bytes,
        timeout_s=total,
        started=started,
        deadline_setting="timeout",
    )


def send(
    http: httpx.Client,
    request: GatewayRequest,
    timeout: TimeoutSetting,
    boundary: ErrorBoundary,
    *,
    stream: bool,
) -> httpx.Response:
    """Send `request`; its body bounded, and read unless `stream` (error bodies always).

    Args:
        http: The client.
        request: The request.
        timeout: LiteLLM's `timeout` of the call.
        boundary: The call's error boundary, told when the response begins.
        stream: Whether to leave a 2xx body unread.

    Returns:
        The response.
    """
    started = time.monotonic()
    response = http.send(_build(http, request, timeout), stream=True)
    boundary.began(response)
    _bound(response, request, timeout, started)
    if stream and response.status_code < 400:
        return response
    try:
        response.read()
    finally:
        response.close()
    return response


async def asend(
    http: httpx.AsyncClient,
    request: GatewayRequest,
    timeout: TimeoutSetting,
    boundary: ErrorBoundary,
    *,
    stream: bool,
) -> httpx.Response:
    """The async twin of `send`.

    Args:
        http: The client.
        request: The request.
        timeout: LiteLLM's `timeout` of the call.
        boundary: The call's error boundary, told when the response begins.
        stream: Whether to leave a 2xx body unread.

    Returns:
        The response.
    """
    started = time.monotonic()
    response = await http.send(_build(http, request, timeout), stream=True)
    boundary.began(response)
    _bound(response, request, timeout, started)
    if stream and response.status_code < 400:
        return response
    try:
        await response.aread()
    finally:
        await response.aclose()
    return response
