"""Structured output through the Auto Router (`cloudflare/auto`), every method and call path.

https://developers.cloudflare.com/ai-gateway/features/auto-router/ : the parsed object comes
back, and the raw message's gateway block says which model the router chose.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pydantic import BaseModel

from langchain_cf_gateway import ChatCloudflareGateway
from langchain_cf_gateway.local import LocalGateway


class Joke(BaseModel):
    setup: str
    punchline: str


JOKE_ARGS = {"setup": "Why did the router pick the cheap model?", "punchline": "It was optimal."}


def auto(gw: LocalGateway) -> ChatCloudflareGateway:
    return ChatCloudflareGateway(
        model="cloudflare/auto",
        base_url=gw.base_url,
        account_id=gw.account_id,
        gateway_id=gw.gateway_id,
        gateway_token=gw.token,
        max_retries=0,
    )


def merge(chunks: list[Any]) -> Any:
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    return full


@pytest.mark.parametrize("allowed", [None, ["openai"]], ids=["default-pool", "openai"])
@pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_mode"])
@pytest.mark.parametrize("mode", ["invoke", "stream", "ainvoke"])
def test_structured_output_through_the_auto_router(
    gateway: LocalGateway, method: str, mode: str, allowed: list[str] | None
) -> None:
    if method == "function_calling":
        gateway.script(tool_calls=[{"name": "Joke", "arguments": JOKE_ARGS}])
    else:
        gateway.script(json.dumps(JOKE_ARGS))
    # Options go to with_structured_output: LangChain passes no call keywords through the
    # structured runnable.
    options = {"allowed_providers": allowed} if allowed else None
    structured = auto(gateway).with_structured_output(
        Joke,
        method=method,  # type: ignore[arg-type]
        include_raw=True,
        gateway_options=options,
    )
    if mode == "invoke":
        parts = [structured.invoke("a joke")]
    elif mode == "stream":
        parts = list(structured.stream("a joke"))
    else:
        parts = [asyncio.run(structured.ainvoke("a joke"))]

    [sent] = gateway.received
    assert sent.json["model"] == "cloudflare/auto"
    assert sent.headers.get("cf-aig-allowed-providers") == (",".join(allowed) if allowed else None)
    raws = [p["raw"] for p in parts if p.get("raw") is not None]
    raw = raws[0] if len(raws) == 1 else merge(raws)
    errors = [p["parsing_error"] for p in parts if p.get("parsing_error") is not None]
    assert errors == []
    assert [p["parsed"] for p in parts if p.get("parsed") is not None][-1] == Joke(**JOKE_ARGS)
    info = raw.response_metadata["gateway"]
    [row] = gateway.logs()
    assert info["log_id"] == row["id"]
    assert info["routed_model"] == f"{info['provider']}/{info['model']}"
    if allowed:
        assert info["routed_model"] == "openai/gpt-4o-mini"
    assert info["routing_reason"] in ("cost_optimal_within_pool", "forced_by_candidate_pool")
    assert info["routing_decision_id"]
