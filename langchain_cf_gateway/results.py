"""The gateway log id of a result, wherever the integrations put it.

Every request through the gateway gets a log id, sent back in the `cf-aig-log-id`
response header (https://developers.cloudflare.com/ai-gateway/evaluations/add-human-feedback-api/).
The chat model puts it in `response_metadata["gateway"]`, the LiteLLM handler in
`_hidden_params["gateway"]`; `gateway_log_id` finds it in either, so that feedback
(`send_feedback`, `GatewayClient.send_feedback`) can be sent straight from a result.
Duck-typed: importing this module imports neither LangChain nor LiteLLM.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .core.errors import InvalidOptionError
from .core.protocol import Header

_MAX_DEPTH: Final = 4
_LOG_ID_HEADERS: Final = (Header.LOG_ID, f"llm_provider-{Header.LOG_ID}")
"""The header as the gateway sends it, and as LiteLLM prefixes a provider's headers."""


def gateway_log_id(result: Any) -> str:
    """The gateway log id of a result, from wherever the integrations put it.

    Accepts a log id string, a `GatewayInfo`, a `LogEntry`, a gateway dict
    (`{"log_id": ...}`), a LangChain `AIMessage`, `AIMessageChunk` or `ChatGeneration`
    (`response_metadata["gateway"]`), or a LiteLLM response (`_hidden_params["gateway"]`,
    else its `cf-aig-log-id` header).

    Args:
        result: The result, or anything above that holds one.

    Returns:
        The log id.

    Raises:
        InvalidOptionError: No log id in `result` (the request was not logged, or the
            result did not come through the gateway).
    """
    log_id = _find_log_id(result, depth=0)
    if not log_id:
        raise InvalidOptionError(
            "log_id",
            f"no gateway log id in this {type(result).__name__}: pass the log id, or a result "
            "of ChatCloudflareGateway or the LiteLLM handler; the gateway sends none when the "
            "request was not logged (collect_log=False)",
        )
    return log_id


def _find_log_id(obj: Any, depth: int) -> str | None:
    if depth > _MAX_DEPTH or obj is None:
        return None
    if isinstance(obj, str):
        return obj.strip() or None
    if isinstance(obj, Mapping):
        if isinstance(obj.get("log_id"), str):
            return str(obj["log_id"])
        for key in ("gateway", "response_metadata"):
            if key in obj:
                found = _find_log_id(obj[key], depth + 1)
                if found:
                    return found
        headers = obj.get("additional_headers") or obj.get("headers")
        if isinstance(headers, Mapping):
            for name in _LOG_ID_HEADERS:
                if headers.get(name):
                    return str(headers[name])
        return None
    # `GatewayInfo` and `LogEntry` (whose `id` is its `log_id` too) name it `log_id`.
    own = getattr(obj, "log_id", None)
    if isinstance(own, str):
        return own.strip() or None
    for attr in ("response_metadata", "_hidden_params", "message"):
        value = getattr(obj, attr, None)
        if value is not None:
            found = _find_log_id(value, depth + 1)
            if found:
                return found
    return None
