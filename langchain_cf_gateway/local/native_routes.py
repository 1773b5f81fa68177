"""Provider-native paths as Cloudflare's own clients spell them, and the APIs they name.

A path after `/{gateway_id}/{provider}/` (or a universal step's `endpoint`) is read
here before the gateway picks an operation:

- **Endpoint forms.** Cloudflare's `ai-gateway-provider` builds each universal step's
  `endpoint` by stripping the provider's host from the URL its SDK would call
  (`packages/gateway-core/src/gateway-providers.ts` in `cloudflare/ai`), so OpenAI
  steps say `v1/chat/completions` and `v1/responses` (the SDK's base URL is
  `https://api.openai.com/v1`), Cerebras steps `v1/chat/completions`; and
  `workers-ai-provider` calls `workers-ai/run/@cf/{model}`. Each is the same endpoint
  as the documented form (`openai/chat/completions`, `workers-ai/@cf/{model}`:
  https://developers.cloudflare.com/ai-gateway/usage/providers/openai/ and
  .../providers/workersai/), so it is served as that one; the log row keeps the path as
  sent.
- **OpenAI Responses API** (`openai/responses`:
  https://developers.cloudflare.com/ai-gateway/usage/providers/openai/).
- **Anthropic** `v1/messages/count_tokens`
  (https://docs.anthropic.com/en/api/messages-count-tokens).
- **Google AI Studio** (https://developers.cloudflare.com/ai-gateway/usage/providers/google-ai-studio/):
  `v1beta/models/{model}:generateContent`, `:streamGenerateContent` (SSE with
  `alt=sse`, else a streamed JSON array, as https://ai.google.dev/api/generate-content
  describes), `:embedContent`, `:batchEmbedContents`, `:countTokens`,
  `GET v1beta/models` and `GET v1beta/models/{model}` (`v1` as well as `v1beta`);
  the model is in the path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from ..core.providers import WORKERS_AI

NativeOperation = Literal[
    "responses", "count_tokens", "generate_content", "embed_content", "model_list"
]
"""The operations named here (the others are decided by the gateway's own table)."""

OPENAI_V1_PREFIXED: Final = frozenset(("openai", "cerebras"))
"""Providers whose documented gateway path drops the `v1/` their SDKs' base URLs end in."""

GOOGLE_AI_STUDIO: Final = "google-ai-studio"
_GEMINI_METHODS: Final[dict[str, NativeOperation]] = {
    "generateContent": "generate_content",
    "streamGenerateContent": "generate_content",
    "embedContent": "embed_content",
    "batchEmbedContents": "embed_content",
    "countTokens": "count_tokens",
}


def as_object(value: Any) -> Mapping[str, Any]:
    """A field of a request body that should be a JSON object; `{}` when it is not."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """A field of a request body that should be a JSON array; `[]` when it is not."""
    return value if isinstance(value, list) else []


@dataclass(frozen=True, slots=True)
class NativeEndpoint:
    """What a provider-native path names, as far as this module decides it."""

    path: str
    """The documented form of the path (`chat/completions` for `v1/chat/completions`)."""
    operation: NativeOperation | Literal["other"] | None = None
    """The operation, or None to let the gateway's own table decide from `path`."""
    model: str | None = None
    """The model when the path carries it (Gemini's `models/{model}:method`)."""
    stream: bool | None = None
    """Whether the response streams, when the path says so rather than the body."""


def native_endpoint(slug: str, path: str, method: str) -> NativeEndpoint:
    """The endpoint a provider-native `path` (after `/{slug}/`) names."""
    if slug in OPENAI_V1_PREFIXED and path.startswith("v1/"):
        path = path[3:]
    if slug == WORKERS_AI and path.startswith(("run/@cf/", "run/@hf/")):
        path = path[4:]
    if slug == "openai" and path == "responses" and method == "POST":
        return NativeEndpoint(path, "responses")
    if slug == "anthropic" and path == "v1/messages/count_tokens" and method == "POST":
        return NativeEndpoint(path, "count_tokens")
    if slug == GOOGLE_AI_STUDIO:
        return _gemini(path, method)
    return NativeEndpoint(path)


def _gemini(path: str, method: str) -> NativeEndpoint:
    version, _, rest = path.partition("/")
    if version not in ("v1", "v1beta") or not rest.startswith("models"):
        return NativeEndpoint(path, "other")
    if rest == "models" and method == "GET":
        return NativeEndpoint(path, "model_list")
    name, sep, verb = rest[len("models/") :].rpartition(":")
    if method == "GET" and not sep and verb:  # models/{model}: one model's description
        return NativeEndpoint(path, "model_list", model=verb)
    operation = _GEMINI_METHODS.get(verb) if sep and method == "POST" else None
    if operation is None or not name:
        return NativeEndpoint(path, "other")
    return NativeEndpoint(path, operation, model=name, stream=verb == "streamGenerateContent")
