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
`_hidden_params["gateway"]` (LiteLLM); see `gateway_log_id`.
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

    Returns the log id. `client_kwargs` (`api_token`, `account_id`, `base_url`...)
    build the client when none is given.
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
    """The async form of `send_feedback`."""
    log_id = gateway_log_id(result)
    if client is not None:
        return await client.send_feedback(
            log_id, feedback=feedback, score=score, metadata=metadata, gateway_id=gateway_id
        )
    async with AsyncGatewayClient(**client_kwargs) as own:
        return await own.send_feedback(
            log_id, feedback=feedback, score=score, metadata=metadata, gateway_id=gateway_id
        )
