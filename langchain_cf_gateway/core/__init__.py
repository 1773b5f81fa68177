"""The gateway adapter shared by every integration: no LangChain, LiteLLM or server imports.

- `config`: `GatewayConfig` and its resolution (arguments > env > file), and where each
  value came from (`config_origins`); `config_file`: the config file it reads;
- `providers` and `routing`: the provider table, model ids -> routes;
- `options`: `GatewayOptions` -> `cf-aig-*` request headers;
- `info`: `GatewayInfo` from response headers;
- `errors`: the exception tree and `error_from_response`;
- `protocol`: header names, bounds and error codes, stated once.
"""

from .config import GatewayConfig, config_file_path, split_base_url
from .errors import (
    ConfigError,
    ContentBlockedError,
    GatewayAuthenticationError,
    GatewayError,
    GatewayInputError,
    GatewayNotFoundError,
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
    UnknownByokAliasError,
    error_from_response,
)
from .info import GATEWAY_INFO_KEYS, GatewayInfo
from .options import GatewayOptions, coerce_options
from .protocol import Bounds, ErrorCode, Header, LogsApi
from .providers import PROVIDERS, Provider, find_provider
from .routing import (
    ModelRef,
    Route,
    Step,
    UniversalRoute,
    build_route,
    build_universal,
    parse_model_id,
    provider_base_url,
)

__all__ = [
    "GATEWAY_INFO_KEYS",
    "PROVIDERS",
    "Bounds",
    "ConfigError",
    "ContentBlockedError",
    "ErrorCode",
    "GatewayAuthenticationError",
    "GatewayConfig",
    "GatewayError",
    "GatewayInfo",
    "GatewayInputError",
    "GatewayNotFoundError",
    "GatewayOptions",
    "GatewayRateLimitError",
    "GatewayTimeoutError",
    "Header",
    "InsufficientCreditsError",
    "InvalidModelIdError",
    "InvalidOptionError",
    "InvalidProviderError",
    "InvalidResponseError",
    "LogNotFoundError",
    "LogsApi",
    "ManagementAuthenticationError",
    "MissingAccountIdError",
    "ModelNotFoundError",
    "ModelRef",
    "PolicyDeniedError",
    "Provider",
    "ProviderError",
    "ProviderUnavailableError",
    "ResponseTooLargeError",
    "Route",
    "SpendLimitExceededError",
    "Step",
    "UniversalRoute",
    "UnknownByokAliasError",
    "build_route",
    "build_universal",
    "coerce_options",
    "config_file_path",
    "error_from_response",
    "find_provider",
    "parse_model_id",
    "provider_base_url",
    "split_base_url",
]
