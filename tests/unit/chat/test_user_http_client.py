"""The chat model leaves a user's own `httpx.Client` / `httpx.AsyncClient` as it found it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from langchain_cf_gateway import ChatCloudflareGateway

from .scripted import Script, completion_body, respond


def _state(client: httpx.Client | httpx.AsyncClient) -> dict[str, Any]:
    return {
        "event_hooks": {k: list(v) for k, v in client.event_hooks.items()},
        "headers": list(client.headers.multi_items()),
        "transport": client._transport,
        "mounts": dict(client._mounts),
        "timeout": client.timeout,
        "follow_redirects": client.follow_redirects,
    }


def _seen(request: httpx.Request) -> None:
    pass


async def _aseen(request: httpx.Request) -> None:
    pass


def test_a_user_http_client_is_not_changed_and_still_works_for_its_own_requests() -> None:
    script = Script(respond(200, completion_body("from the model")))
    transport = httpx.MockTransport(script)
    client = httpx.Client(
        transport=transport,
        headers={"x-mine": "1"},
        timeout=7.0,
        event_hooks={"request": [_seen]},
    )
    async_client = httpx.AsyncClient(
        transport=transport, headers={"x-mine": "1"}, event_hooks={"request": [_aseen]}
    )
    before, abefore = _state(client), _state(async_client)

    model = ChatCloudflareGateway(
        model="openai/gpt-4o-mini",
        account_id="acct",
        base_url="http://gateway.test",
        max_retries=0,
        http_client=client,
        http_async_client=async_client,
    )
    assert model.invoke("hi").content == "from the model"
    assert asyncio.run(model.ainvoke("hi")).content == "from the model"

    assert _state(client) == before
    assert _state(async_client) == abefore
    # The model's requests went through the user's transport, with the user's headers.
    assert [r.headers["x-mine"] for r in script.requests] == ["1", "1"]
    # The user's client still works for the user's own requests, without our hooks.
    mine = client.get("http://elsewhere.test/")
    assert mine.status_code == 200 and script.requests[-1].url.host == "elsewhere.test"
