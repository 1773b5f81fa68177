"""A deployment is resolved once: the environment and config file are not read per call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from langchain_cf_gateway.litellm_provider import CloudflareGatewayLLM

from .conftest import HELLO, MockGateway


def _complete(handler: CloudflareGatewayLLM, litellm_mod: Any) -> None:
    handler.completion(
        model="openai/gpt-4o-mini",
        messages=HELLO,
        api_base=None,
        custom_prompt_dict={},
        model_response=litellm_mod.ModelResponse(),
        print_verbose=print,
        encoding=None,
        api_key=None,
        logging_obj=None,
        optional_params={},
    )


def test_the_environment_is_read_once_per_deployment_and_again_after_refresh(
    litellm_mod: Any, mock_gateway: MockGateway, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    handler = CloudflareGatewayLLM(transport=httpx.MockTransport(mock_gateway.handle))
    (tmp_path / "cf-aig.json").write_text("{}")  # an empty config file: nothing read
    monkeypatch.setenv("CF_AIG_CONFIG", str(tmp_path / "cf-aig.json"))
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_BASE_URL", "https://gateway.test")
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "first")
    monkeypatch.setenv("CLOUDFLARE_GATEWAY_ID", "gw")
    _complete(handler, litellm_mod)
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "second")
    _complete(handler, litellm_mod)
    handler.refresh()
    _complete(handler, litellm_mod)
    assert [r.url.path.split("/")[2] for r in mock_gateway.received] == [
        "first",
        "first",
        "second",
    ]


def test_no_environment_read_nor_file_stat_per_call(
    litellm_mod: Any, mock_gateway: MockGateway, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import os

    from langchain_cf_gateway.core import config

    handler = CloudflareGatewayLLM(transport=httpx.MockTransport(mock_gateway.handle))
    (tmp_path / "cf-aig.json").write_text("{}")  # an empty config file: nothing read
    monkeypatch.setenv("CF_AIG_CONFIG", str(tmp_path / "cf-aig.json"))
    monkeypatch.setenv("CLOUDFLARE_AI_GATEWAY_BASE_URL", "https://gateway.test")
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acct")
    _complete(handler, litellm_mod)
    stats: list[Any] = []
    resolves: list[Any] = []
    real_stat, real_resolve = os.stat, config.GatewayConfig.resolve
    monkeypatch.setattr(os, "stat", lambda *a, **k: stats.append(a) or real_stat(*a, **k))
    monkeypatch.setattr(
        config.GatewayConfig,
        "resolve",
        classmethod(lambda cls, *a, **k: resolves.append(a) or real_resolve(*a, **k)),
    )
    for _ in range(3):
        _complete(handler, litellm_mod)
    assert (stats, resolves) == ([], [])
    assert len(mock_gateway.received) == 4
