"""Cloudflare AI Gateway for LangChain and LiteLLM.

The integrations and their public helpers, with the whole exception tree and the value
types, so that one import serves a user:

```python
from langchain_cf_gateway import ChatCloudflareGateway, GatewayOptions, GatewayRateLimitError
```

`import langchain_cf_gateway` stays light: it never imports litellm, starlette or
uvicorn. The core's config, options, info and errors load at once (they are small and
framework-free); the chat model, the embeddings, the usage tracker and the management
client load on first use of their names (PEP 562 `__getattr__`, listed by `__dir__`).
The LiteLLM provider (`langchain_cf_gateway.litellm_provider`) and the local gateway
(`langchain_cf_gateway.local`) are imported by their own module paths.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .core import (
    ConfigError,
    ContentBlockedError,
    GatewayAuthenticationError,
    GatewayConfig,
    GatewayError,
    GatewayInfo,
    GatewayInputError,
    GatewayNotFoundError,
    GatewayOptions,
    GatewayRateLimitError,
    GatewayTimeoutError,
    InsufficientCreditsError,
    InvalidModelIdError,
    InvalidOptionError,
    InvalidProviderError,
    InvalidResponseError,
    LogNotFoundError,
    ManagementAuthenticationError,
    MissingAccountIdError,
    ModelNotFoundError,
    PolicyDeniedError,
    ProviderError,
    ProviderUnavailableError,
    ResponseTooLargeError,
    SpendLimitExceededError,
    Step,
    UnknownByokAliasError,
    provider_base_url,
)

if TYPE_CHECKING:
    from .callbacks import GatewayCall, GatewayUsageTracker, gateway_usage
    from .chat_models import ChatCloudflareGateway
    from .core.connection import GatewayConnectionError
    from .core.dynamic_routes import DynamicRoute, InvalidDynamicRouteError
    from .embeddings import CloudflareGatewayEmbeddings
    from .feedback import asend_feedback, send_feedback
    from .management import (
        AsyncGatewayClient,
        Gateway,
        GatewayClient,
        GatewaySettings,
        LogEntry,
        LogFilter,
        LogPage,
        LogQuery,
        RouteNotFoundError,
    )
    from .results import gateway_log_id

    __version__: str

_LAZY: dict[str, str] = {
    "ChatCloudflareGateway": "chat_models",
    "CloudflareGatewayEmbeddings": "embeddings",
    "DynamicRoute": "core.dynamic_routes",
    "InvalidDynamicRouteError": "core.dynamic_routes",
    "GatewayConnectionError": "core.connection",
    "GatewayCall": "callbacks",
    "GatewayUsageTracker": "callbacks",
    "gateway_usage": "callbacks",
    "AsyncGatewayClient": "management",
    "Gateway": "management",
    "GatewayClient": "management",
    "GatewaySettings": "management",
    "LogEntry": "management",
    "LogFilter": "management",
    "LogPage": "management",
    "LogQuery": "management",
    "RouteNotFoundError": "management",
    "asend_feedback": "feedback",
    "send_feedback": "feedback",
    "gateway_log_id": "results",
}
"""Names loaded on first use -> the module (of this package) that defines them."""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("langchain-cf-gateway")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0+unknown"


def __getattr__(name: str) -> Any:
    """Load a lazily exported name (or `__version__`) on first use (PEP 562).

    Args:
        name: The attribute asked for.

    Returns:
        The exported object; `__version__` is read from the installed package's metadata.

    Raises:
        AttributeError: `name` is not exported here.
    """
    if name == "__version__":
        value: Any = _version()
    else:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names, as `dir()` and completion in Jupyter show them.

    Returns:
        `__all__`, sorted.
    """
    return sorted(__all__)


__all__ = [
    "AsyncGatewayClient",
    "ChatCloudflareGateway",
    "CloudflareGatewayEmbeddings",
    "ConfigError",
    "ContentBlockedError",
    "DynamicRoute",
    "Gateway",
    "GatewayAuthenticationError",
    "GatewayCall",
    "GatewayClient",
    "GatewayConfig",
    "GatewayConnectionError",
    "GatewayError",
    "GatewayInfo",
    "GatewayInputError",
    "GatewayNotFoundError",
    "GatewayOptions",
    "GatewayRateLimitError",
    "GatewaySettings",
    "GatewayTimeoutError",
    "GatewayUsageTracker",
    "InsufficientCreditsError",
    "InvalidDynamicRouteError",
    "InvalidModelIdError",
    "InvalidOptionError",
    "InvalidProviderError",
    "InvalidResponseError",
    "LogEntry",
    "LogFilter",
    "LogNotFoundError",
    "LogPage",
    "LogQuery",
    "ManagementAuthenticationError",
    "MissingAccountIdError",
    "ModelNotFoundError",
    "PolicyDeniedError",
    "ProviderError",
    "ProviderUnavailableError",
    "ResponseTooLargeError",
    "RouteNotFoundError",
    "SpendLimitExceededError",
    "Step",
    "UnknownByokAliasError",
    "__version__",
    "asend_feedback",
    "gateway_log_id",
    "gateway_usage",
    "provider_base_url",
    "send_feedback",
]
