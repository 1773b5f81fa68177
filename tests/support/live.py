"""The developer's or CI's real gateway, read from the environment once at start-up.

Every test runs with the gateway variables cleared (tests/conftest.py), so this module
reads them when it is first imported, before any test, and keeps them.
"""

from __future__ import annotations

import os

from langchain_cf_gateway.core import GatewayConfig

GATEWAY_ENV = (
    "CLOUDFLARE_ACCOUNT_ID",
    "CLOUDFLARE_GATEWAY_ID",
    "CLOUDFLARE_AI_GATEWAY_NAME",
    "CLOUDFLARE_AI_GATEWAY_TOKEN",
    "CF_AIG_TOKEN",
    "CLOUDFLARE_AI_GATEWAY_BASE_URL",
    "CF_AIG_CONFIG",
    "CLOUDFLARE_API_TOKEN",
    "CLOUDFLARE_AI_GATEWAY_PROVIDER_KEY",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
)

# Read once, before any test clears the environment.
_LIVE = {name: os.environ.get(name) for name in GATEWAY_ENV}


def live_credentials() -> GatewayConfig | None:
    """The real gateway of the developer or CI, if CLOUDFLARE_ACCOUNT_ID and a token are set."""
    account = _LIVE.get("CLOUDFLARE_ACCOUNT_ID")
    token = _LIVE.get("CLOUDFLARE_AI_GATEWAY_TOKEN") or _LIVE.get("CF_AIG_TOKEN")
    if not (account and token):
        return None
    return GatewayConfig(
        account_id=account,
        gateway_id=_LIVE.get("CLOUDFLARE_GATEWAY_ID")
        or _LIVE.get("CLOUDFLARE_AI_GATEWAY_NAME")
        or "default",
        token=token,  # type: ignore[arg-type]
    )


LIVE_SKIP_REASON = (
    "live test: needs real Cloudflare credentials; set CLOUDFLARE_ACCOUNT_ID and "
    "CLOUDFLARE_AI_GATEWAY_TOKEN (or CF_AIG_TOKEN) to run it"
)
