"""The whole error table: each code's class, `retryable`, and a message that names the fix.

Gateway codes (https://developers.cloudflare.com/ai-gateway/), the management API's 7001 and
7002, and Workers AI's own codes passed through `workers-ai` routes
(https://developers.cloudflare.com/workers-ai/platform/errors/), in both body shapes.
"""

from __future__ import annotations

from typing import Any

import pytest

from langchain_cf_gateway.core import (
    GatewayError,
    GatewayNotFoundError,
    GatewayRateLimitError,
    ModelNotFoundError,
    ProviderError,
    error_from_response,
)
from langchain_cf_gateway.core.error_codes import RETRYABLE_CODES
from langchain_cf_gateway.core.protocol import ERROR_STATUS, ErrorCode, gateway_error_body

LOG_ID = "0199f0c2-7a6b-7c3d-9e1f-2a3b4c5d6e7f"


def gateway_shape(code: int, message: str, status: int) -> dict[str, Any]:
    return {
        "success": False,
        "result": [],
        "messages": [],
        "error": [{"code": code, "message": message}],
        "name": "AiGatewayError",
        "httpCode": status,
        "internalCode": code,
        "message": message,
    }


def v4_shape(code: int, message: str, status: int) -> dict[str, Any]:
    """Workers AI's and the management API's v4 envelope."""
    return {"success": False, "errors": [{"code": code, "message": message}], "result": None}


# code, status, class, Cloudflare's message, retryable, what the fix says
TABLE: list[tuple[int, int, type[GatewayError], str, bool, str]] = [
    (2005, 400, GatewayError, "Failed to get response from provider", True, "send again"),
    (2005, 400, GatewayError, "Failed to get response from provider", True, "dynamic/"),
    (2005, 400, GatewayError, "Failed to get response from provider", True, "owns the route"),
    (2005, 502, GatewayError, "Provider request failed", True, "send again"),  # local gateway
    (2002, 500, GatewayError, "Invalid run id", False, "run id"),
    (7001, 400, GatewayError, "Invalid enum value", False, "filter"),
    (7002, 404, GatewayNotFoundError, "Not found", False, "gateway id"),
    (3003, 400, GatewayError, "Request is missing headers or body: body", False, "body"),
    (3006, 413, GatewayError, "Request is too large", False, "smaller"),
    (3007, 408, GatewayError, "Request timeout", True, "send again"),
    (3008, 408, GatewayError, "Request was aborted", True, "send again"),
    (3023, 403, GatewayError, "Service unavailable for account", False, "account"),
    (
        3036,
        429,
        GatewayRateLimitError,
        "You have used up your daily free allocation of 10,000 neurons.",
        True,
        "Workers Paid",
    ),
    (3039, 400, GatewayError, "Finetune is missing required files", False, "model.safetensors"),
    (
        3040,
        429,
        GatewayRateLimitError,
        "No more data centers to forward the request to",
        True,
        "out of capacity",
    ),
    (3041, 403, GatewayError, "The account is not allowed to access this model", False, "access"),
    (3042, 404, ModelNotFoundError, "The model name is invalid", False, "@cf/"),
    (5004, 400, GatewayError, "Invalid data type for base64 input: int", False, "base64"),
    (5005, 405, GatewayError, "The model @cf/x does not support LoRa inference", False, "LoRA"),
    (5007, 400, ModelNotFoundError, "No such model @cf/nope or task", False, "task"),
    (5016, 403, GatewayError, "User has not agreed to Llama3.2 model terms", False, "agree"),
    (5018, 403, GatewayError, "The account is not allowed to access this model", False, "access"),
    (5019, 405, GatewayError, "Request trying to use deprecated SDK version", False, "upgrade"),
]


@pytest.mark.parametrize("shape", [gateway_shape, v4_shape])
@pytest.mark.parametrize(("code", "status", "cls", "message", "retryable", "fix"), TABLE)
def test_the_table(
    code: int,
    status: int,
    cls: type[GatewayError],
    message: str,
    retryable: bool,
    fix: str,
    shape: Any,
) -> None:
    err = error_from_response(status, {"cf-aig-log-id": LOG_ID}, shape(code, message, status))
    assert type(err) is cls
    assert (err.status_code, err.code, err.message, err.log_id) == (status, code, message, LOG_ID)
    assert err.retryable is retryable
    text = str(err)
    assert text.startswith(f"Cloudflare AI Gateway error {code} (HTTP {status}): {message}. ")
    assert fix.lower() in text.lower()


@pytest.mark.parametrize(
    ("code", "status", "retryable"),
    [(4242, 418, False), (4243, 503, True), (4244, 429, True), (9, 400, False)],
)
def test_an_unknown_code_keeps_its_number_status_and_message(
    code: int, status: int, retryable: bool
) -> None:
    err = error_from_response(status, None, gateway_shape(code, "something new", status))
    assert (err.code, err.status_code, err.message, err.retryable) == (
        code,
        status,
        "something new",
        retryable,
    )
    assert str(err).startswith(f"Cloudflare AI Gateway error {code} (HTTP {status}): something new")


NO_CREDENTIALS = [
    "No provider credentials: this gateway is byok_only",
    "Request has no credentials and cf-aig-no-wholesale is set",
    "Unified Billing is disabled (no_wholesale) and no BYOK key is stored",
]
NO_ALLOWED_MODEL = [
    "No model matches cf-aig-allowed-models",
    "cf-aig-allowed-models entry 'anthropic/nope*' matches no model",
    "No candidate model left after applying allowed_providers",
]


def as_provider(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error"}}


def as_gateway(message: str) -> dict[str, Any]:
    return {"success": False, "error": [{"message": message}]}


@pytest.mark.parametrize("shape", [as_provider, as_gateway])
@pytest.mark.parametrize(
    ("message", "fixes"),
    [(m, ("provider key", "store one in the gateway")) for m in NO_CREDENTIALS]
    + [(m, ("allowed_models", "allowed_providers")) for m in NO_ALLOWED_MODEL],
)
def test_the_400s_without_a_code_name_the_fix(
    message: str, fixes: tuple[str, ...], shape: Any
) -> None:
    err = error_from_response(400, None, shape(message))
    assert type(err) is GatewayError and not isinstance(err, ProviderError)
    assert err.message == message and not err.retryable
    for fix in fixes:
        assert fix in str(err)


def test_a_provider_400_about_keys_stays_a_provider_error() -> None:
    err = error_from_response(400, None, as_provider("Incorrect API key provided"))
    assert type(err) is ProviderError and not err.hint


@pytest.mark.parametrize("code", sorted(RETRYABLE_CODES))
def test_a_404_is_never_retryable_whatever_its_code(code: int) -> None:
    """A `dynamic/` route resolved against a gateway that does not own it is a 404 with
    2005 on the REST API: sending it again reaches the same gateway and the same 404."""
    err = error_from_response(404, None, gateway_shape(code, "Failed to get response", 404))
    assert err.code == code and err.status_code == 404
    assert not err.retryable


def test_2005_at_its_own_status_stays_retryable() -> None:
    err = error_from_response(400, None, gateway_shape(2005, "Failed to get response", 400))
    assert err.retryable


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda c: f"{int(c)}-{c.name}")
def test_every_known_code_names_its_fix(code: ErrorCode) -> None:
    """The README: each known code's message names its fix."""
    body = gateway_error_body(code)
    err = error_from_response(ERROR_STATUS[code], None, body)
    assert err.hint, f"{int(code)} has no fix"
    assert err.hint in str(err)


def test_7001_is_not_only_the_management_apis() -> None:
    """7001 is the gateway's "invalid request" too (a bad cf-aig-* header, a bad body)."""
    err = error_from_response(400, None, gateway_error_body(ErrorCode.INVALID_REQUEST, "x"))
    assert "cf-aig-" in err.hint and "management API refused" not in err.hint
