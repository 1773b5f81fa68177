"""The LiteLLM handler `CloudflareGatewayLLM`: each call path, its I/O and nothing else.

Requests are built and responses parsed in `transformation`, streams parsed in
`stream_parser`, errors mapped in `errors` (one `ErrorBoundary` around every call path),
prices looked up in `cost_calculator`, requests sent in `http_client`. Each method here
strings those steps together for one of LiteLLM's `CustomLLM` entry points.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

import httpx
from litellm.llms.custom_llm import CustomLLM
from litellm.types.utils import EmbeddingResponse, GenericStreamingChunk, ModelResponse

from ..core.body_limit import MAX_RESPONSE_BYTES
from ..core.routing import Operation
from ._compat import share_stream_metadata
from .errors import PROVIDER, ErrorBoundary
from .http_client import HTTPClients, TimeoutSetting, asend, send
from .params import drops_params, gateway_params, litellm_cache_controls, merged_options
from .redaction import scrub_secrets
from .streaming import AsyncGatewayStream, SyncGatewayStream
from .transformation import (
    GatewayRequest,
    Target,
    build_request,
    chat_response,
    deployment_key,
    embedding_response,
    input_count,
    parse_json_object,
    raise_for_status,
    resolve_target,
)

if TYPE_CHECKING:
    from litellm.litellm_core_utils.litellm_logging import Logging

_TARGET_CACHE_MAX: Final = 256


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
        self._http = HTTPClients(limits, transport, async_transport)
        self._max_response_bytes = max_response_bytes
        self._lock = threading.Lock()
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

    def close(self) -> None:
        """Close the pooled sync client (async clients close with `aclose`)."""
        self._http.close()

    async def aclose(self) -> None:
        """Close this event loop's async client and the sync client."""
        await self._http.aclose()

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
        litellm_params: Mapping[str, Any] | None,
        stream: bool = False,
    ) -> GatewayRequest:
        target = self._target(model, api_base, gateway_params(optional_params), operation)
        cache = litellm_cache_controls(logging_obj)
        options = merged_options(optional_params, litellm_params, cache)
        params = {**optional_params, "gateway_options": options}
        if drops_params(litellm_params):
            params["drop_params"] = True
        request = build_request(
            target,
            api_key=api_key,
            optional_params=params,
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
                litellm_params=litellm_params,
                model=model,
                api_base=api_base,
                api_key=api_key,
                optional_params=optional_params,
                headers=headers,
                operation="chat",
                payload={"messages": messages},
                logging_obj=logging_obj,
            )
            response = send(self._http.sync(client), request, timeout, boundary, stream=False)
            raise_for_status(response, request)
            data = parse_json_object(response, request)
            return chat_response(request, response.headers, data, status_code=response.status_code)

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
                litellm_params=litellm_params,
                model=model,
                api_base=api_base,
                api_key=api_key,
                optional_params=optional_params,
                headers=headers,
                operation="chat",
                payload={"messages": messages},
                logging_obj=logging_obj,
            )
            http = self._http.async_(client)
            response = await asend(http, request, timeout, boundary, stream=False)
            raise_for_status(response, request)
            data = parse_json_object(response, request)
            return chat_response(request, response.headers, data, status_code=response.status_code)

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
                litellm_params=litellm_params,
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
            response = send(self._http.sync(client), request, timeout, boundary, stream=True)
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
                litellm_params=litellm_params,
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
            http = self._http.async_(client)
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
                litellm_params=litellm_params,
                model=model,
                api_base=api_base,
                api_key=api_key,
                optional_params=optional_params,
                headers=None,
                operation="embeddings",
                payload={"input": input},
                logging_obj=logging_obj,
            )
            response = send(self._http.sync(None), request, timeout, boundary, stream=False)
            raise_for_status(response, request)
            data = parse_json_object(response, request)
            return embedding_response(
                request,
                response.headers,
                data,
                model_response,
                expected=input_count(input),
                status_code=response.status_code,
            )

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
                litellm_params=litellm_params,
                model=model,
                api_base=api_base,
                api_key=api_key,
                optional_params=optional_params,
                headers=None,
                operation="embeddings",
                payload={"input": input},
                logging_obj=logging_obj,
            )
            http = self._http.async_(None)
            response = await asend(http, request, timeout, boundary, stream=False)
            raise_for_status(response, request)
            data = parse_json_object(response, request)
            return embedding_response(
                request,
                response.headers,
                data,
                model_response,
                expected=input_count(input),
                status_code=response.status_code,
            )
