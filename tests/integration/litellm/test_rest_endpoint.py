"""`endpoint="rest"` through LiteLLM against the local gateway's REST API.

https://developers.cloudflare.com/ai-gateway/usage/rest-api/
"""

from __future__ import annotations

from typing import Any

import pytest

from langchain_cf_gateway.litellm_provider import PROVIDER, gateway_error, gateway_info
from langchain_cf_gateway.local import LocalGateway

HELLO = [{"role": "user", "content": "hello"}]


def test_a_dynamic_route_on_rest_sends_the_gateway_id_and_raises_the_404(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    gw.create_gateway("rest-owner")
    with pytest.raises(Exception) as info:
        litellm_mod.completion(
            model=f"{PROVIDER}/dynamic/support",
            messages=HELLO,
            num_retries=0,
            endpoint="rest",
            **{**cf, "gateway_id": "rest-owner"},
        )
    [sent] = gw.received
    assert sent.path == f"/client/v4/accounts/{gw.account_id}/ai/v1/chat/completions"
    assert sent.headers["cf-aig-gateway-id"] == "rest-owner"
    assert sent.headers["authorization"] == f"Bearer {gw.token}"
    assert sent.json["model"] == "dynamic/support"
    typed = gateway_error(info.value)
    assert typed is not None
    [row] = gw.logs("rest-owner")
    assert (typed.status_code, typed.code, typed.log_id) == (404, 2005, row["id"])


@pytest.mark.parametrize(
    "model", ["@cf/baai/bge-base-en-v1.5", "workers-ai/@cf/baai/bge-base-en-v1.5"]
)
def test_embedding_on_rest(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any], model: str
) -> None:
    response = litellm_mod.embedding(
        model=f"{PROVIDER}/{model}", input=["alpha", "beta"], endpoint="rest", **cf
    )
    [sent] = gw.received
    assert sent.path == f"/client/v4/accounts/{gw.account_id}/ai/v1/embeddings"
    assert sent.headers["authorization"] == f"Bearer {gw.token}"
    assert sent.headers["cf-aig-gateway-id"] == gw.gateway_id
    assert sent.json["model"] == "@cf/baai/bge-base-en-v1.5"
    assert len(response.data) == 2
    assert gateway_info(response)["log_id"] == gw.logs()[0]["id"]  # type: ignore[index]


def test_embedding_of_another_provider_on_rest_is_refused_before_sending(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    with pytest.raises(Exception, match=r"endpoint='rest'.*endpoint='compat'"):
        litellm_mod.embedding(
            model=f"{PROVIDER}/openai/text-embedding-3-small",
            input=["alpha"],
            endpoint="rest",
            **cf,
        )
    assert gw.received == []


def _assert_sent_on_rest(gw: LocalGateway, info: Any) -> None:
    [sent] = gw.received
    assert sent.path == f"/client/v4/accounts/{gw.account_id}/ai/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {gw.token}"
    assert sent.headers["cf-aig-gateway-id"] == gw.gateway_id
    assert "cf-aig-authorization" not in sent.headers
    assert sent.json["model"] == "openai/gpt-4o-mini"
    [row] = gw.logs()
    assert row["path"] == "ai/v1/chat/completions"
    assert info is not None and info["log_id"] == row["id"]
    assert (info["provider"], info["model"]) == ("openai", "gpt-4o-mini")


MINI = f"{PROVIDER}/openai/gpt-4o-mini"


def test_completion_on_rest(litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]) -> None:
    response = litellm_mod.completion(model=MINI, messages=HELLO, endpoint="rest", **cf)
    assert "Mock answer" in response.choices[0].message.content
    _assert_sent_on_rest(gw, gateway_info(response))


def test_stream_on_rest(litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]) -> None:
    chunks = list(
        litellm_mod.completion(model=MINI, messages=HELLO, stream=True, endpoint="rest", **cf)
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Mock answer" in text
    infos = [gateway_info(c) for c in chunks if gateway_info(c) is not None]
    assert infos
    _assert_sent_on_rest(gw, infos[-1])


async def test_acompletion_on_rest(litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]) -> None:
    response = await litellm_mod.acompletion(model=MINI, messages=HELLO, endpoint="rest", **cf)
    _assert_sent_on_rest(gw, gateway_info(response))


def test_a_404_from_a_route_of_another_gateway_is_not_retryable(
    litellm_mod: Any, gw: LocalGateway, cf: dict[str, Any]
) -> None:
    """The same gateway answers the same 404 (Cloudflare's REST API for a route it does
    not own, code 2005): the typed error says sending again cannot help. (LiteLLM's own
    `num_retries` resends any `APIError`, a 404 too: that is LiteLLM's rule, not ours.)"""
    with pytest.raises(Exception) as info:
        litellm_mod.completion(
            model=f"{PROVIDER}/dynamic/support", messages=HELLO, endpoint="rest", **cf
        )
    typed = gateway_error(info.value)
    assert typed is not None
    assert (typed.status_code, typed.code, typed.retryable) == (404, 2005, False)
