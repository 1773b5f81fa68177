"""Errors: bad input found before sending, and errors the gateway answered with.

The whole tree, so that one look shows what to catch::

    ValueError
     └── GatewayInputError              bad input, raised before anything is sent
          ├── ConfigError               account id, gateway id, token, base URL, config file
          │    └── MissingAccountIdError   no account id in the arguments, environment or file
          ├── InvalidModelIdError       a model id the grammar does not accept
          └── InvalidOptionError        a gateway option out of bounds (names the field)

    Exception
     └── GatewayError                   an HTTP error answer (status, code, message, log id)
          ├── GatewayAuthenticationError   2009, or 401 from the gateway
          ├── GatewayNotFoundError         2001: the gateway id does not exist
          ├── InvalidProviderError         2008: unknown provider slug
          ├── GatewayRateLimitError        2003 gateway rate limit, 2041 spend limit, any 429
          ├── ContentBlockedError          2016, 2017 guardrails; 2029, 2030 DLP
          ├── InsufficientCreditsError     2021: Unified Billing has no credits left
          ├── UnknownByokAliasError        2040: no stored key under that alias
          ├── ModelNotFoundError           7003: the model (or path) does not exist
          ├── ProviderError                the upstream's own error, passed through unchanged
          │    └── ProviderUnavailableError   5xx from the upstream (retryable)
          └── InvalidResponseError         an answer that breaks the protocol: not JSON, the
                                           wrong shape, a stream that ended before its end

``GatewayError.retryable`` says whether sending the same request again can help
(429 and 5xx, and 7013 scanner unavailable). :func:`error_from_response` turns
``(status, headers, body)`` into the right class; it is a pure function.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, ClassVar

from .protocol import ErrorCode, Header

# --------------------------------------------------------------------------- input errors


class GatewayInputError(ValueError):
    """Bad input: raised before any request is sent."""


class ConfigError(GatewayInputError):
    """The gateway configuration is missing or malformed."""


class MissingAccountIdError(ConfigError):
    """No account id anywhere: not in the arguments, the environment or the config file.

    Its own class so that a dry run (``cf-aig route``) can tell "none given" from "malformed".
    """


class InvalidModelIdError(GatewayInputError):
    """A model id that does not follow ``{provider}/{model}``, ``dynamic/{route}``..."""


class InvalidOptionError(GatewayInputError):
    """A gateway option outside its documented bounds; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


def wrapped_input_error(exc: ValueError) -> GatewayInputError | None:
    """The core input error a pydantic ``ValidationError`` wraps, if it wraps one.

    A validator that raises one of ours inside a pydantic model comes out wrapped; the
    integrations re-raise the original, which names the fix, instead of the wrapper.
    """
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return None
    for error in errors(include_url=False):
        original = (error.get("ctx") or {}).get("error")
        if isinstance(original, GatewayInputError):
            return original
    return None


# --------------------------------------------------------------------------- HTTP errors


class GatewayError(Exception):
    """An error answer from the gateway or, passed through it, from the provider."""

    hint: ClassVar[str] = ""
    """What to do about it; appended to the message."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: int | None = None,
        log_id: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        self.status_code = status_code
        self.code = code
        self.log_id = log_id
        self.body = body
        self.retry_after = retry_after
        super().__init__(self._render())

    def _render(self) -> str:
        code = f" {self.code}" if self.code is not None else ""
        text = f"Cloudflare AI Gateway error{code} (HTTP {self.status_code}): {self.message}"
        if self.hint:
            text += f". {self.hint}"
        if self.log_id:
            text += f" [log id {self.log_id}]"
        return text

    @property
    def retryable(self) -> bool:
        """Whether the same request sent again can succeed (rate limits, 5xx, timeouts)."""
        return (
            self.status_code in (408, 409, 429)
            or self.status_code >= 500
            or self.code == ErrorCode.SCANNER_UNAVAILABLE
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructor: teach pickle (multiprocessing, caches) to rebuild us,
        # with the rendered text (code, status, hint, log id) as str() of the copy.
        return (_rebuild, (type(self), str(self), self.__dict__))


def _rebuild(cls: type[GatewayError], message: str, state: dict[str, Any]) -> GatewayError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class GatewayAuthenticationError(GatewayError):
    hint = (
        "Send a Cloudflare API token with 'AI Gateway Run' permission: pass gateway_token= "
        "or set CLOUDFLARE_AI_GATEWAY_TOKEN"
    )


class GatewayNotFoundError(GatewayError):
    hint = (
        "The gateway id does not exist in this account: create it in the dashboard or "
        "with the management API, or use gateway_id='default'"
    )


class InvalidProviderError(GatewayError):
    hint = "Use a provider slug from the provider table (cf-aig route --help lists them)"


class GatewayRateLimitError(GatewayError):
    hint = "Slow down, or raise the gateway's rate or spend limit"


class ContentBlockedError(GatewayError):
    hint = "A guardrail or DLP policy of the gateway blocked the content"


class InsufficientCreditsError(GatewayError):
    hint = "Add credits to the gateway or send your own provider key (BYOK)"


class UnknownByokAliasError(GatewayError):
    hint = "Store a provider key under that alias, or drop byok_alias to use 'default'"


class ModelNotFoundError(GatewayError):
    hint = "Check the model id; Workers AI models are spelled workers-ai/@cf/..."


class ProviderError(GatewayError):
    """The provider's own error, passed through by the gateway with its status and body."""


class ProviderUnavailableError(ProviderError):
    pass


class InvalidResponseError(GatewayError):
    """An answer that breaks the protocol, so no result can be trusted from it.

    A 2xx body that is not JSON or not the documented shape, or a stream that ended
    without ``data: [DONE]`` and a finish reason: raised instead of returning a partial or
    empty result. ``status_code`` is the HTTP status the answer came with (usually 200).
    """

    hint = "The answer was cut off or corrupted on its way; the request may be sent again"

    @property
    def retryable(self) -> bool:
        return True


_BY_CODE: dict[int, type[GatewayError]] = {
    ErrorCode.UNAUTHORIZED: GatewayAuthenticationError,
    ErrorCode.GATEWAY_NOT_FOUND: GatewayNotFoundError,
    ErrorCode.INVALID_PROVIDER: InvalidProviderError,
    ErrorCode.RATE_LIMITED: GatewayRateLimitError,
    ErrorCode.SPEND_LIMIT_EXCEEDED: GatewayRateLimitError,
    ErrorCode.PROMPT_BLOCKED: ContentBlockedError,
    ErrorCode.RESPONSE_BLOCKED: ContentBlockedError,
    ErrorCode.DLP_REQUEST_BLOCKED: ContentBlockedError,
    ErrorCode.DLP_RESPONSE_BLOCKED: ContentBlockedError,
    ErrorCode.INSUFFICIENT_CREDITS: InsufficientCreditsError,
    ErrorCode.UNKNOWN_BYOK_ALIAS: UnknownByokAliasError,
    ErrorCode.MODEL_NOT_FOUND: ModelNotFoundError,
}


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name)
    if value is None and not hasattr(headers, "multi_items"):  # plain dict: any case
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def _parse_body(body: Any) -> Any:
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            return json.loads(body) if body.strip() else None
        except ValueError:
            return body
    return body


def _gateway_code(body: Any) -> tuple[int | None, str | None]:
    """(internal code, message) of a gateway-made error body (section 5), else (None, None)."""
    if not isinstance(body, dict):
        return None, None
    code = body.get("internalCode")
    message = body.get("message")
    errors = body.get("error") if isinstance(body.get("error"), list) else body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = code if code is not None else errors[0].get("code")
        message = message or errors[0].get("message")
    if isinstance(code, bool) or not isinstance(code, int):
        return None, None
    return code, str(message) if message is not None else None


def _provider_message(body: Any) -> str:
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if isinstance(err, str):
            return err
        if body.get("message"):
            return str(body["message"])
    if isinstance(body, str) and body:
        return body[:500]
    return "no error message in the body"


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    raw = _header(headers, "retry-after")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        return None  # an HTTP date: rare from LLM APIs, and not worth a date parser here
    return max(0.0, seconds) if math.isfinite(seconds) else None


def error_from_response(
    status_code: int, headers: Mapping[str, str] | None, body: Any
) -> GatewayError:
    """The exception for an error answer: gateway codes first, then the HTTP status."""
    parsed = _parse_body(body)
    log_id = _header(headers, Header.LOG_ID)
    retry_after = _retry_after(headers)
    code, message = _gateway_code(parsed)
    common: dict[str, Any] = {
        "status_code": status_code,
        "log_id": log_id,
        "body": parsed,
        "retry_after": retry_after,
    }
    if code is not None:
        cls = _BY_CODE.get(code)
        if cls is None:
            cls = GatewayRateLimitError if status_code == 429 else GatewayError
        return cls(message or f"gateway error {code}", code=code, **common)
    cls = ProviderError
    if status_code == 429:
        cls = GatewayRateLimitError
    elif status_code >= 500:
        cls = ProviderUnavailableError
    return cls(_provider_message(parsed), **common)
