"""What your LangChain calls through the gateway did: calls, cache, tokens, cost, log ids.

```python
from langchain_cf_gateway import ChatCloudflareGateway, gateway_usage

llm = ChatCloudflareGateway(model="openai/gpt-4o-mini")
with gateway_usage() as usage:
    llm.invoke("Hello")
    llm.invoke("Hello")            # served by the gateway cache
print(usage)                        # calls 2, hits 1, misses 1, tokens, $ estimate, log ids
usage.log_ids                       # to fetch the logs or send feedback
```

`gateway_usage` works like `get_openai_callback()`: every LangChain run started
inside the `with` block (in this thread, in threads LangChain starts, in asyncio tasks
created inside it) reports to the tracker, without passing `callbacks=`. A
`GatewayUsageTracker` can also be passed explicitly:
`chain.invoke(x, config={"callbacks": [tracker]})`.

Numbers come from each result: `response_metadata["gateway"]` (cache status, log id,
step, model) and `usage_metadata` (tokens). Cost is an **estimate** from a
`PriceTable`; a cache HIT costs nothing (the provider
was not called) and its would-be cost is counted as `saved_cost`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.tracers.context import register_configure_hook

from .core.display import html_table, require_pandas
from .core.errors import GatewayError
from .core.model_names import model_key
from .pricing import ModelPrice, PriceTable

Prices = PriceTable | Mapping[str, ModelPrice | tuple[float, ...]]

CALL_COLUMNS = (
    "model",
    "provider",
    "cache_status",
    "latency_s",
    "input_tokens",
    "output_tokens",
    "cost",
    "saved_cost",
    "step",
    "fell_back",
    "log_id",
    "error",
)
"""The columns of `GatewayUsageTracker.to_pandas()`, one row per call."""


@dataclass(frozen=True, slots=True)
class GatewayCall:
    """One model call as the tracker saw it."""

    run_id: UUID | None
    model: str | None
    """The model that served the response (the fallback step's, for a fallback chain)."""
    provider: str | None
    cache_status: str | None
    """`HIT`, `MISS`, or None when the gateway did not say (or the call failed)."""
    log_id: str | None
    event_id: str | None = None
    step: int | None = None
    """Which step of a fallback chain served the response; above 0 means a fallback was taken."""
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    """Prompt tokens the provider read from its own prompt cache (not the gateway's)."""
    cost: float | None = None
    """Estimated US dollars; 0 for a gateway cache HIT; None when the model has no price."""
    saved_cost: float = 0.0
    """For a HIT: what the call would have cost without the gateway cache."""
    latency_s: float | None = None
    """Seconds from the start of the call to its end (the whole stream, when streaming)."""
    error: str | None = None
    """The exception class name, for a call that failed."""
    routed_model: str | None = None
    """For `cloudflare/auto`: the model Cloudflare's Auto Router chose (`provider/model`)."""
    routing_reason: str | None = None
    """For `cloudflare/auto`: why it chose it (`cost_optimal_within_pool`...)."""
    routing_decision_id: str | None = None
    """For `cloudflare/auto`: the id of the routing decision."""

    @property
    def cached(self) -> bool:
        """Whether the gateway's cache served the response (`cache_status` `HIT`)."""
        return self.cache_status == "HIT"

    @property
    def fell_back(self) -> bool:
        """Whether a later step of a fallback chain served the response."""
        return bool(self.step)


@dataclass(frozen=True, slots=True)
class ModelUsage:
    """Totals of one model."""

    calls: int = 0
    cache_hits: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    saved_cost: float = 0.0
    latencies_s: tuple[float, ...] = field(default=())


class GatewayUsageTracker(BaseCallbackHandler):
    """A LangChain callback handler that adds up what calls through the gateway did.

    Safe to share across threads and asyncio tasks: every update holds a lock, and every
    reading returns a snapshot.

    Instantiate:
        ```python
        tracker = GatewayUsageTracker()  # default price table
        tracker = GatewayUsageTracker(prices={"my-model": (0.5, 1.5)})  # extend it
        ```

    Use:
        ```python
        chain.invoke({"q": "..."}, config={"callbacks": [tracker]})
        tracker.calls_made, tracker.cache_hits, tracker.cache_misses
        tracker.input_tokens, tracker.output_tokens, tracker.total_cost
        tracker.fallbacks, tracker.log_ids, tracker.calls[-1].latency_s
        print(tracker)  # a short report
        ```

    Results that did not pass through LangChain callbacks (a LiteLLM response, say) are
    added with `record`.
    """

    run_inline: bool = True
    """Cheap and thread-safe: run in the caller's thread, so start and end keep their order."""
    raise_error: bool = False

    def __init__(
        self, prices: Prices | None = None, *, parent: GatewayUsageTracker | None = None
    ) -> None:
        super().__init__()
        self.prices = PriceTable.coerce(prices)
        """The price table used for the cost estimates."""
        self._parent = parent
        self._lock = threading.Lock()
        self._calls: list[GatewayCall] = []
        self._started: dict[UUID, float] = {}

    # ------------------------------------------------------------------ callback hooks

    def on_llm_start(
        self, serialized: dict[str, Any], prompts: list[str], *, run_id: UUID, **kwargs: Any
    ) -> None:
        """Start the clock of a completion model's run (LangChain callback)."""
        self._start(run_id)

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        **kwargs: Any,
    ) -> None:
        """Start the clock of a chat model's run (LangChain callback)."""
        self._start(run_id)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        """Record the run's call from its result's `response_metadata["gateway"]`."""
        latency = self._elapsed(run_id)
        for generations in response.generations:
            if generations:
                self._add(self._from_generation(generations[0], response, run_id, latency))

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        """Record a failed call, with the log id of a gateway error."""
        latency = self._elapsed(run_id)
        log_id = error.log_id if isinstance(error, GatewayError) else None
        self._add(
            GatewayCall(
                run_id=run_id,
                model=None,
                provider=None,
                cache_status=None,
                log_id=log_id,
                latency_s=latency,
                error=type(error).__name__,
            )
        )

    # ------------------------------------------------------------------ recording

    def record(self, result: Any, *, latency_s: float | None = None) -> GatewayCall:
        """Add a result that did not come through the callbacks.

        A LiteLLM `ModelResponse` (`_hidden_params["gateway"]`), an `AIMessage`, or a
        `ChatGeneration`. LiteLLM calls go through no LangChain callback: record each.

        Raises:
            TypeError: `result` is an exception or a LiteLLM stream (pass
                `litellm.stream_chunk_builder(chunks)`), which hold no usage to add.
        """
        if isinstance(result, BaseException):
            raise TypeError("record() takes a response, not an exception")
        if hasattr(result, "completion_stream"):
            raise TypeError(
                "record() takes a whole response: for a LiteLLM stream pass "
                "litellm.stream_chunk_builder(chunks)"
            )
        message = getattr(result, "message", result)
        hidden = getattr(result, "_hidden_params", None)
        if isinstance(hidden, Mapping) and isinstance(hidden.get("gateway"), Mapping):
            call = self._call(
                None,
                hidden["gateway"],
                _litellm_usage(result),
                getattr(result, "model", None),
                latency_s,
            )
        else:
            metadata = getattr(message, "response_metadata", None) or {}
            call = self._call(
                None,
                metadata.get("gateway") or {},
                _message_usage(message),
                metadata.get("model_name"),
                latency_s,
            )
        self._add(call)
        return call

    def _start(self, run_id: UUID) -> None:
        with self._lock:
            self._started[run_id] = time.perf_counter()

    def _elapsed(self, run_id: UUID) -> float | None:
        with self._lock:
            started = self._started.pop(run_id, None)
        return None if started is None else time.perf_counter() - started

    def _from_generation(
        self, generation: Any, response: LLMResult, run_id: UUID, latency: float | None
    ) -> GatewayCall:
        message = generation.message if isinstance(generation, ChatGeneration) else None
        metadata: Mapping[str, Any] = (
            message.response_metadata if message is not None else generation.generation_info or {}
        )
        usage = _message_usage(message)
        if usage == (0, 0, 0):
            usage = _llm_output_usage(response.llm_output)
        return self._call(
            run_id, metadata.get("gateway") or {}, usage, metadata.get("model_name"), latency
        )

    def _call(
        self,
        run_id: UUID | None,
        gateway: Mapping[str, Any],
        usage: tuple[int, int, int],
        model_name: str | None,
        latency: float | None,
    ) -> GatewayCall:
        input_tokens, output_tokens, cached_input = usage
        model = gateway.get("model") or model_name
        cache_status = gateway.get("cache_status")
        estimate = self.prices.cost(model, input_tokens, output_tokens, cached_input)
        if estimate is None and model_name and model_name != model:
            estimate = self.prices.cost(model_name, input_tokens, output_tokens, cached_input)
        hit = cache_status == "HIT"
        step = gateway.get("step")
        return GatewayCall(
            run_id=run_id,
            model=model,
            provider=gateway.get("provider"),
            cache_status=cache_status,
            log_id=gateway.get("log_id"),
            event_id=gateway.get("event_id"),
            step=step if isinstance(step, int) else None,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached_input_tokens=cached_input,
            cost=(0.0 if hit and estimate is not None else estimate),
            saved_cost=(estimate or 0.0) if hit else 0.0,
            latency_s=latency,
            routed_model=gateway.get("routed_model"),
            routing_reason=gateway.get("routing_reason"),
            routing_decision_id=gateway.get("routing_decision_id"),
        )

    def _add(self, call: GatewayCall) -> None:
        tracker: GatewayUsageTracker | None = self
        while tracker is not None:  # a nested gateway_usage() also counts for the outer one
            with tracker._lock:
                tracker._calls.append(call)
            tracker = tracker._parent

    # ------------------------------------------------------------------ readings

    @property
    def calls(self) -> tuple[GatewayCall, ...]:
        """Every call, in the order they ended."""
        with self._lock:
            return tuple(self._calls)

    @property
    def calls_made(self) -> int:
        """Calls that got a response (failed calls are in `errors`)."""
        return sum(1 for c in self.calls if c.error is None)

    @property
    def cache_hits(self) -> int:
        """Calls the gateway's cache served."""
        return sum(1 for c in self.calls if c.cache_status == "HIT")

    @property
    def cache_misses(self) -> int:
        """Calls with a response the gateway cache did not serve: `calls_made - cache_hits`.

        Streams count here: the gateway sends them without a cache status.
        """
        return sum(1 for c in self.calls if c.error is None and c.cache_status != "HIT")

    @property
    def input_tokens(self) -> int:
        """Prompt tokens of every call."""
        return sum(c.input_tokens for c in self.calls)

    @property
    def output_tokens(self) -> int:
        """Completion tokens of every call."""
        return sum(c.output_tokens for c in self.calls)

    @property
    def total_tokens(self) -> int:
        """`input_tokens + output_tokens`."""
        return self.input_tokens + self.output_tokens

    @property
    def total_cost(self) -> float:
        """Estimated US dollars of the calls whose model has a price."""
        return sum(c.cost or 0.0 for c in self.calls)

    @property
    def saved_cost(self) -> float:
        """Estimated US dollars the gateway cache saved."""
        return sum(c.saved_cost for c in self.calls)

    @property
    def fallbacks(self) -> int:
        """Calls served by a later step of a fallback chain."""
        return sum(1 for c in self.calls if c.fell_back)

    @property
    def errors(self) -> int:
        """Calls that failed."""
        return sum(1 for c in self.calls if c.error is not None)

    @property
    def log_ids(self) -> list[str]:
        """The gateway log ids, in order: keys for the logs API and feedback."""
        return [c.log_id for c in self.calls if c.log_id]

    @property
    def unpriced_models(self) -> list[str]:
        """Models seen that the price table lacks (their cost is left out of the total)."""
        seen = {c.model for c in self.calls if c.cost is None and c.error is None and c.model}
        return sorted(seen)

    def by_model(self) -> dict[str, ModelUsage]:
        """Totals per model, the spellings of one model together.

        Logs and invoices name models `provider/model` since 2026-09
        (`anthropic/claude-haiku-4.5`), responses often a dated snapshot
        (`claude-haiku-4-5-20251001`): both count under the name first seen for them.

        Returns:
            Model name -> its totals.
        """
        out: dict[str, ModelUsage] = {}
        names: dict[str | None, str] = {}
        for call in self.calls:
            if call.error is not None:
                continue
            name = names.setdefault(model_key(call.model), call.model or "unknown")
            prev = out.get(name, ModelUsage())
            out[name] = ModelUsage(
                calls=prev.calls + 1,
                cache_hits=prev.cache_hits + call.cached,
                input_tokens=prev.input_tokens + call.input_tokens,
                output_tokens=prev.output_tokens + call.output_tokens,
                cost=prev.cost + (call.cost or 0.0),
                saved_cost=prev.saved_cost + call.saved_cost,
                latencies_s=(
                    (*prev.latencies_s, call.latency_s)
                    if call.latency_s is not None
                    else prev.latencies_s
                ),
            )
        return out

    def summary(self) -> dict[str, Any]:
        """The totals as a plain dict (for logging or a DataFrame)."""
        calls = self.calls
        return {
            "calls": sum(1 for c in calls if c.error is None),
            "cache_hits": sum(1 for c in calls if c.cache_status == "HIT"),
            "cache_misses": sum(1 for c in calls if c.error is None and c.cache_status != "HIT"),
            "input_tokens": sum(c.input_tokens for c in calls),
            "output_tokens": sum(c.output_tokens for c in calls),
            "estimated_cost_usd": sum(c.cost or 0.0 for c in calls),
            "saved_cost_usd": sum(c.saved_cost for c in calls),
            "fallbacks": sum(1 for c in calls if c.fell_back),
            "errors": sum(1 for c in calls if c.error is not None),
            "log_ids": [c.log_id for c in calls if c.log_id],
        }

    def to_pandas(self) -> Any:
        """Every call as a row of a `pandas.DataFrame` (the columns of `CALL_COLUMNS`).

        Returns:
            A `pandas.DataFrame`, one row per call in the order they ended; no rows but the
            same columns before any call.

        Raises:
            ImportError: pandas is not installed (`pip install 'langchain-cf-gateway[pandas]'`).
        """
        pd = require_pandas()
        rows = [[getattr(call, c) for c in CALL_COLUMNS] for call in self.calls]
        frame = pd.DataFrame(rows, columns=list(CALL_COLUMNS))
        return frame.astype(
            {
                "latency_s": "float64",
                "input_tokens": "int64",
                "output_tokens": "int64",
                "cost": "float64",
                "saved_cost": "float64",
                "step": "Int64",
                "fell_back": "bool",
            }
        )

    def _repr_html_(self) -> str:
        s = self.summary()
        rows = [
            (name, u.calls, u.cache_hits, u.input_tokens, u.output_tokens, u.cost, u.saved_cost)
            for name, u in self.by_model().items()
        ]
        totals = ("total", s["calls"], s["cache_hits"], s["input_tokens"], s["output_tokens"])
        caption = f"Gateway calls: {s['calls']} (fallbacks {s['fallbacks']}, errors {s['errors']})"
        return html_table(
            ("model", "calls", "cache hits", "tokens in", "tokens out", "cost $", "saved $"),
            rows,
            caption=caption,
            footer=(*totals, s["estimated_cost_usd"], s["saved_cost_usd"]),
        )

    def reset(self) -> None:
        """Forget every call recorded so far."""
        with self._lock:
            self._calls.clear()
            self._started.clear()

    def __str__(self) -> str:
        s = self.summary()
        lines = [
            f"Gateway calls: {s['calls']} (cache hits {s['cache_hits']}, "
            f"misses {s['cache_misses']}, fallbacks {s['fallbacks']}, errors {s['errors']})",
            f"Tokens: {s['input_tokens']} in, {s['output_tokens']} out",
            f"Estimated cost: ${s['estimated_cost_usd']:.6f} "
            f"(saved by the cache: ${s['saved_cost_usd']:.6f})",
        ]
        unpriced = self.unpriced_models
        if unpriced:
            lines.append(f"No price for: {', '.join(unpriced)} (pass prices= to add them)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"GatewayUsageTracker(calls={s['calls']}, cache_hits={s['cache_hits']}, "
            f"cache_misses={s['cache_misses']}, input_tokens={s['input_tokens']}, "
            f"output_tokens={s['output_tokens']}, "
            f"estimated_cost_usd={s['estimated_cost_usd']:.6f})"
        )


# --------------------------------------------------------------------------- usage numbers


def _message_usage(message: Any) -> tuple[int, int, int]:
    usage = getattr(message, "usage_metadata", None)
    if not usage:
        return 0, 0, 0
    details = usage.get("input_token_details") or {}
    return (
        int(usage.get("input_tokens") or 0),
        int(usage.get("output_tokens") or 0),
        int(details.get("cache_read") or 0),
    )


def _llm_output_usage(llm_output: Mapping[str, Any] | None) -> tuple[int, int, int]:
    usage = (llm_output or {}).get("token_usage") or {}
    if not isinstance(usage, Mapping):
        return 0, 0, 0
    return int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0), 0


def _litellm_usage(response: Any) -> tuple[int, int, int]:
    usage = getattr(response, "usage", None)
    if usage is None:
        return 0, 0, 0
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", None) or 0
    return (
        int(getattr(usage, "prompt_tokens", 0) or 0),
        int(getattr(usage, "completion_tokens", 0) or 0),
        int(cached),
    )


# --------------------------------------------------------------------------- the context manager

_current_tracker: ContextVar[GatewayUsageTracker | None] = ContextVar(
    "langchain_cf_gateway_usage", default=None
)
# Registered once: langchain-core adds the tracker in the variable to every run it configures.
register_configure_hook(_current_tracker, inheritable=True)


@contextmanager
def gateway_usage(prices: Prices | None = None) -> Iterator[GatewayUsageTracker]:
    """Track every LangChain call made inside the block, like `get_openai_callback()`.

    `prices` extends the default price table (or replaces it, given a
    `PriceTable`). Blocks nest: an inner block's calls
    count for the outer tracker too.
    """
    parent = _current_tracker.get()
    if prices is None and parent is not None:
        table: Prices | None = parent.prices
    else:
        table = prices
    tracker = GatewayUsageTracker(table, parent=parent)
    token = _current_tracker.set(tracker)
    try:
        yield tracker
    finally:
        _current_tracker.reset(token)


__all__: Sequence[str] = (
    "CALL_COLUMNS",
    "GatewayCall",
    "GatewayUsageTracker",
    "ModelUsage",
    "gateway_usage",
)
