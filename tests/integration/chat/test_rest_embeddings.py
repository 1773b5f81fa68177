"""`CloudflareGatewayEmbeddings(endpoint="rest")` against the local gateway's REST API.

https://developers.cloudflare.com/workers-ai/configuration/open-ai-compatibility/
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from langchain_cf_gateway import CloudflareGatewayEmbeddings
from langchain_cf_gateway.core import ConfigError, InvalidModelIdError
from langchain_cf_gateway.local import EMBEDDING_DIMENSIONS, LocalGateway, embedding_vector

BGE = "@cf/baai/bge-base-en-v1.5"


def rest_embeddings(gw: LocalGateway, **kwargs: Any) -> CloudflareGatewayEmbeddings:
    params: dict[str, Any] = {
        "model": f"workers-ai/{BGE}",
        "endpoint": "rest",
        "account_id": gw.account_id,
        "base_url": gw.base_url,
        "gateway_token": gw.token,
        "max_retries": 0,
    }
    params.update(kwargs)
    return CloudflareGatewayEmbeddings(**params)


@pytest.mark.parametrize("model_id", [BGE, f"workers-ai/{BGE}"])
def test_rest_embeddings_go_to_the_rest_api(gateway: LocalGateway, model_id: str) -> None:
    gateway.create_gateway("rest-owner")
    model = rest_embeddings(gateway, model=model_id, gateway_id="rest-owner")

    result = model.embed_with_info(["alpha", "beta"])

    [sent] = gateway.received
    assert sent.path == f"/client/v4/accounts/{gateway.account_id}/ai/v1/embeddings"
    assert sent.headers["authorization"] == f"Bearer {gateway.token}"
    assert sent.headers["cf-aig-gateway-id"] == "rest-owner"
    assert "cf-aig-authorization" not in sent.headers
    assert sent.json["model"] == BGE
    assert result.vectors[0] == pytest.approx(embedding_vector("alpha", EMBEDDING_DIMENSIONS))
    [row] = gateway.logs("rest-owner")
    assert result.infos[0].log_id == row["id"]
    assert result.infos[0].provider == "workers-ai"


def test_async_rest_embeddings(gateway: LocalGateway) -> None:
    vectors = asyncio.run(rest_embeddings(gateway).aembed_documents(["alpha"]))
    assert len(vectors[0]) == EMBEDDING_DIMENSIONS
    assert gateway.received[0].path.endswith("/ai/v1/embeddings")


def test_rest_embeddings_of_another_provider_are_refused_before_sending(
    gateway: LocalGateway,
) -> None:
    with pytest.raises(InvalidModelIdError, match=r"endpoint='rest'.*endpoint='compat'"):
        rest_embeddings(gateway, model="openai/text-embedding-3-small")
    assert gateway.received == []


def test_rest_embeddings_take_no_provider_key(gateway: LocalGateway) -> None:
    with pytest.raises(ConfigError, match="endpoint='rest'"):
        rest_embeddings(gateway, api_key="sk-provider")
    assert gateway.received == []
