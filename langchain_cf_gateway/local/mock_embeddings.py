"""The mock's embeddings: unit vectors, a function of the text and the size only.

`encoding_format: "base64"` gives little-endian float32 as OpenAI does
(https://platform.openai.com/docs/api-reference/embeddings/create).
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from collections.abc import Mapping
from typing import Any, Final

from .mock_text import MockLimitError, count_tokens

EMBEDDING_DIMENSIONS: Final = 32
"""Length of a mock embedding unless the request asks for `dimensions`."""
EMBEDDING_DIMENSIONS_MAX: Final = 8192
"""Largest `dimensions` the mock computes (OpenAI's largest model has 3072)."""
EMBEDDING_INPUTS_MAX: Final = 2048
"""Most inputs in one embeddings request: OpenAI's documented limit."""


def embeddings(body: Mapping[str, Any], model: str) -> tuple[dict[str, Any], int]:
    """(OpenAI embeddings response, prompt tokens)."""
    texts, size = embedding_texts(body)
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    tokens = 0
    for index, text in enumerate(texts):
        vector = embedding_vector(text, size)
        tokens += count_tokens(text)
        value: Any = (
            base64.b64encode(struct.pack(f"<{size}f", *vector)).decode() if as_base64 else vector
        )
        data.append({"object": "embedding", "index": index, "embedding": value})
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    return {"object": "list", "data": data, "model": model, "usage": usage}, tokens


def embedding_texts(body: Mapping[str, Any]) -> tuple[list[str], int]:
    """(input texts, vector size) of an embeddings request, within the mock's bounds.

    Raises:
        MockLimitError: too many inputs, or `dimensions` past the bound.
    """
    raw = body.get("input", "")
    if isinstance(raw, list) and len(raw) > EMBEDDING_INPUTS_MAX:
        raise MockLimitError(
            "input",
            f"{len(raw)} inputs is more than {EMBEDDING_INPUTS_MAX}, the most one request may "
            "send; send them in batches",
        )
    if isinstance(raw, str):
        texts = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw):
        texts = [" ".join(map(str, raw))]  # one pre-tokenized input
    elif isinstance(raw, list):
        texts = [
            x if isinstance(x, str) else " ".join(map(str, x)) if isinstance(x, list) else str(x)
            for x in raw
        ]
    else:
        texts = [str(raw)]
    size = body.get("dimensions")
    if isinstance(size, int) and not isinstance(size, bool) and size > EMBEDDING_DIMENSIONS_MAX:
        raise MockLimitError(
            "dimensions",
            f"{size} is more than {EMBEDDING_DIMENSIONS_MAX}, the mock model's bound; ask for "
            f"at most {EMBEDDING_DIMENSIONS_MAX}",
        )
    size = size if isinstance(size, int) and size > 0 else EMBEDDING_DIMENSIONS
    return texts, size


def embedding_vector(text: str, size: int = EMBEDDING_DIMENSIONS) -> list[float]:
    """The mock's unit vector for `text`: a function of the text and the size only."""
    values: list[float] = []
    counter = 0
    while len(values) < size:
        block = hashlib.sha256(f"{counter}\x00{text}".encode()).digest()
        values += [(v - 32768) / 32768 for (v,) in struct.iter_unpack(">H", block)]
        counter += 1
    values = values[:size]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]
