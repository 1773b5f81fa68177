"""Cloudflare AI Gateway for LangChain and LiteLLM.

`import langchain_cf_gateway` stays light: it never imports litellm, starlette or
uvicorn. The chat model and embeddings load on first use of their names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .core import (
    ConfigError,
    GatewayConfig,
    GatewayError,
    GatewayInfo,
    GatewayOptions,
    InvalidModelIdError,
    InvalidOptionError,
    provider_base_url,
)

if TYPE_CHECKING:
    from .callbacks import GatewayUsageTracker, gateway_usage
    from .chat_models import ChatCloudflareGateway
    from .embeddings import CloudflareGatewayEmbeddings
    from .feedback import asend_feedback, send_feedback
    from .management import AsyncGatewayClient, GatewayClient

__version__ = "0.1.0"

_LAZY = {
    "ChatCloudflareGateway": "chat_models",
    "CloudflareGatewayEmbeddings": "embeddings",
    "GatewayUsageTracker": "callbacks",
    "gateway_usage": "callbacks",
    "GatewayClient": "management",
    "AsyncGatewayClient": "management",
    "gateway_log_id": "results",
    "send_feedback": "feedback",
    "asend_feedback": "feedback",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'langchain_cf_gateway' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "AsyncGatewayClient",
    "ChatCloudflareGateway",
    "CloudflareGatewayEmbeddings",
    "ConfigError",
    "GatewayClient",
    "GatewayConfig",
    "GatewayError",
    "GatewayInfo",
    "GatewayOptions",
    "GatewayUsageTracker",
    "InvalidModelIdError",
    "InvalidOptionError",
    "__version__",
    "asend_feedback",
    "gateway_usage",
    "provider_base_url",
    "send_feedback",
]
