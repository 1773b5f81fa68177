"""The provider's price of one response, from LiteLLM's price map (`litellm.model_cost`).

LiteLLM cannot price `cloudflare-ai-gateway/...` models itself and would spend a failed
price look-up on every call; the handler sets `_hidden_params["response_cost"]` from
here: the price of the provider the gateway called, and 0 for a response served from the
gateway's cache (https://developers.cloudflare.com/ai-gateway/features/caching/).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import litellm

LITELLM_PRICE_PROVIDER: Final[Mapping[str, str]] = {
    "google-ai-studio": "gemini",
    "google-vertex-ai": "vertex_ai",
    "workers-ai": "cloudflare",
    "grok": "xai",
    "perplexity-ai": "perplexity",
    "aws-bedrock": "bedrock",
    "azure-openai": "azure",
}
"""Gateway provider slug -> LiteLLM's provider name in its price map, where they differ."""


def response_cost(info: Mapping[str, Any], usage: Any) -> float | None:
    """The provider's price of one response; 0.0 for a cache HIT, None when unknown.

    Args:
        info: The gateway dict of the response (`cache_status`, `model`, `provider`).
        usage: The response's `Usage` (prompt, completion and cached tokens).

    Returns:
        The price in US dollars, or None when the model is not in LiteLLM's price map.
    """
    if info.get("cache_status") == "HIT":
        return 0.0  # served from the gateway cache: the provider was not called
    model, slug = info.get("model"), info.get("provider")
    if usage is None or not model or not slug:
        return None
    provider = LITELLM_PRICE_PROVIDER.get(slug, slug)
    prices = litellm.model_cost.get(f"{provider}/{model}") or litellm.model_cost.get(model)
    if not prices or prices.get("litellm_provider") != provider:
        return None
    per_in = prices.get("input_cost_per_token")
    per_out = prices.get("output_cost_per_token") or 0.0
    if per_in is None:
        return None
    prompt = getattr(usage, "prompt_tokens", 0) or 0
    completion = getattr(usage, "completion_tokens", 0) or 0
    details = getattr(usage, "prompt_tokens_details", None)
    cached = min(getattr(details, "cached_tokens", 0) or 0, prompt)
    per_cached = prices.get("cache_read_input_token_cost")
    if per_cached is None:
        per_cached = per_in
    return float((prompt - cached) * per_in + cached * per_cached + completion * per_out)
