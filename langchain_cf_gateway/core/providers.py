"""The provider table: one row per upstream the gateway knows.

https://developers.cloudflare.com/ai-gateway/usage/providers/

A row says how to name the provider (slug and aliases), how to address its
models on the compat endpoint, where its OpenAI-compatible API lives behind
the provider-native path if it has one, how the upstream expects its key, and
how the REST API spells its models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Provider:
    """A provider the gateway routes to: its path segment and how each endpoint names it.

    https://developers.cloudflare.com/ai-gateway/usage/providers/
    """

    slug: str
    """The path segment after `/{gateway_id}/` (`google-ai-studio`)."""
    aliases: tuple[str, ...] = ()
    """Other names accepted in model ids (`google` for `google-ai-studio`)."""
    compat_prefix: str | None = None
    """Model prefix on the compat endpoint, or None if compat does not serve it."""
    chat_path: str | None = None
    """Path of its OpenAI-compatible chat API after `/{slug}/`, if it has one."""
    embeddings_path: str | None = None
    """Path of its OpenAI-compatible embeddings API after `/{slug}/`, if it has one."""
    native_path: str | None = None
    """Its own (non-OpenAI) main path, for documentation and the local gateway."""
    auth_header: str = "authorization"
    """Header that carries the provider key upstream (lowercase)."""
    auth_scheme: str = "Bearer"
    """Prefix of the key in that header ('' for a bare key)."""
    rest_prefix: str | None = None
    """Model prefix on the REST API (`/ai/v1/chat/completions`), if it serves it."""

    @property
    def openai_compatible(self) -> bool:
        """Whether the provider has an OpenAI-compatible chat path behind the gateway."""
        return self.chat_path is not None

    def auth_value(self, key: str) -> str:
        """The value of `auth_header` for the provider key `key`."""
        return f"{self.auth_scheme} {key}" if self.auth_scheme else key


WORKERS_AI: Final = "workers-ai"
COMPAT: Final = "compat"
DYNAMIC: Final = "dynamic"
CUSTOM_PREFIX: Final = "custom-"
AUTO_ROUTER: Final = "cloudflare/auto"
"""Cloudflare's Auto Router: https://developers.cloudflare.com/ai-gateway/features/auto-router/"""

PROVIDERS: Final[tuple[Provider, ...]] = (
    Provider(
        "openai",
        compat_prefix="openai",
        chat_path="chat/completions",
        embeddings_path="embeddings",
        rest_prefix="openai",
    ),
    Provider(
        "anthropic",
        compat_prefix="anthropic",
        native_path="v1/messages",
        auth_header="x-api-key",
        auth_scheme="",
        rest_prefix="anthropic",
    ),
    Provider(
        "google-ai-studio",
        aliases=("google", "gemini"),
        compat_prefix="google-ai-studio",
        native_path="v1/models/{model}:generateContent",
        auth_header="x-goog-api-key",
        auth_scheme="",
        rest_prefix="google",
    ),
    Provider(
        "google-vertex-ai",
        aliases=("vertex", "vertex-ai"),
        compat_prefix="google-vertex-ai",
        native_path="v1/projects/{project}/locations/{region}/publishers/google/models/{model}:generateContent",
    ),
    Provider(
        WORKERS_AI,
        aliases=("workersai", "cloudflare"),
        compat_prefix=WORKERS_AI,
        chat_path="v1/chat/completions",
        embeddings_path="v1/embeddings",
        native_path="{model}",
        rest_prefix="",
    ),
    Provider(
        "azure-openai",
        aliases=("azure",),
        native_path="{resource}/{deployment}/chat/completions?api-version=2023-05-15",
        auth_header="api-key",
        auth_scheme="",
    ),
    Provider(
        "aws-bedrock",
        aliases=("bedrock",),
        compat_prefix="aws-bedrock",
        native_path="bedrock-runtime/{region}/model/{model}/invoke",
    ),
    Provider(
        # Groq's OpenAI-compatible API has no embeddings endpoint.
        "groq",
        compat_prefix="groq",
        chat_path="chat/completions",
    ),
    Provider(
        "mistral",
        compat_prefix="mistral",
        chat_path="v1/chat/completions",
        embeddings_path="v1/embeddings",
    ),
    Provider("cohere", compat_prefix="cohere", native_path="v1/chat", auth_scheme="Token"),
    Provider(
        "perplexity-ai",
        aliases=("perplexity",),
        compat_prefix="perplexity",
        chat_path="chat/completions",
    ),
    Provider(
        "grok",
        aliases=("xai", "x-ai"),
        compat_prefix="grok",
        chat_path="v1/chat/completions",
        rest_prefix="xai",
    ),
    Provider("deepseek", compat_prefix="deepseek", chat_path="chat/completions"),
    Provider("cerebras", compat_prefix="cerebras", chat_path="chat/completions"),
    Provider("baseten", compat_prefix="baseten", chat_path="v1/chat/completions"),
    Provider(
        "parallel",
        compat_prefix="parallel",
        native_path="v1/tasks/runs",
        auth_header="x-api-key",
        auth_scheme="",
    ),
    Provider("openrouter", chat_path="v1/chat/completions", embeddings_path="v1/embeddings"),
    Provider("replicate", native_path="predictions"),
    Provider("huggingface", native_path="{org}/{model}"),
    Provider(
        "elevenlabs",
        native_path="v1/text-to-speech/{voice}",
        auth_header="xi-api-key",
        auth_scheme="",
    ),
    Provider("cartesia", native_path="tts/bytes", auth_header="x-api-key", auth_scheme=""),
    Provider("fal", native_path="{path}", auth_scheme="Key"),
    Provider(
        "ideogram", native_path="v1/ideogram-v3/generate", auth_header="api-key", auth_scheme=""
    ),
    Provider("deepgram", native_path="v1/listen", auth_scheme="Token"),
)

CUSTOM_SLUG: Final = re.compile(r"^custom-[a-z0-9][a-z0-9_-]*$")
"""A custom provider's slug: `custom-` then lowercase letters, digits, '-' or '_'."""

_BY_NAME: Final[dict[str, Provider]] = {name: p for p in PROVIDERS for name in (p.slug, *p.aliases)}


def custom_provider(slug: str) -> Provider:
    """The row of a custom provider `custom-{slug}`.

    https://developers.cloudflare.com/ai-gateway/configuration/custom-providers/

    A custom provider forwards `/custom-{slug}/{path}` to `{its base_url}/{path}`; we
    assume its API is OpenAI-compatible with `chat/completions` and `embeddings`
    directly under that base URL, which is how such providers are usually registered.
    """
    name = slug if slug.startswith(CUSTOM_PREFIX) else CUSTOM_PREFIX + slug
    return Provider(
        name,
        compat_prefix=name,
        chat_path="chat/completions",
        embeddings_path="embeddings",
    )


def find_provider(name: str) -> Provider | None:
    """The row for a slug, alias or `custom-{slug}`, case-insensitively; None if unknown."""
    key = name.strip().lower()
    row = _BY_NAME.get(key)
    # The slug becomes a path segment: '?', '#', '%' or '\\' in it would move the rest of
    # the URL into a query or fragment, so only the characters of a slug are accepted.
    if row is None and CUSTOM_SLUG.match(key):
        row = custom_provider(key)
    return row


def known_slugs() -> list[str]:
    """The slugs of every provider in `PROVIDERS`, in table order."""
    return [p.slug for p in PROVIDERS]
