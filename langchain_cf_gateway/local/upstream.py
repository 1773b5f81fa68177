"""Upstreams: where a provider call goes once the gateway has decided to send it.

Every provider slug goes to the `MockUpstream` unless the config names a
pass-through upstream for it (`upstreams` in the config file, or
`LocalGateway(upstreams=...)`): any OpenAI-compatible server (vLLM, Ollama, OpenAI).
A pass-through upstream gets `{base_url}/{path}`, where `path` is what follows the
provider slug on the native route (`chat/completions` for `openai`,
`v1/chat/completions` for `mistral`), and for compat requests the provider's
OpenAI-compatible path from core's provider table; so `base_url` is the root that
the provider-native path is appended to, as at Cloudflare. Its `api_key`, when
set, replaces the client's key in the provider's auth header.

A request that a script matches, or whose model name carries a fault that applies to
this attempt, is served by the mock even when the provider has a pass-through
upstream: faults are made locally and the upstream is not called. A fault's
`error=CODE` gets the gateway's own error body; a `policy=` is decided by the
gateway before any attempt (`Upstreams.policy`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from ..core.credentials import forwardable_headers, mask_url
from ..core.protocol import ErrorCode
from ..core.providers import Provider
from . import native_mock
from .clock import Clock
from .connections import (
    BodyBroken,
    ConnectionFailed,
    ConnectionPool,
    RequestRefused,
    UpstreamResponse,
)
from .faults import Fault, Policy, gateway_fault_response
from .mock import MockModel
from .native_routes import NativeOperation
from .request_error import GatewayRequestError
from .scripts import Script, ScriptBook
from .shared_state.base import Scripts
from .shared_state.memory import MemoryScripts

# The native operations are those of .native_routes; .native_mock builds their responses.
UpstreamOperation = (
    Literal["chat", "embeddings", "models", "messages", "run", "other"] | NativeOperation
)
_MODEL_TYPES: Final = {
    "embeddings": "embeddings",
    "embed_content": "embeddings",
    "models": "models",
    "model_list": "models",
}
JSON: Final = "application/json"
SSE: Final = "text/event-stream; charset=utf-8"


class UpstreamDisconnect(Exception):
    """Raised inside a response body to drop the connection mid-response (a fault)."""


class UpstreamUnreachable(Exception):
    """A pass-through upstream could not be reached (connection refused, reset...)."""


@dataclass(slots=True)
class ProviderCall:
    """One call the gateway makes to a provider, resolved from the route."""

    provider: Provider
    operation: UpstreamOperation
    path: str
    """Upstream path after `/{slug}/` (`chat/completions`), without the query string."""
    model: str
    """The bare model name, fault directives stripped (`gpt-4o-mini`)."""
    fault: Fault | None
    body: dict[str, Any] | None
    raw_body: bytes
    """The body as the upstream receives it."""
    headers: Mapping[str, str]
    """The effective request headers, lowercase (step headers over request headers)."""
    stream: bool
    log_path: str
    """The gateway path after `/{gateway_id}/`, as the log row shows it."""
    query_string: str = ""
    method: str = "POST"

    @property
    def model_type(self) -> str:
        """The log row's `model_type`: `chat`, `embeddings` or `models`."""
        return _MODEL_TYPES.get(self.operation, "chat")


@dataclass(slots=True)
class ProviderResponse:
    """An upstream's response, with the body whole or as a stream of chunks."""

    status: int
    content_type: str
    body: bytes | None = None
    chunks: AsyncIterator[bytes] | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class PassThrough:
    """A real upstream for one provider slug."""

    base_url: str
    api_key: str | None = None
    timeout_s: float = 600.0

    def __repr__(self) -> str:  # never show the key
        shown = mask_url(self.base_url)
        return f"PassThrough(base_url={shown!r}, api_key={'***' if self.api_key else None})"


class MockUpstream:
    """The deterministic mock model behind every provider (see `mock`)."""

    def __init__(self, clock: Clock) -> None:
        self.model = MockModel()
        self._clock = clock

    async def send(
        self, call: ProviderCall, script: Script | None, fault: Fault | None
    ) -> ProviderResponse:
        """The mock's response to a call (a script, a fault, or the mock model)."""
        if fault is not None and fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)
        if fault is not None and fault.error is not None:  # made by the gateway
            status, error_body = gateway_fault_response(fault)
            return ProviderResponse(status, JSON, error_body)
        native = native_mock.respond(self.model, call, script, fault, int(self._clock()))
        if native is not None:  # Responses, count_tokens, Gemini, unserved paths
            provider_response = ProviderResponse(native.status, native.content_type, native.body)
            provider_response.tokens_in, provider_response.tokens_out = (
                native.tokens_in,
                native.tokens_out,
            )
            if native.frames is not None:
                provider_response.chunks = _frames(native.frames, fault)
            return self._finish(provider_response, fault)
        anthropic = call.operation == "messages"
        if fault is not None and fault.status is not None and fault.status >= 300:
            message = f"mock fault: HTTP {fault.status}"
            err = (
                self.model.anthropic_error(fault.status, message)
                if anthropic
                else self.model.openai_error(fault.status, message)
            )
            return ProviderResponse(fault.status, JSON, _dumps(err))
        body = call.body or {}
        refused = self.model.refusal(body, call.operation)  # past the mock's own bounds
        if refused is not None:
            return ProviderResponse(400, JSON, _dumps(refused))
        if call.operation == "embeddings":
            data, tokens = self.model.embeddings(body, call.model)
            return self._finish(
                ProviderResponse(200, JSON, _dumps(data), tokens_in=tokens, tokens_out=0), fault
            )
        if call.operation == "models":
            return ProviderResponse(200, JSON, _dumps(models_list(call.provider)))
        if (
            call.operation == "run"
            and "messages" not in body
            and isinstance(body.get("prompt"), str)
        ):
            body = {**body, "messages": [{"role": "user", "content": body["prompt"]}]}
        completion = self.model.complete(
            body,
            call.model,
            text=script.text if script else None,
            tool_calls=script.tool_calls if script else None,
            system=body.get("system") if anthropic else None,
        )
        usage: dict[str, Any] = {
            "tokens_in": completion.prompt_tokens,
            "tokens_out": completion.completion_tokens,
        }
        if call.stream:
            if anthropic:
                frames = self.model.anthropic_events(completion)
            elif call.operation == "run":
                frames = self.model.workers_ai_chunks(completion)
            else:
                frames = self.model.openai_chunks(completion, int(self._clock()))
            return ProviderResponse(200, SSE, chunks=_frames(frames, fault), **usage)
        if anthropic:
            data = self.model.anthropic_json(completion)
        elif call.operation == "run":
            data = self.model.workers_ai_json(completion)
        else:
            data = self.model.openai_json(completion, int(self._clock()))
        return self._finish(ProviderResponse(200, JSON, _dumps(data), **usage), fault)

    @staticmethod
    def _finish(provider_response: ProviderResponse, fault: Fault | None) -> ProviderResponse:
        """Apply the body faults of a non-streamed response."""
        if fault is None or provider_response.body is None:
            return provider_response
        body = provider_response.body
        if fault.malformed:
            body = body[: max(1, len(body) // 2)]
            provider_response.body = body
        if fault.disconnect_after is not None:
            provider_response.chunks = _half_then_drop(body)
            provider_response.body = None
        return provider_response


def models_list(provider: Provider | None) -> dict[str, Any]:
    """`GET .../models`: one `mock` model per provider (compat: `{prefix}/mock`)."""
    from ..core.providers import PROVIDERS

    if provider is not None:
        ids = [("mock", provider.slug)]
    else:
        ids = [(f"{p.compat_prefix}/mock", p.slug) for p in PROVIDERS if p.compat_prefix]
    return {
        "object": "list",
        "data": [{"id": i, "object": "model", "created": 0, "owned_by": o} for i, o in ids],
    }


async def _frames(frames: list[bytes], fault: Fault | None) -> AsyncIterator[bytes]:
    delay = fault.chunk_delay_ms / 1000 if fault else 0.0
    drop_after = fault.disconnect_after if fault else None
    bad_at = len(frames) // 2 if fault and fault.malformed else -1
    for index, frame in enumerate(frames):
        if drop_after is not None and index >= drop_after:
            raise UpstreamDisconnect(f"mock fault: disconnect after {drop_after} chunks")
        if index and delay:
            await asyncio.sleep(delay)
        yield b"data: {malformed json\n\n" if index == bad_at else frame


async def _half_then_drop(body: bytes) -> AsyncIterator[bytes]:
    yield body[: len(body) // 2]
    raise UpstreamDisconnect("mock fault: disconnect halfway through the body")


def _dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


class PassThroughUpstream:
    """Forwards calls to configured OpenAI-compatible servers (see `connections`)."""

    def __init__(self, targets: Mapping[str, PassThrough]) -> None:
        self.targets = dict(targets)
        self._pool = ConnectionPool()

    async def send(self, call: ProviderCall, target: PassThrough) -> ProviderResponse:
        """Forward a call to its pass-through upstream; its response.

        Raises:
            UpstreamUnreachable: the upstream could not be reached, or timed out.
            GatewayRequestError: code 7001, a request the HTTP client would not write
                (control characters in its head).
        """
        url = f"{target.base_url.rstrip('/')}/{call.path}"
        if call.query_string:
            url += "?" + call.query_string
        headers = forwardable_headers(call.headers)
        if target.api_key:
            headers[call.provider.auth_header] = call.provider.auth_value(target.api_key)
        try:
            response = await asyncio.wait_for(
                self._pool.request(
                    call.method,
                    url,
                    headers,
                    call.raw_body or b"",
                    connect_timeout=min(10.0, target.timeout_s),
                ),
                target.timeout_s,
            )
        except RequestRefused:
            raise GatewayRequestError(ErrorCode.INVALID_REQUEST, _refused(headers)) from None
        except (ConnectionFailed, asyncio.TimeoutError) as exc:
            raise UpstreamUnreachable(f"{type(exc).__name__} from {target.base_url}") from exc
        content_type = response.headers.get("content-type", JSON)
        if call.stream and 200 <= response.status < 300 and "event-stream" in content_type:
            provider_response = ProviderResponse(response.status, content_type)
            provider_response.chunks = _Relay(response, provider_response)
            return provider_response
        try:
            body = await asyncio.wait_for(response.read(), target.timeout_s)
        except (BodyBroken, asyncio.TimeoutError) as exc:
            await response.aclose()
            raise UpstreamUnreachable(f"{type(exc).__name__} from {target.base_url}") from exc
        provider_response = ProviderResponse(response.status, content_type, body)
        provider_response.tokens_in, provider_response.tokens_out = usage_of(body)
        return provider_response

    async def close(self) -> None:
        """Close the upstream connections."""
        await self._pool.close()


def _refused(headers: Mapping[str, str]) -> str:
    """The message of the gateway's 400 for a request the HTTP client would not write.

    The header names are named; their values are not (one may be a credential).
    """

    def bad(text: str) -> bool:
        return any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F for c in text)

    names = sorted({repr(k[:64]) for k, v in headers.items() if bad(k) or bad(v)})
    where = f"header(s) {', '.join(names)}" if names else "its path or headers"
    return (
        f"Invalid request: {where} cannot be forwarded to the upstream; header names and "
        "values, paths and query strings must not hold control characters (CR, LF, NUL)"
    )


_MAX_LINE: Final = 1 << 20
"""Bytes of a partial SSE line kept across chunks while looking for the usage chunk."""


class _Relay:
    """The relayed stream, which `aclose` closes even if it was never iterated.

    An async generator that never started runs no `finally` on `aclose`: this closes
    the upstream's response itself.
    """

    def __init__(self, response: UpstreamResponse, provider_response: ProviderResponse) -> None:
        self._chunks = _relay(response, provider_response)
        self._response = response

    def __aiter__(self) -> _Relay:
        return self

    async def __anext__(self) -> bytes:
        return await self._chunks.__anext__()

    async def aclose(self) -> None:
        await self._chunks.aclose()
        await self._response.aclose()


async def _relay(
    response: UpstreamResponse, provider_response: ProviderResponse
) -> AsyncGenerator[bytes, None]:
    """The upstream's stream, read for its usage chunk on the way through.

    An SSE line may arrive split across reads, so the last incomplete line is carried
    over to the next chunk (up to `_MAX_LINE` bytes).

    Raises:
        UpstreamDisconnect: a disconnect fault, or the upstream broke off.
    """
    partial = b""
    try:
        async for chunk in response.body:
            text = partial + chunk if partial else chunk
            cut = text.rfind(b"\n") + 1
            complete, partial = text[:cut], text[cut:]
            if len(partial) > _MAX_LINE:
                partial = b""
            if b'"usage"' in complete:
                for line in complete.split(b"\n"):
                    if line.startswith(b"data:") and b'"usage"' in line:
                        tokens = usage_of(line[5:])
                        if tokens != (None, None):
                            provider_response.tokens_in, provider_response.tokens_out = tokens
            yield chunk
    except BodyBroken as exc:
        raise UpstreamDisconnect(f"upstream stream broke: {exc}") from exc
    finally:
        await response.aclose()


def usage_of(body: bytes) -> tuple[int | None, int | None]:
    """(input, output) tokens of an OpenAI or Anthropic response body; Nones if absent."""
    try:
        data = json.loads(body)
    except ValueError:
        return None, None
    usage = data.get("usage") if isinstance(data, dict) else None
    if not isinstance(usage, dict):
        return None, None
    tokens_in = usage.get("prompt_tokens", usage.get("input_tokens"))
    tokens_out = usage.get("completion_tokens", usage.get("output_tokens"))
    return (
        tokens_in if isinstance(tokens_in, int) else None,
        tokens_out if isinstance(tokens_out, int) else None,
    )


class Upstreams:
    """Chooses mock or pass-through for each attempt of a call."""

    def __init__(
        self, clock: Clock, scripts: ScriptBook | Scripts, targets: Mapping[str, PassThrough]
    ) -> None:
        self.mock = MockUpstream(clock)
        self.scripts: Scripts = (
            MemoryScripts(scripts) if isinstance(scripts, ScriptBook) else scripts
        )
        """The scripts of the shared state (a `ScriptBook` is this process's)."""
        self.passthrough = PassThroughUpstream(targets)

    async def first(self, call: ProviderCall) -> tuple[Policy | None, Script | None]:
        """The policy response asked for, else the script of the first attempt: one take.

        Decided once per request, before any attempt, whatever the upstream: the first live
        script that matches is taken (one use), whichever it is. A policy script, or else
        the model name's own `policy=`, makes the policy response; any other script is the
        first attempt's. With a `policy=` in the model name, only a policy script is taken,
        so that a queued fault is kept for a request that reaches an attempt.

        Returns:
            `(policy, None)` for a policy response, else `(None, the first attempt's script
            or None)`.
        """
        own = None if call.fault is None else call.fault.policy
        script = await self.scripts.take(call.provider.slug, call.model, policy=own is not None)
        if script is not None and script.fault is not None and script.fault.policy is not None:
            return script.fault.policy, None
        if own is not None:
            return own, None
        return None, script

    async def take(self, call: ProviderCall) -> Script | None:
        """The script of a later attempt (one use of the first live one that matches)."""
        return await self.scripts.take(call.provider.slug, call.model)

    async def send(
        self, call: ProviderCall, attempt: int, script: Script | None
    ) -> ProviderResponse:
        """Send one attempt to its upstream (pass-through if configured, else the mock).

        `script` is the attempt's, from `first` or `take`.
        """
        fault = script.fault if script is not None and script.fault is not None else call.fault
        if fault is not None and (not fault.applies_to(attempt) or fault.policy is not None):
            fault = None
        target = self.passthrough.targets.get(call.provider.slug)
        if target is not None and script is None and fault is None:
            return await self.passthrough.send(call, target)
        return await self.mock.send(call, script, fault)

    async def close(self) -> None:
        """Close the pass-through connections."""
        await self.passthrough.close()
