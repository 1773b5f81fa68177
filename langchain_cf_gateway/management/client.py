"""`GatewayClient`: the management API's calls, sent.

It builds every request and reads every response through `GatewayClientBase`
(`_base.py`), as `AsyncGatewayClient` (`async_client.py`) does: the two differ only in
how a request is sent and how a retry waits, as httpx's own `Client` and `AsyncClient` do.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx
from typing_extensions import Unpack

from ..core.body_limit import ACCEPT_ENCODING
from ..core.options import MetadataValue
from ..results import gateway_log_id
from ._base import Call, T
from .models import Gateway, GatewaySettings, LogEntry, LogPage, LogQuery
from .routes import RouteMethods


class GatewayClient(RouteMethods):
    """Cloudflare AI Gateway's management API: logs, feedback and gateways.

    https://developers.cloudflare.com/api/resources/ai_gateway/

    Setup:
        `pip install langchain-cf-gateway`; a Cloudflare API token with *AI Gateway Read*
        (and *Edit* to send feedback or change gateways) in `CLOUDFLARE_API_TOKEN`
        (else `CLOUDFLARE_AI_GATEWAY_TOKEN` is used), and `CLOUDFLARE_ACCOUNT_ID`.

    Instantiate:
        ```python
        client = GatewayClient()                                # env and config file
        client = GatewayClient(account_id="...", gateway_id="my-gw", api_token="...")
        client = GatewayClient(local_gateway.config(), api_token=local_gateway.management_token)
        ```

    Retries:
        Reads (logs, gateways) are sent again up to `max_retries` times (2) after a
        connection failure, a timeout, a 429 or a 5xx, honouring `Retry-After` up to 60 s;
        writes (feedback, deletes, gateway changes) are never sent twice.

    Errors:
        Every error response raises the core's class for it (`GatewayRateLimitError`,
        `ProviderUnavailableError`...), with `ManagementAuthenticationError` for a 401 or
        403 and `LogNotFoundError` or `GatewayNotFoundError` for a 404. A timeout raises
        `GatewayTimeoutError`, a response cut off or not the v4 envelope
        `InvalidResponseError`; with no response at all (connection refused, DNS),
        httpx's `ConnectError` stands. Bad arguments raise `InvalidOptionError` before
        anything is sent. Errors never show the token, nor anything else shaped like a
        key that an error body echoes.

    Bounds:
        A response body is read up to `max_response_bytes` (32 MiB, counted after
        decompression), else `ResponseTooLargeError`; a stored request or response of
        a log larger than that needs a larger cap.

    Logs:
        ```python
        page = client.list_logs(per_page=20, cached=True, order_by="created_at")
        page.result_info.total_count
        for log in client.iter_logs(provider="openai", success=False, limit=200): ...
        client.get_log(log_id).tokens_out
        client.get_log_request(log_id)        # the stored request body
        client.delete_logs(filters=[LogFilter("created_at", "lt", "2026-01-01")])
        ```

    Feedback:
        ```python
        client.update_log(log_id, feedback=1, score=95, metadata={"reviewed": True})
        client.send_feedback(ai_message, feedback=-1)   # log id from the result
        ```

    Gateways:
        ```python
        client.create_gateway("my-gw", cache_ttl=3600, authentication=True)
        client.update_gateway("my-gw", rate_limiting_limit=100, rate_limiting_interval=60)
        [g.id for g in client.list_gateways()]
        client.delete_gateway("my-gw")
        ```
    """

    def _new_http(self) -> httpx.Client:
        return httpx.Client(timeout=self._timeout, headers={"accept-encoding": ACCEPT_ENCODING})

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections (only those of a client this object made)."""
        if self._owns_http:
            self._http.close()

    def _run(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            response: httpx.Response | None = None
            delay: float | None
            try:
                response = self._http.send(call.request, stream=True)
                try:
                    self._bounded(response).read()
                finally:
                    response.close()
            except httpx.TransportError as exc:  # refused, reset, timed out, cut off
                delay = self._after_failure(call, attempt, exc, response)
            else:
                delay = self._retry_delay(call, attempt, response)
                if delay is None:
                    return self._read(response, call)
            time.sleep(delay)
            attempt += 1

    # ------------------------------------------------------------------ logs

    def list_logs(
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
            GatewayError: An error response or a timeout (see *Errors* above).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        return self._run(self._list_logs_call(page, per_page, gateway_id, query))

    def iter_logs(
        self,
        *,
        limit: int | None = None,
        per_page: int = 50,
        gateway_id: str | None = None,
        **query: Unpack[LogQuery],
    ) -> Iterator[LogEntry]:
        """Every matching log, page after page, up to `limit` entries.

        Raises:
            InvalidOptionError: An argument out of its allowed values (nothing is sent).
            GatewayError: An error response or a timeout (see *Errors* above).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        page, seen = 1, 0
        while True:
            batch = self._run(self._list_logs_call(page, per_page, gateway_id, query))
            for entry in batch.result:
                if limit is not None and seen >= limit:
                    return
                seen += 1
                yield entry
            if not batch.result or not batch.has_more:
                return
            page += 1

    def get_log(self, log_id: str, *, gateway_id: str | None = None) -> LogEntry:
        """One log with its details (request and response heads and sizes).

        Raises:
            LogNotFoundError: No such log (yet: a log appears a few seconds after its call).
            GatewayError: Any other error response or a timeout (see *Errors* above).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        result: LogEntry = self._run(self._get_log_call(log_id, gateway_id))
        return result

    def get_log_request(self, log_id: str, *, gateway_id: str | None = None) -> Any:
        """The stored request body: parsed JSON, or text.

        Raises:
            LogNotFoundError: No such log, or no body stored for it.
            GatewayError: Any other error response or a timeout (see *Errors* above).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        return self._run(self._get_log_call(log_id, gateway_id, "request"))

    def get_log_response(self, log_id: str, *, gateway_id: str | None = None) -> Any:
        """The stored response body: parsed JSON, or text.

        Raises:
            LogNotFoundError: No such log, or no body stored for it.
            GatewayError: Any other error response or a timeout (see *Errors* above).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        return self._run(self._get_log_call(log_id, gateway_id, "response"))

    def update_log(
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
            GatewayError: Any other error response or a timeout (see *Errors* above).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        self._run(self._update_log_call(log_id, gateway_id, feedback, score, metadata))

    def send_feedback(
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
            GatewayError: Any other error response or a timeout (see *Errors* above).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        log_id = gateway_log_id(result)
        self.update_log(
            log_id, feedback=feedback, score=score, metadata=metadata, gateway_id=gateway_id
        )
        return log_id

    def delete_logs(
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
            GatewayError: An error response or a timeout (see *Errors* above).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        return self._run(self._delete_logs_call(gateway_id, limit, query))

    # ------------------------------------------------------------------ gateways

    def create_gateway(
        self, gateway_id: str, settings: GatewaySettings | None = None, **changes: Any
    ) -> Gateway:
        """A new gateway; settings not given take the `default` gateway's values.

        Raises:
            InvalidOptionError: A bad id, or a setting unknown or out of bounds.
            GatewayError: An error response or a timeout (see *Errors* above).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        return self._run(self._create_gateway_call(gateway_id, self._settings(settings, changes)))

    def list_models(self, *, provider: str | None = None) -> list[str]:
        """The model ids the gateway serves, as the chat model takes them (`provider/model`).

        Read from the gateway's `GET .../compat/models` with the gateway token
        (https://developers.cloudflare.com/ai-gateway/usage/chat-completion/), not from the
        management API: the token is `config.token`, not `api_token`.

        Args:
            provider: Only this provider's models (a slug or alias: `anthropic`, `xai`).

        Returns:
            The ids, sorted.

        Raises:
            InvalidModelIdError: `provider` names no known provider (nothing is sent).
            InvalidResponseError: A 2xx that is not OpenAI's model list.
            GatewayError: An error response or a timeout (see *Errors* above).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        return self._run(self._list_models_call(provider))

    def list_gateways(
        self, *, page: int = 1, per_page: int = 20, search: str | None = None
    ) -> list[Gateway]:
        """One page of the account's gateways, those whose id contains `search` if given.

        Raises:
            InvalidOptionError: `page` or `per_page` below 1 (nothing is sent).
            GatewayError: An error response or a timeout (see *Errors* above).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        return self._run(self._list_gateways_call(page, per_page, search))

    def get_gateway(self, gateway_id: str | None = None) -> Gateway:
        """A gateway (the configured one by default).

        Raises:
            GatewayNotFoundError: No such gateway.
            GatewayError: Any other error response or a timeout (see *Errors* above).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        return self._run(self._get_gateway_call(gateway_id))

    def update_gateway(
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
            GatewayError: Any other error response or a timeout (see *Errors* above).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        wanted = self._settings(settings, changes)
        current = self.get_gateway(gateway_id)
        return self._run(self._put_gateway_call(current, wanted))

    def delete_gateway(self, gateway_id: str) -> None:
        """Delete a gateway.

        Raises:
            GatewayNotFoundError: No such gateway.
            GatewayError: Any other error response or a timeout (see *Errors* above).
            httpx.TransportError: No response at all (connection refused, DNS).
        """
        self._run(self._delete_gateway_call(gateway_id))
