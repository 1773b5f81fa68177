"""Fixtures of the reliability suite: the misbehaving raw server, LiteLLM registered."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.rawserver import MisbehavingServer


@pytest.fixture(scope="module")
def _raw_server() -> Iterator[MisbehavingServer]:
    with MisbehavingServer() as server:
        yield server


@pytest.fixture
def raw(_raw_server: MisbehavingServer) -> MisbehavingServer:
    """The raw server, its plan and records cleared before each test."""
    _raw_server.reset()
    return _raw_server


@pytest.fixture(scope="module")
def litellm() -> Iterator[Any]:
    """LiteLLM with the package's provider registered and no tokenizer downloads."""
    import litellm as module

    from langchain_cf_gateway.litellm_provider import register

    before = module.disable_hf_tokenizer_download
    module.disable_hf_tokenizer_download = True
    module.suppress_debug_info = True
    register()
    yield module
    module.disable_hf_tokenizer_download = before
