"""What a chat model's settings make of its requests: where they go, their model and metadata.

Pure pieces of `ChatCloudflareGateway`, built once per model or computed per call:

- `ChatTarget`: the route (or the fallback chain through the universal endpoint) every
  request goes to, the model id of each request body, and the gateway block of each
  response (`response_metadata["gateway"]`);
- `CallHeaders`: the `cf-aig-*` headers of each call, the model's options merged with
  the call's and with forwarded run metadata (`forwarded_metadata`);
- `capped_timeout`: the SDK's timeout with no phase past a stream's deadline;
- `has_finish_reason`, `unfinished_stream`: a stream that ends without a finish reason
  raises, and never passes for a short response.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

import httpx
import openai

from ._errors import ErrorInResponse, Exchange, UnexpectedShape
from ._openai_sdk import OMIT_AUTHORIZATION
from .core import (
    Bounds,
    ConfigError,
    GatewayConfig,
    GatewayInfo,
    GatewayOptions,
    Header,
    InvalidOptionError,
    InvalidResponseError,
    ModelRef,
    Route,
    Step,
    UniversalRoute,
    build_route,
    build_universal,
    coerce_options,
    parse_model_id,
)
from .core.codec import is_error_body
from .core.routing import Endpoint

if TYPE_CHECKING:
    from langchain_core.outputs import ChatGenerationChunk

_INTERNAL_METADATA_PREFIXES: Final = ("ls_", "langgraph_", "checkpoint_", "__")
"""Run metadata LangChain and LangGraph add for themselves: never forwarded by `True`."""

_FORWARDED_VALUE_MAX_CHARS: Final = Bounds.HEADER_VALUE_MAX_CHARS // Bounds.METADATA_MAX_ENTRIES
"""A forwarded string longer than its share of one header value is left out."""

_FALLBACK_KEYS: Final = ("model", "gateway_options", "endpoint")


class ChatTarget:
    """Where a chat model's requests go: one route, or a fallback chain (built once per model).

    Build it with `ChatTarget.resolve`.
    """

    __slots__ = ("_overrides", "config", "omit_authorization", "route", "universal")

    def __init__(
        self,
        config: GatewayConfig,
        route: Route | None = None,
        universal: UniversalRoute | None = None,
        *,
        omit_authorization: bool,
    ) -> None:
        self.config = config
        self.route = route
        """The route of a model without fallbacks."""
        self.universal = universal
        """The fallback chain, sent to the universal endpoint."""
        self.omit_authorization = omit_authorization
        """True when no `Authorization` header may be sent (BYOK, Unified Billing, fallbacks)."""
        self._overrides: dict[str, Route] = {}

    @classmethod
    def resolve(
        cls,
        config: GatewayConfig,
        model: str,
        endpoint: Endpoint,
        fallbacks: Sequence[str | Mapping[str, Any]] | None,
        provider_key: str | None,
    ) -> ChatTarget:
        """The target of a model with these settings.

        Args:
            config: The resolved gateway.
            model: The model id (`openai/gpt-4o-mini`...).
            endpoint: `compat`, `native` or `rest`.
            fallbacks: More models to try in order, through the universal endpoint.
            provider_key: The provider's key, if any.

        Returns:
            The target.

        Raises:
            ConfigError: Fallbacks with `endpoint="rest"`, a malformed fallback, or a
                provider key with `endpoint="rest"`.
        """
        if fallbacks:
            if endpoint == "rest":
                raise ConfigError(
                    "fallbacks go through the universal endpoint, which serves compat and "
                    "native steps: use endpoint='compat' (or 'native') with fallbacks"
                )
            steps = [Step(model, None, endpoint)]
            steps += [_fallback_step(item, endpoint) for item in fallbacks]
            universal = build_universal(config, steps, provider_key=provider_key)
            # The key, if any, rides in each step's headers.
            return cls(config, universal=universal, omit_authorization=True)
        route = build_route(config, model, endpoint, "chat")
        if route.endpoint == "rest" and provider_key is not None:
            raise ConfigError(
                "endpoint='rest' authenticates with the gateway token; store the "
                "provider key in the gateway (BYOK) and drop api_key, or use "
                "endpoint='compat'"
            )
        omit = provider_key is None and route.endpoint != "rest"
        return cls(config, route, omit_authorization=omit)

    @property
    def sdk_base_url(self) -> str:
        """The OpenAI SDK's `base_url` for this target."""
        first = self.universal.routes[0] if self.universal is not None else self.route
        assert first is not None
        return first.sdk_base_url

    @property
    def headers(self) -> Mapping[str, str]:
        """The headers of the route (or the chain) on every request."""
        source = self.universal if self.universal is not None else self.route
        assert source is not None
        return source.headers

    def body_model(self, model: Any, default: str) -> tuple[str, ModelRef | None]:
        """The model id of a request body, and the ref of a per-call model that replaced it.

        Args:
            model: The per-call model (`invoke(..., model=...)`), or the default, or None.
            default: The model's own model id.

        Returns:
            The body's model id, and the `ModelRef` of a per-call model (else None).

        Raises:
            ConfigError: A per-call model with fallbacks, or one that lives at another URL.
        """
        if self.universal is not None:
            if model not in (None, default):
                raise ConfigError(
                    "a per-call model cannot replace a fallback chain; build another "
                    "ChatCloudflareGateway for it"
                )
            return self.universal.routes[0].body_model, None
        assert self.route is not None
        if model in (None, default):
            return self.route.body_model, None
        route = self._overrides.get(model)
        if route is None:
            route = build_route(self.config, str(model), self.route.endpoint, "chat")
            if route.url != self.route.url:
                raise ConfigError(
                    f"per-call model {model!r} lives at another URL than {default!r} "
                    f"on endpoint={self.route.endpoint!r}; use endpoint='compat' to switch "
                    "providers per call"
                )
            self._overrides[str(model)] = route  # same result every time: a cache
        return route.body_model, route.ref

    def info(self, headers: httpx.Headers | None, override: ModelRef | None) -> dict[str, Any]:
        """The gateway block of a response (`response_metadata["gateway"]`).

        Args:
            headers: The response's headers.
            override: The ref of a per-call model, if one replaced the model's own.

        Returns:
            `GatewayInfo.as_dict()`, with the model and provider of the step that served it.
        """
        info = GatewayInfo.from_headers(headers)
        ref: ModelRef | None
        if self.universal is not None:
            routes = self.universal.routes
            step = info.step
            ref = routes[step].ref if step is not None and 0 <= step < len(routes) else None
        else:
            assert self.route is not None
            ref = override or self.route.ref
        if ref is not None and not ref.dynamic:
            # The gateway names model and provider only for dynamic routes
            # (https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/usage/).
            info = info.with_defaults(model=ref.model, provider=ref.slug, step=None)
        return info.as_dict()


class CallHeaders:
    """The per-request headers of a model's calls: its gateway options, merged with each call's."""

    __slots__ = ("_base", "_fixed", "_options")

    def __init__(self, options: GatewayOptions, *, omit_authorization: bool) -> None:
        self._options = options
        self._fixed: dict[str, Any] = dict(OMIT_AUTHORIZATION) if omit_authorization else {}
        """What every call carries (the omitted `Authorization`)."""
        self._base = {**options.to_headers(), **self._fixed}
        """The headers of a call without options of its own."""

    def of_call(
        self,
        options: GatewayOptions | Mapping[str, Any] | None,
        run_metadata: Mapping[str, Any] | None,
        forward: bool | Sequence[str],
    ) -> dict[str, Any]:
        """The headers of one call: a fresh dict, so concurrent calls share nothing.

        Args:
            options: The call's `gateway_options`, merged over the model's (metadata key by
                key).
            run_metadata: The LangChain run's metadata.
            forward: The model's `forward_run_metadata`.

        Returns:
            The headers.
        """
        if options is None and not run_metadata:
            return dict(self._base)
        merged = self._options.merge(options) if options is not None else self._options
        if run_metadata:
            extra = forwarded_metadata(run_metadata, merged.metadata or {}, forward)
            if extra:
                merged = merged.merge(GatewayOptions(metadata=extra))
        return {**merged.to_headers(), **self._fixed}


def forwarded_metadata(
    run_metadata: Mapping[str, Any], explicit: Mapping[str, Any], forward: bool | Sequence[str]
) -> dict[str, Any]:
    """The entries of a LangChain run's metadata to send in `cf-aig-metadata`.

    `cf-aig-metadata` takes at most 5 entries
    (https://developers.cloudflare.com/ai-gateway/observability/custom-metadata/):
    `explicit` entries (the `metadata` option) come first and win on equal keys, then run
    metadata in order until the budget is used. What the gateway would reject is left out.

    Args:
        run_metadata: The run's metadata.
        explicit: The `metadata` gateway option of the call.
        forward: `True` for every scalar entry except LangChain's and LangGraph's own
            (`ls_*`, `langgraph_*`, `checkpoint_*`), or the keys to forward.

    Returns:
        The entries to add to `explicit`.
    """
    budget = Bounds.METADATA_MAX_ENTRIES - len(explicit)
    if budget <= 0 or forward is False:
        return {}
    every = forward is True
    keys: Sequence[str] = list(run_metadata) if every else forward  # type: ignore[assignment]
    forwarded: dict[str, Any] = {}
    for key in keys:
        if key in explicit or key not in run_metadata:
            continue
        if every and key.startswith(_INTERNAL_METADATA_PREFIXES):
            continue
        if key.lower().startswith(Bounds.METADATA_RESERVED_PREFIX) or not key.strip():
            continue
        if not _forwardable(run_metadata[key]):
            continue
        try:
            # Best effort: what the core would reject (a key with CR/LF, a header that
            # grows past its bound once non-ASCII becomes \u escapes) is left out.
            GatewayOptions(metadata={**explicit, **forwarded, key: run_metadata[key]})
        except InvalidOptionError:
            continue
        forwarded[key] = run_metadata[key]
        if len(forwarded) == budget:
            break
    return forwarded


def capped_timeout(timeout: Any, cap: float) -> httpx.Timeout:
    """`timeout` with no phase longer than `cap` seconds.

    Args:
        timeout: The SDK's timeout: a number, a `(connect, read)` pair, an
            `httpx.Timeout` or None (the SDK's default).
        cap: The longest phase, in seconds.

    Returns:
        The capped timeout.
    """
    if isinstance(timeout, httpx.Timeout):
        base = timeout
    elif isinstance(timeout, tuple):
        base = httpx.Timeout(timeout[1], connect=timeout[0])
    elif isinstance(timeout, int | float):
        base = httpx.Timeout(timeout)
    else:
        base = openai.DEFAULT_TIMEOUT
    phases = base.as_dict()
    capped = {k: cap if v is None else min(v, cap) for k, v in phases.items()}
    return httpx.Timeout(**capped)


def has_finish_reason(chunk: ChatGenerationChunk) -> bool:
    """Whether `chunk` carries the stream's finish reason (`stop`, `length`, `tool_calls`...).

    Args:
        chunk: A chunk of a stream.

    Returns:
        True when its `generation_info` has a `finish_reason`.
    """
    info = chunk.generation_info
    return info is not None and info.get("finish_reason") is not None


def check_chat_completion(response: Any) -> None:
    """Check that a 2xx body is a chat completion before langchain-openai reads it.

    The SDK hands over a body that is not JSON as text (a proxy's HTML page), which
    langchain-openai would quote, unmasked, in a bare `ValueError`; JSON of another shape
    would be a `TypeError`. The error boundary makes either `InvalidResponseError`, with
    credentials masked.

    Args:
        response: What the SDK parsed: a dict, an `openai.BaseModel` or text.

    Raises:
        json.JSONDecodeError: The body is not JSON.
        UnexpectedShape: JSON without a non-empty `choices` list.
        ErrorInResponse: The body is an error object (`core.codec.is_error_body`).
    """
    if not isinstance(response, dict | openai.BaseModel):
        text = str(response)
        raise json.JSONDecodeError(f"Expecting a JSON object, got {text[:200]!r}", text, 0)
    if isinstance(response, dict):
        choices = response.get("choices")
    else:
        choices = getattr(response, "choices", None)
    if not isinstance(choices, list) or not choices:
        data = response if isinstance(response, dict) else response.model_dump()
        if is_error_body(data):
            raise ErrorInResponse(data)
        raise UnexpectedShape("the response is JSON but not a chat completion (no choices)")


def until_finished(
    first: ChatGenerationChunk, rest: Iterator[ChatGenerationChunk], exchange: Exchange
) -> Iterator[ChatGenerationChunk]:
    """The chunks after `first`, then the error of a stream that ended without a finish reason.

    Args:
        first: The stream's first chunk (already yielded by the caller).
        rest: The chunks after it.
        exchange: The stream's response (status and headers, for the error's log id).

    Yields:
        Each chunk of `rest`.

    Raises:
        InvalidResponseError: Neither `first` nor any chunk of `rest` had a finish reason.
    """
    finished = has_finish_reason(first)
    for chunk in rest:
        finished = finished or has_finish_reason(chunk)
        yield chunk
    if not finished:
        error = unfinished_stream(exchange.status, exchange.headers)
        raise error


async def auntil_finished(
    first: ChatGenerationChunk, rest: AsyncIterator[ChatGenerationChunk], exchange: Exchange
) -> AsyncIterator[ChatGenerationChunk]:
    """The async twin of `until_finished`.

    Args:
        first: The stream's first chunk (already yielded by the caller).
        rest: The chunks after it.
        exchange: The stream's response (status and headers, for the error's log id).

    Yields:
        Each chunk of `rest`.

    Raises:
        InvalidResponseError: Neither `first` nor any chunk of `rest` had a finish reason.
    """
    finished = has_finish_reason(first)
    async for chunk in rest:
        finished = finished or has_finish_reason(chunk)
        yield chunk
    if not finished:
        error = unfinished_stream(exchange.status, exchange.headers)
        raise error


def unfinished_stream(status: int | None, headers: httpx.Headers | None) -> InvalidResponseError:
    """The error of a stream that ended without a finish reason.

    Args:
        status: The stream's status.
        headers: The stream's headers (for the log id).

    Returns:
        The error to raise.
    """
    return InvalidResponseError(
        "the stream ended without a finish reason: the response may be cut short",
        status_code=status or 200,
        log_id=headers.get(Header.LOG_ID) if headers is not None else None,
    )


def _forwardable(value: Any) -> bool:
    if isinstance(value, bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return 0 < len(value) <= _FORWARDED_VALUE_MAX_CHARS and "\0" not in value
    return False


def _fallback_step(item: str | Mapping[str, Any], endpoint: Endpoint) -> Step:
    if isinstance(item, str):
        return Step(item, None, _step_endpoint(endpoint))
    if not isinstance(item, Mapping) or "model" not in item:
        raise ConfigError(
            "each fallback is a model id or a dict with 'model' (and optionally "
            f"'gateway_options', 'endpoint'); got {item!r}"
        )
    unknown = sorted(set(item) - set(_FALLBACK_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown fallback key(s) {', '.join(unknown)}; allowed: {', '.join(_FALLBACK_KEYS)}. "
            "Store per-provider keys in the gateway (BYOK) rather than in fallbacks"
        )
    parse_model_id(item["model"])
    step_endpoint = item.get("endpoint", endpoint)
    return Step(
        item["model"], coerce_options(item.get("gateway_options")), _step_endpoint(step_endpoint)
    )


def _step_endpoint(endpoint: str) -> Literal["compat", "native"]:
    if endpoint == "native":
        return "native"
    if endpoint == "compat":
        return "compat"
    raise ConfigError(f"a fallback step's endpoint is 'compat' or 'native'; got {endpoint!r}")
