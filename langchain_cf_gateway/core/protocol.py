"""The facts of Cloudflare AI Gateway's wire protocol, each stated once.

Header names, bounds and error codes live here and nowhere else: the client
side (`core`, the chat model, the LiteLLM handler) and the server side (the
local gateway) both import them. The facts come from Cloudflare's public docs
(https://developers.cloudflare.com/ai-gateway/), its API schema, or, where those are
silent, from what the live gateway was seen to do.
"""

from __future__ import annotations

import re
from enum import IntEnum
from typing import Final

CLOUDFLARE_GATEWAY_HOST: Final = "https://gateway.ai.cloudflare.com"
"""Host of the gateway endpoints (compat, provider-native, universal).

https://developers.cloudflare.com/ai-gateway/usage/providers/
"""

CLOUDFLARE_API_BASE: Final = "https://api.cloudflare.com/client/v4"
"""Cloudflare's v4 API: the REST inference API and the management API.

https://developers.cloudflare.com/ai-gateway/usage/rest-api/
https://developers.cloudflare.com/api/resources/ai_gateway/
"""

DEFAULT_GATEWAY_ID: Final = "default"
"""Cloudflare creates the gateway `default` on the first authenticated request.

https://developers.cloudflare.com/ai-gateway/configuration/manage-gateway/
"""

LOCAL_ACCOUNT_ID: Final = "local-account"
"""The account id of the local gateway (`cf-aig serve`): in the URLs it prints, and what a
client pointed at a local `base_url` uses when no account id is set. The local gateway
serves any account id."""


class Header:
    """Header names, lowercase as HTTP/2 sends them.

    https://developers.cloudflare.com/ai-gateway/glossary/
    """

    # Request headers read by the gateway (https://developers.cloudflare.com/ai-gateway/glossary/).
    AUTHORIZATION: Final = "cf-aig-authorization"
    CACHE_TTL: Final = "cf-aig-cache-ttl"
    SKIP_CACHE: Final = "cf-aig-skip-cache"
    CACHE_KEY: Final = "cf-aig-cache-key"
    METADATA: Final = "cf-aig-metadata"
    COLLECT_LOG: Final = "cf-aig-collect-log"
    COLLECT_LOG_PAYLOAD: Final = "cf-aig-collect-log-payload"
    EVENT_ID: Final = "cf-aig-event-id"
    REQUEST_TIMEOUT: Final = "cf-aig-request-timeout"
    MAX_ATTEMPTS: Final = "cf-aig-max-attempts"
    RETRY_DELAY: Final = "cf-aig-retry-delay"
    BACKOFF: Final = "cf-aig-backoff"
    CUSTOM_COST: Final = "cf-aig-custom-cost"
    BYOK_ALIAS: Final = "cf-aig-byok-alias"
    ZDR: Final = "cf-aig-zdr"
    NO_WHOLESALE: Final = "cf-aig-no-wholesale"
    GATEWAY_ID: Final = "cf-aig-gateway-id"
    # Auto Router (https://developers.cloudflare.com/ai-gateway/features/auto-router/).
    ALLOWED_MODELS: Final = "cf-aig-allowed-models"
    ALLOWED_PROVIDERS: Final = "cf-aig-allowed-providers"
    SESSION_ID: Final = "cf-aig-session-id"
    TURN_ID: Final = "cf-aig-turn-id"
    NO_SESSION_AFFINITY: Final = "cf-aig-no-session-affinity"
    # Old names the gateway still reads; we never send them.
    LEGACY_CACHE_TTL: Final = "cf-cache-ttl"
    LEGACY_SKIP_CACHE: Final = "cf-skip-cache"

    # Response headers (https://developers.cloudflare.com/ai-gateway/glossary/).
    CACHE_STATUS: Final = "cf-aig-cache-status"
    LOG_ID: Final = "cf-aig-log-id"
    REQUEST_ID: Final = "cf-aig-request-id"
    STEP: Final = "cf-aig-step"
    MODEL: Final = "cf-aig-model"
    PROVIDER: Final = "cf-aig-provider"
    DLP: Final = "cf-aig-dlp"
    # Auto Router (https://developers.cloudflare.com/ai-gateway/features/auto-router/).
    ROUTED_MODEL: Final = "cf-aig-routed-model"
    ROUTING_REASON: Final = "cf-aig-routing-reason"
    ROUTING_DECISION_ID: Final = "cf-aig-routing-decision-id"


class Bounds:
    """Limits of the request headers and bodies.

    https://developers.cloudflare.com/ai-gateway/reference/limits/
    """

    CACHE_TTL_MIN_S: Final = 60
    CACHE_TTL_MAX_S: Final = 30 * 24 * 3600
    """'One month' (https://developers.cloudflare.com/ai-gateway/features/caching/);
    we take 30 days, so nothing we send is ever above it."""
    METADATA_MAX_ENTRIES: Final = 5
    METADATA_RESERVED_PREFIX: Final = "cf."
    MAX_ATTEMPTS_MIN: Final = 1
    MAX_ATTEMPTS_MAX: Final = 5
    RETRY_DELAY_MIN_MS: Final = 0
    RETRY_DELAY_MAX_MS: Final = 5000
    BACKOFF_CHOICES: Final = ("constant", "linear", "exponential")
    HEADER_VALUE_MAX_CHARS: Final = 8192
    """Not a documented gateway limit: a sane ceiling well below what HTTP servers accept."""
    CACHEABLE_BODY_MAX_BYTES: Final = 25 * 1024 * 1024
    JSON_MAX_DEPTH: Final = 100
    """Deepest nesting of arrays and objects a request body may have (the local gateway's
    choice; Cloudflare states none). Chat bodies with tool schemas stay far below it, and
    it keeps every parser and serialiser of the body well inside Python's recursion limit."""
    JSON_MAX_CONTAINERS: Final = 200_000
    """Most arrays and objects a request body may hold (the local gateway's choice): far
    above any chat or embeddings request (2,048 token arrays), and it keeps the worst
    25 MB body from costing seconds of parsing on the event loop."""
    JSON_MAX_VALUES: Final = 1_000_000
    """Most values (array items and object members) a request body may hold (the local
    gateway's choice): above OpenAI's 300,000 tokens per embeddings request given as
    token arrays, and parsed in about a tenth of a second."""
    UNIVERSAL_STEPS_MAX: Final = 32
    """Most steps one universal request may have (the local gateway's choice, so that one
    request cannot fan out into thousands of upstream calls and log rows)."""
    STEP_HEADERS_MAX: Final = 100
    """Most entries a universal step's `headers` object may have (the local gateway's choice)."""
    GATEWAY_ID_MAX_CHARS: Final = 64
    GATEWAY_ID_PATTERN: Final = r"^[a-z0-9_]+(?:-[a-z0-9_]+)*$"
    """A gateway id the management API creates: lowercase words joined by single dashes
    (the `id` of `POST /accounts/{account_id}/ai-gateway/gateways` in Cloudflare's API
    schema, github.com/cloudflare/api-schemas `openapi.json`)."""
    # Gateway settings of the management API:
    # https://developers.cloudflare.com/api/resources/ai_gateway/
    RATE_LIMIT_TECHNIQUES: Final = ("fixed", "sliding")
    GATEWAY_RETRY_DELAY_MAX_MS: Final = 60_000
    """A gateway's `retry_delay` setting: "Delay between retry attempts in milliseconds
    (0-60000)" (cloudflare-python `src/cloudflare/types/ai_gateway/ai_gateway_update_params.py`);
    the per-request `cf-aig-retry-delay` header keeps `RETRY_DELAY_MAX_MS`."""
    WORKERS_AI_BILLING_MODES: Final = ("postpaid", "unified")
    """`workers_ai_billing_mode` (cloudflare-python `ai_gateway_update_params.py`)."""
    LOG_MANAGEMENT_MIN: Final = 10_000
    LOG_MANAGEMENT_MAX: Final = 10_000_000
    LOG_MANAGEMENT_STRATEGIES: Final = ("STOP_INSERTING", "DELETE_OLDEST")
    LOGPUSH_KEY_MIN_CHARS: Final = 16
    LOGPUSH_KEY_MAX_CHARS: Final = 1024


class HeaderSyntax:
    """What may travel as an HTTP header, per RFC 9110 (https://www.rfc-editor.org/rfc/rfc9110).

    - `NAME`: a field name is a `token` (section 5.1, 5.6.2): letters, digits and
      ``!#$%&'*+-.^_`|~`; no space, colon or control character.
    - `WIRE_VALUE`: a field value as bytes on the wire, read as latin-1 (section 5.5):
      visible ASCII, space, tab and `obs-text` (0x80-0xFF, which is how UTF-8 arrives);
      no CR, LF, NUL, other C0 control or DEL.
    - `TEXT_VALUE`: a header value given as text (a universal step's `headers`,
      a step `config`` string): printable latin-1, i.e. the wire rule without the C1
      controls U+0080-U+009F; anything outside latin-1 cannot be written as a header.
    """

    NAME: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
    WIRE_VALUE: Final = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
    TEXT_VALUE: Final = re.compile(r"[\t\x20-\x7e\xa0-\xff]*")


class LogsApi:
    """The vocabulary of the management API's logs endpoints.

    https://developers.cloudflare.com/api/resources/ai_gateway/
    """

    FILTER_KEYS: Final = (
        "id",
        "created_at",
        "request_content_type",
        "response_content_type",
        "request_type",
        "success",
        "cached",
        "provider",
        "model",
        "model_type",
        "cost",
        "tokens",
        "tokens_in",
        "tokens_out",
        "duration",
        "feedback",
        "event_id",
        "metadata.key",
        "metadata.value",
        "authentication",
        "wholesale",
        "compatibilityMode",
        "dlp_action",
        "user_agent",
    )
    """Keys of `filters[]` entries (cloudflare-python
    `src/cloudflare/types/ai_gateway/log_list_params.py`); Cloudflare responds 7001 to any other."""
    FILTER_OPERATORS: Final = ("eq", "neq", "contains", "lt", "gt")
    ORDER_BY: Final = ("created_at", "provider", "model", "model_type", "success", "cached")
    """`order_by` of the logs list (`log_list_params.py`)."""
    DELETE_ORDER_BY: Final = (
        *ORDER_BY,
        "cost",
        "tokens_in",
        "tokens_out",
        "duration",
        "feedback",
    )
    """`order_by` of the logs delete, which takes more than the list (`log_delete_params.py`;
    https://developers.cloudflare.com/api/resources/ai_gateway/subresources/logs/methods/delete)."""
    ORDER_DIRECTIONS: Final = ("asc", "desc")
    DELETE_DEFAULT_DIRECTION: Final = "asc"
    """A delete with `limit` and no direction removes the oldest rows first (the API schema's
    default `order_by_direction` of the delete)."""
    PER_PAGE_MAX: Final = 50
    """`per_page` of the logs list is 1 to 50 in the API schema."""
    DELETE_LIMIT_MAX: Final = 10_000
    """`limit` of the logs delete: 1 to 10000 (API reference of the delete, above)."""
    FEEDBACK_VALUES: Final = (-1, 1)
    """Thumbs down and thumbs up, as the human-feedback docs send them."""
    FEEDBACK_MIN: Final = -1
    FEEDBACK_MAX: Final = 1
    """The PATCH of a log takes any number in this range (`log_edit_params.py` types it a float)."""
    SCORE_MIN: Final = 0
    SCORE_MAX: Final = 100


class ApiErrorCode(IntEnum):
    """Codes in the `errors[]` of management API responses (v4 envelope).

    https://developers.cloudflare.com/api/resources/ai_gateway/


    Cloudflare documents none of them for AI Gateway: 10000 is the v4 API's generic
    authentication error, 7001 what the logs API returned for a bad filter (as observed);
    7002 (not found) and 7004 (already exists) are the local gateway's choice, and so is
    2503 (the log store cannot be written now), the code of the proxy routes' 503.
    """

    INVALID_REQUEST = 7001
    NOT_FOUND = 7002
    ALREADY_EXISTS = 7004
    AUTHENTICATION = 10000
    LOG_STORE_UNAVAILABLE = 2503


API_ERROR_STATUS: Final[dict[ApiErrorCode, int]] = {
    ApiErrorCode.INVALID_REQUEST: 400,
    ApiErrorCode.NOT_FOUND: 404,
    ApiErrorCode.ALREADY_EXISTS: 409,
    ApiErrorCode.AUTHENTICATION: 401,
    ApiErrorCode.LOG_STORE_UNAVAILABLE: 503,
}
"""HTTP status the local management API pairs with each code."""


class ErrorCode(IntEnum):
    """Internal codes of gateway-made errors, and Workers AI's own.

    Cloudflare documents only some of the gateway's
    (https://developers.cloudflare.com/ai-gateway/features/guardrails/set-up-guardrail/);
    the rest are as observed. 7001 and 7002 come from the management API. The 3xxx and
    5xxx codes are Workers AI's, passed through `workers-ai` routes
    (https://developers.cloudflare.com/workers-ai/platform/errors/).
    What each one means for a caller (retry or not, the fix) is in `core.error_codes`.
    """

    GATEWAY_NOT_FOUND = 2001
    INVALID_RUN_ID = 2002
    RATE_LIMITED = 2003
    PROVIDER_FAILED = 2005
    """No response from the provider; also a `dynamic/` route sent to a gateway that does not
    own it. Cloudflare sends it with HTTP 400; the local gateway with 502."""
    INVALID_PROVIDER = 2008
    UNAUTHORIZED = 2009
    PROMPT_BLOCKED = 2016
    RESPONSE_BLOCKED = 2017
    INSUFFICIENT_CREDITS = 2021
    DLP_REQUEST_BLOCKED = 2029
    DLP_RESPONSE_BLOCKED = 2030
    UNKNOWN_BYOK_ALIAS = 2040
    SPEND_LIMIT_EXCEEDED = 2041
    INVALID_REQUEST = 7001
    NOT_FOUND = 7002
    MODEL_NOT_FOUND = 7003
    SCANNER_UNAVAILABLE = 7013
    LOG_STORE_UNAVAILABLE = 2503
    """Local gateway only (Cloudflare documents none): the request's log row could not be
    committed in time to a file-backed log store; HTTP 503."""
    STATE_STORE_UNAVAILABLE = 2504
    """Local gateway only (Cloudflare documents none): the shared state (`--state-url`,
    Redis) holding gateways, rate limits, routes and scripts cannot be reached; HTTP 503."""
    # Workers AI (https://developers.cloudflare.com/workers-ai/platform/errors/)
    INCOMPLETE_REQUEST = 3003
    REQUEST_TOO_LARGE = 3006
    REQUEST_TIMEOUT = 3007
    REQUEST_ABORTED = 3008
    ACCOUNT_BLOCKED = 3023
    DAILY_ALLOCATION_USED = 3036
    FINETUNE_FILES_MISSING = 3039
    OUT_OF_CAPACITY = 3040
    PRIVATE_MODEL_NOT_ALLOWED = 3041
    INVALID_MODEL_ID = 3042
    INVALID_DATA = 5004
    LORA_UNSUPPORTED = 5005
    NO_SUCH_MODEL = 5007
    MODEL_AGREEMENT = 5016
    ACCOUNT_NOT_ALLOWED = 5018
    DEPRECATED_SDK = 5019


ERROR_STATUS: Final[dict[ErrorCode, int]] = {
    ErrorCode.GATEWAY_NOT_FOUND: 400,
    ErrorCode.INVALID_RUN_ID: 500,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.PROVIDER_FAILED: 502,
    ErrorCode.INVALID_PROVIDER: 400,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.PROMPT_BLOCKED: 424,
    ErrorCode.RESPONSE_BLOCKED: 424,
    ErrorCode.INSUFFICIENT_CREDITS: 402,
    # https://developers.cloudflare.com/ai-gateway/features/dlp/ ("Interaction with caching")
    ErrorCode.DLP_REQUEST_BLOCKED: 400,
    ErrorCode.DLP_RESPONSE_BLOCKED: 400,
    ErrorCode.UNKNOWN_BYOK_ALIAS: 400,
    ErrorCode.SPEND_LIMIT_EXCEEDED: 429,
    ErrorCode.INVALID_REQUEST: 400,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.MODEL_NOT_FOUND: 404,
    ErrorCode.SCANNER_UNAVAILABLE: 503,
    ErrorCode.LOG_STORE_UNAVAILABLE: 503,
    ErrorCode.STATE_STORE_UNAVAILABLE: 503,
    ErrorCode.INCOMPLETE_REQUEST: 400,
    ErrorCode.REQUEST_TOO_LARGE: 413,
    ErrorCode.REQUEST_TIMEOUT: 408,
    ErrorCode.REQUEST_ABORTED: 408,
    ErrorCode.ACCOUNT_BLOCKED: 403,
    ErrorCode.DAILY_ALLOCATION_USED: 429,
    ErrorCode.FINETUNE_FILES_MISSING: 400,
    ErrorCode.OUT_OF_CAPACITY: 429,
    ErrorCode.PRIVATE_MODEL_NOT_ALLOWED: 403,
    ErrorCode.INVALID_MODEL_ID: 404,
    ErrorCode.INVALID_DATA: 400,
    ErrorCode.LORA_UNSUPPORTED: 405,
    ErrorCode.NO_SUCH_MODEL: 400,
    ErrorCode.MODEL_AGREEMENT: 403,
    ErrorCode.ACCOUNT_NOT_ALLOWED: 403,
    ErrorCode.DEPRECATED_SDK: 405,
}
"""HTTP status the gateway pairs with each code (the local gateway's for 2005: 502)."""

ERROR_MESSAGE: Final[dict[ErrorCode, str]] = {
    ErrorCode.GATEWAY_NOT_FOUND: "Please configure AI Gateway in the Cloudflare dashboard",
    ErrorCode.INVALID_RUN_ID: "Invalid run id",
    ErrorCode.RATE_LIMITED: "Rate limited",
    ErrorCode.PROVIDER_FAILED: "Provider request failed",
    ErrorCode.INVALID_PROVIDER: "Invalid provider",
    ErrorCode.UNAUTHORIZED: "Unauthorized",
    ErrorCode.PROMPT_BLOCKED: "Prompt blocked due to security configurations",
    ErrorCode.RESPONSE_BLOCKED: "Response blocked due to security configurations",
    ErrorCode.INSUFFICIENT_CREDITS: "Insufficient balance; add money to your gateway or use BYOK",
    ErrorCode.DLP_REQUEST_BLOCKED: "Request content blocked due to DLP policy violations",
    ErrorCode.DLP_RESPONSE_BLOCKED: "Response content blocked due to DLP policy violations",
    ErrorCode.UNKNOWN_BYOK_ALIAS: "Unknown BYOK alias",
    ErrorCode.SPEND_LIMIT_EXCEEDED: "Spend limit exceeded",
    ErrorCode.INVALID_REQUEST: "Invalid request",
    ErrorCode.NOT_FOUND: "Not found",
    ErrorCode.MODEL_NOT_FOUND: "Model not found",
    ErrorCode.SCANNER_UNAVAILABLE: "Guardrails scanner unavailable",
    ErrorCode.LOG_STORE_UNAVAILABLE: (
        "Log store unavailable: the request's log row could not be written in time; "
        "the gateway's operator sees why in its log. Retry later"
    ),
    ErrorCode.STATE_STORE_UNAVAILABLE: (
        "State store unavailable: the gateway's shared state (Redis) cannot be reached; "
        "the gateway's operator sees why in its log. Retry later"
    ),
    ErrorCode.INCOMPLETE_REQUEST: "Request is missing headers or body",
    ErrorCode.REQUEST_TOO_LARGE: "Request is too large",
    ErrorCode.REQUEST_TIMEOUT: "Request timeout",
    ErrorCode.REQUEST_ABORTED: "Request was aborted",
    ErrorCode.ACCOUNT_BLOCKED: "Service unavailable for account",
    ErrorCode.DAILY_ALLOCATION_USED: "You have used up your daily free allocation of neurons",
    ErrorCode.FINETUNE_FILES_MISSING: (
        "Finetune is missing required files (model.safetensors and config.json)"
    ),
    ErrorCode.OUT_OF_CAPACITY: "No more data centers to forward the request to",
    ErrorCode.PRIVATE_MODEL_NOT_ALLOWED: "The account is not allowed to access this model",
    ErrorCode.INVALID_MODEL_ID: "The model name is invalid",
    ErrorCode.INVALID_DATA: "Invalid data type for base64 input",
    ErrorCode.LORA_UNSUPPORTED: "The model does not support LoRa inference",
    ErrorCode.NO_SUCH_MODEL: "No such model or task",
    ErrorCode.MODEL_AGREEMENT: "User has not agreed to the model terms",
    ErrorCode.ACCOUNT_NOT_ALLOWED: "The account is not allowed to access this model",
    ErrorCode.DEPRECATED_SDK: "Request trying to use deprecated SDK version",
}
"""Canonical messages, as captured from the live gateway where known."""


def gateway_error_body(code: ErrorCode, message: str | None = None) -> dict[str, object]:
    """The body shape of a gateway-made error, as the local gateway sends it.

    Cloudflare documents `name` and `internalCode`
    (https://developers.cloudflare.com/ai-gateway/features/guardrails/set-up-guardrail/);
    the rest is as observed.
    """
    text = message or ERROR_MESSAGE[code]
    status = ERROR_STATUS[code]
    return {
        "success": False,
        "result": [],
        "messages": [],
        "error": [{"code": int(code), "message": text}],
        "name": "AiGatewayError",
        "httpCode": status,
        "internalCode": int(code),
        "message": text,
    }
