"""The local gateway's Auto Router: `cloudflare/auto` on compat chat completions.

https://developers.cloudflare.com/ai-gateway/features/auto-router/

Deterministic, so it can be tested offline: the cheapest model of a fixed, cost-ordered
pool that the allow-lists (`cf-aig-allowed-models`, `cf-aig-allowed-providers`; with both,
a model must match both) leave in; within a `cf-aig-session-id`, a turn keeps the model
it was first given while that model stays in the pool, unless
`cf-aig-no-session-affinity: true`. A turn is a user message and its tool follow-ups
(the number of user messages so far), or what `cf-aig-turn-id` names.
An allow-list that matches nothing is a 400 in the gateway's error shape.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from ..core.protocol import ErrorCode, Header
from .request_error import GatewayRequestError

AUTO_MODEL: Final = "cloudflare/auto"
"""The model id that asks for the Auto Router."""

POOL: Final = (
    "workers-ai/@cf/meta/llama-3.1-8b-instruct",
    "openai/gpt-4o-mini",
    "anthropic/claude-3-5-haiku",
    "xai/grok-3-mini",
    "openai/gpt-4o",
    "anthropic/claude-sonnet-4",
)
"""The mock pool, cheapest first."""

_SESSIONS_MAX: Final = 10_000


def _pattern(entry: str) -> re.Pattern[str]:
    """An allow-list entry as a regex: `*` is one path segment and does not cross `/`."""
    return re.compile("/".join("[^/]+" if s == "*" else re.escape(s) for s in entry.split("/")))


def _split(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def _turn(headers: Mapping[str, str], messages: Any) -> str:
    """The request's turn: `cf-aig-turn-id`, else how many user messages it holds."""
    turn = headers.get(Header.TURN_ID)
    if turn:
        return f"id:{turn}"
    users = (
        sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "user")
        if isinstance(messages, list)
        else 0
    )
    return f"users:{users}"


class AutoRouter:
    """Chooses a model of `POOL` for a request; remembers each session's model."""

    def __init__(self) -> None:
        self._sessions: dict[str, str] = {}
        self._decisions = 0

    def choose(
        self, headers: Mapping[str, str], messages: Any = None
    ) -> tuple[str, dict[str, str]]:
        """The `provider/model` id for a request and the response headers that say so.

        Args:
            headers: The request headers, lowercase.
            messages: The request's `messages`, whose user messages tell its turn.

        Returns:
            The chosen model id, and `cf-aig-routed-model`, `cf-aig-routing-reason`,
            `cf-aig-routing-decision-id`.

        Raises:
            GatewayRequestError: 7001 (HTTP 400) when the allow-lists leave no model.
        """
        models = _split(headers.get(Header.ALLOWED_MODELS))
        providers = _split(headers.get(Header.ALLOWED_PROVIDERS))
        pool = list(POOL)
        if models is not None:
            for entry in models:
                if not any(_pattern(entry).fullmatch(m) for m in POOL):
                    raise GatewayRequestError(
                        ErrorCode.INVALID_REQUEST,
                        f"Invalid request: the allowed models entry {entry!r} matches no Auto Router model",
                    )
            patterns = [_pattern(entry) for entry in models]
            pool = [m for m in pool if any(p.fullmatch(m) for p in patterns)]
        if providers is not None:
            pool = [m for m in pool if m.split("/", 1)[0] in providers]
        if not pool:
            raise GatewayRequestError(
                ErrorCode.INVALID_REQUEST,
                "Invalid request: the allowed models and providers leave no Auto Router model",
            )
        session = headers.get(Header.SESSION_ID)
        if session:
            session = f"{session}\x00{_turn(headers, messages)}"
        affinity = headers.get(Header.NO_SESSION_AFFINITY, "").strip().lower() != "true"
        pinned = self._sessions.get(session) if session and affinity else None
        if pinned in pool:
            chosen, reason = pinned, "pinned_by_turn"
        else:
            chosen = pool[0]
            narrowed = models is not None or providers is not None
            reason = (
                "forced_by_candidate_pool"
                if narrowed and len(pool) == 1
                else ("cost_optimal_within_pool")
            )
            if session and affinity:
                if len(self._sessions) >= _SESSIONS_MAX:
                    self._sessions.pop(next(iter(self._sessions)))
                self._sessions[session] = chosen
        self._decisions += 1
        return chosen, {
            Header.ROUTED_MODEL: chosen,
            Header.ROUTING_REASON: reason,
            Header.ROUTING_DECISION_ID: f"rd-{self._decisions:08d}",
        }
