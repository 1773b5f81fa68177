"""Model ids -> routes: the URL, the model string the body carries, the headers it needs.

Model id grammar:

```python
{provider}/{model}          openai/gpt-4o-mini, google/gemini-2.5-flash (alias of
                            google-ai-studio), groq/llama-3.1-8b-instant
workers-ai/@cf/{...}        workers-ai/@cf/meta/llama-3.1-8b-instruct
@cf/{...}                   the same, Workers AI implied
dynamic/{route}             a dynamic route of the gateway (compat and rest)
cloudflare/auto             Cloudflare's Auto Router (compat chat only)
cloudflare/@cf/{...}        Workers AI again (`cloudflare` is an alias of workers-ai)
custom-{slug}/{model}       a custom provider of the gateway
```

Dynamic routes: https://developers.cloudflare.com/ai-gateway/features/dynamic-routing/usage/;
the Auto Router: https://developers.cloudflare.com/ai-gateway/features/auto-router/.

Endpoints (https://developers.cloudflare.com/ai-gateway/usage/chat-completion/,
https://developers.cloudflare.com/ai-gateway/usage/providers/,
https://developers.cloudflare.com/ai-gateway/usage/universal/):

`compat`  `{host}/v1/{acct}/{gw}/compat/chat/completions`, body model `{prefix}/{model}`.
`native`  `{host}/v1/{acct}/{gw}/{slug}/{path}`, body model bare; only providers whose API
            is OpenAI-compatible.
`rest`    `https://api.cloudflare.com/client/v4/accounts/{acct}/ai/v1/chat/completions` with
            `cf-aig-gateway-id` and `Authorization: Bearer <token>`; a dynamic route's body
            model is `dynamic/{route}`. `.../ai/v1/embeddings` for Workers AI `@cf/` models
            (https://developers.cloudflare.com/workers-ai/configuration/open-ai-compatibility/).
universal   `POST {host}/v1/{acct}/{gw}` with a JSON array of steps, for fallbacks.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from .config import GatewayConfig
from .errors import ConfigError, InvalidModelIdError
from .options import GatewayOptions
from .protocol import Header
from .providers import (
    AUTO_ROUTER,
    COMPAT,
    CUSTOM_PREFIX,
    DYNAMIC,
    PROVIDERS,
    WORKERS_AI,
    Provider,
    find_provider,
    known_slugs,
)

Endpoint = Literal["compat", "native", "rest"]
Operation = Literal["chat", "embeddings"]
ENDPOINTS: Final = ("compat", "native", "rest")

_OPERATION_PATH: Final[dict[str, str]] = {"chat": "chat/completions", "embeddings": "embeddings"}
_MODEL_TEXT = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A parsed model id."""

    provider: Provider | None
    """None for a dynamic route and for the Auto Router."""
    model: str
    """The provider's model name (`gpt-4o-mini`, `@cf/meta/...`), the route name, or `auto`."""
    dynamic: bool = False
    """The gateway chooses the model: a dynamic route, or the Auto Router."""
    auto_router: bool = False
    """Cloudflare's Auto Router, `cloudflare/auto`."""

    @property
    def model_id(self) -> str:
        """The canonical id: `{slug}/{model}`, `dynamic/{route}` or `cloudflare/auto`."""
        if self.auto_router:
            return AUTO_ROUTER
        return f"{DYNAMIC}/{self.model}" if self.dynamic else f"{self.slug}/{self.model}"

    @property
    def slug(self) -> str | None:
        """The provider slug, or None for a dynamic route."""
        return self.provider.slug if self.provider else None

    @property
    def compat_model(self) -> str:
        """The `model` of a compat request: `{compat prefix}/{model}`, `dynamic/{route}` or `cloudflare/auto`.

        Raises:
            InvalidModelIdError: The compat endpoint does not serve this provider (the
                message names the endpoint or the SDK to use instead).
        """
        if self.dynamic:
            return self.model_id
        assert self.provider is not None
        if self.provider.compat_prefix is None:
            served = [p.slug for p in PROVIDERS if p.compat_prefix]
            fix = (
                "use endpoint='native'"
                if self.provider.openai_compatible
                else f"use its own SDK with base_url=provider_base_url({self.provider.slug!r})"
            )
            raise InvalidModelIdError(
                f"{self.provider.slug} is not served by the compat endpoint; {fix}, or pick "
                f"a provider the compat endpoint serves: {', '.join(served)}"
            )
        model = self.model
        if self.provider.slug == "google-vertex-ai" and not model.startswith("google/"):
            model = f"google/{model}"  # compat spells Vertex models google-vertex-ai/google/{m}
        return f"{self.provider.compat_prefix}/{model}"


def parse_model_id(model_id: str) -> ModelRef:
    """Parse a model id of the grammar above.

    Raises:
        InvalidModelIdError: `model_id` does not follow the grammar (the message shows
            valid ids).
    """
    if not isinstance(model_id, str):
        raise InvalidModelIdError(
            f"model must be a string such as 'openai/gpt-4o-mini'; got {type(model_id).__name__}"
        )
    text = model_id.strip()
    if not text or not _MODEL_TEXT.match(text):
        raise InvalidModelIdError(
            f"model id {model_id!r} must be printable ASCII without spaces, such as "
            "'openai/gpt-4o-mini', 'workers-ai/@cf/meta/llama-3.1-8b-instruct' or 'dynamic/support'"
        )
    if text.startswith("@cf/"):
        if text == "@cf/" or text.endswith("/"):
            raise InvalidModelIdError(
                f"model id {model_id!r} names no Workers AI model: write "
                "'@cf/{author}/{model}' such as '@cf/meta/llama-3.1-8b-instruct'"
            )
        return ModelRef(find_provider(WORKERS_AI), text)
    head, sep, rest = text.partition("/")
    if not sep or not rest or rest.startswith("/") or rest.endswith("/"):
        raise InvalidModelIdError(
            f"model id {model_id!r} needs a provider: write '{{provider}}/{{model}}' such as "
            f"'openai/gpt-4o-mini', or 'dynamic/{{route}}'{_did_you_mean_model(text)}"
        )
    if head.lower() == DYNAMIC:
        if "/" in rest:
            raise InvalidModelIdError(f"dynamic route name {rest!r} must not contain '/'")
        return ModelRef(None, rest, dynamic=True)
    if text.lower() == AUTO_ROUTER:
        return ModelRef(None, "auto", dynamic=True, auto_router=True)
    provider = find_provider(head)
    if provider is None and head.lower().startswith(CUSTOM_PREFIX):
        raise InvalidModelIdError(
            f"unknown provider {head!r} in model id {model_id!r}: a custom provider is "
            "'custom-' followed by letters, digits, '-' or '_' (its slug in the dashboard), "
            "such as 'custom-acme/m'"
        )
    if provider is None:
        hint = _did_you_mean_model(text) or _did_you_mean_provider(head, rest)
        raise InvalidModelIdError(
            f"unknown provider {head!r} in model id {model_id!r}"
            f"{f'{hint} Known' if hint else '; known'} providers: "
            f"{', '.join(known_slugs())}, dynamic, or custom-{{slug}} for a custom provider"
        )
    if provider.slug == WORKERS_AI and _is_auto_spelling(text):
        raise InvalidModelIdError(
            f"Workers AI models start with '@cf/' or '@hf/'{_did_you_mean_model(text)}"
        )
    if provider.slug == WORKERS_AI and not rest.startswith("@"):
        raise InvalidModelIdError(
            f"Workers AI models start with '@cf/' or '@hf/': write '{head}/@cf/{rest}'"
            + (
                f", or {AUTO_ROUTER!r} for Cloudflare's Auto Router"
                if head.lower() == "cloudflare"
                else ""
            )
        )
    return ModelRef(provider, rest)


# A bare model name's usual provider, by the start of the name (first match wins).
_MODEL_FAMILIES: Final = (
    ("gpt-", "openai"),
    ("chatgpt-", "openai"),
    ("text-embedding-004", "google-ai-studio"),
    ("text-embedding-", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("claude-", "anthropic"),
    ("gemini-", "google-ai-studio"),
    ("grok-", "grok"),
    ("mistral-", "mistral"),
    ("command-", "cohere"),
    ("deepseek-", "deepseek"),
    ("sonar", "perplexity-ai"),
)


# What users write for Cloudflare's Auto Router before `/auto` or `:auto`.
_AUTO_HEADS: Final = frozenset({"cloudflare", "cf", "workers-ai", "workersai", "workers_ai"})


def _did_you_mean_model(text: str) -> str:
    """`; did you mean '{id}'?`: the id that works for a model id written otherwise.

    For `openai:gpt-4o`, a bare `claude-...`, `auto` or `cloudflare:auto` (the Auto
    Router), `dynamic:support`, or a trailing `/`; empty when nothing fits.
    """
    if text.lower() == "auto" or _is_auto_spelling(text):
        return f"; did you mean {AUTO_ROUTER!r} (Cloudflare's Auto Router)?"
    trimmed = text.rstrip("/")
    if trimmed != text and "/" in trimmed:
        try:
            return f"; did you mean {parse_model_id(trimmed).model_id!r}?"
        except InvalidModelIdError:
            return ""
    head, colon, rest = text.partition(":")
    if colon and rest and "/" not in head and head.lower() == DYNAMIC:
        return f"; did you mean '{DYNAMIC}/{rest}'?"
    if colon and rest and "/" not in head and (provider := find_provider(head)) is not None:
        return f"; did you mean '{provider.slug}/{rest}'?"
    if "/" in text or ":" in text:
        return ""
    lowered = text.lower()
    for prefix, slug in _MODEL_FAMILIES:
        if lowered.startswith(prefix):
            return f"; did you mean '{slug}/{text}'?"
    return ""


def _is_auto_spelling(text: str) -> bool:
    """`cloudflare:auto`, `cf/auto`, `workers-ai/auto`: the Auto Router written otherwise."""
    head, _, rest = text.replace(":", "/", 1).partition("/")
    return rest.lower() == "auto" and head.lower() in _AUTO_HEADS


def _did_you_mean_provider(head: str, rest: str) -> str:
    """`; did you mean 'openai' ('openai/gpt-4o')?` for a close misspelling of a provider."""
    key = head.lower()
    slugs = [*known_slugs(), DYNAMIC]
    close = difflib.get_close_matches(key, slugs, n=1, cutoff=0.75)
    if not close:  # an alias (`gemnii`): name the provider's own slug
        aliases = {alias: p.slug for p in PROVIDERS for alias in p.aliases}
        close = [aliases[a] for a in difflib.get_close_matches(key, aliases, n=1, cutoff=0.75)]
    if not close:
        return ""
    return f"; did you mean {close[0]!r} ('{close[0]}/{rest}')?"


@dataclass(frozen=True, slots=True)
class Route:
    """Where and how one request goes."""

    url: str
    """The full URL of the request."""
    body_model: str
    """The `model` field of the request body."""
    headers: Mapping[str, str] = field(repr=False)  # carries the token: never in repr
    """Headers the route itself needs (gateway token, REST gateway id); not the options."""
    endpoint: Endpoint
    operation: Operation
    ref: ModelRef

    @property
    def sdk_base_url(self) -> str:
        """The base an OpenAI-style SDK appends `/chat/completions` or `/embeddings` to."""
        return self.url[: -len(_OPERATION_PATH[self.operation]) - 1]

    @property
    def provider(self) -> str | None:
        """The provider slug of the route's model, or None for a dynamic route."""
        return self.ref.slug


def build_route(
    config: GatewayConfig,
    model_id: str | ModelRef,
    endpoint: Endpoint = "compat",
    operation: Operation = "chat",
) -> Route:
    """The route of one model id on one endpoint kind, built before anything is sent.

    Raises:
        InvalidModelIdError: The endpoint does not serve this model id (the message
            names the endpoint that does).
    """
    ref = model_id if isinstance(model_id, ModelRef) else parse_model_id(model_id)
    if ref.auto_router and (endpoint != "compat" or operation != "chat"):
        # https://developers.cloudflare.com/ai-gateway/features/auto-router/
        raise InvalidModelIdError(
            f"the Auto Router is served by endpoint='compat' ({AUTO_ROUTER}); got endpoint={endpoint!r}"
            if endpoint != "compat"
            else f"the Auto Router serves chat completions only; {AUTO_ROUTER} has no embeddings"
        )
    if endpoint == "compat":
        url = f"{config.gateway_url}/{COMPAT}/{_OPERATION_PATH[operation]}"
        return Route(url, ref.compat_model, config.auth_headers(), endpoint, operation, ref)
    if endpoint == "native":
        if ref.provider is None:
            raise InvalidModelIdError(
                f"{ref.model_id} is a dynamic route: dynamic routes are served by endpoint='compat' or endpoint='rest'"
            )
        path = ref.provider.chat_path if operation == "chat" else ref.provider.embeddings_path
        if path is None:
            what = (
                "OpenAI-compatible API"
                if operation == "chat"
                else "OpenAI-compatible embeddings API"
            )
            # Only point at compat where compat serves the provider
            # (https://developers.cloudflare.com/ai-gateway/usage/chat-completion/).
            fix = (
                f"use endpoint='compat' for {ref.model_id}"
                if ref.provider.compat_prefix is not None
                else "call its own API through the gateway with its own SDK and "
                f"base_url=provider_base_url({ref.provider.slug!r})"
            )
            raise InvalidModelIdError(
                f"{ref.provider.slug} has no {what} behind the gateway's provider-native path; "
                f"{fix}"
            )
        url = f"{config.gateway_url}/{ref.provider.slug}/{path}"
        return Route(url, ref.model, config.auth_headers(), endpoint, operation, ref)
    if endpoint == "rest":
        return _rest_route(config, ref, operation)
    raise InvalidModelIdError(f"endpoint must be one of {', '.join(ENDPOINTS)}; got {endpoint!r}")


def _rest_route(config: GatewayConfig, ref: ModelRef, operation: Operation) -> Route:
    """The REST API route of `ref`: chat completions, and embeddings of Workers AI models.

    https://developers.cloudflare.com/ai-gateway/usage/rest-api/ ;
    embeddings: https://developers.cloudflare.com/workers-ai/configuration/open-ai-compatibility/

    Raises:
        InvalidModelIdError: The REST API does not serve this model for this operation.
        ConfigError: No Cloudflare API token to send.
    """
    if operation == "embeddings" and ref.slug != WORKERS_AI:
        raise InvalidModelIdError(
            "endpoint='rest' serves embeddings of Workers AI models only "
            f"(workers-ai/@cf/...); {_rest_embeddings_fix(ref)}"
        )
    if ref.provider is not None and ref.provider.rest_prefix is None:
        served = ", ".join(p.slug for p in PROVIDERS if p.rest_prefix is not None)
        if ref.provider.compat_prefix is not None:
            fix = f"use endpoint='compat' for {ref.model_id}"
        elif ref.provider.openai_compatible:
            fix = f"use endpoint='native' for {ref.model_id}"
        else:
            fix = f"use its own SDK with base_url=provider_base_url({ref.provider.slug!r})"
        raise InvalidModelIdError(f"the REST API serves {served} models; {fix}")
    if config.token is None:
        raise ConfigError(
            "endpoint='rest' needs a Cloudflare API token: pass gateway_token= (or token=) or "
            "set CLOUDFLARE_AI_GATEWAY_TOKEN"
        )
    if ref.provider is None:  # a dynamic route: the model names it, the header its gateway
        body_model = ref.model_id
    else:
        prefix = ref.provider.rest_prefix
        body_model = f"{prefix}/{ref.model}" if prefix else ref.model
    url = f"{config.api_base}/accounts/{config.account_id}/ai/v1/{_OPERATION_PATH[operation]}"
    headers = {
        "Authorization": f"Bearer {config.token.get_secret_value()}",
        Header.GATEWAY_ID: config.gateway_id,
    }
    return Route(url, body_model, headers, "rest", operation, ref)


def _rest_embeddings_fix(ref: ModelRef) -> str:
    """Where the embeddings of `ref`, which the REST API does not serve, are served."""
    if ref.provider is None or ref.provider.compat_prefix is not None:
        return f"use endpoint='compat' for {ref.model_id}"
    if ref.provider.embeddings_path is not None:
        return f"use endpoint='native' for {ref.model_id}"
    return f"use its own SDK with base_url=provider_base_url({ref.provider.slug!r})"


def provider_base_url(slug: str, config: GatewayConfig | None = None) -> str:
    """The gateway URL to give another SDK in place of the provider's own base URL.

    `ChatAnthropic(base_url=provider_base_url("anthropic"))` or
    `OpenAI(base_url=provider_base_url("openai", cfg))` send their usual requests through
    the gateway; the SDK appends its own paths (`/v1/messages`, `/chat/completions`).
    Without `config`, the gateway is resolved as `GatewayConfig.resolve` does.

    Raises:
        InvalidModelIdError: `slug` names no known provider.
    """
    config = config if config is not None else GatewayConfig.resolve()
    provider = find_provider(slug)
    if provider is None:
        raise InvalidModelIdError(
            f"unknown provider {slug!r}; known providers: {', '.join(known_slugs())}"
        )
    base = f"{config.gateway_url}/{provider.slug}"
    # Where the provider's OpenAI-compatible API sits under a version segment, include it,
    # so that an OpenAI client appending 'chat/completions' lands on the right path.
    if provider.chat_path and provider.chat_path.endswith("/chat/completions"):
        base += "/" + provider.chat_path[: -len("/chat/completions")]
    return base


# ---------------------------------------------------------------------- universal endpoint


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a universal-endpoint request: a model and its own options."""

    model: str | ModelRef
    options: GatewayOptions | None = None
    endpoint: Literal["compat", "native"] = "compat"
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # may hold a key
    """Extra per-step headers (a provider key for this step, say)."""


@dataclass(frozen=True, slots=True)
class UniversalRoute:
    """A fallback chain on the universal endpoint.

    https://developers.cloudflare.com/ai-gateway/usage/universal/
    """

    url: str
    headers: Mapping[str, str] = field(repr=False)  # the gateway token
    """Headers of the outer request (the gateway token)."""
    routes: tuple[Route, ...]
    steps: tuple[Mapping[str, Any], ...] = field(repr=False)  # step headers hold provider keys
    """Per step `{"provider", "endpoint", "headers", "config"?}`, without the query."""

    def body(self, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The JSON array: `query` is the OpenAI-style body, its model set per step."""
        return [
            {**step, "query": {**query, "model": route.body_model}}
            for route, step in zip(self.routes, self.steps, strict=True)
        ]


def build_universal(
    config: GatewayConfig,
    steps: Sequence[Step],
    *,
    provider_key: str | None = None,
    operation: Operation = "chat",
) -> UniversalRoute:
    """The universal-endpoint request of a fallback chain.

    https://developers.cloudflare.com/ai-gateway/usage/universal/

    Compat steps use the provider `compat`, so one OpenAI-style body serves every step.
    Per-step options become step headers, and their timeout and retry fields the step's
    `config`.

    Raises:
        InvalidModelIdError: `steps` is empty, or a step uses an endpoint the universal
            endpoint cannot serve.
    """
    if not steps:
        raise InvalidModelIdError("a fallback chain needs at least one model")
    routes: list[Route] = []
    skeletons: list[dict[str, Any]] = []
    for step in steps:
        if step.endpoint not in ("compat", "native"):
            raise InvalidModelIdError(
                f"a universal-endpoint step must use endpoint 'compat' or 'native'; "
                f"got {step.endpoint!r}"
            )
        route = build_route(config, step.model, step.endpoint, operation)
        routes.append(route)
        provider = route.ref.slug if route.endpoint == "native" else COMPAT
        assert provider is not None
        endpoint = route.url[len(config.gateway_url) + len(provider) + 2 :]
        step_headers: dict[str, str] = {"content-type": "application/json"}
        if provider_key:
            step_headers["authorization"] = f"Bearer {provider_key}"
        if step.options is not None:
            step_headers.update(step.options.step_headers())
        step_headers.update(step.headers)
        skeleton: dict[str, Any] = {
            "provider": provider,
            "endpoint": endpoint,
            "headers": step_headers,
        }
        if step.options is not None and (cfg := step.options.step_config()):
            skeleton["config"] = cfg
        skeletons.append(skeleton)
    return UniversalRoute(
        config.gateway_url, config.auth_headers(), tuple(routes), tuple(skeletons)
    )


def is_custom(slug: str | None) -> bool:
    """Whether `slug` names a custom provider (`custom-{name}`).

    https://developers.cloudflare.com/ai-gateway/configuration/custom-providers/
    """
    return bool(slug and slug.startswith(CUSTOM_PREFIX))
