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
            | "policy=deny"         HTTP 403, Cloudflare's Policies block body
            | "policy=spend"        HTTP 429, Cloudflare's Policies spend-cap body
            | "error=" CODE         the gateway's own error body for CODE
            | "message=" TEXT       with error=: the message (default: the table's)
```

Examples (compat model ids; native routes take the part after the provider):

```python
openai/gpt-4o-mini~status=503               every attempt gets 503
openai/gpt-4o-mini~status=429~attempts=1    the first attempt gets 429, a retry succeeds
openai/gpt-4o-mini~delay=1500               1.5 s before the first byte (timeouts)
openai/gpt-4o-mini~chunk-delay=20~disconnect=3
openai/gpt-4o-mini~malformed
openai/gpt-4o-mini~policy=deny              403 Access denied by policy
openai/gpt-4o-mini~error=3040~attempts=1    429 code 3040, then a retry succeeds
openai/gpt-4o-mini~error=9999~status=418~message=Out of tea
```

Gateway-made responses (https://developers.cloudflare.com/ai-gateway/features/policies/):

- `policy=deny` is HTTP 403 `{"success":false,"error":{"message":"Access denied by policy"}}`;
  `policy=spend` is HTTP 429 whose `error` is an object:
  `{"message":"Spending limit exceeded","bucket":"local-spend-cap","spent":10.5,"limit":10}`
  (fixed values: `SPEND_BUCKET`, `SPEND_SPENT`, `SPEND_LIMIT`). The gateway decides a
  policy once per request, after the cache lookup and before any attempt: it is never
  retried, and a cache hit skips it, as Cloudflare documents. It takes no `status=` or
  `error=`.
- `error=CODE` is the gateway's error body (`core.protocol.gateway_error_body`) with the
  status of `core.protocol.ERROR_STATUS` and the canonical message, for any code of
  `core.protocol.ErrorCode`; `status=` and `message=` override them. A code outside the
  table needs `status=` (`error=9999~status=418`) and keeps the number, status and
  message given. Per attempt, like `status=`: with `attempts=1` a retry succeeds.
- Both are made locally even when the provider has a pass-through upstream, which is
  then not called.

The part before the first `~` is the model name the mock responds as; the
directives never reach a pass-through upstream (they are stripped).

A fault status is an error the mock sends with a body: 400 to 599
(`FAULT_STATUSES`). A 1xx is not a final response, 204, 205 and 304 have no body
(RFC 9110 sections 15.3.5, 15.3.6 and 15.4.5,
https://www.rfc-editor.org/rfc/rfc9110#section-15) and a 3xx without `Location` is
no redirect: anything else is refused (a 400 naming the directive).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final, Literal

from ..core.protocol import ERROR_STATUS, ErrorCode, gateway_error_body

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
    policy: Policy | None = None
    """Respond as Cloudflare's Policies do, before any attempt (`policy_response`)."""
    error: int | None = None
    """Respond with the gateway's own error body of this code (`gateway_fault_response`)."""
    message: str | None = None
    """The message of an `error` (default: the table's message)."""

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in FAULT_STATUSES:
            raise ValueError(f"fault status {self.status!r}: {_STATUS_RULE}")
        if self.policy is not None and self.policy not in POLICIES:
            raise ValueError(f"fault policy {self.policy!r}: {_POLICY_RULE}")
        if self.policy is not None and (self.status is not None or self.error is not None):
            raise ValueError(
                "fault policy=: a policy response is the whole response; "
                "drop status= and error= (or policy=)"
            )
        if self.error is not None and self.status is None and self.error not in _CODES:
            raise ValueError(
                f"fault error={self.error}: not a code of the gateway's error table; "
                f"add status=CODE (e.g. error={self.error}~status=418)"
            )
        if self.message is not None and self.error is None:
            raise ValueError("fault message=: only with error=CODE (the message of that error)")

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
            elif name == "policy":
                if value.strip().lower() not in POLICIES:
                    raise ValueError(f"fault {directive!r}: {_POLICY_RULE}")
                fields["policy"] = value.strip().lower()
            elif name == "error":
                fields["error"] = _int(directive, value, 1)
            elif name == "message":
                fields["message"] = value
            else:
                raise ValueError(
                    f"unknown fault directive {directive!r}; use status=CODE, delay=MS, "
                    "chunk-delay=MS, disconnect[=N], malformed, attempts=N, policy=deny|spend, "
                    "error=CODE or message=TEXT, joined by '~'"
                )
        return cls(**fields)  # type: ignore[arg-type]


Policy = Literal["deny", "spend"]
POLICIES: Final = ("deny", "spend")
"""The `policy=` values: a block (403) and a spend cap (429)."""
_POLICY_RULE: Final = "policy must be deny (HTTP 403) or spend (HTTP 429)"
_CODES: Final = frozenset(int(code) for code in ErrorCode)

SPEND_BUCKET: Final = "local-spend-cap"
"""The `bucket` of the local gateway's spend-cap response (fixed, for tests)."""
SPEND_SPENT: Final = 10.5
"""The `spent` of the local gateway's spend-cap response (fixed, for tests)."""
SPEND_LIMIT: Final = 10
"""The `limit` of the local gateway's spend-cap response (fixed, for tests)."""


def policy_response(policy: Policy) -> tuple[int, bytes]:
    """The status and body Cloudflare's Policies send for a block or a spend cap.

    A block (or a request no policy matches) is HTTP 403
    `{"success":false,"error":{"message":"Access denied by policy"}}`; a spend cap is
    HTTP 429 whose `error` is an object with `bucket`, `spent` and `limit`
    (https://developers.cloudflare.com/ai-gateway/features/policies/). The local gateway
    fills these with `SPEND_BUCKET` (`"local-spend-cap"`), `SPEND_SPENT` (10.5) and
    `SPEND_LIMIT` (10).

    Args:
        policy: `"deny"` or `"spend"`.

    Returns:
        The HTTP status and the JSON body.
    """
    if policy == "deny":
        error: dict[str, object] = {"message": "Access denied by policy"}
        status = 403
    else:
        error = {
            "message": "Spending limit exceeded",
            "bucket": SPEND_BUCKET,
            "spent": SPEND_SPENT,
            "limit": SPEND_LIMIT,
        }
        status = 429
    return status, _dumps({"success": False, "error": error})


def gateway_fault_response(fault: Fault) -> tuple[int, bytes]:
    """The status and body of a fault's `error=CODE`: the gateway's own error shape.

    A code of `core.protocol.ErrorCode` takes the table's status and message unless
    the fault gives `status=` or `message=`; another code takes the status (required)
    and message the fault gives.

    Args:
        fault: A fault whose `error` is set.

    Returns:
        The HTTP status and the JSON body.

    Raises:
        ValueError: the fault has no `error`.
    """
    if fault.error is None:
        raise ValueError("gateway_fault_response needs a fault with error=CODE")
    if fault.error in _CODES:
        body = gateway_error_body(ErrorCode(fault.error), fault.message)
        status = fault.status or ERROR_STATUS[ErrorCode(fault.error)]
    else:
        status = fault.status or 500  # __post_init__ requires status= here
        text = fault.message or f"Gateway error {fault.error}"
        body = {
            "success": False,
            "result": [],
            "messages": [],
            "error": [{"code": fault.error, "message": text}],
            "name": "AiGatewayError",
            "httpCode": status,
            "internalCode": fault.error,
            "message": text,
        }
    body["httpCode"] = status
    return status, _dumps(body)


def _dumps(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


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
