"""Guardrails and DLP on one provider call: the prompt before it goes, the response after.

`pipeline.execute` calls `screen_prompt_rails` before the cache lookup (Cloudflare's
Guardrails pages say nothing of the cache: a prompt BLOCK is never served from it),
`screen_prompt_dlp` after it (a cache hit skips DLP, as at Cloudflare:
https://developers.cloudflare.com/ai-gateway/features/dlp/, "Interaction with caching"),
and `screen_response` on the provider's response before it is cached, so a blocked
response is never cached. The matched text is kept on `Screening.matched` only so that
`redact_matches` can replace it with `[REDACTED]` in the log row's stored bodies. A block raises `ContentBlocked` (a `GatewayRequestError`: HTTP 424 with
2016 / 2017 for Guardrails, HTTP 400 with 2029 / 2030 for DLP); flags travel on the
call's `Screening`, which `respond` turns into the `cf-aig-dlp` header and the log row's
`guardrails` and `dlp` fields.

What is read: Guardrails read the last user message and the model's text
(`guardrails.prompt_text`, `guardrails.response_text`); DLP reads the text of every
message, tool call arguments included, and the model's text: never ids, timestamps or
other fields, which would pass for phone or card numbers.

Streaming: when response Guardrails or response DLP apply, the gateway reads the whole
stream, checks it, and sends it as one payload (the same SSE bytes, with a
`content-length`): the request no longer streams
(https://developers.cloudflare.com/ai-gateway/features/guardrails/usage-considerations/,
"Streaming behavior"; DLP buffers the same way). On the REST API Cloudflare does not enforce
response Guardrails on a stream; the local gateway leaves such a stream unchecked and
streaming.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from ..core.protocol import ErrorCode, Header
from . import dlp, guardrails
from .request_error import GatewayRequestError
from .upstream import ProviderCall, ProviderResponse

_REST_PREFIX = "ai/v1/"


@dataclass(slots=True)
class Screening:
    """What Guardrails and DLP found on one call (flags, and the block if any)."""

    guardrails: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    """Per phase (`prompt`, `response`): the `flagged` and `blocked` categories."""
    dlp: dlp.Findings = field(default_factory=dlp.Findings)
    matched: set[str] = field(default_factory=set)
    """The matched text itself (Guardrails terms, DLP spans): only for `redact_matches`,
    never sent nor logged."""

    def headers(self) -> dict[str, str]:
        """`cf-aig-dlp` when DLP matched (flagged or blocked), else nothing."""
        if self.dlp.action is None:
            return {}
        return {Header.DLP: self.dlp.header()}

    def log_fields(self) -> dict[str, Any]:
        """The log row's `guardrails` and `dlp` fields (only those that found something)."""
        out: dict[str, Any] = {}
        if self.guardrails:
            out["guardrails"] = self.guardrails
        if self.dlp.action is not None:
            out["dlp"] = json.loads(self.dlp.header())
        return out


class ContentBlocked(GatewayRequestError):
    """A prompt or response blocked by Guardrails or DLP, with what was found."""

    def __init__(self, code: ErrorCode, screening: Screening) -> None:
        super().__init__(code)
        self.screening = screening


def _text(raw: bytes | None) -> str:
    return (raw or b"").decode("utf-8", "replace")


async def screen_prompt(call: ProviderCall, settings: dict[str, Any]) -> Screening | None:
    """Check the call's prompt with Guardrails, then DLP (`screen_prompt_rails`, `screen_prompt_dlp`).

    Args:
        call: the provider call.
        settings: the gateway's extra settings (`GatewayRecord.extra`).

    Returns:
        The flags found (possibly none), or None when nothing applies.

    Raises:
        ContentBlocked: a BLOCK rule matched (2016 Guardrails, 2029 DLP).
    """
    return await screen_prompt_dlp(call, settings, screen_prompt_rails(call, settings))


def screen_prompt_rails(call: ProviderCall, settings: dict[str, Any]) -> Screening | None:
    """Check the call's prompt with Guardrails; None when no prompt category is set.

    `pipeline.execute` runs it before the cache lookup: Cloudflare's Guardrails pages say
    nothing of the cache, so a BLOCK rule is never bypassed by a cached response.

    Args:
        call: the provider call.
        settings: the gateway's extra settings (`GatewayRecord.extra`).

    Returns:
        The flags found (possibly none), or None when no prompt rule applies.

    Raises:
        ContentBlocked: a BLOCK category matched (2016).
    """
    rails = settings.get("guardrails")
    if not guardrails.applies(rails, "prompt"):
        return None
    screening = Screening()
    text = guardrails.prompt_text(call.body)
    flagged, blocked = guardrails.evaluate(rails, "prompt", text)
    if flagged or blocked:
        screening.guardrails["prompt"] = {"flagged": flagged, "blocked": blocked}
        screening.matched.update(guardrails.terms_in(rails, "prompt", text))
    if blocked:
        raise ContentBlocked(ErrorCode.PROMPT_BLOCKED, screening)
    return screening


async def screen_prompt_dlp(
    call: ProviderCall, settings: dict[str, Any], screening: Screening | None
) -> Screening | None:
    """Check the call's prompt with DLP, after a cache miss (a cache hit skips DLP).

    https://developers.cloudflare.com/ai-gateway/features/dlp/ ("Interaction with caching").

    Args:
        call: the provider call.
        settings: the gateway's extra settings (`GatewayRecord.extra`).
        screening: what Guardrails found on the prompt, if anything.

    Returns:
        `screening` with DLP's findings, or `screening` when no request policy applies.

    Raises:
        ContentBlocked: a BLOCK policy matched (2029).
    """
    policy = settings.get("dlp")
    if not dlp.applies(policy, "REQUEST"):
        return screening
    screening = screening or Screening()
    text = guardrails.response_text(call.body) if call.body else _text(call.raw_body)
    screening.dlp = await asyncio.to_thread(dlp.scan, policy, "REQUEST", text)  # off the loop
    screening.matched.update(screening.dlp.matched)
    if screening.dlp.action == "BLOCK":
        raise ContentBlocked(ErrorCode.DLP_REQUEST_BLOCKED, screening)
    return screening


def response_applies(call: ProviderCall, settings: dict[str, Any]) -> bool:
    """Whether the call's response is checked (and so a stream is read whole first).

    Embeddings responses are not checked by Guardrails
    (https://developers.cloudflare.com/ai-gateway/features/guardrails/supported-model-types/),
    nor a stream on the REST API.
    """
    if call.stream and call.log_path.startswith(_REST_PREFIX):
        return False
    rails = guardrails.applies(settings.get("guardrails"), "response")
    return (rails and call.model_type == "chat") or dlp.applies(settings.get("dlp"), "RESPONSE")


async def screen_response(
    call: ProviderCall,
    settings: dict[str, Any],
    provider_response: ProviderResponse,
    screening: Screening | None,
) -> Screening | None:
    """Check a 2xx response (a stream is read whole and kept as one body first).

    Args:
        call: the provider call.
        settings: the gateway's extra settings (`GatewayRecord.extra`).
        provider_response: the provider's response; a stream becomes its `body`.
        screening: what the prompt check found, if anything.

    Returns:
        The screening with the response's flags, or `screening` when nothing applies.

    Raises:
        ContentBlocked: a BLOCK rule matched (2017 Guardrails, 2030 DLP).
        GatewayRequestError: 2005 (HTTP 502), the upstream broke off mid-response.
    """
    if not provider_response.ok or not response_applies(call, settings):
        return screening
    chunks = provider_response.chunks
    if chunks is not None:
        try:
            parts = [chunk async for chunk in chunks]
        except Exception:  # the upstream broke off: nothing whole to check or to send
            raise GatewayRequestError(
                ErrorCode.PROVIDER_FAILED,
                "Provider request failed: the upstream broke off before the response could be "
                "read whole for Guardrails or DLP",
            ) from None
        finally:
            close = getattr(chunks, "aclose", None)
            if close is not None:
                await close()
        provider_response.body, provider_response.chunks = b"".join(parts), None
    text = _model_text(_text(provider_response.body))
    screening = screening or Screening()
    policy = settings.get("dlp")
    if dlp.applies(policy, "RESPONSE"):
        found = await asyncio.to_thread(dlp.scan, policy, "RESPONSE", text)
        screening.dlp = screening.dlp.merged(found)
        screening.matched.update(found.matched)
        if found.action == "BLOCK":
            raise ContentBlocked(ErrorCode.DLP_RESPONSE_BLOCKED, screening)
    rails = settings.get("guardrails")
    if call.model_type == "chat" and guardrails.applies(rails, "response"):
        flagged, blocked = guardrails.evaluate(rails, "response", text)
        if flagged or blocked:
            screening.guardrails["response"] = {"flagged": flagged, "blocked": blocked}
            screening.matched.update(guardrails.terms_in(rails, "response", text))
        if blocked:
            raise ContentBlocked(ErrorCode.RESPONSE_BLOCKED, screening)
    return screening


REDACTED = "[REDACTED]"


def redact_matches(body: bytes | None, matched: set[str]) -> bytes | None:
    """A body to store in a log row, each matched span replaced with `[REDACTED]`.

    A JSON body stays valid JSON (spans are replaced inside its strings); an SSE or other
    body has each span replaced in its raw and JSON-escaped spellings.

    Args:
        body: the request or response body.
        matched: the spans Guardrails and DLP matched (`Screening.matched`).

    Returns:
        The redacted body (`body` itself when there is nothing to replace).
    """
    spans = sorted((s for s in matched if s), key=len, reverse=True)
    if not body or not spans:
        return body
    try:
        data = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace")
        for span in spans:
            text = text.replace(span, REDACTED).replace(json.dumps(span)[1:-1], REDACTED)
        return text.encode()
    return json.dumps(_redact_strings(data, spans), ensure_ascii=False).encode()


def _redact_strings(data: Any, spans: list[str]) -> Any:
    if isinstance(data, str):
        for span in spans:
            data = data.replace(span, REDACTED)
        return data
    if isinstance(data, list):
        return [_redact_strings(item, spans) for item in data]
    if isinstance(data, dict):
        return {key: _redact_strings(value, spans) for key, value in data.items()}
    return data


def _model_text(raw: str) -> str:
    """The model's text of a JSON body or of every `data:` event of an SSE body."""
    try:
        return guardrails.response_text(json.loads(raw))
    except ValueError:
        pass
    events = []
    for line in raw.splitlines():
        if line.startswith("data:"):
            payload = line[5:].strip()
            try:
                events.append(json.loads(payload))
            except ValueError:
                continue
    return guardrails.response_text(events)
