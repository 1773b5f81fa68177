"""The Guardrails and DLP error facts as Cloudflare documents them (status, code, message).

- Guardrails: https://developers.cloudflare.com/ai-gateway/features/guardrails/set-up-guardrail/
  (424 / 2016 prompt, 424 / 2017 response on the provider endpoints); the messages
  "Prompt blocked due to security configurations" / "Response blocked due to security
  configurations".
- DLP: https://developers.cloudflare.com/ai-gateway/features/dlp/set-up-dlp/ (2029 / 2030 and
  their messages) and https://developers.cloudflare.com/ai-gateway/features/dlp/ (a blocked
  response is replaced by "a DLP error response (status `400`)").
"""

from __future__ import annotations

import pytest

from langchain_cf_gateway.core.protocol import ERROR_STATUS, ErrorCode, gateway_error_body

DOCUMENTED = [
    (ErrorCode.PROMPT_BLOCKED, 424, "Prompt blocked due to security configurations"),
    (ErrorCode.RESPONSE_BLOCKED, 424, "Response blocked due to security configurations"),
    (ErrorCode.DLP_REQUEST_BLOCKED, 400, "Request content blocked due to DLP policy violations"),
    (ErrorCode.DLP_RESPONSE_BLOCKED, 400, "Response content blocked due to DLP policy violations"),
]


@pytest.mark.parametrize(("code", "status", "message"), DOCUMENTED)
def test_blocked_errors_are_cloudflares(code: ErrorCode, status: int, message: str) -> None:
    body = gateway_error_body(code)
    assert ERROR_STATUS[code] == status == body["httpCode"]
    assert body["message"] == message
    assert body["error"] == [{"code": int(code), "message": message}]
    assert body["internalCode"] == int(code)
    assert body["name"] == "AiGatewayError"
