"""`AsyncGatewayClient`: the management API's calls, awaited.

The twin of `GatewayClient` (`client.py`): the same methods, arguments, results and
errors; only the I/O differs (`httpx.AsyncClient`, `asyncio.sleep` between retries).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
from typing_extensions import Unpack

from ..core.body_limit import ACCEPT_ENCODING
from ..core.options import MetadataValue
from ..results import gateway_log_id
from ._base import Call, T
from .models import Gateway, GatewaySettings, LogEntry, LogPage, LogQuery
from .routes import AsyncRouteMethods


class AsyncGatewayClient(AsyncRouteMethods):
    """The async twin of `GatewayClient`: the same methods, awaited, raising the same errors.

    https://developers.cloudflare.com/api/resources/ai_gateway/

    ```python
    async with AsyncGatewayClient() as client:
        page = await client.list_logs(cached=True)
        async for log in client.iter_logs(limit=100): ...
        await client.send_feedback(ai_message, feedback=1, score=90)
    ```
    """

    def _new_http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self._timeout, headers={"accept-encoding": ACCEPT_ENCODING}
        )

    async def __aenter__(self) -> AsyncGatewayClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections (only those of a client this object made)."""
        if self._owns_http:
            await self._http.aclose()

    async def _run(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            response: httpx.Response | None = None
            delay: float | None
            try:
                response = await self._http.send(call.request, stream=True)
                try:
                    await self._bounded(response).aread()
                finally:
                    await response.aclose()
            except httpx.TransportError as exc:  # refused, reset, timed out, cut off
                delay = self._after_failure(call, attempt, exc, response)
            else:
                delay = self._retry_delay(call, attempt, response)
                if delay is None:
                    return self._read(response, call)
            await asyncio.sleep(delay)
            attempt += 1

    async def list_logs(
        self,
        *,
        page: int = 1,
        per_page: int = 20,
        gateway_id: str | None = None,
        **query: Unpack[LogQuery],
    ) -> LogPage:
        """One page of logs, newest first unless `order_by_direction="asc"`.

        Args:
            page: The page, from 1.
            per_page: Entries per page, 1 to 50.
            gateway_id: The gateway; by default the configured one.
            **query: Which logs (`LogQuery`): `cached=True`, `provider="openai"`...

        Returns:
            The page: iterate it, or read `result_info.total_count` and `has_more`.

        Raises:
            InvalidOptionError: An argument out of its allowed values (nothing is sent).
            GatewayError: An error response or a timeout (see *Errors* of `GatewayClient`).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        return await self._run(self._list_logs_call(page, per_page, gateway_id, query))

    async def iter_logs(
        self,
        *,
        limit: int | None = None,
        per_page: int = 50,
        gateway_id: str | None = None,
        **query: Unpack[LogQuery],
    ) -> AsyncIterator[LogEntry]:
        """Every matching log, page after page, up to `limit` entries.

        Raises:
            InvalidOptionError: An argument out of its allowed values (nothing is sent).
            GatewayError: An error response or a timeout (see *Errors* of `GatewayClient`).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        page, seen = 1, 0
        while True:
            batch = await self._run(self._list_logs_call(page, per_page, gateway_id, query))
            for entry in batch.result:
                if limit is not None and seen >= limit:
                    return
                seen += 1
                yield entry
            if not batch.result or not batch.has_more:
                return
            page += 1

    async def get_log(self, log_id: str, *, gateway_id: str | None = None) -> LogEntry:
        """One log with its details (request and response heads and sizes).

        Raises:
            LogNotFoundError: No such log (yet: a log appears a few seconds after its call).
            GatewayError: Any other error response or a timeout (see *Errors* of `GatewayClient`).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        result: LogEntry = await self._run(self._get_log_call(log_id, gateway_id))
        return result

    async def get_log_request(self, log_id: str, *, gateway_id: str | None = None) -> Any:
        """The stored request body: parsed JSON, or text.

        Raises:
            LogNotFoundError: No such log, or no body stored for it.
            GatewayError: Any other error response or a timeout (see *Errors* of `GatewayClient`).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        return await self._run(self._get_log_call(log_id, gateway_id, "request"))

    async def get_log_response(self, log_id: str, *, gateway_id: str | None = None) -> Any:
        """The stored response body: parsed JSON, or text.

        Raises:
            LogNotFoundError: No such log, or no body stored for it.
            GatewayError: Any other error response or a timeout (see *Errors* of `GatewayClient`).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        return await self._run(self._get_log_call(log_id, gateway_id, "response"))

    async def update_log(
        self,
        log_id: str,
        *,
        feedback: int | None = None,
        score: float | None = None,
        metadata: Mapping[str, MetadataValue] | None = None,
        gateway_id: str | None = None,
    ) -> None:
        """Human feedback (1 or -1), a score (0 to 100) and/or metadata on one log.

        https://developers.cloudflare.com/ai-gateway/evaluations/add-human-feedback-api/

        Raises:
            InvalidOptionError: None of the three given, or one out of bounds (nothing is sent).
            LogNotFoundError: No such log.
            GatewayError: Any other error response or a timeout (see *Errors* of `GatewayClient`).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        await self._run(self._update_log_call(log_id, gateway_id, feedback, score, metadata))

    async def send_feedback(
        self,
        result: Any,
        *,
        feedback: int | None = None,
        score: float | None = None,
        metadata: Mapping[str, MetadataValue] | None = None,
        gateway_id: str | None = None,
    ) -> str:
        """`update_log` on the log of a result (see `gateway_log_id`); returns its id.

        Raises:
            InvalidOptionError: No log id in `result`, or feedback out of bounds.
            LogNotFoundError: No such log.
            GatewayError: Any other error response or a timeout (see *Errors* of `GatewayClient`).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        log_id = gateway_log_id(result)
        await self.update_log(
            log_id, feedback=feedback, score=score, metadata=metadata, gateway_id=gateway_id
        )
        return log_id

    async def delete_logs(
        self, *, limit: int | None = None, gateway_id: str | None = None, **query: Unpack[LogQuery]
    ) -> int | None:
        """Delete the matching logs (all of them when no filter is given).

        With `limit`, the first `limit` logs in `order_by` order go, oldest first unless
        `order_by_direction="desc"` (the API's default direction of the delete is `asc`).

        Returns:
            How many were deleted when the API says (the local gateway does; Cloudflare
            documents only `{success}`), else None.

        Raises:
            InvalidOptionError: An argument out of its allowed values (nothing is sent).
            GatewayError: An error response or a timeout (see *Errors* of `GatewayClient`).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        return await self._run(self._delete_logs_call(gateway_id, limit, query))

    async def create_gateway(
        self, gateway_id: str, settings: GatewaySettings | None = None, **changes: Any
    ) -> Gateway:
        """A new gateway; settings not given take the `default` gateway's values.

        Raises:
            InvalidOptionError: A bad id, or a setting unknown or out of bounds.
            GatewayError: An error response or a timeout (see *Errors* of `GatewayClient`).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        wanted = self._settings(settings, changes)
        return await self._run(self._create_gateway_call(gateway_id, wanted))

    async def list_models(self, *, provider: str | None = None) -> list[str]:
        """The async twin of `GatewayClient.list_models`.

        Args:
            provider: Only this provider's models (a slug or alias).

        Returns:
            The ids, sorted.

        Raises:
            InvalidModelIdError: `provider` names no known provider (nothing is sent).
            InvalidResponseError: A 2xx that is not OpenAI's model list.
            GatewayError: An error response or a timeout.
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        return await self._run(self._list_models_call(provider))

    async def list_gateways(
        self, *, page: int = 1, per_page: int = 20, search: str | None = None
    ) -> list[Gateway]:
        """One page of the account's gateways, those whose id contains `search` if given.

        Raises:
            InvalidOptionError: `page` or `per_page` below 1 (nothing is sent).
            GatewayError: An error response or a timeout (see *Errors* of `GatewayClient`).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        return await self._run(self._list_gateways_call(page, per_page, search))

    async def get_gateway(self, gateway_id: str | None = None) -> Gateway:
        """A gateway (the configured one by default).

        Raises:
            GatewayNotFoundError: No such gateway.
            GatewayError: Any other error response or a timeout (see *Errors* of `GatewayClient`).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        return await self._run(self._get_gateway_call(gateway_id))

    async def update_gateway(
        self, gateway_id: str | None = None, settings: GatewaySettings | None = None, **changes: Any
    ) -> Gateway:
        """Change some settings, keeping every other one (read, then PUT).

        Cloudflare's PUT replaces the whole gateway (a PUT without `guardrails` turns
        Guardrails off), so the body is the gateway as the API returned it, minus its
        read-only fields (`READ_ONLY_GATEWAY_FIELDS`), plus the changes: settings this
        package does not model, and any Cloudflare adds later, are sent back unchanged.

        Raises:
            InvalidOptionError: A setting unknown or out of bounds (nothing is sent).
            GatewayNotFoundError: No such gateway.
            GatewayError: Any other error response or a timeout (see *Errors* of `GatewayClient`).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        wanted = self._settings(settings, changes)
        current = await self.get_gateway(gateway_id)
        return await self._run(self._put_gateway_call(current, wanted))

    async def delete_gateway(self, gateway_id: str) -> None:
        """Delete a gateway.

        Raises:
            GatewayNotFoundError: No such gateway.
            GatewayError: Any other error response or a timeout (see *Errors* of `GatewayClient`).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        await self._run(self._delete_gateway_call(gateway_id))
