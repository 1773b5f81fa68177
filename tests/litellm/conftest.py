"""Fixtures of the LiteLLM handler tests: LiteLLM loaded once, the provider registered, and
the call keywords that point ``cloudflare-ai-gateway/...`` models at the local gateway."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litellm_rawserver import RawServer

from langchain_cf_gateway.local import LocalGateway


@pytest.fixture(scope="session")
def litellm_mod() -> Iterator[Any]:
    """LiteLLM with our provider registered, never downloading a tokenizer.

    LiteLLM prices a stream before it starts by counting prompt tokens, and for llama
    or cohere model names it fetches a Hugging Face tokenizer, retrying for ~20 s offline.
    """
    import litellm

    from langchain_cf_gateway.litellm_provider import register

    before = litellm.disable_hf_tokenizer_download
    litellm.disable_hf_tokenizer_download = True
    register()
    yield litellm
    litellm.disable_hf_tokenizer_download = before


@pytest.fixture(scope="session")
def _own_local_gateway() -> Iterator[LocalGateway]:
    with LocalGateway() as gw:
        yield gw


@pytest.fixture
def gw(request: pytest.FixtureRequest) -> LocalGateway:
    """The shared ``gateway`` fixture (reset before each test), or our own until it exists."""
    try:
        shared: LocalGateway = request.getfixturevalue("gateway")
        return shared
    except pytest.FixtureLookupError:
        own: LocalGateway = request.getfixturevalue("_own_local_gateway")
        own.reset()
        return own


@pytest.fixture
def cf(gw: LocalGateway, litellm_mod: Any) -> dict[str, Any]:
    """Call keywords for the local gateway: host, account, gateway and its token."""
    return {
        "api_base": gw.base_url,
        "account_id": gw.account_id,
        "gateway_id": gw.gateway_id,
        "gateway_token": gw.token,
    }


@pytest.fixture
def raw_gateway() -> Iterator[RawServer]:
    """A raw HTTP server answering canned responses, for what the local gateway cannot do."""
    with RawServer() as server:
        yield server
