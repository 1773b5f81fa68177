"""Error responses -> exceptions: every gateway code, provider pass-through, plain statuses.

The codes are those the gateway sends (`core.protocol.ErrorCode`); the tree drawn at the top
of `core.errors` names every class under its parent.
"""

from __future__ import annotations

import json
import pickle
from typing import Any

import httpx
import pytest

from langchain_cf_gateway.core import (
    ContentBlockedError,
    GatewayAuthenticationError,
    GatewayError,
    GatewayNotFoundError,
    GatewayRateLimitError,
    InsufficientCreditsError,
    InvalidProviderError,
    ModelNotFoundError,
    ProviderError,
    ProviderUnavailableError,
    UnknownByokAliasError,
    error_from_response,
)
from langchain_cf_gateway.core.errors import RETRY_AFTER_MAX_S
from langchain_cf_gateway.core.protocol import gateway_error_body

LOG_ID = "0199f0c2-7a6b-7c3d-9e1f-2a3b4c5d6e7f"


def gateway_body(code: int, message: str, status: int) -> dict[str, Any]:
    """The gateway's own error body, as captured live, written out by hand."""
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


CODES = [
    # code, status, class, message, retryable
    (
        2001,
        400,
        GatewayNotFoundError,
        "Please configure AI Gateway in the Cloudflare dashboard",
        False,
    ),
    (2003, 429, GatewayRateLimitError, "Rate limited", True),
    (2008, 400, InvalidProviderError, "Invalid provider", False),
    (2009, 401, GatewayAuthenticationError, "Unauthorized", False),
    (2016, 424, ContentBlockedError, "Prompt blocked by guardrails", False),
    (2017, 424, ContentBlockedError, "Response blocked by guardrails", False),
    (2017, 422, ContentBlockedError, "Response blocked by guardrails", False),  # on /run
    (
        2021,
        402,
        InsufficientCreditsError,
        "Insufficient balance; add money to your gateway or use BYOK",
        False,
    ),
    (2029, 424, ContentBlockedError, "Request content blocked due to DLP policy violations", False),
    (
        2030,
        424,
        ContentBlockedError,
        "Response content blocked due to DLP policy violations",
        False,
    ),
    (
        2040,
        400,
        UnknownByokAliasError,
        "Provider 'openai' has no BYOK credential named 'x'. Configured aliases: default",
        False,
    ),
    (
        2041,
        429,
        GatewayRateLimitError,
        "Spend limit exceeded: rule 'r1' (cost limit 5 per 3600s, sliding)",
        True,
    ),
    (7003, 404, ModelNotFoundError, "Model not found: @cf/nope", False),
    (7003, 400, ModelNotFoundError, "Model execution failed (User Input Error): bad", False),
    # Codes without a class of their own stay GatewayError; retryable follows the status.
    (7013, 503, GatewayError, "Guardrails scanner unavailable", True),
    (2005, 502, GatewayError, "Provider request failed", True),
    (7001, 400, GatewayError, "Invalid enum value", False),
    (9999, 429, GatewayRateLimitError, "some new limit", True),
]


@pytest.mark.parametrize(("code", "status", "cls", "message", "retryable"), CODES)
@pytest.mark.parametrize("encoding", ["bytes", "str", "dict"])
def test_gateway_codes(
    code: int, status: int, cls: type[GatewayError], message: str, retryable: bool, encoding: str
) -> None:
    body: Any = gateway_body(code, message, status)
    if encoding != "dict":
        body = json.dumps(body)
        body = body.encode() if encoding == "bytes" else body
    err = error_from_response(status, {"CF-AIG-Log-ID": LOG_ID}, body)
    assert type(err) is cls
    assert (err.status_code, err.code, err.message, err.log_id) == (status, code, message, LOG_ID)
    assert err.retryable is retryable
    assert err.body == gateway_body(code, message, status)
    text = str(err)
    assert text.startswith(f"Cloudflare AI Gateway error {code} (HTTP {status}): {message}")
    assert text.endswith(f"[log id {LOG_ID}]")
    if cls.hint:  # the class's fix, or the one its message calls for (7003)
        assert err.hint and err.hint in text


def test_protocol_body_is_the_captured_shape() -> None:
    # The local gateway sends protocol.gateway_error_body; it must read back as the same error.
    from langchain_cf_gateway.core.protocol import ERROR_STATUS, ErrorCode

    for code in ErrorCode:
        body = gateway_error_body(code)
        assert body == gateway_body(int(code), str(body["message"]), ERROR_STATUS[code])
        err = error_from_response(ERROR_STATUS[code], None, body)
        assert err.code == code


def test_hints_name_the_fix() -> None:
    assert "CLOUDFLARE_AI_GATEWAY_TOKEN" in str(
        error_from_response(401, {}, gateway_body(2009, "Unauthorized", 401))
    )
    assert "gateway_id='default'" in str(error_from_response(400, {}, gateway_body(2001, "x", 400)))
    assert "byok_alias" in str(error_from_response(400, {}, gateway_body(2040, "x", 400)))


@pytest.mark.parametrize(
    "body",
    [
        {"error": [{"code": 2009, "message": "Unauthorized"}]},  # no internalCode
        {"errors": [{"code": 2009, "message": "Unauthorized"}]},  # v4 spelling
        {"internalCode": 2009, "message": "Unauthorized"},
    ],
)
def test_partial_gateway_bodies(body: dict[str, Any]) -> None:
    err = error_from_response(401, None, body)
    assert type(err) is GatewayAuthenticationError
    assert (err.code, err.message) == (2009, "Unauthorized")


def test_a_gateway_code_without_a_message() -> None:
    err = error_from_response(400, None, {"internalCode": 2008})
    assert type(err) is InvalidProviderError and err.message == "gateway error 2008"


# ------------------------------------------------------------------- provider pass-through

OPENAI_400 = {
    "error": {
        "message": "Invalid value for 'temperature'",
        "type": "invalid_request_error",
        "param": "temperature",
        "code": "invalid_value",
    }
}
ANTHROPIC_400 = {
    "type": "error",
    "error": {"type": "invalid_request_error", "message": "max_tokens: required"},
}


@pytest.mark.parametrize(
    ("status", "body", "cls", "message", "retryable"),
    [
        (400, OPENAI_400, ProviderError, "Invalid value for 'temperature'", False),
        (
            401,
            {"error": {"message": "Incorrect API key provided"}},
            ProviderError,
            "Incorrect API key provided",
            False,
        ),
        (404, ANTHROPIC_400, ProviderError, "max_tokens: required", False),
        (422, {"error": "bad input"}, ProviderError, "bad input", False),
        (
            400,
            {"message": "mistral says no", "code": "3051"},
            ProviderError,
            "mistral says no",
            False,
        ),
        (408, {"error": {"message": "timeout"}}, ProviderError, "timeout", True),
        (409, {"error": {"message": "conflict"}}, ProviderError, "conflict", True),
        (
            429,
            {"error": {"message": "Rate limit reached"}},
            GatewayRateLimitError,
            "Rate limit reached",
            True,
        ),
        (429, "", GatewayRateLimitError, "no error message in the body", True),
        (500, {"error": {"message": "server"}}, ProviderUnavailableError, "server", True),
        (
            502,
            "<html>Bad Gateway</html>",
            ProviderUnavailableError,
            "<html>Bad Gateway</html>",
            True,
        ),
        (503, None, ProviderUnavailableError, "no error message in the body", True),
        (
            529,
            {"type": "error", "error": {"message": "Overloaded"}},
            ProviderUnavailableError,
            "Overloaded",
            True,
        ),
    ],
)
def test_provider_errors_keep_status_and_body(
    status: int, body: Any, cls: type[GatewayError], message: str, retryable: bool
) -> None:
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    err = error_from_response(status, {}, raw)
    assert type(err) is cls
    assert isinstance(err, GatewayError)
    assert err.status_code == status
    assert err.code is None
    assert err.message == message
    assert err.retryable is retryable
    expected_body = body if body != "" else None
    assert err.body == expected_body
    assert str(err) == f"Cloudflare AI Gateway error (HTTP {status}): {message}" + (
        f". {cls.hint}" if cls.hint else ""
    )


def test_provider_unavailable_is_a_provider_error() -> None:
    assert issubclass(ProviderUnavailableError, ProviderError)


def test_long_text_bodies_are_cut_in_the_message_not_in_the_body() -> None:
    text = "x" * 2000
    err = error_from_response(500, None, text)
    assert err.message == "x" * 500
    assert err.body == text


def test_invalid_utf8_body() -> None:
    err = error_from_response(502, None, b"\xff\xfe oops")
    assert type(err) is ProviderUnavailableError
    assert "oops" in err.message


# ------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("-2", 0.0),
        ("inf", None),
        ("nan", None),
        ("Wed, 21 Oct 2026 07:28:00 GMT", None),
    ],
)
def test_retry_after(value: str, expected: float | None) -> None:
    err = error_from_response(429, {"Retry-After": value}, gateway_body(2003, "Rate limited", 429))
    assert err.retry_after == expected


def test_no_retry_after_no_log_id() -> None:
    err = error_from_response(429, None, None)
    assert err.retry_after is None and err.log_id is None


def test_httpx_headers() -> None:
    headers = httpx.Headers({"Retry-After": "7", "CF-AIG-LOG-ID": LOG_ID})
    err = error_from_response(429, headers, b"")
    assert (err.retry_after, err.log_id) == (7.0, LOG_ID)


# ------------------------------------------------------------------- pickling


def test_errors_survive_pickling() -> None:
    err = error_from_response(
        429, {"cf-aig-log-id": LOG_ID, "retry-after": "2"}, gateway_body(2041, "Spend limit", 429)
    )
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is GatewayRateLimitError
    assert str(copy) == str(err)
    assert (copy.status_code, copy.code, copy.log_id, copy.retry_after, copy.body) == (
        429,
        2041,
        LOG_ID,
        2.0,
        err.body,
    )
    assert copy.retryable


# --------------------------------------------------------------------------- the drawn tree


def _error_classes() -> list[type[BaseException]]:
    from langchain_cf_gateway.core import errors

    return [
        value
        for value in vars(errors).values()
        if isinstance(value, type)
        and issubclass(value, (GatewayError, errors.GatewayInputError))
        and value.__module__ == errors.__name__
    ]


def test_the_drawn_tree_names_every_class_under_its_parent() -> None:
    from langchain_cf_gateway.core import errors

    lines = (errors.__doc__ or "").splitlines()
    drawn = {}
    for number, line in enumerate(lines):
        words = line.replace("└──", " ").replace("├──", " ").replace("│", " ").split()
        if words and words[0].endswith(("Error", "Exception")):
            drawn[words[0]] = (number, len(line) - len(line.lstrip(" │├└─")))
    for cls in _error_classes():
        assert cls.__name__ in drawn, f"{cls.__name__} is not drawn in core.errors"
        parent = cls.__bases__[0].__name__
        number, depth = drawn[cls.__name__]
        above = [n for n, (at, d) in drawn.items() if at < number and d < depth]
        nearest = max(above, key=lambda n: drawn[n][0])
        assert nearest == parent, f"{cls.__name__} is drawn under {nearest}, not {parent}"


def test_every_class_says_what_it_is_in_one_line() -> None:
    for cls in _error_classes():
        doc = cls.__dict__.get("__doc__")
        assert doc and doc.splitlines()[0].strip().endswith("."), cls.__name__


def test_the_management_errors_are_the_cores_own() -> None:
    from langchain_cf_gateway import management
    from langchain_cf_gateway.core.errors import LogNotFoundError, ManagementAuthenticationError

    assert issubclass(ManagementAuthenticationError, GatewayAuthenticationError)
    assert issubclass(LogNotFoundError, GatewayNotFoundError)
    assert management.ManagementAuthenticationError is ManagementAuthenticationError
    assert management.LogNotFoundError is LogNotFoundError
    assert "CLOUDFLARE_API_TOKEN" in ManagementAuthenticationError.hint
    assert management.ENV_API_TOKEN in ManagementAuthenticationError.hint
    err = LogNotFoundError("no such log", status_code=404, log_id="l1")
    assert pickle.loads(pickle.dumps(err)).__dict__ == err.__dict__


# A `Retry-After` worth honouring: seconds up to the cap, or an HTTP date in the future
# (https://www.rfc-editor.org/rfc/rfc9110#field.retry-after); anything else is ignored.
def _http_date(seconds_from_now: float) -> str:
    import email.utils
    import time

    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


@pytest.mark.parametrize(
    "value",
    [
        "99999999999999999999999",
        "1e23",
        "86401",
        "1e400",
        "-inf",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        _http_date(-3600),
        _http_date(3 * 86400),
        "not a date",
        "",
    ],
)
def test_retry_after_ignores_what_is_not_a_wait_worth_honouring(value: str) -> None:
    err = error_from_response(429, {"Retry-After": value}, gateway_body(2003, "Rate limited", 429))
    assert err.retry_after is None


def test_retry_after_keeps_the_cap_itself() -> None:
    err = error_from_response(429, {"Retry-After": "86400"}, gateway_body(2003, "Slow", 429))
    assert err.retry_after == RETRY_AFTER_MAX_S == 86400.0


def test_retry_after_reads_a_future_http_date_as_seconds_from_now() -> None:
    err = error_from_response(
        429, {"Retry-After": _http_date(120)}, gateway_body(2003, "Slow", 429)
    )
    assert err.retry_after is not None and 100 <= err.retry_after <= 121
