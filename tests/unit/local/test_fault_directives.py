"""The fault grammar's gateway directives: `policy=`, `error=`, `message=` (pure parsing)."""

from __future__ import annotations

import json

import pytest

from langchain_cf_gateway.core.protocol import ERROR_MESSAGE, ERROR_STATUS, ErrorCode
from langchain_cf_gateway.local.faults import Fault, gateway_fault_response, policy_response


def test_policy_directives_parse() -> None:
    assert Fault.parse("policy=deny").policy == "deny"
    assert Fault.parse("policy=spend").policy == "spend"


def test_policy_bodies_are_cloudflares() -> None:
    status, body = policy_response("deny")
    assert status == 403
    assert body == b'{"success":false,"error":{"message":"Access denied by policy"}}'
    status, body = policy_response("spend")
    assert status == 429
    assert json.loads(body) == {
        "success": False,
        "error": {
            "message": "Spending limit exceeded",
            "bucket": "local-spend-cap",
            "spent": 10.5,
            "limit": 10,
        },
    }


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_table_code_gets_its_status_and_message(code: ErrorCode) -> None:
    fault = Fault.parse(f"error={int(code)}")
    status, body = gateway_fault_response(fault)
    data = json.loads(body)
    assert status == ERROR_STATUS[code] == data["httpCode"]
    assert data["error"] == [{"code": int(code), "message": ERROR_MESSAGE[code]}]


def test_a_code_outside_the_table_keeps_number_status_and_message() -> None:
    fault = Fault.parse("error=9999~status=418~message=Teapot is out of tea")
    status, body = gateway_fault_response(fault)
    data = json.loads(body)
    assert status == 418 and data["httpCode"] == 418 and data["internalCode"] == 9999
    assert data["error"] == [{"code": 9999, "message": "Teapot is out of tea"}]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("policy=maybe", "policy=maybe"),
        ("policy", "policy"),
        ("error=9999", "error=9999"),
        ("error=abc", "error=abc"),
        ("error=", "error="),
        ("policy=deny~error=3040", "policy"),
        ("policy=deny~status=500", "policy"),
        ("message=hi", "message"),
    ],
)
def test_bad_gateway_directives_are_refused_naming_them(text: str, named: str) -> None:
    with pytest.raises(ValueError) as caught:
        Fault.parse(text)
    assert named in str(caught.value)
