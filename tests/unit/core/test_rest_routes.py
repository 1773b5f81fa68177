"""The REST API's embeddings route: Workers AI `@cf/` models only, refused otherwise.

https://developers.cloudflare.com/workers-ai/configuration/open-ai-compatibility/
"""

from __future__ import annotations

import pytest

from langchain_cf_gateway.core import GatewayConfig, InvalidModelIdError, build_route

ACCT = "acct123"
TOKEN = "tok-routing-0123456789"
CONFIG = GatewayConfig(account_id=ACCT, gateway_id="gw-1", token=TOKEN)
REST_EMBEDDINGS = f"https://api.cloudflare.com/client/v4/accounts/{ACCT}/ai/v1/embeddings"
BGE = "@cf/baai/bge-base-en-v1.5"


@pytest.mark.parametrize("model_id", [BGE, f"workers-ai/{BGE}", f"cloudflare/{BGE}"])
def test_workers_ai_embeddings_on_rest(model_id: str) -> None:
    route = build_route(CONFIG, model_id, "rest", "embeddings")
    assert route.url == REST_EMBEDDINGS
    assert route.body_model == BGE
    assert dict(route.headers) == {"Authorization": f"Bearer {TOKEN}", "cf-aig-gateway-id": "gw-1"}
    assert route.sdk_base_url == REST_EMBEDDINGS.removesuffix("/embeddings")
    assert (route.endpoint, route.operation, route.provider) == ("rest", "embeddings", "workers-ai")


@pytest.mark.parametrize(
    ("model_id", "fix"),
    [
        ("openai/text-embedding-3-small", "endpoint='compat'"),
        ("google/text-embedding-004", "endpoint='compat'"),
        ("mistral/mistral-embed", "endpoint='compat'"),
        ("dynamic/support", "endpoint='compat'"),
        ("cloudflare/auto", "endpoint='compat'"),
    ],
)
def test_other_embeddings_on_rest_are_refused_naming_the_fix(model_id: str, fix: str) -> None:
    with pytest.raises(InvalidModelIdError) as err:
        build_route(CONFIG, model_id, "rest", "embeddings")
    message = str(err.value)
    assert "endpoint" in message and fix in message


def test_rest_embeddings_on_another_host() -> None:
    config = GatewayConfig(account_id=ACCT, token=TOKEN, base_url="http://127.0.0.1:9")
    route = build_route(config, BGE, "rest", "embeddings")
    assert route.url == f"http://127.0.0.1:9/client/v4/accounts/{ACCT}/ai/v1/embeddings"
