"""The gateway token kept out of what LiteLLM logs and hands its callbacks.

LiteLLM puts unknown call keywords such as `gateway_token` into `optional_params`, into
its logging object (whose `model_call_details` go to every success and failure callback)
and into its own DEBUG log records: `scrub_secrets` blanks the first two once the handler
has read the token, `RedactGatewayToken` (installed by `register`) the log records.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

REDACTED: Final = "[redacted]"

LITELLM_LOGGERS: Final = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")
"""LiteLLM's loggers, which `register` installs `RedactGatewayToken` on."""

_TOKEN_IN_TEXT: Final = re.compile(
    r"""(["']?gateway_token["']?\s*[:=]\s*)(["'])(?:\\.|(?!\2).)*\2"""
)


def scrub_secrets(optional_params: dict[str, Any], logging_obj: Any) -> None:
    """Blank the gateway token where LiteLLM keeps the call's keywords once it is read.

    Args:
        optional_params: The `optional_params` LiteLLM handed the handler (changed in place).
        logging_obj: LiteLLM's logging object of the call (its `model_call_details`).
    """
    if optional_params.get("gateway_token") is not None:
        optional_params["gateway_token"] = REDACTED
    details = getattr(logging_obj, "model_call_details", None)
    if isinstance(details, dict):
        if details.get("gateway_token") is not None:
            details["gateway_token"] = REDACTED
        logged = details.get("optional_params")
        if isinstance(logged, dict) and logged.get("gateway_token") is not None:
            logged["gateway_token"] = REDACTED


class RedactGatewayToken(logging.Filter):
    """Blanks `'gateway_token': '...'` in LiteLLM's own log records.

    LiteLLM logs a call's keywords and optional params at DEBUG before any handler runs
    (so before `scrub_secrets`); filters run only for records that pass the level check,
    so this costs nothing while DEBUG is off.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Blank the token in `record`'s message; never drop a record.

        Args:
            record: A log record of LiteLLM.

        Returns:
            True: the record is always kept.
        """
        try:
            text = record.getMessage()
        except Exception:  # a record whose args do not fit its format: leave it to logging
            return True
        if "gateway_token" in text:
            record.msg = _TOKEN_IN_TEXT.sub(rf"\1\2{REDACTED}\2", text)
            record.args = ()
        return True
