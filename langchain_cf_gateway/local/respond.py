"""The gateway's response to a request, and the log row of each provider call it made.

`Responder.respond` builds the response of a request from its attempts (one, or one per
universal step): the first 2xx, else the last error, with the gateway's headers
(`cf-aig-log-id`, `cf-aig-request-id`, `cf-aig-event-id`, `cf-aig-step`,
`cf-aig-cache-status`: https://developers.cloudflare.com/ai-gateway/configuration/)
and one `LogRow` per attempt. With a file log store the response is sent once its rows
are committed (a stream: before its last bytes); past the store's commit timeout the
request gets HTTP 503, code 2503, instead.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Final, cast

from starlette.responses import Response, StreamingResponse

from ..core.protocol import ERROR_STATUS, ErrorCode, Header, gateway_error_body
from .gateways import GatewayRecord
from .logstore import LogRow, LogStore, LogStoreUnavailable
from .pipeline import Outcome, RequestOptions, redact, scrub_stored
from .request_error import GatewayRequestError
from .screening import ContentBlocked, Screening, redact_matches
from .state import GatewayState
from .upstream import JSON, ProviderCall

JSON_HEADERS: Final = {"content-type": JSON}


@dataclass(slots=True)
class RequestIds:
    """The ids of one request: its log id, request id and event id."""

    log_id: str
    request_id: str
    event_id: str

    def headers(self) -> dict[str, str]:
        """The `cf-aig-log-id`, `cf-aig-request-id` and `cf-aig-event-id` headers."""
        return {
            Header.LOG_ID: self.log_id,
            Header.REQUEST_ID: self.request_id,
            Header.EVENT_ID: self.event_id,
        }


@dataclass(slots=True)
class Attempt:
    """One provider call made for a request (one universal step, or the only one)."""

    call: ProviderCall | None
    opts: RequestOptions | None
    outcome: Outcome | None
    error: GatewayRequestError | None
    started: float
    step: int | None
    log_id: str
    provider: str | None = None
    model: str | None = None
    path: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def error_response(err: GatewayRequestError, headers: Mapping[str, str]) -> Response:
    """The gateway error response of `err`, with `headers`."""
    body = json.dumps(gateway_error_body(err.code, err.message), separators=(",", ":"))
    return Response(body, ERROR_STATUS[err.code], {**headers, **JSON_HEADERS})


class Responder:
    """Builds the responses of the provider routes and queues their log rows."""

    def __init__(self, state: GatewayState) -> None:
        self.state = state

    async def respond(
        self,
        gateway: GatewayRecord,
        ids: RequestIds,
        headers: Mapping[str, str],
        body: bytes,
        tried: list[Attempt],
        *,
        universal: bool,
    ) -> Response:
        """The response of a request from its attempts (the last one decides)."""
        final = tried[-1]
        out_headers = ids.headers()
        if universal and final.step is not None:
            out_headers[Header.STEP] = str(final.step)
        out_headers.update(final.extra.get("route_headers") or {})
        screened = _screening(final)
        if screened is not None:
            out_headers.update(screened.headers())  # cf-aig-dlp
        acks = [self._log_row(gateway, ids, earlier, None) for earlier in tried[:-1]]
        outcome = final.outcome
        if outcome is None:
            err = final.error or GatewayRequestError(ErrorCode.PROVIDER_FAILED)
            response = error_response(err, out_headers)
            acks.append(self._log_row(gateway, ids, final, response))
            if not await _committed(self.state.logs, acks):
                return _log_store_unavailable(out_headers)
            return response
        if outcome.cache_status is not None:
            out_headers[Header.CACHE_STATUS] = outcome.cache_status
        provider_response = outcome.provider_response
        if provider_response.chunks is None:
            response = _BytesResponse(
                provider_response.body,
                provider_response.status,
                out_headers,
                provider_response.content_type,
            )
            acks.append(self._log_row(gateway, ids, final, response))
            if not await _committed(self.state.logs, acks):
                return _log_store_unavailable(out_headers)
            return response
        if not await _committed(self.state.logs, acks):
            return _log_store_unavailable(out_headers)
        return StreamingResponse(
            self._relay(gateway, ids, final, out_headers),
            provider_response.status,
            out_headers,
            media_type=provider_response.content_type,
        )

    async def _relay(
        self, gateway: GatewayRecord, ids: RequestIds, attempted: Attempt, headers: dict[str, str]
    ) -> AsyncIterator[bytes]:
        """The stream, one chunk behind, so that the row is queued before the last bytes go.

        Raises:
            LogStoreUnavailable: the row was not committed in time: the stream is cut short.
        """
        assert (
            attempted.outcome is not None and attempted.outcome.provider_response.chunks is not None
        )
        provider_response = attempted.outcome.provider_response
        keep = attempted.opts is not None and attempted.opts.collect_payload
        collected: list[bytes] = []
        held: bytes | None = None
        chunks = provider_response.chunks
        try:
            async for chunk in chunks:  # type: ignore[union-attr]
                if keep:
                    collected.append(chunk)
                if held is not None:
                    yield held
                held = chunk
        except Exception:  # the upstream broke off (a disconnect fault, a dropped upstream)
            attempted.extra["broken"] = True
            ack = self._log_row(
                gateway,
                ids,
                attempted,
                None,
                stream_body=b"".join(collected),
                status=provider_response.status,
            )
            await _committed(self.state.logs, [ack])
            if held is not None:
                yield held
            raise
        except BaseException:  # the client went away: log what was sent, then stop
            attempted.extra["broken"] = True
            self._log_row(  # no waiting for the commit: the client is gone
                gateway,
                ids,
                attempted,
                None,
                stream_body=b"".join(collected),
                status=provider_response.status,
            )
            raise
        finally:
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()
        ack = self._log_row(
            gateway,
            ids,
            attempted,
            None,
            stream_body=b"".join(collected),
            status=provider_response.status,
        )
        if not await _committed(self.state.logs, [ack]):
            # The head went out long ago: cutting the stream short is the only honest response.
            raise LogStoreUnavailable(f"log row {attempted.log_id} not committed in time")
        if held is not None:
            yield held

    def _log_row(
        self,
        gateway: GatewayRecord,
        ids: RequestIds,
        attempted: Attempt,
        response: Response | None,
        *,
        stream_body: bytes | None = None,
        status: int | None = None,
    ) -> Future[None] | None:
        """Queue the log row of one attempted call (unless logging is off for it).

        Returns the store's commit future for a durable (file) store, else None.
        """
        opts = attempted.opts
        collect = opts.collect_log if opts is not None else gateway.collect_logs
        if not collect:
            return None
        outcome = attempted.outcome
        call = attempted.call
        provider_response = outcome.provider_response if outcome is not None else None
        if isinstance(response, _BytesResponse):
            status_code = response.status_code
            response_body: bytes | None = response.payload
            response_type = response.content_type
        elif response is not None:
            status_code = response.status_code
            response_body = bytes(response.body)
            response_type = response.headers.get("content-type", JSON)
        elif provider_response is not None:
            status_code = status if status is not None else provider_response.status
            response_body = stream_body if stream_body is not None else provider_response.body
            response_type = provider_response.content_type
        else:
            err = attempted.error or GatewayRequestError(ErrorCode.PROVIDER_FAILED)
            status_code = ERROR_STATUS[err.code]
            response_body = dumps(gateway_error_body(err.code, err.message))
            response_type = JSON
        broken = bool(attempted.extra.get("broken"))
        success = 200 <= status_code < 300 and not broken
        tokens_in = provider_response.tokens_in if provider_response is not None else None
        tokens_out = provider_response.tokens_out if provider_response is not None else None
        cached = outcome is not None and outcome.cache_status == "HIT"
        payload = opts.collect_payload if opts is not None else True
        request_headers = dict(call.headers) if call is not None else {}
        request_body = call.raw_body if call is not None else b""
        response_head = {"content-type": response_type}
        if attempted.step is not None:
            response_head[Header.STEP] = str(attempted.step)
        row: LogRow = {
            "id": attempted.log_id,
            "created_at": _iso(self.state.clock()),
            "gateway_id": gateway.id,
            "provider": attempted.provider,
            "model": attempted.model or None,
            "model_type": call.model_type if call is not None else None,
            "path": attempted.path,
            "request_type": "stream" if call is not None and call.stream else "http",
            "success": success,
            "status_code": status_code,
            "cached": cached,
            "tokens_in": tokens_in,
            "tokens_out": tokens_out,
            "cost": 0.0 if cached or opts is None else opts.cost(tokens_in, tokens_out),
            "custom_cost": bool(opts is not None and opts.custom_cost),
            "duration": int((time.perf_counter() - attempted.started) * 1000),
            "metadata": opts.metadata if opts is not None else None,
            "event_id": ids.event_id,
            "request_id": ids.request_id,
            "step": attempted.step if attempted.step is not None else 0,
            "attempts": outcome.attempts if outcome is not None else 0,
            "feedback": None,
            "score": None,
            "request_content_type": request_headers.get("content-type"),
            "response_content_type": response_type,
            "request_size": len(request_body),
            "response_size": len(response_body or b""),
            "request_head": redact(request_headers, self.state.secrets.values),
            "request_head_complete": True,
            "response_head": response_head,
            "response_head_complete": True,
            "authentication": gateway.authentication,
            "wholesale": False,
            "byok": False,
            "payload": payload,
        }
        screened = _screening(attempted)
        if screened is not None:  # the log row's `guardrails` and `dlp` (`screening`)
            cast(dict[str, Any], row).update(screened.log_fields())
        retention = None
        if gateway.log_management:
            retention = (gateway.log_management, gateway.log_management_strategy or "DELETE_OLDEST")
        if payload:
            request_body = scrub_stored(call, request_body, self.state.secrets.values) or b""
            response_body = scrub_stored(call, response_body, self.state.secrets.values)
            if screened is not None and screened.matched:  # matched text is never stored
                request_body = redact_matches(request_body, screened.matched) or b""
                response_body = redact_matches(response_body, screened.matched)
            return self.state.logs.add(row, request_body, response_body, retention)
        return self.state.logs.add(row, retention=retention)


def _screening(attempted: Attempt) -> Screening | None:
    """What Guardrails and DLP found on the attempt: its block, or its outcome's flags."""
    if isinstance(attempted.error, ContentBlocked):
        return attempted.error.screening
    return attempted.outcome.screening if attempted.outcome is not None else None


class _BytesResponse(Response):
    """A non-streamed response whose headers are encoded once, here.

    Starlette's `Response` lowercases, re-encodes and scans the header dict on every
    response; this builds the same raw headers (the given ones, then `content-length`,
    then `content-type` with Starlette's charset rule) at a fraction of the cost on the
    cache-hit path (measured with cProfile).
    """

    def __init__(
        self, body: bytes | None, status: int, headers: Mapping[str, str], content_type: str
    ) -> None:
        self.status_code = status
        self.background = None
        self.body = self.payload = body or b""
        """The body, typed as bytes (Starlette's `body` may be a memoryview)."""
        if content_type.startswith("text/") and "charset=" not in content_type.lower():
            content_type += "; charset=utf-8"
        self.content_type = content_type
        """The `content-type` header as sent (and as the log row records it)."""
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        if not (status < 200 or status in (204, 304)):
            raw.append((b"content-length", str(len(self.payload)).encode()))
        raw.append((b"content-type", content_type.encode("latin-1")))
        self.raw_headers = raw


_ISO_SECOND: list[tuple[int, str]] = [(-1, "")]


def _iso(at: float) -> str:
    """`Clock.iso(at)`: ISO 8601 UTC with milliseconds, the second formatted once.

    Equal to `Clock.iso` (`datetime.isoformat(timespec="milliseconds")`, which
    truncates to the millisecond); the date and time up to the second are cached, since
    every request in the same second shares them.
    """
    fraction, whole = math.modf(at)  # rounded as datetime.fromtimestamp rounds
    micro, second = round(fraction * 1_000_000), int(whole)
    if micro >= 1_000_000:
        micro, second = micro - 1_000_000, second + 1
    elif micro < 0:
        micro, second = micro + 1_000_000, second - 1
    cached_second, prefix = _ISO_SECOND[0]
    if cached_second != second:
        stamp = datetime.fromtimestamp(second, tz=timezone.utc).replace(tzinfo=None)
        prefix = stamp.isoformat(timespec="seconds")
        _ISO_SECOND[0] = (second, prefix)
    return f"{prefix}.{micro // 1000:03d}Z"


async def _committed(logs: LogStore, acks: list[Future[None] | None]) -> bool:
    """Wait until the rows are committed (durable stores only; see `logstore`).

    False when the store could not commit them within `logs.commit_timeout` seconds
    (`cf-aig serve --log-commit-timeout`): the request then gets its response from
    `_log_store_unavailable`, never left hanging.
    """
    if all(ack is None for ack in acks):
        return True
    return await logs.committed(acks)


def _log_store_unavailable(headers: Mapping[str, str]) -> Response:
    """HTTP 503, code 2503 (`ErrorCode.LOG_STORE_UNAVAILABLE`), in the gateway's error shape."""
    return error_response(GatewayRequestError(ErrorCode.LOG_STORE_UNAVAILABLE), headers)


def dumps(data: Any) -> bytes:
    """`data` as compact JSON bytes (the gateway's bodies).

    Args:
        data: a JSON-serializable value.

    Returns:
        The encoded JSON.
    """
    return json.dumps(data, separators=(",", ":")).encode()
