"""list_models(): the model ids a gateway serves, from its `/compat/models`, in the form the
chat model accepts (`provider/model`), sync and async."""

from __future__ import annotations

import json
import sys

import httpx
import pytest

from langchain_cf_gateway.core import GatewayConfig, InvalidResponseError

from .conftest import MODES, call

GATEWAY_TOKEN = "gw-token-0123456789abcdef"
MODELS = {
    "object": "list",
    "data": [
        {"id": "openai/gpt-4o-mini", "object": "model"},
        {"id": "anthropic/claude-3-5-haiku", "object": "model"},
        {"id": "workers-ai/@cf/meta/llama-3.1-8b-instruct", "object": "model"},
    ],
}


@pytest.fixture(autouse=True)
def _gateway_token(monkeypatch: pytest.MonkeyPatch) -> None:
    conftest = sys.modules[call.__module__]
    monkeypatch.setattr(
        conftest,
        "CONFIG",
        GatewayConfig(
            account_id="acct", gateway_id="gw", base_url="http://gateway.test", token=GATEWAY_TOKEN
        ),
    )


@pytest.mark.parametrize("mode", MODES)
def test_the_ids_come_from_compat_models_with_the_gateway_token(mode: str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=MODELS)

    ids = call(mode, handler, "list_models")
    assert ids == [
        "anthropic/claude-3-5-haiku",
        "openai/gpt-4o-mini",
        "workers-ai/@cf/meta/llama-3.1-8b-instruct",
    ]
    (request,) = seen
    assert str(request.url) == "http://gateway.test/v1/acct/gw/compat/models"
    assert request.headers["cf-aig-authorization"] == f"Bearer {GATEWAY_TOKEN}"
    assert "authorization" not in request.headers  # it would read as a provider key


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("provider", ["anthropic", "ANTHROPIC"])
def test_a_provider_filter_keeps_its_models(mode: str, provider: str) -> None:
    ids = call(mode, lambda r: httpx.Response(200, json=MODELS), "list_models", provider=provider)
    assert ids == ["anthropic/claude-3-5-haiku"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "body", [b"<html>proxy</html>", b'{"data": 5}', b'{"hello": "world"}', b""]
)
def test_a_body_that_is_not_a_model_list_is_an_invalid_response(mode: str, body: bytes) -> None:
    with pytest.raises(InvalidResponseError, match="model list"):
        call(mode, lambda r: httpx.Response(200, content=body), "list_models")


def test_an_unknown_provider_is_refused_before_anything_is_sent() -> None:
    from langchain_cf_gateway.core import InvalidModelIdError

    def handler(request: httpx.Request) -> httpx.Response:  # pragma: no cover - never sent
        raise AssertionError(json.dumps(str(request.url)))

    with pytest.raises(InvalidModelIdError, match="opnai"):
        call("sync", handler, "list_models", provider="opnai")
