"""Human feedback on a call, straight from its result (PATCH `logs/{id}`).

The endpoint is Cloudflare's management API:
https://developers.cloudflare.com/api/resources/ai_gateway/; see also
https://developers.cloudflare.com/ai-gateway/evaluations/add-human-feedback-api/.

```python
from langchain_cf_gateway import send_feedback

message = llm.invoke("Summarise this ticket")
send_feedback(message, feedback=1, score=90)           # a LangChain AIMessage
send_feedback(litellm_response, feedback=-1)            # a LiteLLM response
send_feedback("01J...", score=40, metadata={"reviewer": "ana"})   # a log id
```

The log id is read from `response_metadata["gateway"]` (LangChain) or
`_hidden_params["gateway"]` (LiteLLM); see `gateway_log_id` (`results.py`).
Without `client=`, a `GatewayClient` is made from the same
settings as the chat model (arguments, then environment, then config file) and closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .core.options import MetadataValue
from .management import AsyncGatewayClient, GatewayClient
from .results import gateway_log_id


def send_feedback(
    result: Any,
    *,
    feedback: int | None = None,
    score: float | None = None,
    metadata: Mapping[str, MetadataValue] | None = None,
    client: GatewayClient | None = None,
    gateway_id: str | None = None,
    **client_kwargs: Any,
) -> str:
    """Send feedback (1 or -1), a score (0 to 100) and/or metadata for a result's log.

    Args:
        result: A LangChain or LiteLLM result, a `GatewayInfo`, or the log id itself.
        feedback: 1 (thumbs up) or -1 (thumbs down).
        score: 0 to 100.
        metadata: At most 5 scalar entries, as `cf-aig-metadata` takes them.
        client: The client to send with; by default one is made and closed.
        gateway_id: The gateway of the log; by default the configured one.
        **client_kwargs: Build the client when none is given (`api_token`,
            `account_id`, `base_url`...).

    Returns:
        The log id.

    Raises:
        InvalidOptionError: No log id in `result`, or feedback out of bounds; raised
            before any client is made or request sent.
        ConfigError: No client given and none can be made (no token, no account id).
        GatewayError: An error response or a timeout, as `GatewayClient.update_log`
            raises it (`LogNotFoundError` when the log is not there yet).
        httpx.TransportError: No response at all (connection refused, DNS).
    """
    log_id = gateway_log_id(result)  # before any client is made: a bad result fails first
    if client is not None:
        return client.send_feedback(
            log_id, feedback=feedback, score=score, metadata=metadata, gateway_id=gateway_id
        )
    with GatewayClient(**client_kwargs) as own:
        return own.send_feedback(
            log_id, feedback=feedback, score=score, metadata=metadata, gateway_id=gateway_id
        )


async def asend_feedback(
    result: Any,
    *,
    feedback: int | None = None,
    score: float | None = None,
    metadata: Mapping[str, MetadataValue] | None = None,
    client: AsyncGatewayClient | None = None,
    gateway_id: str | None = None,
    **client_kwargs: Any,
) -> str:
    """The async form of `send_feedback`: the same arguments, result and errors.

    Raises:
        InvalidOptionError: No log id in `result`, or feedback out of bounds.
        ConfigError: No client given and none can be made (no token, no account id).
        GatewayError: An error response or a timeout (`LogNotFoundError` for no such log).
        httpx.TransportError: No response at all (connection refused, DNS).
    """
    log_id = gateway_log_id(result)
    if client is not None:
        return await client.send_feedback(
            log_id, feedback=feedback, score=score, metadata=metadata, gateway_id=gateway_id
        )
    async with AsyncGatewayClient(**client_kwargs) as own:
        return await own.send_feedback(
            log_id, feedback=feedback, score=score, metadata=metadata, gateway_id=gateway_id
        )
