"""The LiteLLM handler `CloudflareGatewayLLM`: the I/O of the provider, nothing else.

Requests are built and responses parsed in `transformation`, streams parsed in
`stream_parser`, errors mapped in `errors` (one `ErrorBoundary` around every call path),
prices looked up in `cost_calculator`. This module sends requests and reads responses:
one pooled `httpx.Client` per handler and one `httpx.AsyncClient` per event loop.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

import httpx
from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import EmbeddingResponse, GenericStreamingChunk, ModelResponse

from ..core.body_limit import ACCEPT_ENCODING, MAX_RESPONSE_BYTES, limit_response
from ..core.routing import Operation
from ._compat import share_stream_metadata
from .errors import PROVIDER, ErrorBoundary
from .redaction import scrub_secrets
from .streaming import AsyncGatewayStream, SyncGatewayStream
from .transformation import (
    GatewayRequest,
    Target,
    build_request,
    chat_response,
    deployment_key,
    embedding_response,
    gateway_params,
    parse_json_object,
    raise_for_status,
    resolve_target,
)

if TYPE_CHECKING:
    from litellm.litellm_core_utils.litellm_logging import Logging

_HEADERS: Final = {"accept-encoding": ACCEPT_ENCODING}
"""Only the codings the body cap decodes (see `core.body_limit.limit_response`)."""
_TARGET_CACHE_MAX: Final = 256

TimeoutSetting = float | httpx.Timeout | None
"""LiteLLM's `timeout` of a call: a deadline in seconds, or httpx's per-phase timeouts."""


class CloudflareGatewayLLM(CustomLLM):
    """LiteLLM handler for Cloudflare AI Gateway: chat (plain and streamed) and embeddings.

    Register the module-level `handler` with `register`, or in the proxy's
    `config.yaml` under `litellm_settings.custom_provider_map` as
    `langchain_cf_gateway.litellm_provider.handler`.

    HTTP goes through one pooled `httpx.Client` per handler and one `httpx.AsyncClient`
    per event loop (an async client's connections belong to the loop that opened them).
    A client LiteLLM passes in (`HTTPHandler`/`AsyncHTTPHandler` or a bare httpx
    client) is used instead.

    Where a deployment goes (account, gateway, token, host, route) is resolved once per
    deployment, the first time it is called: arguments, then the environment, then the
    config file (`core.GatewayConfig.resolve`), and cached by value. Call `refresh` after
    changing the environment or the config file of a running process.
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Create a handler; no connection is opened before the first call.

        Args:
            limits: Connection pool bounds of the clients this handler opens.
            max_response_bytes: Default cap of a response body (per call:
                `max_response_bytes`).
            transport: The transport of the sync client this handler opens
                (`httpx.MockTransport` in tests); httpx's default when None.
            async_transport: The same for the async clients.
        """
        super().__init__()
        self._limits = limits or httpx.Limits(max_connections=200, max_keepalive_connections=50)
        self._max_response_bytes = max_response_bytes
        self._transport = transport
        self._async_transport = async_transport
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._async_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, httpx.AsyncClient
        ] = weakref.WeakKeyDictionary()
        self._targets: dict[tuple[Any, ...], Target] = {}
        share_stream_metadata()

    def __repr__(self) -> str:
        """The class and the provider name; never a credential.

        Returns:
            `CloudflareGatewayLLM(provider='cloudflare-ai-gateway')`.
        """
        return f"{type(self).__name__}(provider={PROVIDER!r})"

    def refresh(self) -> None:
        """Forget the resolved deployments: the next calls read the environment again."""
        with self._lock:
            self._targets = {}

    # ------------------------------------------------------------------ clients

    def _sync_client(self, client: Any) -> httpx.Client:
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

    def _async_client(self, client: Any) -> httpx.AsyncClient:
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
        """Close the pooled sync client (async clients close with `aclose`)."""
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

    # ------------------------------------------------------------------ requests

    def _target(
        self, model: str, api_base: str | None, gw: Mapping[str, Any], operation: Operation
    ) -> Target:
        key = deployment_key(model, api_base, gw, operation)
        target = self._targets.get(key)
        if target is None:
            target = resolve_target(key)
            with self._lock:
                if len(self._targets) >= _TARGET_CACHE_MAX:
                    self._targets = {}
                self._targets[key] = target
        return target

    def _prepare(
        self,
        boundary: ErrorBoundary,
        *,
        model: str,
        api_base: str | None,
        api_key: str | None,
        optional_params: dict[str, Any],
        headers: Mapping[str, str] | None,
        operation: Operation,
        payload: dict[str, Any],
        logging_obj: Any,
        stream: bool = False,
    ) -> GatewayRequest:
        target = self._target(model, api_base, gateway_params(optional_params), operation)
        request = build_request(
            target,
            api_key=api_key,
            optional_params=optional_params,
            extra_headers=headers,
            operation=operation,
            payload=payload,
            stream=stream,
            max_response_bytes=self._max_response_bytes,
        )
        boundary.secrets = request.secrets
        scrub_secrets(optional_params, logging_obj)
        return request

    # ------------------------------------------------------------------ chat

    def completion(
        self,
        model: str,
        messages: list[Any],
        api_base: str | None,
        custom_prompt_dict: dict[str, Any],
        model_response: ModelResponse,
        print_verbose: Callable[..., Any],
        encoding: Any,
        api_key: str | None,
        logging_obj: Logging,
        optional_params: dict[str, Any],
        acompletion: Any = None,
        litellm_params: dict[str, Any] | None = None,
        logger_fn: Any = None,
        headers: dict[str, str] | None = None,
        timeout: TimeoutSetting = None,
        client: Any = None,
    ) -> ModelResponse:
        """A chat completion (LiteLLM's `CustomLLM` interface).

        Returns:
            The response, the gateway dict in `_hidden_params["gateway"]`.
        """
        with ErrorBoundary(model) as boundary:
            request = self._prepare(
                boundary,
                model=model,
                api_base=api_base,
                api_key=api_key,
                optional_params=optional_params,
                headers=headers,
                operation="chat",
                payload={"messages": messages},
                logging_obj=logging_obj,
            )
            response = send(self._sync_client(client), request, timeout, boundary, stream=False)
            raise_for_status(response, request)
            return chat_response(request, response.headers, parse_json_object(response, request))

    async def acompletion(
        self,
        model: str,
        messages: list[Any],
        api_base: str | None,
        custom_prompt_dict: dict[str, Any],
        model_response: ModelResponse,
        print_verbose: Callable[..., Any],
        encoding: Any,
        api_key: str | None,
        logging_obj: Logging,
        optional_params: dict[str, Any],
        acompletion: Any = None,
        litellm_params: dict[str, Any] | None = None,
        logger_fn: Any = None,
        headers: dict[str, str] | None = None,
        timeout: TimeoutSetting = None,
        client: Any = None,
    ) -> ModelResponse:
        """The async twin of `completion`.

        Returns:
            The response, the gateway dict in `_hidden_params["gateway"]`.
        """
        with ErrorBoundary(model) as boundary:
            request = self._prepare(
                boundary,
                model=model,
                api_base=api_base,
                api_key=api_key,
                optional_params=optional_params,
                headers=headers,
                operation="chat",
                payload={"messages": messages},
                logging_obj=logging_obj,
            )
            http = self._async_client(client)
            response = await asend(http, request, timeout, boundary, stream=False)
            raise_for_status(response, request)
            return chat_response(request, response.headers, parse_json_object(response, request))

    def streaming(
        self,
        model: str,
        messages: list[Any],
        api_base: str | None,
        custom_prompt_dict: dict[str, Any],
        model_response: ModelResponse,
        print_verbose: Callable[..., Any],
        encoding: Any,
        api_key: str | None,
        logging_obj: Logging,
        optional_params: dict[str, Any],
        acompletion: Any = None,
        litellm_params: dict[str, Any] | None = None,
        logger_fn: Any = None,
        headers: dict[str, str] | None = None,
        timeout: TimeoutSetting = None,
        client: Any = None,
    ) -> Iterator[GenericStreamingChunk]:
        """A streamed chat completion; the request is sent before this returns.

        Sent here, not on the first `next()`: an error response raises from
        `litellm.completion()` itself, where the Router's retries and fallbacks see it,
        as with LiteLLM's own providers.

        Returns:
            The chunks; the first carries the gateway dict.
        """
        with ErrorBoundary(model) as boundary:
            request = self._prepare(
                boundary,
                model=model,
                api_base=api_base,
                api_key=api_key,
                optional_params=optional_params,
                headers=headers,
                operation="chat",
                payload={"messages": messages},
                logging_obj=logging_obj,
                stream=True,
            )
            response = send(self._sync_client(client), request, timeout, boundary, stream=True)
            raise_for_status(response, request)
            return SyncGatewayStream(response, request, boundary)

    def astreaming(  # type: ignore[override]
        self,
        model: str,
        messages: list[Any],
        api_base: str | None,
        custom_prompt_dict: dict[str, Any],
        model_response: ModelResponse,
        print_verbose: Callable[..., Any],
        encoding: Any,
        api_key: str | None,
        logging_obj: Logging,
        optional_params: dict[str, Any],
        acompletion: Any = None,
        litellm_params: dict[str, Any] | None = None,
        logger_fn: Any = None,
        headers: dict[str, str] | None = None,
        timeout: TimeoutSetting = None,
        client: Any = None,
    ) -> AsyncIterator[GenericStreamingChunk]:
        """An async streamed chat completion; the request is sent on the first chunk.

        The request is built here, so bad input raises from `acompletion()` itself.

        Returns:
            The chunks; the first carries the gateway dict.
        """
        with ErrorBoundary(model) as boundary:
            request = self._prepare(
                boundary,
                model=model,
                api_base=api_base,
                api_key=api_key,
                optional_params=optional_params,
                headers=headers,
                operation="chat",
                payload={"messages": messages},
                logging_obj=logging_obj,
                stream=True,
            )

        async def start() -> httpx.Response:
            http = self._async_client(client)
            return await asend(http, request, timeout, boundary, stream=True)

        return AsyncGatewayStream(start, request, boundary)

    # ------------------------------------------------------------------ embeddings

    def embedding(
        self,
        model: str,
        input: list[Any],
        model_response: EmbeddingResponse,
        print_verbose: Callable[..., Any],
        logging_obj: Logging,
        optional_params: dict[str, Any],
        api_key: str | None = None,
        api_base: str | None = None,
        timeout: TimeoutSetting = None,
        litellm_params: dict[str, Any] | None = None,
    ) -> EmbeddingResponse:
        """Embeddings (LiteLLM's `CustomLLM` interface).

        Returns:
            `model_response`, filled in; the gateway dict in `_hidden_params["gateway"]`.
        """
        with ErrorBoundary(model) as boundary:
            request = self._prepare(
                boundary,
                model=model,
                api_base=api_base,
                api_key=api_key,
                optional_params=optional_params,
                headers=None,
                operation="embeddings",
                payload={"input": input},
                logging_obj=logging_obj,
            )
            response = send(self._sync_client(None), request, timeout, boundary, stream=False)
            raise_for_status(response, request)
            data = parse_json_object(response, request)
            return embedding_response(request, response.headers, data, model_response)

    async def aembedding(
        self,
        model: str,
        input: list[Any],
        model_response: EmbeddingResponse,
        print_verbose: Callable[..., Any],
        logging_obj: Logging,
        optional_params: dict[str, Any],
        api_key: str | None = None,
        api_base: str | None = None,
        timeout: TimeoutSetting = None,
        litellm_params: dict[str, Any] | None = None,
    ) -> EmbeddingResponse:
        """The async twin of `embedding`.

        Returns:
            `model_response`, filled in; the gateway dict in `_hidden_params["gateway"]`.
        """
        with ErrorBoundary(model) as boundary:
            request = self._prepare(
                boundary,
                model=model,
                api_base=api_base,
                api_key=api_key,
                optional_params=optional_params,
                headers=None,
                operation="embeddings",
                payload={"input": input},
                logging_obj=logging_obj,
            )
            http = self._async_client(None)
            response = await asend(http, request, timeout, boundary, stream=False)
            raise_for_status(response, request)
            data = parse_json_object(response, request)
            return embedding_response(request, response.headers, data, model_response)


# --------------------------------------------------------------------------- sending


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
