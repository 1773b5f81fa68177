"""Token counts with the tokenizer of the model behind the provider prefix.

`openai/gpt-4o-mini`, `openrouter/openai/gpt-4o-mini` and `workers-ai/@cf/openai/gpt-oss-120b`
are OpenAI models: they are counted with their own tiktoken encoding, as `ChatOpenAI`
counts them. Every other model (Anthropic, Workers AI's Llama, Google, a dynamic route...)
has no tokenizer available offline, so its count is an estimate, made on purpose with
`cl100k_base`: Llama 3's tokenizer is `cl100k_base` plus 28,000 more tokens, so English
text counts nearly the same; Claude's and Gemini's tokenizers are not published, and their
counts can differ from it by tens of percent. The count of a response is in its
`usage_metadata`, reported by the provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import tiktoken
from tiktoken.model import encoding_name_for_model

from .core.errors import InvalidModelIdError
from .core.routing import parse_model_id

if TYPE_CHECKING:
    from collections.abc import Sequence

    from langchain_core.messages import BaseMessage
    from langchain_openai.chat_models.base import BaseChatOpenAI

    _Base = BaseChatOpenAI
else:
    _Base = object

APPROXIMATE_ENCODING: Final = "cl100k_base"
"""The encoding that counts a model without a known tokenizer."""

APPROXIMATE_FRAMING: Final = "gpt-4o"
"""The OpenAI model whose chat framing (3 tokens a message) such a count follows."""

_OPENAI_PREFIXES: Final = (
    # OpenAI models tiktoken 0.14 does not know by name (`gpt-4.5`, `o4`, `codex-mini`...)
    ("gpt-4o", "o200k_base"),
    ("gpt-4.1", "o200k_base"),
    ("gpt-4.5", "o200k_base"),
    ("gpt-5", "o200k_base"),
    ("gpt-6", "o200k_base"),
    ("gpt-oss", "o200k_base"),
    ("gpt-realtime", "o200k_base"),
    ("gpt-audio", "o200k_base"),
    ("chatgpt-", "o200k_base"),
    ("codex-", "o200k_base"),
    ("o1", "o200k_base"),
    ("o3", "o200k_base"),
    ("o4", "o200k_base"),
    ("gpt-4", "cl100k_base"),
    ("gpt-3.5", "cl100k_base"),
    ("gpt-35", "cl100k_base"),
)
"""First match wins: `gpt-4o` before `gpt-4`."""

_SAME_TEXT_TOKENS: Final = {"o200k_harmony": "o200k_base"}
"""Encodings that only add special tokens: ordinary text is counted by the base one,
which LiteLLM ships (no download)."""

_FRAMED_BY_LANGCHAIN: Final = ("gpt-3.5-turbo", "gpt-4", "gpt-5", "gpt-6", "o1", "o3", "o4")
"""Names whose chat framing langchain-openai knows; others are framed as `gpt-4o`."""


@dataclass(frozen=True, slots=True)
class Tokenizer:
    """How a model's text is counted."""

    encoding: str
    """The tiktoken encoding (`o200k_base`, `cl100k_base`...)."""
    framing: str
    """The OpenAI model whose chat framing message counts follow."""
    exact: bool
    """True for an OpenAI model; False for the `cl100k_base` estimate of any other."""


def _bare_name(model_id: str) -> str:
    """The model's own name, lowercased; empty for a dynamic route or the Auto Router.

    `gpt-4o-mini` of `openai/gpt-4o-mini`, of `openrouter/openai/gpt-4o-mini`, or of a bare
    `gpt-4o-mini` (a `tiktoken_model_name`).
    """
    try:
        ref = parse_model_id(model_id)
    except InvalidModelIdError:
        return model_id.strip().lower()
    if ref.dynamic:
        return ""  # the gateway picks the model: no name to go by
    return ref.model.rsplit("/", 1)[-1].lower()


def _openai_encoding(name: str) -> str | None:
    if not name:
        return None
    try:
        encoding = encoding_name_for_model(name)
    except KeyError:
        encoding = next((enc for prefix, enc in _OPENAI_PREFIXES if name.startswith(prefix)), "")
    return _SAME_TEXT_TOKENS.get(encoding, encoding) or None


def tokenizer_for(model_id: str) -> Tokenizer:
    """The tokenizer that counts `model_id`'s text.

    Args:
        model_id: A model id (`openai/gpt-4o-mini`, `workers-ai/@cf/meta/...`) or a bare
            OpenAI model name.

    Returns:
        The model's own tiktoken encoding for an OpenAI model (tiktoken's name for it,
        else the table above); `cl100k_base` with OpenAI's chat framing for any other.
    """
    name = _bare_name(model_id)
    encoding = _openai_encoding(name)
    if encoding is None:
        return Tokenizer(APPROXIMATE_ENCODING, APPROXIMATE_FRAMING, exact=False)
    framing = name if name.startswith(_FRAMED_BY_LANGCHAIN) else APPROXIMATE_FRAMING
    return Tokenizer(encoding, framing, exact=True)


class TokenCounting(_Base):
    """Token counting hooks of a gateway chat model (a mixin before `BaseChatOpenAI`).

    `get_num_tokens`, `get_token_ids` and `get_num_tokens_from_messages` count with
    `tokenizer_for(model)`, or `tokenizer_for(tiktoken_model_name)` when that is set.
    """

    def _get_encoding_model(self) -> tuple[str, tiktoken.Encoding]:
        tokenizer = tokenizer_for(self.tiktoken_model_name or self.model_name)
        return tokenizer.framing, tiktoken.get_encoding(tokenizer.encoding)

    def get_token_ids(self, text: str) -> list[int]:
        """The token ids of `text`, with the tokenizer of the model behind the prefix.

        OpenAI models (`openai/gpt-4o-mini`, also behind `openrouter/` or
        `workers-ai/@cf/openai/`) use their own tiktoken encoding, as `ChatOpenAI` does.
        Any other model is estimated with `cl100k_base` (close to Llama 3's tokenizer;
        Claude's and Gemini's can differ by tens of percent).

        Args:
            text: The text to tokenize.

        Returns:
            The token ids.
        """
        return super().get_token_ids(text)

    def get_num_tokens_from_messages(
        self,
        messages: Sequence[BaseMessage],
        tools: Sequence[Any] | None = None,
        *,
        allow_fetching_images: bool = True,
    ) -> int:
        """The number of prompt tokens of `messages`, counted as `ChatOpenAI` counts them.

        OpenAI models are counted exactly as `ChatOpenAI(model=<the model>)` counts them:
        their own tiktoken encoding and OpenAI's chat framing. Any other model (Anthropic,
        Workers AI, Google, a dynamic route...) is an estimate: `cl100k_base` for the text
        (Llama 3's tokenizer extends it, so English text counts nearly the same; Claude's
        and Gemini's tokenizers are not published and can differ by tens of percent) and
        OpenAI's framing of 3 tokens a message. The provider's own count of a call is in
        the response's `usage_metadata`.

        Args:
            messages: The messages to count.
            tools: Not counted (langchain-openai warns and ignores them).
            allow_fetching_images: Whether an image URL may be fetched to size it.

        Returns:
            The number of tokens.
        """
        return super().get_num_tokens_from_messages(
            messages, tools, allow_fetching_images=allow_fetching_images
        )
