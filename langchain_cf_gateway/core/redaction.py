"""What an error shows of a request, with its credentials masked (client side).

The chat model, the embeddings, the LiteLLM provider and the management client keep
their errors' messages, bodies and headers free of the keys and tokens the request
carried: the values of credential headers and query parameters, and anything shaped
like a provider key (`sk-...`, `AIza...`) or following `Bearer`.
Which names carry a credential is `core.credentials.is_credential`, the one list the
local gateway's stored rows use too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from .credentials import is_credential

REDACTED: Final = "[redacted]"
"""What a masked credential reads as."""

_AUTH_SCHEME: Final = re.compile(r"^(?:Bearer|Basic|Token)\s+", re.IGNORECASE)
_MIN_SECRET_CHARS: Final = 6
"""Shorter values are not masked by value: masking "abc" everywhere would garble text."""

_KEY_SHAPES: Final = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"sk-[A-Za-z0-9_*\-]{6,}"  # OpenAI (sk-, sk-proj-), Anthropic (sk-ant-), DeepSeek...
    r"|AIza[0-9A-Za-z_\-]{20,}"  # Google API keys
    r"|(?:gsk|xai|pplx|hf|r8|csk|sk_live|sk_test)[-_][A-Za-z0-9_\-]{12,}"  # Groq, xAI...
    r")"
)
_SCHEMED: Final = re.compile(r"(?i)\b(Bearer|Basic|Token)(\s+)[A-Za-z0-9._~+/=\-]{6,}")


def credentials_of(
    headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    query: Iterable[tuple[str, str]] | None = None,
    *also: str | None,
) -> tuple[str, ...]:
    """The credentials a request carries, to be masked in what its errors show.

    Credential header values (and the part after `Bearer`), credential query values
    (Gemini's `?key=`), and `also`; values shorter than 6 characters are left out.
    """
    found: list[str] = [value for value in also if value]
    items = headers.items() if isinstance(headers, Mapping) else (headers or ())
    for name, value in items:
        if is_credential(str(name)) and value:
            found.append(str(value))
            bare = _AUTH_SCHEME.sub("", str(value))
            if bare != value:
                found.append(bare)
    for name, value in query or ():
        if is_credential(str(name)) and value:
            found.append(str(value))
    return tuple(s for s in dict.fromkeys(found) if len(s.strip()) >= _MIN_SECRET_CHARS)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with `secrets` and anything shaped like a key replaced by `[redacted]`.

    Shaped like a key: `sk-...`, `AIza...`, `gsk_...` and the like, and the value after
    `Bearer`, `Basic` or `Token`.
    """
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= _MIN_SECRET_CHARS and secret in text:
            text = text.replace(secret, REDACTED)
    text = _KEY_SHAPES.sub(REDACTED, text)
    return _SCHEMED.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


_REDACT_MAX_DEPTH: Final = 64


def redact_body(body: Any, secrets: Iterable[str] = (), _depth: int = 0) -> Any:
    """A parsed body (JSON values) with every string, key included, passed through `redact`."""
    secrets = tuple(secrets)
    if isinstance(body, str):
        return redact(body, secrets)
    if _depth >= _REDACT_MAX_DEPTH and isinstance(body, dict | list):
        return REDACTED  # deeper than any error body: not worth walking
    if isinstance(body, dict):
        return {
            redact(str(k), secrets): redact_body(v, secrets, _depth + 1) for k, v in body.items()
        }
    if isinstance(body, list):
        return [redact_body(v, secrets, _depth + 1) for v in body]
    return body
