"""The 2005 fix names both causes, and tells a route-not-owned caller to check the route first.

Cloudflare answers 2005 both when the provider gave no response and when a `dynamic/`
route is not owned by the gateway the request went to; resending fixes only the first.
"""

from __future__ import annotations

from langchain_cf_gateway.core.error_codes import FIX
from langchain_cf_gateway.core.protocol import ErrorCode


def test_the_2005_fix_names_both_causes() -> None:
    fix = FIX[ErrorCode.PROVIDER_FAILED]
    assert "provider" in fix
    assert "dynamic/" in fix
    assert "gateway_id" in fix
    assert "cf-aig-gateway-id" in fix


def test_the_2005_fix_does_not_tell_a_route_caller_to_resend_first() -> None:
    fix = FIX[ErrorCode.PROVIDER_FAILED]
    route_advice = fix.index("check its name and gateway_id")
    resend = fix.index("send again")
    assert route_advice < resend
    assert "otherwise send again" in fix
