"""The error table: for each code, whether sending again can help and what fixes it.

The codes and the statuses they come with are `protocol.ErrorCode` and
`protocol.ERROR_STATUS`; the class each maps to is in `core.errors`. Sources:
https://developers.cloudflare.com/ai-gateway/ (the gateway's codes),
https://developers.cloudflare.com/workers-ai/platform/errors/ (Workers AI's),
https://developers.cloudflare.com/api/resources/ai_gateway/ (the management API's).

Two 400s come without a code of their own, and are told by their message:
`byok_only` / `cf-aig-no-wholesale` with no provider credentials
(https://developers.cloudflare.com/ai-gateway/configuration/bring-your-own-keys/), and
an Auto Router allow-list that matches no model
(https://developers.cloudflare.com/ai-gateway/features/auto-router/).
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from .protocol import ErrorCode

KNOWN_CODES: Final = frozenset(int(code) for code in ErrorCode)
"""Every code in the table; `retryable` follows the table for these, the status otherwise."""

RETRYABLE_CODES: Final = frozenset(
    (
        ErrorCode.RATE_LIMITED,
        ErrorCode.PROVIDER_FAILED,  # no response this time; the next attempt may get one
        ErrorCode.SPEND_LIMIT_EXCEEDED,  # a rate limit rule over a sliding window
        ErrorCode.SCANNER_UNAVAILABLE,
        ErrorCode.LOG_STORE_UNAVAILABLE,
        ErrorCode.STATE_STORE_UNAVAILABLE,
        ErrorCode.REQUEST_TIMEOUT,
        ErrorCode.REQUEST_ABORTED,
        ErrorCode.DAILY_ALLOCATION_USED,
        ErrorCode.OUT_OF_CAPACITY,
    )
)
"""Known codes after which the same request sent again can succeed."""

_ACCESS: Final = "This account has no access to that model: use a model the account may access"

FIX: Final[dict[int, str]] = {
    ErrorCode.PROVIDER_FAILED: (
        "No response from the provider, or a dynamic/ route this gateway does not own: for "
        "a route, check its name and gateway_id, the gateway that owns the route "
        "(cf-aig-gateway-id on the REST API); "
        "otherwise send again, or set max_attempts or a fallback"
    ),
    ErrorCode.SCANNER_UNAVAILABLE: (
        "The guardrail scanner is unavailable and a BLOCK rule needs it: send again after a "
        "pause, or set the rule to FLAG"
    ),
    ErrorCode.LOG_STORE_UNAVAILABLE: (
        "The gateway could not store the request's log row, so it did not respond: send again "
        "after a pause, and check the log store (its disk or database)"
    ),
    ErrorCode.STATE_STORE_UNAVAILABLE: (
        "The gateway could not reach its shared state (Redis, --state-url), so it did not "
        "respond: send again after a pause, and check that Redis is up"
    ),
    ErrorCode.INVALID_RUN_ID: "The run id is malformed: resume with the id the Run API returned",
    ErrorCode.INVALID_REQUEST: (
        "The gateway refused the request as invalid: fix what the message names (a cf-aig-* "
        "header, the body; for the management API's log filters: the key, operator and value)"
    ),
    ErrorCode.NOT_FOUND: (
        "The management API found nothing under that id: check the account id and the "
        "gateway id (and the log id), or use gateway_id='default'"
    ),
    ErrorCode.INCOMPLETE_REQUEST: "Send the request body and its Content-Type header",
    ErrorCode.REQUEST_TOO_LARGE: "Send a smaller request: shorten or split the input",
    ErrorCode.REQUEST_TIMEOUT: "Workers AI timed out: send again, or ask for fewer tokens",
    ErrorCode.REQUEST_ABORTED: "The request was aborted before Workers AI finished: send again",
    ErrorCode.ACCOUNT_BLOCKED: (
        "Workers AI is blocked for this account: check the account in the Cloudflare dashboard"
    ),
    ErrorCode.DAILY_ALLOCATION_USED: (
        "The free Workers AI allocation for today is used up: wait until 00:00 UTC, or "
        "upgrade to the Workers Paid plan"
    ),
    ErrorCode.FINETUNE_FILES_MISSING: "Upload the fine-tune with model.safetensors and config.json",
    ErrorCode.OUT_OF_CAPACITY: (
        "Workers AI is out of capacity for this model now: send again after a pause, or use "
        "another model"
    ),
    ErrorCode.PRIVATE_MODEL_NOT_ALLOWED: _ACCESS,
    ErrorCode.INVALID_MODEL_ID: (
        "Check the model id: Workers AI ids are spelled workers-ai/@cf/<author>/<model>"
    ),
    ErrorCode.INVALID_DATA: "Send base64 input as a string",
    ErrorCode.LORA_UNSUPPORTED: "This model takes no LoRA adapter: drop lora or use a model that does",
    ErrorCode.NO_SUCH_MODEL: (
        "Check the model id (workers-ai/@cf/...) and that the model serves this task "
        "(chat, embeddings...)"
    ),
    ErrorCode.MODEL_AGREEMENT: (
        "Agree to the model's terms first: send the prompt 'agree' to it once from this account"
    ),
    ErrorCode.ACCOUNT_NOT_ALLOWED: _ACCESS,
    ErrorCode.DEPRECATED_SDK: "The client's SDK version is deprecated: upgrade it",
}
"""The fix for codes whose class's own hint would not say it (the rest use the class's)."""

_NO_CREDENTIALS: Final = re.compile(r"(?i)wholesale|byok[ _-]?only")
_NO_ALLOWED_MODEL: Final = re.compile(r"(?i)allowed[ _-]?(?:models|providers)|allow-?list")

NO_CREDENTIALS_FIX: Final = (
    "The gateway requires provider credentials (byok_only or no_wholesale) and the request "
    "had none: send a provider key with the request, or store one in the gateway (BYOK)"
)
NO_ALLOWED_MODEL_FIX: Final = (
    "No model matches the Auto Router allow-lists: widen allowed_models or allowed_providers "
    "(`*` does not cross `/`; with both lists a model must match both)"
)


def fix_of_400(message: str | None) -> str | None:
    """The fix for a 400 told by its message (no credentials, an empty allow-list), or `None`.

    Args:
        message: The error message of a 400 response.

    Returns:
        `NO_CREDENTIALS_FIX`, `NO_ALLOWED_MODEL_FIX`, or `None` for any other message.
    """
    if not message:
        return None
    if _NO_CREDENTIALS.search(message):
        return NO_CREDENTIALS_FIX
    if _NO_ALLOWED_MODEL.search(message):
        return NO_ALLOWED_MODEL_FIX
    return None


_USER_INPUT: Final = re.compile(r"(?i)user input error")
_NO_ROUTE: Final = re.compile(r"(?i)could not route|no route")


def fix_of_model_not_found(message: str) -> str | None:
    """The fix for a 7003 whose message is not about the model id, or `None`.

    Cloudflare's 7003 also says that a model refused the input ("Model execution failed
    (User Input Error): ...") or that the gateway has no route for a path ("Could not
    route to ...").

    Args:
        message: The error message of the 7003 response.

    Returns:
        What to fix for those two messages; `None` for a model that was not found.
    """
    if _USER_INPUT.search(message):
        return "The model refused the input: fix the input the message names"
    if _NO_ROUTE.search(message):
        return "The gateway cannot route this path: check the endpoint and the base URL's path"
    return None


def parse_body(body: Any) -> Any:
    """An error body as JSON values: bytes and text parsed, text that is not JSON kept.

    Args:
        body: The body as received (bytes, text, or already parsed).

    Returns:
        The parsed JSON, the text itself when it is not JSON, or `None` for an empty body.
    """
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            return json.loads(body) if body.strip() else None
        except ValueError:
            return body
    return body


def gateway_code(body: Any) -> tuple[int | None, str | None]:
    """(internal code, message) of a gateway-made or v4 error body; `None` for what is absent.

    https://developers.cloudflare.com/ai-gateway/features/guardrails/set-up-guardrail/

    Args:
        body: A parsed error body.

    Returns:
        The code and message of `internalCode`/`message`, or of the first entry of
        `error` (the gateway's) or `errors` (the v4 API's and Workers AI's); the code is
        `None` when there is no integer code.
    """
    if not isinstance(body, dict):
        return None, None
    code = body.get("internalCode")
    message = body.get("message")
    errors = body.get("error") if isinstance(body.get("error"), list) else body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = code if code is not None else errors[0].get("code")
        message = message or errors[0].get("message")
    text = str(message) if message is not None else None
    if isinstance(code, bool) or not isinstance(code, int):
        return None, text
    return code, text
