"""Fixtures of the LiteLLM handler tests: LiteLLM loaded once, the provider registered, the
call keywords that point `cloudflare-ai-gateway/...` models at the local gateway, a raw
server for what the local gateway cannot script, and the LiteLLM proxy subprocess."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litellm_proxy_process import LITELLM_CLI, ProxyProcess

from langchain_cf_gateway.local import LocalGateway
from tests.support.rawserver import MisbehavingServer

PROXY_TESTS = "test_proxy.py"


@pytest.fixture(scope="session")
def litellm_mod() -> Iterator[Any]:
    """LiteLLM with our provider registered, never downloading a tokenizer.

    LiteLLM prices a stream before it starts by counting prompt tokens, and for llama
    or cohere model names it fetches a Hugging Face tokenizer, retrying for ~20 s offline.
    """
    import litellm

    # LiteLLM imports its MCP stack on the first call with tools=. Importing it here, on
    # the main thread and once, keeps that import (and pytest's rewrite of the anyio
    # plugin it pulls in) away from the local gateway's server thread: CPython 3.11's
    # parser can fail with "AST constructor recursion depth mismatch" when two threads
    # compile at once.
    import litellm.responses.mcp.chat_completions_handler  # noqa: F401

    from langchain_cf_gateway.litellm_provider import register

    before = litellm.disable_hf_tokenizer_download
    litellm.disable_hf_tokenizer_download = True
    register()
    yield litellm
    litellm.disable_hf_tokenizer_download = before


@pytest.fixture(scope="session")
def session_gateway(request: pytest.FixtureRequest) -> Iterator[LocalGateway]:
    """The shared session `local_gateway` of tests/conftest.py, or our own if it is absent."""
    try:
        shared: LocalGateway = request.getfixturevalue("local_gateway")
    except pytest.FixtureLookupError:
        with LocalGateway() as own:
            yield own
        return
    yield shared


@pytest.fixture
def gw(session_gateway: LocalGateway) -> LocalGateway:
    """The session's local gateway, reset: no requests, scripts, cache entries or logs."""
    session_gateway.reset()
    return session_gateway


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
def raw_gateway() -> Iterator[MisbehavingServer]:
    """A raw HTTP server sending canned responses, for what the local gateway cannot do."""
    with MisbehavingServer() as server:
        yield server


# --------------------------------------------------------------------------- the proxy

_proxy: ProxyProcess | None = None


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the LiteLLM proxy now if a proxy test will run: it boots while others run."""
    global _proxy
    if session.config.option.collectonly:
        return
    here = Path(__file__).parent
    wanted = any(
        item.path.parent == here and item.path.name == PROXY_TESTS for item in session.items
    )
    if wanted and _proxy is None and LITELLM_CLI.exists():
        _proxy = ProxyProcess()


def pytest_sessionfinish(session: pytest.Session) -> None:
    global _proxy
    if _proxy is not None:
        _proxy.stop()
        _proxy = None


@pytest.fixture(scope="session")
def litellm_proxy() -> ProxyProcess:
    """The running proxy (started at collection), ready; skips if litellm[proxy] is absent."""
    global _proxy
    if not LITELLM_CLI.exists():
        pytest.skip(
            f"the LiteLLM proxy CLI is not installed ({LITELLM_CLI}): install litellm[proxy]"
        )
    if _proxy is None:
        _proxy = ProxyProcess()
    try:
        startup = _proxy.wait_ready()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    sys.stderr.write(f"\n[litellm proxy: ready {startup:.1f} s after its start]\n")
    return _proxy
