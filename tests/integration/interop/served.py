"""A real ``cf-aig serve`` subprocess for the interop tests, and what they send it.

Clients nobody here wrote (Cloudflare's ``cloudflare`` SDK, its JS provider, the
``anthropic`` and ``google-genai`` SDKs) talk to the local gateway over loopback, as they
would talk to Cloudflare. One process serves a test module (the fixtures are in
``conftest.py``); ``reset()`` empties it between tests (logs, scripts, cache, gateways
back to ``default``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from langchain_cf_gateway.core import Header
from tests.support.gateway_process import ACCOUNT, MANAGEMENT_TOKEN, TOKEN, GatewayProcess

PROVIDER_KEY = "sk-interop-test"
"""Any provider key: the local gateway's mock accepts every one."""


class Served:
    """The running gateway: its URLs, and small senders for seeding logs."""

    def __init__(self, process: GatewayProcess) -> None:
        self.process = process
        self.base_url = process.base_url
        self.account = ACCOUNT
        self.token = TOKEN
        self.management_token = MANAGEMENT_TOKEN
        self.http = httpx.Client(timeout=30)

    @property
    def api_base(self) -> str:
        """What ``cloudflare.Cloudflare(base_url=...)`` takes: the v4 API root."""
        return f"{self.base_url}/client/v4"

    def gateway_url(self, gateway_id: str = "default") -> str:
        return f"{self.base_url}/v1/{self.account}/{gateway_id}"

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"authorization": f"Bearer {self.management_token}"}
        response = self.http.request(method, f"{self.base_url}{path}", headers=headers, **kwargs)
        response.raise_for_status()
        return response.json()["result"]

    def reset(self) -> None:
        self.admin("POST", "/__local/reset")

    def chat(
        self,
        text: str = "Hello there",
        *,
        event_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        model: str = "openai/gpt-4o-mini",
        gateway_id: str = "default",
    ) -> httpx.Response:
        """One compat chat completion, logged by the gateway; raises on a non-2xx."""
        headers = {"authorization": f"Bearer {PROVIDER_KEY}"}
        if event_id is not None:
            headers[Header.EVENT_ID] = event_id
        if metadata is not None:
            headers[Header.METADATA] = json.dumps(dict(metadata))
        body = {"model": model, "messages": [{"role": "user", "content": text}]}
        response = self.http.post(
            f"{self.gateway_url(gateway_id)}/compat/chat/completions", json=body, headers=headers
        )
        response.raise_for_status()
        return response

    def seed(self, count: int = 7) -> list[str]:
        """``count`` logged requests with event ids ``ev-1``...; their log ids, oldest first."""
        ids = []
        for n in range(1, count + 1):
            response = self.chat(f"question {n}", event_id=f"ev-{n}", metadata={"n": n})
            ids.append(response.headers[Header.LOG_ID])
        return ids

    def raw_logs(self, gateway_id: str = "default", **params: Any) -> list[dict[str, Any]]:
        """Every log row of a gateway through the management API, oldest first."""
        headers = {"authorization": f"Bearer {self.management_token}"}
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            response = self.http.get(
                f"{self.api_base}/accounts/{self.account}/ai-gateway/gateways/{gateway_id}/logs",
                params={"per_page": 50, "page": page, "order_by_direction": "asc", **params},
                headers=headers,
            )
            response.raise_for_status()
            batch = response.json()["result"]
            rows.extend(batch)
            if len(batch) < 50:
                return rows
            page += 1
