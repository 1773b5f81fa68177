"""Errors: bad input found before sending, and the error responses of the gateway.

The whole tree, so that one look shows what to catch:

```python
ValueError
 └── GatewayInputError              bad input, raised before anything is sent
      ├── ConfigError               account id, gateway id, token, base URL, config file
      │    └── MissingAccountIdError   no account id in the arguments, environment or file
      ├── InvalidModelIdError       a model id the grammar does not accept
      └── InvalidOptionError        a gateway option out of bounds (names the field)
           └── InvalidDynamicRouteError   a dynamic route breaking a rule (core.dynamic_routes)

Exception
 └── GatewayError                   an HTTP error response (status, code, message, log id)
      ├── GatewayAuthenticationError   2009, or 401 from the gateway
      │    └── ManagementAuthenticationError   401 or 403 from the management API
      ├── PolicyDeniedError            403 from a gateway policy: this caller is not allowed
      ├── GatewayNotFoundError         2001: the gateway id does not exist; 7002
      │    └── LogNotFoundError        404 from the management API for a log
      ├── InvalidProviderError         2008: unknown provider slug
      ├── GatewayRateLimitError        2003 gateway rate limit, 2041 spend limit, any 429;
      │    │                           Workers AI's 3036 daily allocation, 3040 out of capacity
      │    └── SpendLimitExceededError   429 from a policy's spend cap (bucket, spent, limit)
      ├── ContentBlockedError          2016, 2017 guardrails; 2029, 2030 DLP
      ├── InsufficientCreditsError     2021: Unified Billing has no credits left
      ├── UnknownByokAliasError        2040: no stored key under that alias
      ├── ModelNotFoundError           7003; Workers AI's 5007, 3042: no such model
      ├── ProviderError                the upstream's own error, passed through unchanged
      │    └── ProviderUnavailableError   5xx from the upstream (retryable)
      ├── GatewayTimeoutError          no whole response by the caller's deadline
      └── InvalidResponseError         a response that breaks the protocol: not JSON, the
           │                           wrong shape, a stream that ended before its end
           └── ResponseTooLargeError   a body past the client's cap (max_response_bytes)
```

Any other code (2002, 2005, 7001, Workers AI's 3xxx and 5xxx, codes not known yet) is a
`GatewayError` that keeps its code, status and message. `GatewayError.retryable` says
whether sending the same request again can help: for a known code as the table in
`core.error_codes` says, else for 408, 409, 429 and 5xx. Each known code's message names
its fix. `error_from_response` turns `(status, headers, body)` into the right class; it
is a pure function.

Error bodies may echo credentials ("Incorrect API key provided: sk-..."); what an error
shows (its message, `body`) has them masked by `core.redaction.redact`: the exact credentials
the client sent (`credentials_of`) and anything shaped like a key.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, Final

from .error_codes import (
    FIX,
    KNOWN_CODES,
    RETRYABLE_CODES,
    fix_of_400,
    fix_of_model_not_found,
    gateway_code,
    parse_body,
)
from .protocol import ErrorCode, Header
from .redaction import redact_body

# --------------------------------------------------------------------------- input errors


class GatewayInputError(ValueError):
    """Bad input: raised before any request is sent."""


class ConfigError(GatewayInputError):
    """The gateway configuration is missing or malformed."""


class MissingAccountIdError(ConfigError):
    """No account id anywhere: not in the arguments, the environment or the config file.

    Its own class so that a dry run (`cf-aig route`) can tell "none given" from "malformed".
    """


class InvalidModelIdError(GatewayInputError):
    """A model id that does not follow `{provider}/{model}`, `dynamic/{route}`..."""


class InvalidOptionError(GatewayInputError):
    """A gateway option outside its documented bounds; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


def wrapped_input_error(exc: ValueError) -> GatewayInputError | None:
    """The core input error a pydantic `ValidationError` wraps, if it wraps one.

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
    """An error response from the gateway or, passed through it, from the provider."""

    hint: str = ""
    """What to do about it; appended to the message (a class's own, or one per code)."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: int | None = None,
        log_id: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        if hint is not None:
            self.hint = hint
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
        """Whether the same request sent again can succeed.

        For a known code, as `core.error_codes` says; else for 408, 409, 429 and 5xx. A
        404 never is, whatever its code: the REST API's 404 for a `dynamic/` route of
        another gateway comes with 2005, and the same gateway answers it the same way.
        """
        if self.status_code == 404:
            return False
        if self.code in KNOWN_CODES:
            return self.code in RETRYABLE_CODES
        return self.status_code in (408, 409, 429) or self.status_code >= 500

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
    """The gateway refused the request's credentials (code 2009, or HTTP 401)."""

    hint = (
        "Send a Cloudflare API token with 'AI Gateway Run' permission: pass gateway_token= "
        "or set CLOUDFLARE_AI_GATEWAY_TOKEN"
    )


class PolicyDeniedError(GatewayError):
    """A gateway policy denied the request, or none allowed it (HTTP 403).

    Not a `GatewayAuthenticationError`: the token was accepted and a new one does not help;
    a policy allowing this caller (identity, country or metadata) does.
    https://developers.cloudflare.com/ai-gateway/features/policies/
    """

    hint = (
        "A policy of the gateway denied this request (or none allows it): ask the gateway's "
        "owner to add an allow policy matching this caller, or send the metadata it expects"
    )


class GatewayNotFoundError(GatewayError):
    """The gateway id does not exist in the account (code 2001)."""

    hint = (
        "The gateway id does not exist in this account: create it in the dashboard or "
        "with the management API, or use gateway_id='default'"
    )


class ManagementAuthenticationError(GatewayAuthenticationError):
    """The management API refused the token (HTTP 401 or 403).

    https://developers.cloudflare.com/ai-gateway/evaluations/add-human-feedback-api/
    lists the token permissions: *AI Gateway Read* to read logs and gateways,
    *AI Gateway Edit* to change them.
    """

    hint = (
        "The management API needs a Cloudflare API token with 'AI Gateway Read' (and "
        "'AI Gateway Edit' to change logs or gateways): pass api_token= or set "
        "CLOUDFLARE_API_TOKEN"
    )


class LogNotFoundError(GatewayNotFoundError):
    """No log with that id in that gateway (yet: Cloudflare stores logs a moment later)."""

    hint = (
        "Check the log id and the gateway id; a log appears a few seconds after its request, "
        "and never when the request was sent with collect_log=False"
    )


class InvalidProviderError(GatewayError):
    """The provider slug of the URL is not one the gateway knows (code 2008)."""

    hint = "Use a provider slug from the provider table (cf-aig route --help lists them)"


class GatewayRateLimitError(GatewayError):
    """A rate or spend limit refused the request (2003, 2041, or any HTTP 429)."""

    hint = "Slow down, or raise the gateway's rate or spend limit"


class SpendLimitExceededError(GatewayRateLimitError):
    """A policy's spend cap is reached (HTTP 429 whose `error` object names the cap).

    `bucket` is the cap's id, `spent` and `limit` the amounts reported (`None` when left
    out). https://developers.cloudflare.com/ai-gateway/features/policies/
    """

    hint = "Raise the spend cap in the gateway's policies, or wait until its period starts over"

    def __init__(
        self,
        message: str,
        *,
        bucket: str | None = None,
        spent: float | None = None,
        limit: float | None = None,
        **kwargs: Any,
    ) -> None:
        self.bucket = bucket
        self.spent = spent
        self.limit = limit
        super().__init__(message, **kwargs)

    def _render(self) -> str:
        text = super()._render()
        if self.bucket is None and self.spent is None and self.limit is None:
            return text
        return f"{text} (bucket {self.bucket}, spent {self.spent} of {self.limit})"

    @property
    def retryable(self) -> bool:
        """Never: the cap holds until it is raised or its period starts over."""
        return False


class ContentBlockedError(GatewayError):
    """A guardrail (2016, 2017) or DLP policy (2029, 2030) blocked the prompt or response."""

    hint = "A guardrail or DLP policy of the gateway blocked the content"


class InsufficientCreditsError(GatewayError):
    """Unified Billing has no credits left for the request (code 2021)."""

    hint = "Add credits to the gateway or send your own provider key (BYOK)"


class UnknownByokAliasError(GatewayError):
    """No provider key is stored under the requested BYOK alias (code 2040)."""

    hint = "Store a provider key under that alias, or drop byok_alias to use 'default'"


class ModelNotFoundError(GatewayError):
    """The model (or the provider path) does not exist (code 7003)."""

    hint = "Check the model id (`cf-aig models` lists them); Workers AI's are workers-ai/@cf/..."

    def __init__(self, message: str, *, hint: str | None = None, **fields: Any) -> None:
        # Cloudflare's 7003 also says that a model refused the input, or that a path has no route.
        super().__init__(message, hint=hint or fix_of_model_not_found(message), **fields)


class ProviderError(GatewayError):
    """The provider's own error, passed through by the gateway with its status and body."""


class ProviderUnavailableError(ProviderError):
    """A 5xx from the provider, passed through by the gateway; sending again may succeed."""


class GatewayTimeoutError(GatewayError):
    """No whole response by the deadline the caller set (`stream_timeout`, LiteLLM's `timeout`).

    `status_code` is 408, as for a request timeout. Not a builtin `TimeoutError`:
    frameworks read that as their own timeouts firing (langchain-openai's chunk timeout).
    """

    hint = "Raise the deadline if the response is expected to take longer, or send again"

    def __init__(self, message: str, *, log_id: str | None = None) -> None:
        super().__init__(message, status_code=408, log_id=log_id)


class InvalidResponseError(GatewayError):
    """A response that breaks the protocol, so no result can be trusted from it.

    A 2xx body that is not JSON or not the documented shape, or a stream that ended
    without `data: [DONE]` and a finish reason: raised instead of returning a partial or
    empty result. `status_code` is the HTTP status the response came with (usually 200).
    """

    hint = "The response was cut off or corrupted on its way; the request may be sent again"

    @property
    def retryable(self) -> bool:
        """Always: a response cut off or corrupted on its way may arrive whole next time."""
        return True


class ResponseTooLargeError(InvalidResponseError):
    """A response body past the client's cap: reading stopped there, nothing of it is used.

    `max_bytes` is the cap; compressed bodies count as they inflate, so a small gzip
    body that inflates past the cap is refused too. `status_code` is the HTTP status
    the response came with.
    """

    hint = ""

    def __init__(
        self, max_bytes: int, setting: str, *, status_code: int, log_id: str | None = None
    ) -> None:
        self.max_bytes = max_bytes
        self.setting = setting
        super().__init__(
            f"the response is larger than {setting}={max_bytes} bytes{_mib(max_bytes)}; reading "
            f"stopped there. Raise {setting} if a response this large is expected",
            status_code=status_code,
            log_id=log_id,
        )

    @property
    def retryable(self) -> bool:
        """Never: the same request gets the same oversized response."""
        return False

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), str(self), self.__dict__))


def _mib(size: int) -> str:
    return f" ({size / 2**20:g} MiB)" if size >= 2**20 else ""


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
    ErrorCode.NOT_FOUND: GatewayNotFoundError,
    ErrorCode.DAILY_ALLOCATION_USED: GatewayRateLimitError,
    ErrorCode.OUT_OF_CAPACITY: GatewayRateLimitError,
    ErrorCode.INVALID_MODEL_ID: ModelNotFoundError,
    ErrorCode.NO_SUCH_MODEL: ModelNotFoundError,
}


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name)
    if value is None and not hasattr(headers, "multi_items"):  # plain dict: any case
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def _provider_message(body: Any) -> str:
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if isinstance(err, str):
            return err
        if body.get("message"):
            return str(body["message"])
        if gateway_code(body)[1]:  # `error` or `errors` as a list, without a code
            return str(gateway_code(body)[1])
    if isinstance(body, str) and body:
        return body[:500]
    return "no error message in the body"


RETRY_AFTER_MAX_S: Final = 86400.0
"""The longest `Retry-After` kept (1 day): a longer wait is no retry hint, and is ignored."""


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    """The `Retry-After` header in seconds, or None when it is no wait worth honouring.

    Delay seconds (a negative value is 0) or an HTTP date in the future
    (https://www.rfc-editor.org/rfc/rfc9110#field.retry-after); None when absent,
    unreadable, not finite, beyond `RETRY_AFTER_MAX_S`, or a date in the past.
    """
    raw = _header(headers, "retry-after")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # RFC 9110's IMF-fixdate is in GMT
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
        if seconds < 0:
            return None
    if not math.isfinite(seconds) or seconds > RETRY_AFTER_MAX_S:
        return None
    return max(0.0, seconds)


def _number(value: Any) -> float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _policy_error(status_code: int, body: Any, common: dict[str, Any]) -> GatewayError | None:
    """The Policies error of a 403 or 429 whose `error` is an object, else `None`.

    https://developers.cloudflare.com/ai-gateway/features/policies/
    """
    if status_code not in (403, 429) or not isinstance(body, dict):
        return None
    err = body.get("error")
    if body.get("success") is not False or not isinstance(err, dict):
        return None  # a provider's own error has no `success` field
    message = str(err.get("message") or "no error message in the body")
    if status_code == 403:
        return PolicyDeniedError(message, **common)
    if not any(key in err for key in ("bucket", "spent", "limit")):
        return None
    bucket = err.get("bucket")
    return SpendLimitExceededError(
        message,
        bucket=None if bucket is None else str(bucket),
        spent=_number(err.get("spent")),
        limit=_number(err.get("limit")),
        **common,
    )


def error_from_response(
    status_code: int,
    headers: Mapping[str, str] | None,
    body: Any,
    *,
    secrets: Iterable[str] = (),
) -> GatewayError:
    """The exception for an error response: Policies, gateway codes, then the HTTP status.

    `secrets` (the credentials the request carried, see `credentials_of`) and
    anything shaped like a key are masked in the message and the parsed `body`.
    The class, `retryable` and the fix in the message follow `core.error_codes`.
    """
    parsed = redact_body(parse_body(body), secrets)
    log_id = _header(headers, Header.LOG_ID)
    retry_after = _retry_after(headers)
    code, message = gateway_code(parsed)
    common: dict[str, Any] = {
        "status_code": status_code,
        "log_id": log_id,
        "body": parsed,
        "retry_after": retry_after,
    }
    policy = _policy_error(status_code, parsed, common)
    if policy is not None:
        return policy
    fix = None
    if status_code == 400:  # two 400s are told by their message
        fix = fix_of_400(message if code is not None else _provider_message(parsed))
    if code is not None:
        cls = _BY_CODE.get(code)
        if cls is None:
            cls = GatewayRateLimitError if status_code == 429 else GatewayError
        hint = fix or FIX.get(code)
        return cls(message or f"gateway error {code}", code=code, hint=hint, **common)
    if fix is not None:  # Cloudflare's own 400, not the provider's
        return GatewayError(_provider_message(parsed), hint=fix, **common)
    cls = ProviderError
    if status_code == 429:
        cls = GatewayRateLimitError
    elif status_code >= 500:
        cls = ProviderUnavailableError
    return cls(_provider_message(parsed), **common)
