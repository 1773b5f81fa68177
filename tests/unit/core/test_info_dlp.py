"""`cf-aig-dlp` -> `GatewayInfo.dlp`: the JSON object as sent; anything else None, never raises.

https://developers.cloudflare.com/ai-gateway/features/dlp/set-up-dlp/ ("DLP response header")
"""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from langchain_cf_gateway.core import GATEWAY_INFO_KEYS, GatewayInfo

DOCUMENTED = {
    "findings": [
        {
            "profile": {
                "context": {},
                "entry_ids": [
                    "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
                    "f7e8d9c0-b1a2-3456-789a-bcdef0123456",
                ],
                "profile_id": "12345678-90ab-cdef-1234-567890abcdef",
            },
            "policy_ids": ["block_financial_data"],
            "check": "REQUEST",
        }
    ],
    "action": "BLOCK",
}


@pytest.mark.parametrize(
    "headers",
    [
        {"cf-aig-dlp": json.dumps(DOCUMENTED)},
        {"CF-AIG-DLP": json.dumps(DOCUMENTED, indent=2)},
        httpx.Headers({"cf-aig-dlp": json.dumps(DOCUMENTED)}),
    ],
)
def test_the_documented_example_is_kept_as_given(headers: object) -> None:
    info = GatewayInfo.from_headers(headers)  # type: ignore[arg-type]
    assert info.dlp == DOCUMENTED
    assert info.as_dict()["dlp"] == DOCUMENTED
    assert "dlp" in GATEWAY_INFO_KEYS


@pytest.mark.parametrize(
    "sent", [{"findings": [], "action": "FLAG", "future": {"x": 1}}, [1, 2], "FLAG", 1]
)
def test_any_json_is_kept_as_given(sent: object) -> None:
    assert GatewayInfo.from_headers({"cf-aig-dlp": json.dumps(sent)}).dlp == sent


@pytest.mark.parametrize("raw", ["", "not json", "{", "null", "{'single': 1}", "[" * 100_000])
def test_malformed_is_none(raw: str) -> None:
    assert GatewayInfo.from_headers({"cf-aig-dlp": raw, "cf-aig-log-id": "l1"}) == GatewayInfo(
        log_id="l1"
    )


def test_absent_is_none() -> None:
    assert GatewayInfo.from_headers({"cf-aig-log-id": "l1"}).dlp is None


@given(st.text())
def test_never_raises(raw: str) -> None:
    info = GatewayInfo.from_headers({"cf-aig-dlp": raw})
    assert info.dlp is None or isinstance(info.dlp, (dict, list, str, int, float, bool))
