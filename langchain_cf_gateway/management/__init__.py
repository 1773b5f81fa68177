"""Cloudflare's management API for AI Gateway: logs, feedback and gateways."""

from .client import (
    ENV_API_TOKEN,
    AsyncGatewayClient,
    Gateway,
    GatewayClient,
    GatewaySettings,
    LogEntry,
    LogFilter,
    LogNotFoundError,
    LogPage,
    LogQuery,
    ManagementAuthenticationError,
    ResultInfo,
    gateway_log_id,
)

__all__ = [
    "ENV_API_TOKEN",
    "AsyncGatewayClient",
    "Gateway",
    "GatewayClient",
    "GatewaySettings",
    "LogEntry",
    "LogFilter",
    "LogNotFoundError",
    "LogPage",
    "LogQuery",
    "ManagementAuthenticationError",
    "ResultInfo",
    "gateway_log_id",
]
