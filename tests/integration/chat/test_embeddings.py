"""CloudflareGatewayEmbeddings against the local gateway: routes, batches, info, errors."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import openai
import pytest

from langchain_cf_gateway import CloudflareGatewayEmbeddings
from langchain_cf_gateway.core import (
    GatewayInfo,
    GatewayInputError,
    InvalidModelIdError,
    InvalidResponseError,
    ProviderUnavailableError,
)
from langchain_cf_gateway.local import EMBEDDING_DIMENSIONS, LocalGateway, embedding_vector

WORKERS = "workers-ai/@cf/baai/bge-base-en-v1.5"


def embeddings(gw: LocalGateway, **kwargs: Any) -> CloudflareGatewayEmbeddings:
    params: dict[str, Any] = {
        "model": WORKERS,
        "account_id": gw.account_id,
        "base_url": gw.base_url,
        "gateway_token": gw.token,
        "max_retries": 0,
    }
    params.update(kwargs)
    return CloudflareGatewayEmbeddings(**params)


def test_compat_embeddings_send_the_compat_request_without_authorization(
    gateway: LocalGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    model = embeddings(gateway, gateway_options={"cache_ttl": 60})

    vectors = model.embed_documents(["alpha", "beta"])

    sent = gateway.received[0]
    assert sent.path == f"/v1/{gateway.account_id}/default/compat/embeddings"
    assert sent.json["model"] == WORKERS
    assert sent.json["input"] == ["alpha", "beta"]
    assert sent.headers["cf-aig-cache-ttl"] == "60"
    assert sent.headers["cf-aig-authorization"] == f"Bearer {gateway.token}"
    assert "authorization" not in sent.headers
    assert len(vectors) == 2
    assert len(vectors[0]) == EMBEDDING_DIMENSIONS
    assert vectors[0] != vectors[1]


def test_native_embeddings_use_the_provider_path(gateway: LocalGateway) -> None:
    model = embeddings(gateway, model="openai/text-embedding-3-small", endpoint="native")

    vector = model.embed_query("alpha")

    sent = gateway.received[0]
    assert sent.path == f"/v1/{gateway.account_id}/default/openai/embeddings"
    assert sent.json["model"] == "text-embedding-3-small"
    assert len(vector) == EMBEDDING_DIMENSIONS
    assert vector == pytest.approx(embedding_vector("alpha", EMBEDDING_DIMENSIONS))


def test_long_inputs_go_in_batches_with_one_info_per_request(gateway: LocalGateway) -> None:
    model = embeddings(gateway, chunk_size=2, gateway_options={"cache_ttl": 60})
    texts = ["one", "two", "three", "four", "five"]

    first = model.embed_with_info(texts, gateway_options={"metadata": {"job": "index"}})
    second = model.embed_with_info(texts[:2])

    assert [r.json["input"] for r in gateway.received[:3]] == [texts[:2], texts[2:4], texts[4:]]
    assert len(first.vectors) == 5
    assert first.vectors == model.embed_documents(texts)
    rows = gateway.logs()
    assert [info.log_id for info in first.infos] == [row["id"] for row in rows[:3]]
    assert all(isinstance(info, GatewayInfo) for info in first.infos)
    assert [info.cache_status for info in first.infos] == ["MISS", "MISS", "MISS"]
    assert first.infos[0].provider == "workers-ai"
    assert first.infos[0].model == "@cf/baai/bge-base-en-v1.5"
    assert second.infos[0].cache_status == "HIT"
    assert rows[0]["metadata"] == {"job": "index"}
    assert "cf-aig-metadata" not in gateway.received[3].headers


async def test_concurrent_async_calls_each_get_their_own_info(gateway: LocalGateway) -> None:
    model = embeddings(gateway)

    results = await asyncio.gather(
        *(
            model.aembed_with_info([f"text {i}"], gateway_options={"event_id": f"embed-{i}"})
            for i in range(20)
        )
    )

    rows = {row["id"]: row for row in gateway.logs()}
    for i, result in enumerate(results):
        (info,) = result.infos
        assert info.event_id == f"embed-{i}"
        assert rows[info.log_id]["event_id"] == f"embed-{i}"
        assert result.vectors[0] == pytest.approx(
            embedding_vector(f"text {i}", EMBEDDING_DIMENSIONS)
        )
    assert await model.aembed_query("text 0") == results[0].vectors[0]


def test_embedding_errors_are_typed_and_carry_the_log_id(gateway: LocalGateway) -> None:
    model = embeddings(gateway, model="openai/text-embedding-3-small~status=503")

    with pytest.raises(ProviderUnavailableError) as caught:
        model.embed_query("alpha")

    assert isinstance(caught.value, openai.InternalServerError)
    assert caught.value.log_id == gateway.logs()[0]["id"]


def test_a_response_that_is_not_json_raises_the_typed_error(gateway: LocalGateway) -> None:
    with pytest.raises(InvalidResponseError) as caught:
        embeddings(gateway, model="openai/text-embedding-3-small~malformed").embed_query("a")
    assert caught.value.log_id == gateway.logs()[0]["id"]


def test_bad_input_raises_before_anything_is_sent(gateway: LocalGateway) -> None:
    with pytest.raises(InvalidModelIdError):
        embeddings(gateway, model="text-embedding-3-small")
    with pytest.raises(GatewayInputError, match="embeddings"):
        embeddings(gateway, model="anthropic/claude-3-5-haiku", endpoint="native")
    with pytest.raises(TypeError, match="list of strings"):
        embeddings(gateway).embed_documents("not a list")  # type: ignore[arg-type]
    assert embeddings(gateway).embed_documents([]) == []
    assert gateway.received == []


def test_secrets_stay_out_of_repr(gateway: LocalGateway) -> None:
    model = embeddings(gateway, api_key="sk-provider-secret")
    model.embed_query("alpha")

    assert gateway.received[0].headers["authorization"] == "Bearer sk-provider-secret"
    for text in (repr(model), str(model), json.dumps(model.model_dump(mode="json"))):
        assert "sk-provider-secret" not in text
        assert gateway.token not in text
