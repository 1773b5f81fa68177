"""`GatewayRequestError`: an error the gateway itself sends, in core's error body shape.

The codes and their HTTP statuses are core's (`ErrorCode`, `ERROR_STATUS`); Cloudflare
documents the body shape in part, with the guardrail codes:
https://developers.cloudflare.com/ai-gateway/features/guardrails/set-up-guardrail/
"""

from __future__ import annotations

from ..core.protocol import ErrorCode


class GatewayRequestError(Exception):
    """A gateway-made error response: a code and, optionally, a message."""

    def __init__(self, code: ErrorCode, message: str | None = None) -> None:
        self.code = code
        self.message = message
        super().__init__(message or code.name)
