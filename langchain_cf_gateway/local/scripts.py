"""Scripts: what the next matching request(s) get from the mock model.

A script is registered with `LocalGateway.script` or `POST /__local/scripts`
(body: the same fields as JSON) and is used by the next request whose provider and
model match, once per *attempt* (a retried request consumes one use per try), until
its `times` are used up. Scripts match in the order they were registered:

```python
gw.script("Paris.")                                 # any model, once
gw.script(tool_calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}])
gw.script(fault="status=503", model="gpt-4o-mini")  # the next gpt-4o-mini attempt fails
gw.script("slow", fault="chunk-delay=50", times=3)
```

`model` matches the bare model (`gpt-4o-mini`) or the compat id
(`openai/gpt-4o-mini`); `provider` matches the slug (`openai`, `anthropic`).
Scripts also apply to providers served by a pass-through upstream when they carry a
fault: the fault is made locally and the upstream is not called. A script whose fault
is a `policy=` is used once per request (the policy is decided before any attempt),
and not at all by a request served from the cache.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .faults import Fault
from .mock import ToolCall


@dataclass(slots=True)
class Script:
    """One registered response (text, tool calls) and/or fault, and how often it applies."""

    text: str | None = None
    tool_calls: list[Mapping[str, Any] | ToolCall] = field(default_factory=list)
    fault: Fault | None = None
    model: str | None = None
    provider: str | None = None
    times: int | None = 1
    """How many attempts it serves; None: every matching attempt until reset."""
    used: int = 0
    """How many attempts it has served so far."""

    def matches(self, provider: str, model: str) -> bool:
        """Whether the script applies to this provider and model."""
        if self.provider is not None and self.provider != provider:
            return False
        return self.model is None or self.model in (model, f"{provider}/{model}")

    @property
    def exhausted(self) -> bool:
        """Whether the script is used up."""
        return self.times is not None and self.used >= self.times

    def as_dict(self) -> dict[str, Any]:
        """The script as the admin route shows it."""
        return {
            "text": self.text,
            "tool_calls": [
                {"name": t.name, "arguments": t.arguments, "id": t.id}
                if isinstance(t, ToolCall)
                else dict(t)
                for t in self.tool_calls
            ],
            "fault": None if self.fault is None else _fault_dict(self.fault),
            "model": self.model,
            "provider": self.provider,
            "times": self.times,
            "used": self.used,
        }


def _fault_dict(fault: Fault) -> dict[str, Any]:
    return {
        "status": fault.status,
        "delay_ms": fault.delay_ms,
        "chunk_delay_ms": fault.chunk_delay_ms,
        "disconnect_after": fault.disconnect_after,
        "malformed": fault.malformed,
        "attempts": fault.attempts,
        "policy": fault.policy,
        "error": fault.error,
        "message": fault.message,
    }


def make_script(
    text: str | None = None,
    *,
    tool_calls: Sequence[Mapping[str, Any] | ToolCall] | None = None,
    fault: str | Fault | None = None,
    model: str | None = None,
    provider: str | None = None,
    times: int | None = 1,
) -> Script:
    """A validated `Script`; ValueError naming the bad field otherwise.

    Raises:
        ValueError: naming the bad field.
    """
    if text is None and not tool_calls and fault is None:
        raise ValueError("a script needs text, tool_calls or fault")
    if text is not None and not isinstance(text, str):
        raise ValueError(f"script text must be a string; got {type(text).__name__}")
    if times is not None and (not isinstance(times, int) or times < 1):
        raise ValueError(f"times must be a positive integer or None (always); got {times!r}")
    calls = list(tool_calls or ())
    for index, call in enumerate(calls):
        ToolCall.coerce(call, index, "check")  # raises on a call without a name
    parsed = Fault.parse(fault) if isinstance(fault, str) else fault
    return Script(text, calls, parsed, model, provider, times)


class ScriptBook:
    """The registered scripts, shared by the test thread and the server's event loop."""

    def __init__(self) -> None:
        self._scripts: list[Script] = []
        self._lock = threading.Lock()

    def add(self, script: Script) -> Script:
        """Queue a script; returns it."""
        with self._lock:
            self._scripts.append(script)
        return script

    def take(self, provider: str, model: str) -> Script | None:
        """The first live script matching, with one use consumed; None if none."""
        if not self._scripts:  # the common case, without the lock
            return None
        with self._lock:
            for script in self._scripts:
                if not script.exhausted and script.matches(provider, model):
                    script.used += 1
                    return script
        return None

    def take_policy(self, provider: str, model: str) -> Script | None:
        """The first live script matching, with one use consumed, if its fault is a policy.

        A policy is decided once per request, before any attempt: a first matching script
        without `policy=` is left for the attempts (None).
        """
        if not self._scripts:
            return None
        with self._lock:
            for script in self._scripts:
                if not script.exhausted and script.matches(provider, model):
                    if script.fault is None or script.fault.policy is None:
                        return None
                    script.used += 1
                    return script
        return None

    def pending(self) -> list[Script]:
        """The scripts not used up yet, in order."""
        with self._lock:
            return [s for s in self._scripts if not s.exhausted]

    def clear(self) -> None:
        """Forget every script."""
        with self._lock:
            self._scripts.clear()
