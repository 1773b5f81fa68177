"""Which of LiteLLM's call parameters reach the gateway request: an allowlist.

As LiteLLM's `get_supported_openai_params` / `map_openai_params` are for its own
providers. Parameters reach the body through an allowlist: OpenAI's chat and embeddings
parameters (`CHAT_PARAMS`, `EMBEDDING_PARAMS`), plus the fields of `extra_body`, which is
how a provider's own parameters are sent. LiteLLM's own keys (its published
`all_litellm_params`, `LITELLM_PARAMS`, any `litellm_*` key) stay out of the body. Any
other key is a parameter the user set that is not OpenAI's: it is refused before anything
is sent, naming `extra_body` and `drop_params=True`, as LiteLLM refuses a parameter a
provider does not support (https://docs.litellm.ai/docs/completion/drop_params).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import litellm
from litellm.types.utils import all_litellm_params

from .._arguments import misnamed
from ..core.errors import InvalidOptionError
from ..core.options import GatewayOptions, coerce_options
from ..core.routing import Operation

GATEWAY_PARAMS: Final = frozenset(
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
"""The provider's own keys: per call, or in a deployment's `litellm_params`."""

CHAT_PARAMS: Final = frozenset(
    (
        "audio",
        "frequency_penalty",
        "function_call",
        "functions",
        "logit_bias",
        "logprobs",
        "max_completion_tokens",
        "max_tokens",
        "metadata",
        "modalities",
        "n",
        "parallel_tool_calls",
        "prediction",
        "presence_penalty",
        "prompt_cache_key",
        "reasoning_effort",
        "response_format",
        "safety_identifier",
        "seed",
        "service_tier",
        "stop",
        "store",
        "temperature",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "user",
        "verbosity",
        "web_search_options",
    )
)
"""OpenAI's chat completion parameters sent as they are (`stream` and `stream_options`
are the handler's: a stream always asks for its usage chunk)."""

EMBEDDING_PARAMS: Final = frozenset(("dimensions", "encoding_format", "user"))
"""OpenAI's embeddings parameters sent as they are."""

LITELLM_PARAMS: Final = frozenset(
    (
        "additional_drop_params",
        "api_version",
        "drop_params",
        "extra_body",
        "extra_headers",
        "max_retries",
        "num_retries",
        "request_timeout",
        "stream",
        "stream_options",
        "timeout",
    )
)
"""LiteLLM's own keys that reach `optional_params` (the Router injects `max_retries=0` and
`stream=False`); the handler sets `stream` and `stream_options` itself, and `extra_body`
is merged into the body, not sent as a field."""


def drops_params(litellm_params: Mapping[str, Any] | None) -> bool:
    """Whether the call drops the parameters it cannot send (LiteLLM's `drop_params`).

    Args:
        litellm_params: LiteLLM's `litellm_params` of the call (its `drop_params` there).

    Returns:
        True for `drop_params=True` on the call or the deployment, or `litellm.drop_params`.
    """
    return bool((litellm_params or {}).get("drop_params")) or litellm.drop_params is True


_LITELLM_OWN: Final = frozenset(all_litellm_params)
"""LiteLLM's published list of its own parameters (a list there), for O(1) lookups."""


def _not_for_the_body(key: str) -> bool:
    """Whether `key` is ours or LiteLLM's.

    LiteLLM's are its published list of its own parameters
    (`litellm.types.utils.all_litellm_params`), `LITELLM_PARAMS`, and any `litellm_*` key.
    """
    return (
        key in GATEWAY_PARAMS
        or key in LITELLM_PARAMS
        or key in _LITELLM_OWN
        or key.startswith("litellm_")
    )


_UPSTREAM_PARAMS: Final[Mapping[Operation, frozenset[str]]] = {
    "chat": CHAT_PARAMS,
    "embeddings": EMBEDDING_PARAMS,
}


def gateway_params(optional_params: Mapping[str, Any]) -> dict[str, Any]:
    """The provider's own keys among LiteLLM's `optional_params`.

    Args:
        optional_params: What LiteLLM hands the handler.

    Returns:
        The keys of `GATEWAY_PARAMS` that are there.
    """
    return {k: v for k, v in optional_params.items() if k in GATEWAY_PARAMS}


def upstream_params(optional_params: Mapping[str, Any], operation: Operation) -> dict[str, Any]:
    """The body fields of `optional_params`: OpenAI's parameters, then `extra_body`'s.

    Args:
        optional_params: What LiteLLM hands the handler.
        operation: `chat` or `embeddings`: which of OpenAI's parameters are known.

    Returns:
        The fields to merge into the request body.

    Raises:
        InvalidOptionError: A key that is neither OpenAI's, LiteLLM's nor ours, without
            `drop_params=True` (the message names `extra_body`).
    """
    allowed = _UPSTREAM_PARAMS.get(operation, CHAT_PARAMS)
    fields = {k: v for k, v in optional_params.items() if k in allowed}
    if not optional_params.get("drop_params"):
        for key in optional_params:
            if key not in allowed and not _not_for_the_body(key):
                reason = misnamed(key, GATEWAY_PARAMS, "the cloudflare-ai-gateway provider")
                raise InvalidOptionError(
                    key,
                    reason
                    or f"is not an OpenAI {operation} parameter, so it is not sent as one; "
                    f"pass extra_body={{{key!r}: ...}} to send it to the provider, or "
                    "drop_params=True to drop it",
                )
    extra_body = optional_params.get("extra_body")
    if isinstance(extra_body, Mapping):
        fields.update(extra_body)
    return fields


def merged_options(
    optional_params: Mapping[str, Any],
    litellm_params: Mapping[str, Any] | None,
    cache_controls: Mapping[str, Any] | None = None,
) -> GatewayOptions | None:
    """The call's `gateway_options` on top of its deployment's, by `GatewayOptions.merge`.

    The Router hands a provider one dict: the deployment's `litellm_params` with the
    call's keywords on top, so a call's `gateway_options` replaces a deployment's
    `litellm_params["gateway_options"]` before the handler runs. A deployment's
    `model_info` is set by the Router after the call's keywords and reaches the handler
    as it is (https://docs.litellm.ai/docs/proxy/configs), so options a deployment keeps
    in `model_info["gateway_options"]` are defaults the call's fields are merged onto:
    the call's fields win, and `metadata` merges key by key.

    LiteLLM's own cache controls of the call (`cache_controls`) come first: options that
    set `skip_cache` or `cache_ttl` explicitly win over them.

    Args:
        optional_params: What LiteLLM hands the handler (the call's `gateway_options`).
        litellm_params: LiteLLM's `litellm_params` of the call (its `model_info`).
        cache_controls: LiteLLM's `cache={...}` of the call (`litellm_cache_controls`).

    Returns:
        The options to send, or None when neither sets any.

    Raises:
        InvalidOptionError: Options that are not valid `GatewayOptions` (naming the field).
    """
    call = coerce_options(optional_params.get("gateway_options"))
    model_info = (litellm_params or {}).get("model_info")
    deployment = None
    if isinstance(model_info, Mapping):
        deployment = coerce_options(model_info.get("gateway_options"))
    merged = cache_options(cache_controls)
    for options in (deployment, call):
        if options is not None:
            merged = options if merged is None else merged.merge(options)
    return merged


def litellm_cache_controls(logging_obj: Any) -> Mapping[str, Any] | None:
    """LiteLLM's `cache={...}` of the call, which LiteLLM keeps from its providers.

    LiteLLM reads it in its caching wrapper and hands a provider neither it nor its
    fields; the wrapper's copy of the call's keywords is on the call's logging object
    (`logging_obj.llm_caching_handler.request_kwargs`).

    Args:
        logging_obj: LiteLLM's logging object of the call (any object, or None).

    Returns:
        The call's `cache` dict, or None when it has none or LiteLLM keeps it elsewhere.
    """
    handler = getattr(logging_obj, "llm_caching_handler", None)
    request_kwargs = getattr(handler, "request_kwargs", None)
    if not isinstance(request_kwargs, Mapping):
        return None
    cache = request_kwargs.get("cache")
    return cache if isinstance(cache, Mapping) else None


def cache_options(cache: Mapping[str, Any] | None) -> GatewayOptions | None:
    """LiteLLM's dynamic cache controls as the gateway's cache options.

    LiteLLM's controls (https://docs.litellm.ai/docs/proxy/caching, "Dynamic cache
    controls") and the gateway's headers
    (https://developers.cloudflare.com/ai-gateway/features/caching/):

    - `no-cache: True` -> `skip_cache` (`cf-aig-skip-cache: true`).
    - `no-store: True` -> `skip_cache` too: the gateway has no header that reads its
      cache but does not store the response, so the request bypasses it.
    - `ttl: N` -> `cache_ttl` (`cf-aig-cache-ttl: N`, 60 to 2,592,000 seconds).
    - `s-maxage` and `namespace` are LiteLLM's cache only: nothing is sent.

    Args:
        cache: The call's `cache` dict, or None.

    Returns:
        The options, or None when no control maps to one.

    Raises:
        InvalidOptionError: A `ttl` that is not a whole number of seconds from 60 to
            2,592,000 (the error names `cache_ttl`).
    """
    if not cache:
        return None
    fields: dict[str, Any] = {}
    if cache.get("no-cache") is True or cache.get("no-store") is True:
        fields["skip_cache"] = True
    ttl = cache.get("ttl")
    if ttl is not None:
        if isinstance(ttl, float) and ttl.is_integer():
            ttl = int(ttl)
        fields["cache_ttl"] = ttl
    return GatewayOptions(**fields) if fields else None
