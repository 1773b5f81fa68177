"""The clients under test, each pointed at the same URL with the same headers.

``ChatCloudflareGateway`` builds its compat URL from a host (``base_url``), an account
and a gateway id; ``ChatOpenAI`` gets that very URL as its ``base_url`` and the gateway
token as a default header, which is what a user of plain LangChain writes today. Both
carry the same provider key, so the requests differ in nothing a server could see but
the user agent.
"""

from __future__ import annotations

import importlib
from typing import Any

ACCOUNT = "bench-account"
GATEWAY = "default"
TOKEN = "bench-gateway-token"
PROVIDER_KEY = "sk-bench-provider-key"
MODEL_ID = "openai/gpt-4o-mini"
PROMPT = "Say hello."


def compat_url(host: str) -> str:
    """What the SDK appends ``/chat/completions`` to (spec section 1, compat)."""
    return f"{host}/v1/{ACCOUNT}/{GATEWAY}/compat"


def gateway_headers() -> dict[str, str]:
    from langchain_cf_gateway.core import Header

    return {Header.AUTHORIZATION: f"Bearer {TOKEN}"}


def chat_openai(host: str) -> Any:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=MODEL_ID,
        base_url=compat_url(host),
        api_key=PROVIDER_KEY,
        default_headers=gateway_headers(),
        stream_usage=True,
        use_responses_api=False,
    )


def missing(module: str) -> str | None:
    """Why a package part cannot be benchmarked yet, or None when it can."""
    try:
        importlib.import_module(module)
    except ImportError as exc:
        return f"{module} is not importable yet ({exc})"
    return None


def chat_gateway(host: str) -> Any:
    """``ChatCloudflareGateway`` on the fast server: compat endpoint, same key and token."""
    from langchain_cf_gateway.chat_models import (  # type: ignore[import-not-found,unused-ignore]
        ChatCloudflareGateway,
    )

    return ChatCloudflareGateway(
        model=MODEL_ID,
        account_id=ACCOUNT,
        gateway_id=GATEWAY,
        gateway_token=TOKEN,
        api_key=PROVIDER_KEY,
        base_url=host,
    )
