"""What `cf-aig doctor` prints: numbered steps, each OK, FAIL or SKIP, and the fix of a failure.

```text
[1/4] OK    configuration: gateway 'default' of account local-account, local gateway at http://127.0.0.1:8787
        account id     local-account  (default: the local gateway's account)
[2/4] FAIL  the management API refused the token (HTTP 401)
        fix: use the admin token `cf-aig serve` printed: --token TOKEN or CLOUDFLARE_API_TOKEN
```

`--json` prints the same steps as one JSON object (`report_json`). Every line passes through
`redact` with the tokens of the run, so a token never shows, whatever a message holds. The
fixes several steps share are here too: a configuration that does not resolve
(`config_fix`), a request without a response (`unreachable_step`, worded by
`core.connection`), a failed request whose error class has no hint (`request_fix`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import httpx

from ..core import GatewayError, GatewayInputError
from ..core.config import Origin, config_file_path
from ..core.connection import GatewayConnectionError, connection_error, connection_fix
from ..core.credentials import mask_url
from ..core.errors import MissingAccountIdError, ProviderError
from ..core.redaction import redact

Status = Literal["OK", "FAIL", "SKIP"]
TOTAL: Final = 4
"""The doctor's steps: configuration, gateway, request, log."""
INDENT: Final = " " * 8
PROVIDER_KEY_ENV: Final = "CLOUDFLARE_AI_GATEWAY_PROVIDER_KEY"
"""The provider key the chat model sends (`_openai_sdk.PROVIDER_KEY_ENV`, not imported: it
loads the OpenAI SDK)."""


@dataclass
class StepResult:
    """One step's outcome: its status, one line on it, and for a failure the fix."""

    name: str
    """A short key for scripts: `config`, `gateway`, `request`, `log`."""
    status: Status
    summary: str
    fix: str = ""
    details: list[str] = field(default_factory=list)
    """Lines shown under the step (where each setting came from)."""
    data: dict[str, Any] = field(default_factory=dict)
    """Values for `--json` (`log_id`, `cache_status`, `status_code`...)."""


def describe_origin(origin: Origin | None, flag: str) -> str:
    """Where a setting came from, in the words of the command line.

    Args:
        origin: The origin `config_origins` gave, or None for a setting set nowhere.
        flag: The setting's flag (`--account-id`).

    Returns:
        `argument --account-id`, `environment CLOUDFLARE_ACCOUNT_ID`,
        `file /home/me/.config/cf-aig/config.json key accountId`, `the base URL`,
        `default` or `not set`.
    """
    if origin is None:
        return "not set"
    if origin.source == "argument":
        return f"argument {flag}"
    if origin.source == "environment":
        return f"environment {origin.name}"
    if origin.source == "file":
        return f"file {origin.path} key {origin.name}"
    if origin.source == "base_url":
        return "the gateway URL given as base URL"
    return "default"


def format_step(number: int, step: StepResult, total: int = TOTAL) -> list[str]:
    """The lines of one step: `[n/4] STATUS summary`, its details, then `fix: ...` if it failed.

    Args:
        number: The step's number, from 1.
        step: Its outcome.
        total: How many steps there are.

    Returns:
        The lines, without newlines.
    """
    lines = [f"[{number}/{total}] {step.status:<5} {step.summary}"]
    lines += [f"{INDENT}{detail}" for detail in step.details]
    if step.status == "FAIL" and step.fix:
        lines.append(f"{INDENT}fix: {step.fix}")
    return lines


def exit_status(steps: Sequence[StepResult]) -> int:
    """0 when every step passed or was skipped, 1 when one failed.

    Args:
        steps: The outcomes.

    Returns:
        The exit status.
    """
    return 1 if any(step.status == "FAIL" for step in steps) else 0


def conclusion(steps: Sequence[StepResult]) -> str:
    """The last line: every step passed, or which failed."""
    failed = [f"{n} ({s.name})" for n, s in enumerate(steps, 1) if s.status == "FAIL"]
    if failed:
        return f"{len(failed)} of {len(steps)} steps failed: step {', '.join(failed)}."
    skipped = sum(step.status == "SKIP" for step in steps)
    return "All steps passed." if not skipped else f"No step failed ({skipped} skipped)."


def report_json(steps: Sequence[StepResult]) -> dict[str, Any]:
    """The steps as one JSON object: `ok`, `exit_status` and `steps`.

    Args:
        steps: The outcomes.

    Returns:
        `{"ok": bool, "exit_status": int, "steps": [{"number", "name", "status", "summary",
        "fix", "details", ...data}]}`.
    """
    return {
        "ok": exit_status(steps) == 0,
        "exit_status": exit_status(steps),
        "steps": [
            {
                "number": number,
                "name": step.name,
                "status": step.status,
                "summary": step.summary,
                "fix": step.fix or None,
                "details": step.details,
                **step.data,
            }
            for number, step in enumerate(steps, 1)
        ],
    }


def redacted(text: str, secrets: Iterable[str]) -> str:
    """`text` with every token of the run (and anything shaped like a key) as `[redacted]`."""
    return redact(text, tuple(s for s in secrets if s))


# --------------------------------------------------------------------------- fixes


def config_fix(exc: GatewayInputError) -> str:
    """The fix of a configuration that does not resolve."""
    if isinstance(exc, MissingAccountIdError):
        return (
            "pass --account-id, set CLOUDFLARE_ACCOUNT_ID, or write "
            f'{{"accountId": "..."}} to {config_file_path()}; for a local gateway, pass --base-url'
        )
    return "correct the value named above, where the message says it came from"


def unreachable_step(name: str, exc: httpx.HTTPError) -> StepResult:
    """A FAIL for a request that got no response: the URL tried, and the fix."""
    connect: httpx.HTTPError | None = exc
    if not isinstance(exc, GatewayConnectionError):  # not yet worded by `connection_message`
        connect = connection_error(exc) if isinstance(exc, httpx.TransportError) else None
    if connect is None:
        try:
            url = mask_url(str(exc.request.url))
        except RuntimeError:
            url = "the gateway"
        return StepResult(
            name,
            "FAIL",
            f"no response from {url} ({type(exc).__name__}: {exc})",
            fix="check --base-url / CLOUDFLARE_AI_GATEWAY_BASE_URL and the network",
        )
    fix = connection_fix(connect.request.url)
    summary = str(connect).removesuffix(f" {fix}")
    return StepResult(
        name,
        "FAIL",
        summary,
        fix=fix.replace("`base_url`", "--base-url").rstrip("."),
        data={"reachable": False},
    )


def request_fix(error: GatewayError) -> str:
    """The fix of a failed request whose error class has none of its own."""
    if isinstance(error, ProviderError) and error.status_code in (401, 403):
        return (
            "the provider refused the request: store its key in the gateway (BYOK) or set "
            f"{PROVIDER_KEY_ENV} to the provider's key"
        )
    return "see the message above; `cf-aig route MODEL_ID` shows the request the call makes"
