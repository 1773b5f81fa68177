"""Faults the mock model can be told to make, and their grammar.

A fault is asked for either in the model name, after a `~`, or with
`langchain_cf_gateway.local.LocalGateway.script`
(or the admin route `POST /__local/scripts`), using the same text:

```python
fault      := directive ("~" directive)*
directive  := "status=" CODE        respond HTTP CODE (400 to 599) with the provider's
                                    error body
            | "delay=" MS           wait MS milliseconds before the first byte
            | "chunk-delay=" MS     stream: wait MS milliseconds between chunks
            | "disconnect" ["=" N]  stream: drop the connection after N chunks (default 1);
                                    non-stream: drop it halfway through the body
            | "malformed"           the body (or, streamed, one chunk) is not valid JSON
            | "attempts=" N         only the first N attempts of a request are faulted,
                                    later retries get the normal response
```

Examples (compat model ids; native routes take the part after the provider):

```python
openai/gpt-4o-mini~status=503               every attempt gets 503
openai/gpt-4o-mini~status=429~attempts=1    the first attempt gets 429, a retry succeeds
openai/gpt-4o-mini~delay=1500               1.5 s before the first byte (timeouts)
openai/gpt-4o-mini~chunk-delay=20~disconnect=3
openai/gpt-4o-mini~malformed
```

The part before the first `~` is the model name the mock responds as; the
directives never reach a pass-through upstream (they are stripped).

A fault status is an error the mock sends with a body: 400 to 599
(`FAULT_STATUSES`). A 1xx is not a final response, 204, 205 and 304 have no body
(RFC 9110 sections 15.3.5, 15.3.6 and 15.4.5,
https://www.rfc-editor.org/rfc/rfc9110#section-15) and a 3xx without `Location` is
no redirect: anything else is refused (a 400 naming the directive).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

FAULT_SEPARATOR: Final = "~"
FAULT_STATUSES: Final = range(400, 600)
"""The statuses a fault may ask for: the errors, which the mock sends with a body."""


@dataclass(frozen=True, slots=True)
class Fault:
    """What the mock model does wrong for one request."""

    status: int | None = None
    """Respond with this HTTP status and the provider's error body."""
    delay_ms: int = 0
    """Milliseconds before the first byte (the status line and headers included)."""
    chunk_delay_ms: int = 0
    """Milliseconds between two chunks of a stream."""
    disconnect_after: int | None = None
    """Drop the connection after this many chunks of a stream (halfway through a body)."""
    malformed: bool = False
    """Send a body that is not valid JSON (one bad chunk when streaming)."""
    attempts: int | None = None
    """Fault only the first N attempts of a request; None: every attempt."""

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in FAULT_STATUSES:
            raise ValueError(f"fault status {self.status!r}: {_STATUS_RULE}")

    def applies_to(self, attempt: int) -> bool:
        """Whether attempt number `attempt` (1-based) of a request is faulted."""
        return self.attempts is None or attempt <= self.attempts

    @classmethod
    def parse(cls, text: str) -> Fault:
        """Parse the grammar of this module; ValueError naming the bad directive otherwise.

        Raises:
            ValueError: naming the bad directive.
        """
        fields: dict[str, object] = {}
        for raw in text.split(FAULT_SEPARATOR):
            directive = raw.strip()
            if not directive:
                continue
            name, _, value = directive.partition("=")
            name = name.strip().lower()
            if name == "malformed" and not value:
                fields["malformed"] = True
            elif name == "disconnect":
                fields["disconnect_after"] = _int(directive, value, 0) if value else 1
            elif name == "status":
                code = _int(directive, value, None)
                if code not in FAULT_STATUSES:
                    raise ValueError(f"fault {directive!r}: {_STATUS_RULE}")
                fields["status"] = code
            elif name == "delay":
                fields["delay_ms"] = _int(directive, value, 0)
            elif name == "chunk-delay":
                fields["chunk_delay_ms"] = _int(directive, value, 0)
            elif name == "attempts":
                fields["attempts"] = _int(directive, value, 1)
            else:
                raise ValueError(
                    f"unknown fault directive {directive!r}; use status=CODE, delay=MS, "
                    "chunk-delay=MS, disconnect[=N], malformed or attempts=N, joined by '~'"
                )
        return cls(**fields)  # type: ignore[arg-type]


_STATUS_RULE: Final = (
    f"status must be {FAULT_STATUSES.start} to {FAULT_STATUSES.stop - 1} "
    "(an error the mock sends with a body)"
)


def _int(directive: str, value: str, minimum: int | None) -> int:
    """The directive's value: ASCII decimal digits only (no sign, `_` or other digits).

    Raises:
        ValueError: the value is not plain decimal digits in range.
    """
    text = value.strip()
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"fault {directive!r}: {value!r} is not a non-negative integer")
    number = int(text)
    if minimum is not None and number < minimum:
        raise ValueError(f"fault {directive!r}: must be at least {minimum}")
    return number


def split_model(model: str) -> tuple[str, Fault | None]:
    """`"gpt-4o-mini~status=503"` -> `("gpt-4o-mini", Fault(status=503))`."""
    if FAULT_SEPARATOR not in model:
        return model, None
    name, _, directives = model.partition(FAULT_SEPARATOR)
    return name, Fault.parse(directives)
