"""Cloudflare AI Gateway for LangChain and LiteLLM.

``import langchain_cf_gateway`` stays light: it never imports litellm, starlette or
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
    from .chat_models import ChatCloudflareGateway
    from .embeddings import CloudflareGatewayEmbeddings

__version__ = "0.1.0"

_LAZY = {
    "ChatCloudflareGateway": "chat_models",
    "CloudflareGatewayEmbeddings": "embeddings",
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
    "ChatCloudflareGateway",
    "CloudflareGatewayEmbeddings",
    "ConfigError",
    "GatewayConfig",
    "GatewayError",
    "GatewayInfo",
    "GatewayOptions",
    "InvalidModelIdError",
    "InvalidOptionError",
    "__version__",
    "provider_base_url",
]
