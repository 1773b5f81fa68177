"""Request building and response parsing of the LiteLLM provider: no I/O.

As LiteLLM's `litellm/llms/<provider>/chat/transformation.py`: LiteLLM's call parameters
-> the gateway request (URL, headers, JSON body), and the gateway's response -> LiteLLM's
`ModelResponse` or `EmbeddingResponse` with the gateway dict in `_hidden_params`.

Which parameters reach the body is `params.py`'s (an allowlist).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

import httpx
from litellm.types.utils import EmbeddingResponse, ModelResponse, Usage

from .. import __version__
from ..core import (
    ConfigError,
    GatewayConfig,
    GatewayInfo,
    GatewayOptions,
    Route,
    Step,
    UniversalRoute,
    build_route,
    build_universal,
    coerce_options,
)
from ..core.codec import encode_json, error_from_httpx, error_from_stream_event, is_error_body
from ..core.errors import InvalidOptionError, InvalidResponseError
from ..core.protocol import Header
from ..core.redaction import credentials_of, redact
from ..core.routing import ENDPOINTS, Endpoint, Operation
from ._compat import provider_headers, set_response_headers
from .cost_calculator import response_cost
from .params import gateway_params, upstream_params
from .stream_parser import GATEWAY_KEY


def _litellm_version() -> str:
    try:
        return importlib.metadata.version("litellm")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


USER_AGENT: Final = f"langchain-cf-gateway/{__version__} litellm/{_litellm_version()}"


@dataclass(frozen=True, slots=True)
class Target:
    """Where a call goes, without the per-call parts (options, provider key, body)."""

    config: GatewayConfig
    route: Route
    """The route of the requested model (the first step of a fallback chain)."""
    fallbacks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GatewayRequest:
    """One request to the gateway, ready to send."""

    url: str
    headers: dict[str, str]
    content: bytes
    target: Target
    universal: UniversalRoute | None
    secrets: tuple[str, ...]
    """The credentials the request carries, masked in every error of its response."""
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


def deployment_key(
    model: str, api_base: str | None, gw: Mapping[str, Any], operation: Operation
) -> tuple[Any, ...]:
    """The values that decide a call's `Target`: the key of the handler's cache of them.

    Args:
        model: The model id, without the provider prefix.
        api_base: LiteLLM's `api_base`.
        gw: The provider's own keys of the call (`gateway_params`).
        operation: `chat` or `embeddings`.

    Returns:
        A hashable key.

    Raises:
        ConfigError: A key has the wrong type or value (named in the message).
    """
    token = gw.get("gateway_token")
    if token is not None and not isinstance(token, str):
        token = getattr(token, "get_secret_value", lambda: token)()
    endpoint = gw.get("endpoint") or "compat"
    if endpoint not in ENDPOINTS:
        raise ConfigError(f"endpoint must be one of {', '.join(ENDPOINTS)}; got {endpoint!r}")
    return (
        model,
        api_base or None,
        _as_str(gw.get("account_id"), "account_id"),
        _as_str(gw.get("gateway_id"), "gateway_id"),
        token,
        endpoint,
        _as_fallbacks(gw.get("gateway_fallbacks")),
        operation,
    )


def resolve_target(key: tuple[Any, ...]) -> Target:
    """The `Target` of a `deployment_key`: arguments > environment > config file.

    This reads the environment and the config file (`GatewayConfig.resolve`): the handler
    calls it once per deployment and caches the result.

    Args:
        key: What `deployment_key` returned.

    Returns:
        The resolved target.

    Raises:
        ConfigError: The configuration is incomplete or invalid (the message names the fix).
    """
    model, api_base, account_id, gateway_id, token, endpoint, fallbacks, operation = key
    config = GatewayConfig.resolve(account_id, gateway_id, token, api_base)
    route = build_route(config, model, cast(Endpoint, endpoint), operation)
    if fallbacks and endpoint == "rest":
        raise ConfigError(
            "gateway_fallbacks run on the universal endpoint, which the REST API "
            "(endpoint='rest') does not offer: use endpoint='compat' or 'native'"
        )
    return Target(config, route, fallbacks)


def provider_auth(route: Route, api_key: str) -> dict[str, str]:
    """The header that carries the provider key on `route`.

    Args:
        route: The route of the call.
        api_key: The provider's key.

    Returns:
        One header: `Authorization: Bearer ...` on compat, the provider's own on native.

    Raises:
        ConfigError: The route is the REST API, which takes no provider key.
    """
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


def build_request(
    target: Target,
    *,
    api_key: str | None,
    optional_params: Mapping[str, Any],
    extra_headers: Mapping[str, str] | None,
    operation: Operation,
    payload: dict[str, Any],
    stream: bool = False,
    max_response_bytes: int,
) -> GatewayRequest:
    """LiteLLM's parameters -> gateway URL, headers (options, keys) and the JSON body.

    Args:
        target: Where the call goes.
        api_key: The provider's key, sent as its auth header when given.
        optional_params: LiteLLM's `optional_params` of the call.
        extra_headers: LiteLLM's `headers` (`extra_headers`) of the call.
        operation: `chat` or `embeddings`.
        payload: The body's own fields (`messages` or `input`).
        stream: Whether to ask for a stream (with its usage chunk).
        max_response_bytes: The handler's default cap of the response body.

    Returns:
        The request.

    Raises:
        GatewayInputError: Invalid gateway options or provider key (a subclass of it).
        InvalidOptionError: `max_response_bytes` is not an integer >= 1.
    """
    gw = gateway_params(optional_params)
    options: GatewayOptions | None = coerce_options(gw.get("gateway_options"))
    payload.update(upstream_params(optional_params, operation))
    if stream:
        payload["stream"] = True
        # Always ask for the usage chunk: LiteLLM's stream_options never reach the body.
        payload["stream_options"] = {"include_usage": True}

    route = target.route
    headers: dict[str, str] = {"content-type": "application/json", "user-agent": USER_AGENT}
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
            headers.update(provider_auth(route, api_key))
        url = route.url
        body = {"model": route.body_model, **payload}
    if extra_headers:
        headers.update(extra_headers)
    token = target.config.token.get_secret_value() if target.config.token else None
    secrets = credentials_of(headers, None, api_key, token)
    max_bytes = gw.get("max_response_bytes", max_response_bytes)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise InvalidOptionError(
            "max_response_bytes", f"must be an integer >= 1; got {max_bytes!r}"
        )
    return GatewayRequest(url, headers, encode_json(body), target, universal, secrets, max_bytes)


def response_info(request: GatewayRequest, headers: Mapping[str, str]) -> dict[str, Any]:
    """The gateway dict of a response (`GATEWAY_INFO_KEYS`), defaults from the route.

    Args:
        request: The request the response is for.
        headers: The response headers.

    Returns:
        The dict: cache status, log id, model, provider, step...
    """
    info = GatewayInfo.from_headers(headers)
    routes = request.universal.routes if request.universal else (request.target.route,)
    index = info.step if info.step is not None and 0 <= info.step < len(routes) else 0
    ref = routes[index].ref
    if ref.dynamic:  # the gateway names what a dynamic route chose, or nobody knows
        return info.as_dict()
    step = index if request.universal else None
    return info.with_defaults(model=ref.model, provider=ref.slug, step=step).as_dict()


def raise_for_status(response: httpx.Response, request: GatewayRequest) -> None:
    """Raise the typed error of an HTTP error response (its body read).

    Args:
        response: The response.
        request: Its request (for the credentials to mask).

    Raises:
        GatewayError: The status is 400 or above (the subclass the error body says).
    """
    if response.status_code >= 400:
        error = error_from_httpx(response, *request.secrets)
        raise error


def parse_json_object(response: httpx.Response, request: GatewayRequest) -> dict[str, Any]:
    """The JSON object of a 2xx response body.

    Args:
        response: The response, its body read.
        request: Its request (for the credentials to mask).

    Returns:
        The parsed body.

    Raises:
        InvalidResponseError: The body is not a JSON object.
        GatewayError: A 2xx body that is an error object (`core.codec.is_error_body`).
    """
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        text = redact(response.text[:2000], request.secrets)
        raise InvalidResponseError(
            f"the gateway responded HTTP {response.status_code} with a body that is "
            f"not a JSON object: {text[:200]!r}",
            status_code=response.status_code,
            log_id=response.headers.get(Header.LOG_ID),
            body=text,
        )
    if response.is_success and is_error_body(data):  # an error object, not a result
        error = error_from_stream_event(
            data, response.status_code, response.headers, request.secrets
        )
        raise error
    return data


def chat_response(
    request: GatewayRequest, headers: httpx.Headers, data: dict[str, Any], *, status_code: int = 200
) -> ModelResponse:
    """An OpenAI chat completion -> LiteLLM's `ModelResponse`, gateway dict attached.

    Args:
        request: The request the response is for.
        headers: The response headers.
        data: The parsed body.
        status_code: The response's status, for the error of a body of another shape.

    Returns:
        The response.

    Raises:
        InvalidResponseError: JSON without a non-empty `choices` list.
    """
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise InvalidResponseError(
            "the response is JSON but not a chat completion (no choices)",
            status_code=status_code,
            log_id=headers.get(Header.LOG_ID),
        )
    data.pop("object", None)
    result = ModelResponse(**data)
    attach(result, request, headers)
    return result


def input_count(inputs: Any) -> int:
    """How many embeddings an `input` asks for: one per string or token list.

    Args:
        inputs: OpenAI's `input`: a string, a list of strings, a list of token ids (one
            input) or a list of token-id lists.

    Returns:
        The number of vectors the response must hold.
    """
    if isinstance(inputs, str) or not isinstance(inputs, list):
        return 1
    if inputs and all(isinstance(item, int) for item in inputs):
        return 1
    return len(inputs)


def embedding_response(
    request: GatewayRequest,
    headers: httpx.Headers,
    data: dict[str, Any],
    model_response: EmbeddingResponse,
    *,
    expected: int,
    status_code: int = 200,
) -> EmbeddingResponse:
    """An OpenAI embeddings response -> LiteLLM's `model_response`, filled in.

    Args:
        request: The request the response is for.
        headers: The response headers.
        data: The parsed body.
        model_response: The `EmbeddingResponse` LiteLLM handed the handler.
        expected: How many inputs were sent: the response has one vector each.
        status_code: The response's status, for the error of a body of another shape.

    Returns:
        `model_response`.

    Raises:
        InvalidResponseError: Not an embeddings list of `expected` vectors.
    """
    items = data.get("data")
    if not isinstance(items, list) or len(items) != expected:
        got = len(items) if isinstance(items, list) else "no"
        raise InvalidResponseError(
            f"the response is not an embeddings list of {expected} vectors ({got} `data` items)",
            status_code=status_code,
            log_id=headers.get(Header.LOG_ID),
        )
    model_response.model = data.get("model")
    model_response.data = items
    usage = data.get("usage")
    if isinstance(usage, dict):
        prompt = int(usage.get("prompt_tokens") or 0)
        model_response.usage = Usage(
            prompt_tokens=prompt,
            completion_tokens=0,
            total_tokens=int(usage.get("total_tokens") or prompt),
        )
    attach(model_response, request, headers)
    return model_response


def attach(result: Any, request: GatewayRequest, response_headers: httpx.Headers) -> None:
    """Put the gateway dict, the `llm_provider-*` headers and the cost on `result`.

    Args:
        result: A `ModelResponse` or `EmbeddingResponse`.
        request: The request it is the response to.
        response_headers: The response headers.
    """
    headers = dict(response_headers.items())  # lowercase keys; one pass, read thrice
    hidden = result._hidden_params
    hidden["additional_headers"] = provider_headers(headers)
    info = hidden[GATEWAY_KEY] = response_info(request, headers)
    set_response_headers(result, headers)
    cost = response_cost(info, getattr(result, "usage", None))
    if cost is not None:
        hidden["response_cost"] = cost


def gateway_info(obj: Any) -> dict[str, Any] | None:
    """The gateway dict of a response, a stream chunk, or a stream (once its response began).

    `ModelResponse` and `EmbeddingResponse`: `_hidden_params["gateway"]`; a streamed
    `ModelResponseStream` chunk: its `gateway` attribute (first chunk) or its hidden
    params (later chunks); `CustomStreamWrapper`: its hidden params.

    Args:
        obj: What LiteLLM returned, or a chunk of a stream.

    Returns:
        The dict (`GATEWAY_INFO_KEYS`), or None where there is none (yet).
    """
    value = getattr(obj, GATEWAY_KEY, None)
    if isinstance(value, dict) and value:
        return value
    hidden = getattr(obj, "_hidden_params", None)
    if isinstance(hidden, dict):
        value = hidden.get(GATEWAY_KEY)
        if isinstance(value, dict) and value:
            return value
    return None
