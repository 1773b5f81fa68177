"""Guardrails and DLP on one provider call: the prompt before it goes, the response after.

`pipeline.execute` calls `screen_prompt` after the cache lookup (a cache hit skips both,
as at Cloudflare: https://developers.cloudflare.com/ai-gateway/features/dlp/) and
`screen_response` on the provider's response before it is cached, so a blocked response
is never cached. A block raises `ContentBlocked` (a `GatewayRequestError`: HTTP 424 with
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


def screen_prompt(call: ProviderCall, settings: dict[str, Any]) -> Screening | None:
    """Check the call's prompt; None when neither Guardrails nor DLP is set for prompts.

    Args:
        call: the provider call.
        settings: the gateway's extra settings (`GatewayRecord.extra`).

    Returns:
        The flags found (possibly none), or None when nothing applies.

    Raises:
        ContentBlocked: a BLOCK rule matched (2016 Guardrails, 2029 DLP).
    """
    rails, policy = settings.get("guardrails"), settings.get("dlp")
    rails_on = guardrails.applies(rails, "prompt")
    dlp_on = dlp.applies(policy, "REQUEST")
    if not (rails_on or dlp_on):
        return None
    screening = Screening()
    if dlp_on:
        text = guardrails.response_text(call.body) if call.body else _text(call.raw_body)
        screening.dlp = dlp.scan(policy, "REQUEST", text)
        if screening.dlp.action == "BLOCK":
            raise ContentBlocked(ErrorCode.DLP_REQUEST_BLOCKED, screening)
    if rails_on:
        flagged, blocked = guardrails.evaluate(rails, "prompt", guardrails.prompt_text(call.body))
        if flagged or blocked:
            screening.guardrails["prompt"] = {"flagged": flagged, "blocked": blocked}
        if blocked:
            raise ContentBlocked(ErrorCode.PROMPT_BLOCKED, screening)
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
        found = dlp.scan(policy, "RESPONSE", text)
        screening.dlp = screening.dlp.merged(found)
        if found.action == "BLOCK":
            raise ContentBlocked(ErrorCode.DLP_RESPONSE_BLOCKED, screening)
    rails = settings.get("guardrails")
    if call.model_type == "chat" and guardrails.applies(rails, "response"):
        flagged, blocked = guardrails.evaluate(rails, "response", text)
        if flagged or blocked:
            screening.guardrails["response"] = {"flagged": flagged, "blocked": blocked}
        if blocked:
            raise ContentBlocked(ErrorCode.RESPONSE_BLOCKED, screening)
    return screening


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
