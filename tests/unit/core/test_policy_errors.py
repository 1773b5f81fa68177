"""Policies' error responses -> typed errors, not provider errors.

https://developers.cloudflare.com/ai-gateway/features/policies/: a denied request is a 403
with `error` as an object; a spend cap is a 429 whose `error` object carries `bucket`,
`spent` and `limit`.
"""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

import langchain_cf_gateway
from langchain_cf_gateway.core import errors as core_errors
from langchain_cf_gateway.core.errors import (
    GatewayAuthenticationError,
    GatewayError,
    GatewayRateLimitError,
    ProviderError,
    error_from_response,
)

LOG_ID = "0199f0c2-7a6b-7c3d-9e1f-2a3b4c5d6e7f"
DENIED = {"success": False, "error": {"message": "Access denied by policy"}}
SPENT = {
    "success": False,
    "error": {
        "message": "Spending limit exceeded",
        "bucket": "team-a",
        "spent": 1000.42,
        "limit": 1000,
    },
}


def policy_class(name: str) -> type[GatewayError]:
    cls = getattr(core_errors, name, None)
    assert cls is not None, f"core.errors has no {name}"
    return cls  # type: ignore[no-any-return]


# status, body, class name, message, retryable, (bucket, spent, limit) or None
ROWS: list[tuple[int, Any, str, str, bool, tuple[Any, Any, Any] | None]] = [
    (403, DENIED, "PolicyDeniedError", "Access denied by policy", False, None),
    (403, json.dumps(DENIED), "PolicyDeniedError", "Access denied by policy", False, None),
    (403, json.dumps(DENIED).encode(), "PolicyDeniedError", "Access denied by policy", False, None),
    (
        429,
        SPENT,
        "SpendLimitExceededError",
        "Spending limit exceeded",
        False,
        ("team-a", 1000.42, 1000),
    ),
    (
        429,
        json.dumps(SPENT).encode(),
        "SpendLimitExceededError",
        "Spending limit exceeded",
        False,
        ("team-a", 1000.42, 1000),
    ),
    (  # only some of the fields: the others are None
        429,
        {"success": False, "error": {"message": "Spending limit exceeded", "bucket": "b"}},
        "SpendLimitExceededError",
        "Spending limit exceeded",
        False,
        ("b", None, None),
    ),
]


@pytest.mark.parametrize(("status", "body", "name", "message", "retryable", "fields"), ROWS)
def test_policy_errors(
    status: int,
    body: Any,
    name: str,
    message: str,
    retryable: bool,
    fields: tuple[Any, Any, Any] | None,
) -> None:
    cls = policy_class(name)
    err = error_from_response(status, {"cf-aig-log-id": LOG_ID}, body)
    assert type(err) is cls
    assert not isinstance(err, ProviderError)
    assert (err.status_code, err.message, err.log_id) == (status, message, LOG_ID)
    assert err.retryable is retryable
    if fields is not None:
        assert (err.bucket, err.spent, err.limit) == fields  # type: ignore[attr-defined]
        if fields[0]:
            assert fields[0] in str(err)
    assert err.hint and err.hint in str(err)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is cls and str(copy) == str(err)


def test_what_a_user_catches() -> None:
    # A policy denial is not a bad token: a new token does not help, so it is not caught
    # with the authentication errors; a spend cap is still a rate limit.
    denied = policy_class("PolicyDeniedError")
    spend = policy_class("SpendLimitExceededError")
    assert issubclass(denied, GatewayError) and not issubclass(denied, GatewayAuthenticationError)
    assert issubclass(spend, GatewayRateLimitError)


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        # A provider's own 403 / 429 (no Cloudflare `success` marker) stays what it was.
        (
            403,
            {"error": {"message": "Project not allowed", "type": "permission_error"}},
            ProviderError,
        ),
        (
            429,
            {"error": {"message": "Rate limit reached", "type": "requests"}},
            GatewayRateLimitError,
        ),
        # A Cloudflare 429 object without the cap's fields is a plain rate limit.
        (429, {"success": False, "error": {"message": "slow down"}}, GatewayRateLimitError),
    ],
)
def test_look_alikes_keep_their_class(status: int, body: Any, cls: type[GatewayError]) -> None:
    assert type(error_from_response(status, None, body)) is cls


@pytest.mark.parametrize("name", ["PolicyDeniedError", "SpendLimitExceededError"])
def test_exported(name: str) -> None:
    from langchain_cf_gateway import core

    assert name in core.__all__ and name in langchain_cf_gateway.__all__
    assert getattr(langchain_cf_gateway, name) is getattr(core, name) is policy_class(name)
