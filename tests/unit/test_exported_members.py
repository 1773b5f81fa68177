"""The public surface of `langchain_cf_gateway`, pinned (as httpx's test_exported_members.py
and the partner packages' test_imports.py do): a name added or removed is a decision."""

from __future__ import annotations

import importlib.metadata
import inspect

import langchain_cf_gateway
from langchain_cf_gateway.core import errors

EXPECTED_ALL = [
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


def test_all_is_pinned() -> None:
    assert sorted(langchain_cf_gateway.__all__) == sorted(EXPECTED_ALL)
    assert len(set(langchain_cf_gateway.__all__)) == len(langchain_cf_gateway.__all__)


def test_every_exported_name_resolves() -> None:
    for name in langchain_cf_gateway.__all__:
        assert getattr(langchain_cf_gateway, name) is not None, name


def test_dir_lists_the_public_names() -> None:
    assert dir(langchain_cf_gateway) == sorted(EXPECTED_ALL)


def test_the_whole_exception_tree_is_exported() -> None:
    tree = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == errors.__name__
        and not name.startswith("_")
    }
    assert tree <= set(langchain_cf_gateway.__all__), tree - set(langchain_cf_gateway.__all__)
    for name in tree:
        assert getattr(langchain_cf_gateway, name) is getattr(errors, name)


def test_the_management_api_errors_are_exported() -> None:
    from langchain_cf_gateway.management import RouteNotFoundError

    assert langchain_cf_gateway.RouteNotFoundError is RouteNotFoundError
    assert issubclass(RouteNotFoundError, langchain_cf_gateway.GatewayNotFoundError)


def test_the_version_has_one_source_the_package_metadata() -> None:
    assert langchain_cf_gateway.__version__ == importlib.metadata.version("langchain-cf-gateway")


def test_an_unknown_name_is_an_attribute_error_naming_it() -> None:
    try:
        langchain_cf_gateway.NoSuchName  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchName" in str(exc)
    else:  # pragma: no cover - the assertion below reports it
        raise AssertionError("NoSuchName resolved")


def test_dir_lists_the_lazy_names_without_importing_them() -> None:
    import subprocess
    import sys

    code = (
        "import sys, langchain_cf_gateway as p; names = dir(p); "
        "assert 'ChatCloudflareGateway' in names and 'GatewayClient' in names, names; "
        "assert 'gateway_usage' in names; "
        "loaded = [m for m in ('langchain_cf_gateway.chat_models', 'langchain_cf_gateway.management',"
        " 'langchain_cf_gateway.callbacks', 'langchain_core') if m in sys.modules]; "
        "assert not loaded, loaded; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.stdout.strip() == "ok", out.stderr
