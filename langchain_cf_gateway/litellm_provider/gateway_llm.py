"""LiteLLM custom provider `cloudflare-ai-gateway`: the SDK, the Router and the proxy.

Setup:

```python
import litellm
from langchain_cf_gateway.litellm_provider import register

register()  # adds the provider once, however often it is called
response = litellm.completion(
    model="cloudflare-ai-gateway/openai/gpt-4o-mini",
    messages=[{"role": "user", "content": "Hello"}],
    api_key="sk-...",                       # the PROVIDER key (optional with BYOK)
    account_id="...", gateway_id="my-gw",  # else CLOUDFLARE_ACCOUNT_ID / ..._GATEWAY_ID
    gateway_options={"cache_ttl": 3600, "metadata": {"team": "search"}},
)
response._hidden_params["gateway"]  # {"cache_status": "MISS", "log_id": ..., ...}
```

Model names are `cloudflare-ai-gateway/<model id>` with the core's grammar:
`openai/gpt-4o-mini`, `dynamic/support`, `workers-ai/@cf/meta/llama-3.1-8b-instruct`.

Per-call or per-deployment keys (`litellm_params` of a Router deployment or of the
proxy's `config.yaml`), all optional:

=================== =========================================================================
`api_base`        the gateway host (`http://127.0.0.1:8787`) or a pasted gateway URL
`api_key`         the provider's key, sent as `Authorization`; none sent without it
`account_id`      Cloudflare account id
`gateway_id`      gateway id (`default`)
`gateway_token`   Cloudflare API token, sent as `cf-aig-authorization`
`gateway_options` a `GatewayOptions` or a dict of its fields
`endpoint`        `compat` (default), `native` or `rest`
`gateway_fallbacks` model ids tried in order after `model` on the universal endpoint
`max_response_bytes` cap of one answer's body after decompression (default 32 MiB)
=================== =========================================================================

`timeout` is what LiteLLM documents it to be, the call's maximum execution time: a
number is a deadline for the whole call, a stream's last chunk included (past it,
`litellm.Timeout` with a `GatewayTimeoutError` behind it); an
`httpx.Timeout` keeps httpx's per-phase meaning. An answer past `max_response_bytes`
(a small gzip body inflating to gigabytes) raises a 502 with a
`ResponseTooLargeError` behind it. Credentials an error body echoes are
masked in the exception.

Unset keys come from the environment and the config file, as everywhere in this package
(`core.GatewayConfig.resolve`). The gateway's fallback list
is `gateway_fallbacks` and not `fallbacks` because LiteLLM takes `fallbacks` for its
own model-level fallbacks before a handler ever sees it.

What comes back:

- non-streaming: `response._hidden_params["gateway"]` is the same dict as LangChain's
  `response_metadata["gateway"]` (`GATEWAY_INFO_KEYS`), and
  `_hidden_params["additional_headers"]` carries `llm_provider-cf-aig-*`, which the
  LiteLLM proxy returns as HTTP response headers;
- streaming: the first chunk has the dict as `chunk.gateway`; once that chunk has been
  read, the stream wrapper has it too, in `stream._hidden_params["gateway"]` (and the
  headers in `stream._hidden_params["additional_headers"]`). `gateway_info` reads
  any of these;
- errors: the gateway's HTTP status decides LiteLLM's exception (429 ->
  `litellm.RateLimitError`, 401 -> `AuthenticationError`...), so Router retries,
  cooldowns and fallbacks work; `gateway_error` recovers the core's typed
  `GatewayError` (code, log id) from LiteLLM's exception. A broken answer
  (not JSON, a malformed or cut stream) is an `InvalidResponseError`, a 502 to LiteLLM.

Bad input raises before anything is sent, as the core's `ValueError` and
`litellm.BadRequestError` at once. The gateway token is blanked in what LiteLLM hands
its callbacks (`_scrub_secrets`) and in LiteLLM's own log records (a filter that
`register` installs).

This module is the only one that imports litellm; `import langchain_cf_gateway` does not.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import os
import re
import sys
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, cast

import httpx
import litellm
from litellm.exceptions import BadRequestError as LiteLLMBadRequestError
from litellm.litellm_core_utils.core_helpers import process_response_headers
from litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper
from litellm.llms.custom_llm import CustomLLM, CustomLLMError
from litellm.types.utils import (
    EmbeddingResponse,
    GenericStreamingChunk,
    ModelResponse,
    Usage,
)

from . import __version__
from .core import (
    ConfigError,
    GatewayConfig,
    GatewayError,
    GatewayInfo,
    GatewayInputError,
    GatewayOptions,
    Route,
    Step,
    UniversalRoute,
    build_route,
    build_universal,
    coerce_options,
    config_file_path,
)
from .core.body_limit import ACCEPT_ENCODING, MAX_RESPONSE_BYTES, limit_response
from .core.codec import (
    SSE_DONE,
    encode_json,
    error_from_httpx,
    parse_sse_line,
)
from .core.config import ENV_ACCOUNT_ID, ENV_BASE_URL, ENV_CONFIG_FILE, ENV_GATEWAY_ID, ENV_TOKEN
from .core.errors import (
    GatewayTimeoutError,
    InvalidOptionError,
    InvalidResponseError,
    ProviderError,
    credentials_of,
    redact,
    redact_body,
)
from .core.protocol import Header
from .core.routing import ENDPOINTS, Endpoint, Operation

if TYPE_CHECKING:
    from litellm.litellm_core_utils.litellm_logging import Logging

__all__ = [
    "PROVIDER",
    "CloudflareGatewayLLM",
    "GatewayLLMError",
    "gateway_error",
    "gateway_info",
    "handler",
    "register",
]

PROVIDER: Final = "cloudflare-ai-gateway"
"""The provider name: models are `cloudflare-ai-gateway/<model id>`."""

GATEWAY_KEY: Final = "gateway"
"""Key of the gateway dict in `_hidden_params`, and the chunk attribute on streams."""


def _litellm_version() -> str:
    try:
        return importlib.metadata.version("litellm")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


_USER_AGENT: Final = f"langchain-cf-gateway/{__version__} litellm/{_litellm_version()}"

# Keys of ours that arrive in optional_params (Router/proxy litellm_params land there too).
_GATEWAY_KEYS: Final = frozenset(
    (
        "account_id",
        "gateway_id",
        "gateway_token",
        "gateway_options",
        "endpoint",
        "gateway_fallbacks",
        "max_response_bytes",
    )
)
# LiteLLM's own keys that reach optional_params but are not part of the upstream API:
# the Router injects max_retries=0 and stream=False (landscape 1.2); we set stream and
# stream_options ourselves; extra_body is merged into the body, not sent as a field.
_LITELLM_KEYS: Final = frozenset(
    (
        "max_retries",
        "num_retries",
        "stream",
        "stream_options",
        "extra_body",
        "extra_headers",
        "timeout",
        "request_timeout",
        "api_version",
        "drop_params",
        "additional_drop_params",
    )
)
_NOT_UPSTREAM: Final = _GATEWAY_KEYS | _LITELLM_KEYS

# Gateway provider slug -> LiteLLM's provider name in its price map (litellm.model_cost).
_LITELLM_PRICE_PROVIDER: Final[dict[str, str]] = {
    "google-ai-studio": "gemini",
    "google-vertex-ai": "vertex_ai",
    "workers-ai": "cloudflare",
    "grok": "xai",
    "perplexity-ai": "perplexity",
    "aws-bedrock": "bedrock",
    "azure-openai": "azure",
}

_HEADERS: Final = {"accept-encoding": ACCEPT_ENCODING}
"""Only the codings the body cap decodes (see `core.body_limit.limit_response`)."""
_CONFIG_ENV: Final = (ENV_ACCOUNT_ID, *ENV_GATEWAY_ID, *ENV_TOKEN, ENV_BASE_URL, ENV_CONFIG_FILE)
_TARGET_CACHE_MAX: Final = 256
_WRAPPER_SEARCH_DEPTH: Final = 8
"""Frames above a stream's first step searched for LiteLLM's stream wrappers (see _adopt)."""


class GatewayLLMError(CustomLLMError):
    """A gateway error answer as LiteLLM expects it: `status_code` picks LiteLLM's exception.

    `gateway_error` is the core's typed error (code, log id, retryable); `headers`
    lets LiteLLM read `retry-after` for its retry and cooldown logic.
    """

    def __init__(
        self,
        error: GatewayError,
        headers: httpx.Headers | None = None,
        *,
        status_code: int | None = None,
    ) -> None:
        # status_code overrides the one LiteLLM maps from: a broken 200 answer is a 502 to
        # LiteLLM (retryable, a Router failure) while the typed error keeps the real 200.
        super().__init__(status_code=status_code or error.status_code, message=str(error))  # type: ignore[no-untyped-call]
        self.gateway_error = error
        self.headers = headers
        self.body = error.body


def gateway_error(exc: BaseException) -> GatewayError | None:
    """The core's typed `GatewayError` behind a LiteLLM exception, if there is one.

    LiteLLM re-raises a handler's error as its own class (`litellm.RateLimitError`...)
    inside an `except` block, so ours is on the `__context__`/`__cause__` chain (or
    behind `original_exception` for a `MidStreamFallbackError`).
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, GatewayError):
            return current
        found = getattr(current, "gateway_error", None)
        if isinstance(found, GatewayError):
            return found
        original = getattr(current, "original_exception", None)  # MidStreamFallbackError
        if isinstance(original, BaseException) and id(original) not in seen:
            current = original
            continue
        current = current.__cause__ or current.__context__
    return None


def gateway_info(obj: Any) -> dict[str, Any] | None:
    """The gateway dict of a response, a stream chunk, or a stream wrapper (once read from).

    `ModelResponse` and `EmbeddingResponse`: `_hidden_params["gateway"]`; a streamed
    `ModelResponseStream` chunk: its `gateway` attribute (first chunk) or its hidden
    params (later chunks); `CustomStreamWrapper`: its hidden params after the first chunk.
    """
    value = getattr(obj, GATEWAY_KEY, None)
    if isinstance(value, dict):
        return value
    hidden = getattr(obj, "_hidden_params", None)
    if isinstance(hidden, dict):
        value = hidden.get(GATEWAY_KEY)
        if isinstance(value, dict):
            return value
    return None


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True)
class _Target:
    """Where a call goes, without the per-call parts (options, provider key, body)."""

    config: GatewayConfig
    route: Route
    """The route of the requested model (the first step of a fallback chain)."""
    fallbacks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Request:
    url: str
    headers: dict[str, str]
    content: bytes
    target: _Target
    universal: UniversalRoute | None
    secrets: tuple[str, ...]
    """The credentials the request carries, masked in every error of its answer."""
    max_bytes: int


def _as_str(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string; got {type(value).__name__}")
    return value


def _as_fallbacks(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(
        "gateway_fallbacks must be a list of model ids such as "
        "['openai/gpt-4o', 'workers-ai/@cf/meta/llama-3.1-8b-instruct']"
    )


_config_paths: dict[tuple[str | None, ...], str] = {}


def _environment_stamp() -> tuple[Any, ...]:
    """What config resolution reads besides the arguments: env values and the file's stat.

    Cheap enough for every call (a few dict lookups and one `stat`), so a changed
    environment or config file is seen at once although resolved routes are cached.
    """
    env = os.environ
    values = (*(env.get(name) for name in _CONFIG_ENV), env.get("HOME"))
    path = _config_paths.get(values)
    if path is None:
        if len(_config_paths) >= _TARGET_CACHE_MAX:
            _config_paths.clear()
        path = _config_paths[values] = str(config_file_path(env))
    try:
        stat = os.stat(path)
        file: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        file = None
    return (*values, file)


class CloudflareGatewayLLM(CustomLLM):
    """LiteLLM handler for Cloudflare AI Gateway: chat (plain and streamed) and embeddings.

    Register the module-level `handler` with `register`, or in the proxy's
    `config.yaml` under `litellm_settings.custom_provider_map` as
    `langchain_cf_gateway.litellm_provider.handler`.

    HTTP goes through one pooled `httpx.Client` per handler and one `httpx.AsyncClient`
    per event loop (an async client's connections belong to the loop that opened them).
    A client LiteLLM passes in (`HTTPHandler`/`AsyncHTTPHandler` or a bare httpx
    client) is used instead.
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        super().__init__()
        self._limits = limits or httpx.Limits(max_connections=200, max_keepalive_connections=50)
        """Connection pool bounds of the clients this handler opens."""
        self._max_response_bytes = max_response_bytes
        """Default cap of an answer's body (per call: `max_response_bytes`)."""
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._async_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, httpx.AsyncClient
        ] = weakref.WeakKeyDictionary()
        self._targets: dict[tuple[Any, ...], _Target] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(provider={PROVIDER!r})"

    # ------------------------------------------------------------------ clients

    def _sync_client(self, client: Any) -> httpx.Client:
        given = getattr(client, "client", client)  # litellm's HTTPHandler wraps an httpx.Client
        if isinstance(given, httpx.Client):
            return given
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = httpx.Client(limits=self._limits, timeout=None, headers=_HEADERS)
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
                    found = httpx.AsyncClient(limits=self._limits, timeout=None, headers=_HEADERS)
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

    # ------------------------------------------------------------------ request building

    def _target(
        self, model: str, api_base: str | None, gw: Mapping[str, Any], operation: Operation
    ) -> _Target:
        account_id = _as_str(gw.get("account_id"), "account_id")
        gateway_id = _as_str(gw.get("gateway_id"), "gateway_id")
        token = gw.get("gateway_token")
        if token is not None and not isinstance(token, str):
            token = getattr(token, "get_secret_value", lambda: token)()
        endpoint = gw.get("endpoint") or "compat"
        if endpoint not in ENDPOINTS:
            raise ConfigError(f"endpoint must be one of {', '.join(ENDPOINTS)}; got {endpoint!r}")
        fallbacks = _as_fallbacks(gw.get("gateway_fallbacks"))
        key = (
            model,
            api_base,
            account_id,
            gateway_id,
            token,
            endpoint,
            fallbacks,
            operation,
            _environment_stamp(),
        )
        target = self._targets.get(key)
        if target is None:
            config = GatewayConfig.resolve(account_id, gateway_id, token, api_base or None)
            route = build_route(config, model, cast(Endpoint, endpoint), operation)
            if fallbacks and endpoint == "rest":
                raise ConfigError(
                    "gateway_fallbacks run on the universal endpoint, which the REST API "
                    "(endpoint='rest') does not offer: use endpoint='compat' or 'native'"
                )
            target = _Target(config, route, fallbacks)
            if len(self._targets) >= _TARGET_CACHE_MAX:
                self._targets.clear()
            self._targets[key] = target
        return target

    def _request(
        self,
        *,
        model: str,
        api_base: str | None,
        api_key: str | None,
        optional_params: Mapping[str, Any],
        extra_headers: Mapping[str, str] | None,
        operation: Operation,
        payload: dict[str, Any],
        stream: bool = False,
    ) -> _Request:
        """Split LiteLLM's parameters into gateway config, headers and the upstream body."""
        gw = {k: v for k, v in optional_params.items() if k in _GATEWAY_KEYS}
        try:
            target = self._target(model, api_base, gw, operation)
            options: GatewayOptions | None = coerce_options(gw.get("gateway_options"))
        except GatewayInputError as err:
            raise _input_error(err, model) from None

        for key, value in optional_params.items():
            if key not in _NOT_UPSTREAM:
                payload[key] = value
        extra_body = optional_params.get("extra_body")
        if isinstance(extra_body, Mapping):
            payload.update(extra_body)
        if stream:
            payload["stream"] = True
            # Always ask for the usage chunk: LiteLLM's stream_options never reach the body.
            payload["stream_options"] = {"include_usage": True}

        route = target.route
        headers: dict[str, str] = {"content-type": "application/json", "user-agent": _USER_AGENT}
        universal: UniversalRoute | None = None
        if target.fallbacks:
            steps = [Step(route.ref, options, route.endpoint)]  # type: ignore[arg-type]
            steps += [Step(m, options, route.endpoint) for m in target.fallbacks]  # type: ignore[arg-type]
            universal = build_universal(
                target.config, steps, provider_key=api_key or None, operation=operation
            )
            headers.update(universal.headers)
            url = universal.url
            body: Any = universal.body(payload)
        else:
            headers.update(route.headers)
            if options is not None:
                headers.update(options.to_headers())
            if api_key:
                try:
                    headers.update(self._provider_auth(route, api_key))
                except GatewayInputError as err:
                    raise _input_error(err, model) from None
            url = route.url
            body = {"model": route.body_model, **payload}
        if extra_headers:
            headers.update(extra_headers)
        token = target.config.token.get_secret_value() if target.config.token else None
        secrets = credentials_of(headers, None, api_key, token)
        max_bytes = gw.get("max_response_bytes", self._max_response_bytes)
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            bad = InvalidOptionError(
                "max_response_bytes", f"must be an integer >= 1; got {max_bytes!r}"
            )
            raise _input_error(bad, model) from None
        return _Request(url, headers, encode_json(body), target, universal, secrets, max_bytes)

    @staticmethod
    def _provider_auth(route: Route, api_key: str) -> dict[str, str]:
        if route.endpoint == "rest":
            raise ConfigError(
                "endpoint='rest' authenticates with the Cloudflare API token in Authorization, "
                "so a provider key (api_key) cannot be sent: store it in the gateway (BYOK) "
                "and drop api_key, or use endpoint='compat'"
            )
        provider = route.ref.provider
        if route.endpoint == "native" and provider is not None:
            return {provider.auth_header: provider.auth_value(api_key)}
        # compat speaks OpenAI's API for every provider: a Bearer key
        # (https://developers.cloudflare.com/ai-gateway/usage/chat-completion/).
        return {"authorization": f"Bearer {api_key}"}

    # ------------------------------------------------------------------ responses

    @staticmethod
    def _info(request: _Request, headers: Mapping[str, str]) -> dict[str, Any]:
        info = GatewayInfo.from_headers(headers)
        routes = request.universal.routes if request.universal else (request.target.route,)
        index = info.step if info.step is not None and 0 <= info.step < len(routes) else 0
        ref = routes[index].ref
        if ref.dynamic:  # the gateway names what a dynamic route chose, or nobody knows
            return info.as_dict()
        step = index if request.universal else None
        return info.with_defaults(model=ref.model, provider=ref.slug, step=step).as_dict()

    @staticmethod
    def _raise_for_status(response: httpx.Response, request: _Request) -> None:
        if response.status_code >= 400:
            raise GatewayLLMError(error_from_httpx(response, *request.secrets), response.headers)

    @staticmethod
    def _decode(response: httpx.Response, request: _Request) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            text = redact(response.text[:2000], request.secrets)
            raise GatewayLLMError(
                InvalidResponseError(
                    f"the gateway answered HTTP {response.status_code} with a body that is "
                    f"not a JSON object: {text[:200]!r}",
                    status_code=response.status_code,
                    log_id=response.headers.get(Header.LOG_ID),
                    body=text,
                ),
                response.headers,
                status_code=502,
            )
        return data

    def _chat_response(
        self, request: _Request, response: httpx.Response, data: dict[str, Any]
    ) -> ModelResponse:
        data.pop("object", None)
        result = ModelResponse(**data)
        self._attach(result, request, response)
        return result

    def _embedding_response(
        self,
        request: _Request,
        response: httpx.Response,
        data: dict[str, Any],
        model_response: EmbeddingResponse,
    ) -> EmbeddingResponse:
        model_response.model = data.get("model")
        model_response.data = data.get("data") or []
        usage = data.get("usage")
        if isinstance(usage, dict):
            prompt = int(usage.get("prompt_tokens") or 0)
            model_response.usage = Usage(
                prompt_tokens=prompt,
                completion_tokens=0,
                total_tokens=int(usage.get("total_tokens") or prompt),
            )
        self._attach(model_response, request, response)
        return model_response

    def _attach(self, result: Any, request: _Request, response: httpx.Response) -> None:
        headers = dict(response.headers.items())  # lowercase keys; one pass, read thrice
        hidden = result._hidden_params
        hidden["additional_headers"] = process_response_headers(headers)
        info = hidden[GATEWAY_KEY] = self._info(request, headers)
        result._response_headers = headers
        cost = _response_cost(info, getattr(result, "usage", None))
        if cost is not None:
            # LiteLLM cannot price 'cloudflare-ai-gateway/...' itself and would spend a
            # failed price look-up on every call; this is the provider's price, 0 on a HIT.
            hidden["response_cost"] = cost

    # ------------------------------------------------------------------ chat

    def _chat_request(
        self,
        model: str,
        messages: list[Any],
        api_base: str | None,
        api_key: str | None,
        optional_params: dict[str, Any],
        headers: Mapping[str, str] | None,
        stream: bool,
        logging_obj: Any,
    ) -> _Request:
        request = self._request(
            model=model,
            api_base=api_base,
            api_key=api_key,
            optional_params=optional_params,
            extra_headers=headers,
            operation="chat",
            payload={"messages": messages},
            stream=stream,
        )
        _scrub_secrets(optional_params, logging_obj)
        return request

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
        timeout: float | httpx.Timeout | None = None,
        client: Any = None,
    ) -> ModelResponse:
        request = self._chat_request(
            model, messages, api_base, api_key, optional_params, headers, False, logging_obj
        )
        response = _send(self._sync_client(client), request, timeout, stream=False)
        self._raise_for_status(response, request)
        return self._chat_response(request, response, self._decode(response, request))

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
        timeout: float | httpx.Timeout | None = None,
        client: Any = None,
    ) -> ModelResponse:
        request = self._chat_request(
            model, messages, api_base, api_key, optional_params, headers, False, logging_obj
        )
        response = await _asend(self._async_client(client), request, timeout, stream=False)
        self._raise_for_status(response, request)
        return self._chat_response(request, response, self._decode(response, request))

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
        timeout: float | httpx.Timeout | None = None,
        client: Any = None,
    ) -> Iterator[GenericStreamingChunk]:
        request = self._chat_request(
            model, messages, api_base, api_key, optional_params, headers, True, logging_obj
        )
        # Sent here, not on the first next(): an error answer raises from litellm.completion()
        # itself, where the Router's retries and fallbacks see it, as with stock providers.
        response = _send(self._sync_client(client), request, timeout, stream=True)
        self._raise_for_status(response, request)
        return _SyncStream(response, self._info(request, response.headers), request.secrets)

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
        timeout: float | httpx.Timeout | None = None,
        client: Any = None,
    ) -> AsyncIterator[GenericStreamingChunk]:
        # LiteLLM calls this from a worker thread and iterates the result on the event loop:
        # the request is built here, so bad input raises from acompletion() itself, and
        # sent on the first __anext__ (nothing can be awaited before LiteLLM wraps it).
        request = self._chat_request(
            model, messages, api_base, api_key, optional_params, headers, True, logging_obj
        )
        return self._astream(request, client, timeout)

    async def _astream(
        self, request: _Request, client: Any, timeout: float | httpx.Timeout | None
    ) -> AsyncIterator[GenericStreamingChunk]:
        response = await _asend(self._async_client(client), request, timeout, stream=True)
        try:
            self._raise_for_status(response, request)
            chunks = _ChunkMaker(
                self._info(request, response.headers), response.headers, request.secrets
            )
            caller = sys._getframe(1) if hasattr(sys, "_getframe") else None
            chunks.adopt_wrapper(caller)
            async for line in response.aiter_lines():
                for chunk in chunks.feed(line):
                    yield chunk
                if chunks.done:
                    break
            else:
                chunks.end()
        except httpx.TimeoutException as exc:
            raise _timeout_error(exc) from exc
        finally:
            await response.aclose()

    # ------------------------------------------------------------------ embeddings

    def _embedding_request(
        self,
        model: str,
        input: list[Any],
        api_base: str | None,
        api_key: str | None,
        optional_params: dict[str, Any],
        logging_obj: Any,
    ) -> _Request:
        request = self._request(
            model=model,
            api_base=api_base,
            api_key=api_key,
            optional_params=optional_params,
            extra_headers=None,
            operation="embeddings",
            payload={"input": input},
        )
        _scrub_secrets(optional_params, logging_obj)
        return request

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
        timeout: float | httpx.Timeout | None = None,
        litellm_params: dict[str, Any] | None = None,
    ) -> EmbeddingResponse:
        request = self._embedding_request(
            model, input, api_base, api_key, optional_params, logging_obj
        )
        response = _send(self._sync_client(None), request, timeout, stream=False)
        self._raise_for_status(response, request)
        return self._embedding_response(
            request, response, self._decode(response, request), model_response
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
        timeout: float | httpx.Timeout | None = None,
        litellm_params: dict[str, Any] | None = None,
    ) -> EmbeddingResponse:
        request = self._embedding_request(
            model, input, api_base, api_key, optional_params, logging_obj
        )
        response = await _asend(self._async_client(None), request, timeout, stream=False)
        self._raise_for_status(response, request)
        return self._embedding_response(
            request, response, self._decode(response, request), model_response
        )


_REDACTED: Final = "[redacted]"

_INPUT_ERROR_TYPES: dict[type[GatewayInputError], type[Exception]] = {}


def _input_error(err: GatewayInputError, model: str) -> Exception:
    """Bad input as both the core's error (a `ValueError`) and `litellm.BadRequestError`.

    LiteLLM re-raises its own exception classes unchanged and maps anything else without
    a status to `APIConnectionError`, which the Router retries and cools down on; bad
    input is neither, so it keeps its class (`InvalidModelIdError`...) and is a 400.
    """
    cls = type(err)
    combined = _INPUT_ERROR_TYPES.get(cls)
    if combined is None:
        combined = type(
            cls.__name__,
            (cls, LiteLLMBadRequestError),
            {"__module__": __name__, "__doc__": cls.__doc__, "__str__": Exception.__str__},
        )
        _INPUT_ERROR_TYPES[cls] = combined
    exc = cast(LiteLLMBadRequestError, combined.__new__(combined))
    LiteLLMBadRequestError.__init__(exc, message=str(err), model=model, llm_provider=PROVIDER)
    exc.args = err.args
    for key, value in vars(err).items():  # InvalidOptionError.field
        setattr(exc, key, value)
    return exc


def _scrub_secrets(optional_params: dict[str, Any], logging_obj: Any) -> None:
    """Blank the gateway token where LiteLLM keeps the call's keywords once it is read.

    LiteLLM puts unknown keywords such as `gateway_token` into `optional_params` and
    into its logging object, whose `model_call_details` go to every success and failure
    callback; the token must not travel there.
    """
    if optional_params.get("gateway_token") is not None:
        optional_params["gateway_token"] = _REDACTED
    details = getattr(logging_obj, "model_call_details", None)
    if isinstance(details, dict):
        if details.get("gateway_token") is not None:
            details["gateway_token"] = _REDACTED
        logged = details.get("optional_params")
        if isinstance(logged, dict) and logged.get("gateway_token") is not None:
            logged["gateway_token"] = _REDACTED


def _timeout_error(exc: httpx.TimeoutException) -> GatewayLLMError:
    # 408 is what LiteLLM maps to litellm.Timeout, which the Router retries.
    err = ProviderError(
        f"no answer from the gateway in time ({type(exc).__name__})", status_code=408
    )
    return GatewayLLMError(err)


def _build(
    http: httpx.Client | httpx.AsyncClient, request: _Request, timeout: float | httpx.Timeout | None
) -> httpx.Request:
    return http.build_request(
        "POST", request.url, content=request.content, headers=request.headers, timeout=timeout
    )


def _bound(
    response: httpx.Response, request: _Request, timeout: Any, started: float
) -> httpx.Response:
    """The body of `response` capped, and due by the call's deadline (LiteLLM's
    `timeout` when it is a number: "the maximum execution time" of the call).
    """

    def as_litellm(error: GatewayError, answer: httpx.Response) -> BaseException:
        # 408: litellm.Timeout, retried by the Router; 502: a broken answer.
        status = 408 if isinstance(error, GatewayTimeoutError) else 502
        return GatewayLLMError(error, answer.headers, status_code=status)

    total = float(timeout) if isinstance(timeout, int | float) and timeout > 0 else None
    return limit_response(
        response,
        max_bytes=request.max_bytes,
        timeout_s=total,
        started=started,
        deadline_setting="timeout",
        map_error=as_litellm,
    )


def _send(
    http: httpx.Client, request: _Request, timeout: float | httpx.Timeout | None, *, stream: bool
) -> httpx.Response:
    """Send `request`; its body bounded, and read unless `stream` (error bodies always)."""
    started = time.monotonic()
    try:
        response = http.send(_build(http, request, timeout), stream=True)
    except httpx.TimeoutException as exc:
        raise _timeout_error(exc) from exc
    _bound(response, request, timeout, started)
    if stream and response.status_code < 400:
        return response
    try:
        response.read()
    except httpx.TimeoutException as exc:
        raise _timeout_error(exc) from exc
    finally:
        response.close()
    return response


async def _asend(
    http: httpx.AsyncClient,
    request: _Request,
    timeout: float | httpx.Timeout | None,
    *,
    stream: bool,
) -> httpx.Response:
    """The async twin of `_send`."""
    started = time.monotonic()
    try:
        response = await http.send(_build(http, request, timeout), stream=True)
    except httpx.TimeoutException as exc:
        raise _timeout_error(exc) from exc
    _bound(response, request, timeout, started)
    if stream and response.status_code < 400:
        return response
    try:
        await response.aread()
    except httpx.TimeoutException as exc:
        raise _timeout_error(exc) from exc
    finally:
        await response.aclose()
    return response


def _response_cost(info: Mapping[str, Any], usage: Any) -> float | None:
    """The provider's price of one answer from LiteLLM's price map; 0.0 for a cache HIT."""
    if info.get("cache_status") == "HIT":
        return 0.0  # served from the gateway cache: the provider was not called
    model, slug = info.get("model"), info.get("provider")
    if usage is None or not model or not slug:
        return None
    provider = _LITELLM_PRICE_PROVIDER.get(slug, slug)
    prices = litellm.model_cost.get(f"{provider}/{model}") or litellm.model_cost.get(model)
    if not prices or prices.get("litellm_provider") != provider:
        return None
    per_in = prices.get("input_cost_per_token")
    per_out = prices.get("output_cost_per_token") or 0.0
    if per_in is None:
        return None
    prompt = getattr(usage, "prompt_tokens", 0) or 0
    completion = getattr(usage, "completion_tokens", 0) or 0
    details = getattr(usage, "prompt_tokens_details", None)
    cached = min(getattr(details, "cached_tokens", 0) or 0, prompt)
    per_cached = prices.get("cache_read_input_token_cost")
    if per_cached is None:
        per_cached = per_in
    return float((prompt - cached) * per_in + cached * per_cached + completion * per_out)


# --------------------------------------------------------------------------- streaming


class _ChunkMaker:
    """OpenAI SSE lines -> LiteLLM `GenericStreamingChunk` dicts.

    The first chunk carries the gateway dict in `provider_specific_fields`, which
    LiteLLM sets as attributes on the chunk it hands out (`chunk.gateway`).
    """

    __slots__ = ("_finished", "_first", "_headers", "_info", "_secrets", "done")

    def __init__(
        self, info: dict[str, Any], headers: httpx.Headers, secrets: tuple[str, ...] = ()
    ) -> None:
        self._info = info
        self._headers = headers
        self._secrets = secrets
        self._first = True
        self._finished = False
        self.done = False
        """`data: [DONE]` was read: nothing more to read."""

    def _invalid(self, message: str) -> GatewayLLMError:
        err = InvalidResponseError(
            message, status_code=200, log_id=self._headers.get(Header.LOG_ID)
        )
        return GatewayLLMError(err, self._headers, status_code=502)

    def end(self) -> None:
        """The body ended: a stream with neither `[DONE]` nor a finish reason was cut."""
        if not self.done and not self._finished:
            raise self._invalid(
                "the stream ended without a finish reason or data: [DONE]; the answer is incomplete"
            )

    def adopt_wrapper(self, frame: Any) -> None:
        """Give the `CustomStreamWrapper` iterating us the gateway dict and headers.

        LiteLLM builds the wrapper after a streaming handler returns and has no hook to
        hand it response headers (landscape 1.4, litellm #18631), so
        `stream._hidden_params["additional_headers"]` stays empty for custom providers.
        The wrapper is the caller driving our first step; if it is not found (another
        LiteLLM version drives streams differently), the first chunk still has the dict.
        """
        adopted: list[CustomStreamWrapper] = []
        # Our driver, then (under the Router) the Router's own wrapper driving that one.
        for _ in range(_WRAPPER_SEARCH_DEPTH):
            if frame is None:
                break
            owner = frame.f_locals.get("self")
            if isinstance(owner, CustomStreamWrapper) and all(owner is not a for a in adopted):
                _adopt(owner, self._info, self._headers)
                adopted.append(owner)
            frame = frame.f_back

    def feed(self, line: str) -> list[GenericStreamingChunk]:
        try:
            event = parse_sse_line(line)
        except ValueError:
            line = redact(line[:200], self._secrets)
            raise self._invalid(f"malformed event in the stream: {line!r}") from None
        if event is None:
            return []
        if event is SSE_DONE:
            self.done = True
            return []
        if not isinstance(event, dict):
            return []
        if "error" in event and not event.get("choices"):
            err = ProviderError(
                redact(_stream_error_message(event["error"]), self._secrets),
                status_code=500,
                log_id=self._headers.get(Header.LOG_ID),
                body=redact_body(event, self._secrets),
            )
            raise GatewayLLMError(err, self._headers)
        chunks = _event_chunks(event)
        if chunks and chunks[-1]["is_finished"]:
            self._finished = True
        if chunks and self._first:
            self._first = False
            chunks[0]["provider_specific_fields"] = {GATEWAY_KEY: self._info}
        return chunks


def _adopt(wrapper: CustomStreamWrapper, info: dict[str, Any], headers: httpx.Headers) -> None:
    hidden = wrapper._hidden_params
    additional = hidden.get("additional_headers")
    processed = process_response_headers(headers)
    if isinstance(additional, dict):
        # In place: the wrapper's per-chunk base params share this very dict.
        additional.update(processed)
    else:
        hidden["additional_headers"] = processed
    hidden[GATEWAY_KEY] = info
    base = getattr(wrapper, "_base_hidden_params", None)
    if isinstance(base, dict):
        base[GATEWAY_KEY] = info
    wrapper._response_headers = headers


def _stream_error_message(error: Any) -> str:
    if isinstance(error, dict) and error.get("message"):
        return f"error event in the stream: {error['message']}"
    return f"error event in the stream: {str(error)[:300]}"


def _usage_block(usage: Any) -> dict[str, Any] | None:
    if not isinstance(usage, dict) or usage.get("prompt_tokens") is None:
        return None
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = int(usage.get("completion_tokens") or 0)
    block: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": int(usage.get("total_tokens") or prompt + completion),
    }
    for key in ("prompt_tokens_details", "completion_tokens_details"):
        if isinstance(usage.get(key), dict):
            block[key] = usage[key]
    return block


def _event_chunks(event: dict[str, Any]) -> list[GenericStreamingChunk]:
    """One OpenAI `chat.completion.chunk` -> LiteLLM's generic chunks (one per tool call)."""
    usage = _usage_block(event.get("usage"))
    choices = event.get("choices") or []
    if not choices:
        if usage is None:
            return []
        return [
            GenericStreamingChunk(
                text="", is_finished=False, finish_reason="", usage=cast(Any, usage), index=0
            )
        ]
    choice = choices[0]
    delta = choice.get("delta") or {}
    finish = choice.get("finish_reason") or ""
    index = int(choice.get("index") or 0)
    tool_calls = delta.get("tool_calls") or [None]
    chunks: list[GenericStreamingChunk] = []
    last = len(tool_calls) - 1
    for i, call in enumerate(tool_calls):
        chunks.append(
            GenericStreamingChunk(
                text=(delta.get("content") or "") if i == 0 else "",
                tool_use=_tool_use(call) if call is not None else None,
                # LiteLLM stops at the first finished chunk: only the last may say so.
                is_finished=bool(finish) and i == last,
                finish_reason=finish if i == last else "",
                usage=cast(Any, usage) if i == last else None,
                index=index,
            )
        )
    return chunks


def _tool_use(call: dict[str, Any]) -> Any:
    function = call.get("function") or {}
    return {
        "id": call.get("id"),
        "type": "function",
        "function": {"name": function.get("name"), "arguments": function.get("arguments") or ""},
        "index": int(call.get("index") or 0),
    }


class _SyncStream:
    """The chunks of one streamed answer; closes the HTTP response when done or dropped."""

    def __init__(
        self, response: httpx.Response, info: dict[str, Any], secrets: tuple[str, ...] = ()
    ) -> None:
        self._response = response
        self._lines = response.iter_lines()
        self._chunks = _ChunkMaker(info, response.headers, secrets)
        self._pending: list[GenericStreamingChunk] = []
        self._started = False

    def __iter__(self) -> _SyncStream:
        return self

    def __next__(self) -> GenericStreamingChunk:
        if not self._started:
            self._started = True
            self._chunks.adopt_wrapper(sys._getframe(1) if hasattr(sys, "_getframe") else None)
        while not self._pending:
            if self._chunks.done:
                self.close()
                raise StopIteration
            try:
                line = next(self._lines)
            except StopIteration:
                self.close()
                self._chunks.end()
                raise
            except httpx.TimeoutException as exc:
                self.close()
                raise _timeout_error(exc) from exc
            except BaseException:
                self.close()
                raise
            try:
                self._pending = self._chunks.feed(line)
            except BaseException:
                self.close()
                raise
            self._pending.reverse()
        return self._pending.pop()

    def close(self) -> None:
        self._response.close()

    def __del__(self) -> None:
        response = getattr(self, "_response", None)
        if response is not None and not response.is_closed:
            response.close()


# --------------------------------------------------------------------------- registration

handler: Final = CloudflareGatewayLLM()
"""The handler the proxy's `custom_provider_map` names and `register` installs."""

_register_lock = threading.Lock()

_LITELLM_LOGGERS: Final = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")
_TOKEN_IN_TEXT: Final = re.compile(
    r"""(["']?gateway_token["']?\s*[:=]\s*)(["'])(?:\\.|(?!\2).)*\2"""
)


class _RedactGatewayToken(logging.Filter):
    """Blanks `'gateway_token': '...'` in LiteLLM's own log records.

    LiteLLM logs a call's keywords and optional params at DEBUG before any handler runs
    (so before `_scrub_secrets`); filters run only for records that pass the
    level check, so this costs nothing while DEBUG is off.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a record whose args do not fit its format: leave it to logging
            return True
        if "gateway_token" in text:
            record.msg = _TOKEN_IN_TEXT.sub(rf"\1\2{_REDACTED}\2", text)
            record.args = ()
        return True


_REDACT_FILTER: Final = _RedactGatewayToken()


def register(custom_handler: CloudflareGatewayLLM | None = None) -> None:
    """Add the provider `cloudflare-ai-gateway` to `litellm.custom_provider_map` once.

    Safe to call any number of times and from several threads: an entry for the
    provider that is already there (ours, or one the proxy's config.yaml made) is kept.
    Also installs a filter on LiteLLM's loggers that blanks `gateway_token` values.
    """
    with _register_lock:
        for name in _LITELLM_LOGGERS:
            logger = logging.getLogger(name)
            if _REDACT_FILTER not in logger.filters:
                logger.addFilter(_REDACT_FILTER)
        current = list(litellm.custom_provider_map or [])
        if any(item.get("provider") == PROVIDER for item in current):
            return
        current.append({"provider": PROVIDER, "custom_handler": custom_handler or handler})
        litellm.custom_provider_map = current
        # LiteLLM does this on every call; doing it now makes the provider known to
        # helpers such as litellm.get_llm_provider before the first call.
        litellm.utils.custom_llm_setup()  # type: ignore[no-untyped-call]
