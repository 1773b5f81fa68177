"""From a gateway path and body to the provider call it asks for (`ProviderCall`).

Paths are those of https://developers.cloudflare.com/ai-gateway/usage/providers/ (after
`/v1/{account_id}/{gateway_id}/`): `compat/...` with a `{provider}/{model}` model
(https://developers.cloudflare.com/ai-gateway/usage/chat-completion/), and
`{slug}/{path}` for every provider of core's table, native endpoint forms included
(`native_routes`). A model may carry a fault (`faults`). Pure: no I/O.

A `dynamic/<route>` model is not a provider call: `GatewayState.routes` (`route_store`)
says which route of a gateway serves it, `dynamic_exec` runs that route (each model
element a compat call resolved here), and `route_not_owned` is the response when none
does (https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/usage/).
`rest_provider` reads a REST API model id
(https://developers.cloudflare.com/ai-gateway/usage/rest-api/).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any, Final

from ..core.protocol import DEFAULT_GATEWAY_ID, ErrorCode, Header, gateway_error_body
from ..core.providers import (
    COMPAT,
    CUSTOM_PREFIX,
    DYNAMIC,
    PROVIDERS,
    WORKERS_AI,
    Provider,
    find_provider,
)
from . import edge
from .faults import split_model
from .native_routes import native_endpoint
from .request_error import GatewayRequestError
from .upstream import ProviderCall, ProviderResponse

_COMPAT_OPS: Final = {"chat/completions": "chat", "embeddings": "embeddings", "models": "models"}
_DYNAMIC_PREFIX: Final = f"{DYNAMIC}/"
_REST_PROVIDERS: Final[dict[str, Provider]] = {p.rest_prefix: p for p in PROVIDERS if p.rest_prefix}


def dynamic_route_name(body: bytes) -> str | None:
    """The route name of a chat body whose model is `dynamic/<route>`, else None.

    Raises:
        GatewayRequestError: the body breaks the edge's JSON rules (7001).
    """
    if _DYNAMIC_PREFIX.encode() not in body:
        return None
    parsed = _json_body(body)
    model = parsed.get("model") if isinstance(parsed, dict) else None
    if isinstance(model, str) and model.lower().startswith(_DYNAMIC_PREFIX):
        return model[len(_DYNAMIC_PREFIX) :]
    return None


def route_not_owned(gateway_id: str, name: str, *, rest: bool) -> ProviderResponse:
    """The response for `dynamic/<name>` sent to a gateway that owns no such route.

    Cloudflare scopes routes to their gateway: on compat the response is HTTP 400 with
    code 2005; on the REST API, resolved against the gateway of `cf-aig-gateway-id`
    (`default` without it), a 404
    (https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/usage/).
    Cloudflare documents no body for the REST 404: the local gateway uses its error
    shape, code 2005, there too.

    Args:
        gateway_id: the gateway the request resolved against.
        name: the route name, after `dynamic/`.
        rest: whether the request came on the REST API.

    Returns:
        The gateway-made response, which the responder sends and logs as it would a
        provider's.
    """
    if rest:
        status = 404
        message = (
            f"Dynamic route '{name}' not found on gateway '{gateway_id}': set the "
            f"{Header.GATEWAY_ID} header to the gateway that owns the route (without it the "
            f"request resolves against '{DEFAULT_GATEWAY_ID}')"
        )
    else:
        status = 400
        message = (
            f"Dynamic route '{name}' is not a route of gateway '{gateway_id}': send it to the "
            "gateway that owns the route"
        )
    body = gateway_error_body(ErrorCode.PROVIDER_FAILED, message)
    body["httpCode"] = status
    return ProviderResponse(status, "application/json", _dumps(body))


def rest_provider(model: object) -> tuple[str, str] | None:
    """(compat slug, model name) of a REST API chat model, or None if the REST API has none.

    https://developers.cloudflare.com/ai-gateway/usage/rest-api/
    """
    if not isinstance(model, str):
        return None
    if model.startswith("@cf/"):
        return WORKERS_AI, model
    prefix, sep, rest = model.partition("/")
    provider = _REST_PROVIDERS.get(prefix) if sep else None
    return (provider.slug, rest) if provider is not None else None


def resolve(
    path: str,
    method: str,
    headers: Mapping[str, str],
    body: bytes,
    query_string: str = "",
    *,
    passthrough: Collection[str] = (),
) -> ProviderCall:
    """The provider call of a gateway path (after `/{gateway_id}/`).

    Raises:
        GatewayRequestError: an unknown provider (2008) or a body without a model (7001).
    """
    head, _, rest = path.partition("/")
    if head == COMPAT:
        return _resolve_compat(rest, method, headers, body, passthrough)
    provider = find_provider(head)
    if provider is None or (provider.slug != head and not head.startswith(CUSTOM_PREFIX)):
        raise GatewayRequestError(ErrorCode.INVALID_PROVIDER)
    parsed = _json_body(body) if body else None
    endpoint = native_endpoint(provider.slug, rest, method)  # the forms clients send
    rest = endpoint.path
    operation = "other"
    if endpoint.operation is not None:
        operation = endpoint.operation
    elif rest == provider.chat_path:
        operation = "chat"
    elif rest == provider.embeddings_path:
        operation = "embeddings"
    elif provider.slug == "anthropic" and rest == provider.native_path:
        operation = "messages"
    elif (rest == "models" or rest.endswith("/models")) and method == "GET":
        operation = "models"
    elif provider.slug == WORKERS_AI and rest.startswith(("@cf/", "@hf/")):
        # Workers AI's own schema: the model is the path
        # (https://developers.cloudflare.com/ai-gateway/usage/providers/workersai/)
        operation = "run"
    model, fault = "", None
    raw = body
    if operation == "run":
        model, fault = _split_fault(rest)
    elif endpoint.model is not None:
        model, fault = _split_fault(endpoint.model)
    elif isinstance(parsed, dict) and isinstance(parsed.get("model"), str):
        model, fault = _split_fault(parsed["model"])
        if fault is not None:
            parsed = {**parsed, "model": model}
            raw = _dumps(parsed)
    elif operation in ("chat", "embeddings", "messages", "responses", "count_tokens"):
        raise GatewayRequestError(
            ErrorCode.INVALID_REQUEST, "Invalid request: the body needs a 'model' string"
        )
    body_dict = parsed if isinstance(parsed, dict) else None
    return ProviderCall(
        provider=provider,
        operation=operation,  # type: ignore[arg-type]
        path=rest,
        model=model,
        fault=fault,
        body=body_dict,
        raw_body=raw,
        headers=headers,
        stream=bool(body_dict and body_dict.get("stream"))
        if endpoint.stream is None
        else endpoint.stream,
        log_path=path,
        query_string=query_string,
        method=method,
    )


def _resolve_compat(
    rest: str,
    method: str,
    headers: Mapping[str, str],
    body: bytes,
    passthrough: Collection[str],
) -> ProviderCall:
    operation = _COMPAT_OPS.get(rest)
    if operation is None or operation == "models":
        raise GatewayRequestError(
            ErrorCode.INVALID_REQUEST,
            "Invalid request: compat serves chat/completions, embeddings and models",
        )
    parsed = _json_body(body)
    if not isinstance(parsed, dict) or not isinstance(parsed.get("model"), str):
        raise GatewayRequestError(
            ErrorCode.INVALID_REQUEST,
            "Invalid request: the body needs a 'model' such as 'openai/gpt-4o-mini'",
        )
    provider, model_text = _compat_provider(parsed["model"])
    model, fault = _split_fault(model_text)
    path = provider.chat_path if operation == "chat" else provider.embeddings_path
    upstream_body = {**parsed, "model": model}
    raw = _dumps(upstream_body) if provider.slug in passthrough else body
    return ProviderCall(
        provider=provider,
        operation=operation,  # type: ignore[arg-type]
        path=path or rest,
        model=model,
        fault=fault,
        body=upstream_body,
        raw_body=raw,
        headers=headers,
        stream=bool(parsed.get("stream")),
        log_path=f"{COMPAT}/{rest}",
        method=method,
    )


def _json_body(body: bytes) -> Any:
    """The body as JSON, held to the edge's rules (`edge.parse_json`)."""
    return edge.parse_json(body)


def _dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def _split_fault(model: str) -> tuple[str, Any]:
    try:
        return split_model(model)
    except ValueError as exc:
        raise GatewayRequestError(ErrorCode.INVALID_REQUEST, f"Invalid request: {exc}") from None


def _compat_provider(model: str) -> tuple[Provider, str]:
    """(provider, model name) of a compat model id.

    https://developers.cloudflare.com/ai-gateway/usage/chat-completion/

    Raises:
        GatewayRequestError: code 2008 for a model without a compat provider.
    """
    if model.startswith("@cf/"):
        provider = find_provider(WORKERS_AI)
        assert provider is not None
        return provider, model
    head, sep, rest = model.partition("/")
    provider = find_provider(head) if sep and rest else None
    if provider is None or provider.compat_prefix is None:
        raise GatewayRequestError(ErrorCode.INVALID_PROVIDER)
    return provider, rest
