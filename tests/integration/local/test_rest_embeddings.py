"""The local gateway's REST embeddings route, `/client/v4/accounts/{a}/ai/v1/embeddings`.

https://developers.cloudflare.com/workers-ai/configuration/open-ai-compatibility/
"""

from __future__ import annotations

from langchain_cf_gateway.core import Header
from langchain_cf_gateway.local import EMBEDDING_DIMENSIONS, LocalGateway, embedding_vector
from tests.support.local_calls import gateway_error, http

BGE = "@cf/baai/bge-base-en-v1.5"


def url(gw: LocalGateway) -> str:
    return f"{gw.base_url}/client/v4/accounts/{gw.account_id}/ai/v1/embeddings"


def test_workers_ai_embeddings_on_rest(gateway: LocalGateway) -> None:
    gateway.create_gateway("rest-owner")
    response = http.post(
        url(gateway),
        json={"model": BGE, "input": ["alpha", "beta"]},
        headers={"authorization": f"Bearer {gateway.token}", Header.GATEWAY_ID: "rest-owner"},
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert [item["index"] for item in data] == [0, 1]
    assert data[0]["embedding"] == embedding_vector("alpha", EMBEDDING_DIMENSIONS)
    [row] = gateway.logs("rest-owner")
    assert (row["success"], row["status_code"], row["path"]) == (True, 200, "ai/v1/embeddings")
    assert (row["provider"], row["model"]) == ("workers-ai", BGE)
    assert row["id"] == response.headers["cf-aig-log-id"]


def test_rest_embeddings_follow_the_rest_auth_rules(gateway: LocalGateway) -> None:
    body = {"model": BGE, "input": ["alpha"]}
    refused = http.post(url(gateway), json=body)
    assert gateway_error(refused)[:2] == (401, 2009)
    wrong = http.post(
        url(gateway),
        json=body,
        headers={"cf-aig-authorization": f"Bearer {gateway.token}"},  # not the REST header
    )
    assert gateway_error(wrong)[:2] == (401, 2009)
    unknown = http.post(
        url(gateway),
        json=body,
        headers={"authorization": f"Bearer {gateway.token}", Header.GATEWAY_ID: "nope"},
    )
    assert gateway_error(unknown)[:2] == (400, 2001)
    assert gateway.logs() == []


def test_rest_embeddings_of_another_provider_are_refused(gateway: LocalGateway) -> None:
    response = http.post(
        url(gateway),
        json={"model": "openai/text-embedding-3-small", "input": ["alpha"]},
        headers={"authorization": f"Bearer {gateway.token}"},
    )
    status, code, message = gateway_error(response)
    assert (status, code) == (400, 7001)
    assert "@cf/" in message and "compat" in message
    [row] = gateway.logs()
    assert (row["success"], row["path"]) == (False, "ai/v1/embeddings")
