"""`cf-aig doctor`: the troubleshooting of a gateway set-up as one command of numbered steps.

```text
cf-aig doctor [--model MODEL_ID] [--yes | --no-request] [--wait SECONDS] [--json]
              [--account-id ID] [--gateway-id ID] [--token TOKEN] [--base-url URL]
```

1. **configuration**: `GatewayConfig.resolve` (arguments > environment > config file), and
   where each value came from (`config_origins`); a token shows as `set`, never its value.
   A `base_url` that a local gateway serves is told the way `cf-aig demo` tells it.
2. **gateway**: the management API's gateway object
   (https://developers.cloudflare.com/api/resources/ai_gateway/): it exists, and whether
   authentication and logs are on.
3. **request**: one small chat completion through the gateway's OpenAI-compatible endpoint
   (https://developers.cloudflare.com/ai-gateway/usage/chat-completion/), showing its
   status, `cf-aig-cache-status` and `cf-aig-log-id`. It costs tokens, so it asks first
   unless `--yes`; without a terminal to ask on, it is skipped (`--no-request` skips it too).
4. **log**: that request's row, read back through the logs API within `--wait` seconds.

Each step prints OK, FAIL or SKIP with one line, and a failed one its fix. Exit status 0
when no step failed, 1 when one did, 2 for bad flags.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from ..core import GatewayConfig, GatewayError, GatewayInputError, InvalidOptionError
from ..core.config import ENV_TOKEN, Origin, config_file_path, config_origins
from ..core.credentials import mask_url
from ..core.errors import (
    GatewayAuthenticationError,
    GatewayNotFoundError,
    LogNotFoundError,
    ManagementAuthenticationError,
    error_from_response,
)
from ..core.info import GatewayInfo
from ..core.protocol import CLOUDFLARE_GATEWAY_HOST, LOCAL_ACCOUNT_ID
from ..core.routing import build_route
from ..management import ENV_API_TOKEN, Gateway, GatewayClient
from .arguments import TOKEN_IN_HISTORY, add_gateway_arguments, model_id
from .demo import DEFAULT_MODEL
from .demo_harness import GatewayUnreachableError, local_gateway_behind
from .doctor_report import (
    PROVIDER_KEY_ENV,
    StepResult,
    conclusion,
    config_fix,
    describe_origin,
    exit_status,
    format_step,
    redacted,
    report_json,
    request_fix,
    unreachable_step,
)
from .flags import spelled_as_flags

DEFAULT_WAIT_S: Final = 30.0
REQUEST_TIMEOUT_S: Final = 60.0
PROMPT: Final = "Reply with the word OK."
MAX_TOKENS: Final = 5
_FIELDS: Final = (
    ("account_id", "account id", "--account-id"),
    ("gateway_id", "gateway id", "--gateway-id"),
    ("token", "gateway token", "--token"),
    ("base_url", "base URL", "--base-url"),
)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the arguments of `cf-aig doctor` to `parser`.

    Args:
        parser: The subcommand's parser.
    """
    parser.description = (
        "Check the set-up step by step: the configuration and where each value came from, "
        "the gateway, one request (asked first: it costs tokens) and its log row."
    )
    parser.add_argument(
        "--model", type=model_id, default=DEFAULT_MODEL, help=f"default {DEFAULT_MODEL}"
    )
    ask = parser.add_mutually_exclusive_group()
    ask.add_argument("--yes", action="store_true", help="send the request without asking")
    ask.add_argument(
        "--no-request", action="store_true", help="skip the request and its log (steps 3-4)"
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT_S,
        metavar="SECONDS",
        help=f"how long to wait for the log row (default {DEFAULT_WAIT_S:g})",
    )
    parser.add_argument("--json", action="store_true", help="the steps as one JSON object")
    add_gateway_arguments(
        parser,
        token_help=(
            "the gateway token, and the management API's (which needs 'AI Gateway Read'); "
            f"default: {ENV_TOKEN[0]} for the gateway, {ENV_API_TOKEN} (else the gateway "
            f"token) for the API; {TOKEN_IN_HISTORY}"
        ),
    )


def run(args: argparse.Namespace) -> int:
    """Run the four steps and print each as it ends (or all at once with `--json`).

    Args:
        args: The parsed command line.

    Returns:
        0 when no step failed, else 1.

    Raises:
        InvalidOptionError: `--wait` below 0.
    """
    if args.wait < 0:
        raise InvalidOptionError("--wait", f"must be 0 or more seconds; got {args.wait:g}")
    doctor = Doctor(args, show=None if args.json else _print_step)
    steps = doctor.run()
    if args.json:
        print(redacted(json.dumps(report_json(steps), indent=2), doctor.secrets))
    else:
        print(conclusion(steps))
    return exit_status(steps)


def _print_step(lines: list[str]) -> None:
    for line in lines:
        print(line, flush=True)


@dataclass
class Doctor:
    """The steps, sharing the resolved gateway, its management client and the request's log."""

    args: argparse.Namespace
    show: Callable[[list[str]], None] | None = None
    """Prints a finished step's lines; None keeps them for `--json`."""
    secrets: list[str] = field(default_factory=list)
    config: GatewayConfig | None = None
    local: bool = False
    client: GatewayClient | None = None
    gateway: Gateway | None = None
    reachable: bool = True
    log_id: str | None = None
    steps: list[StepResult] = field(default_factory=list)

    def run(self) -> list[StepResult]:
        """Run the steps in order; a step whose input is missing is skipped, saying why.

        Returns:
            The outcomes.
        """
        names = (ENV_API_TOKEN, *ENV_TOKEN, PROVIDER_KEY_ENV)
        self.secrets = [v for v in (self.args.token, *map(os.environ.get, names)) if v]
        try:
            for step in (self.check_config, self.check_gateway, self.send_request, self.find_log):
                self._record(step())
        finally:
            if self.client is not None:
                self.client.close()
        return self.steps

    def _record(self, step: StepResult) -> None:
        # The core's messages name Python arguments (`account_id=...`): say the flags.
        flags = getattr(self.args, "parameter_flags", {})
        step.summary, step.fix = (
            spelled_as_flags(text, flags).replace("(from the argument)", "(from the command line)")
            for text in (step.summary, step.fix)
        )
        self.steps.append(step)
        if self.show is not None:
            lines = format_step(len(self.steps), step)
            self.show([redacted(line, self.secrets) for line in lines])

    # ------------------------------------------------------------------ 1. configuration

    def check_config(self) -> StepResult:
        """Resolve the configuration and say where each value came from."""
        args = self.args
        given = {
            "account_id": args.account_id,
            "gateway_id": args.gateway_id,
            "token": args.token,
            "base_url": args.base_url,
        }
        try:
            origins: dict[str, Origin | None] = config_origins(**given)
            # A local gateway (a base URL) serves any account id: use the one it prints.
            local_account = origins["account_id"] is None and origins["base_url"] is not None
            if local_account:
                given["account_id"] = LOCAL_ACCOUNT_ID
            config = GatewayConfig.resolve(**given)
            if local_account and config.base_url is None:  # Cloudflare's own host
                config = GatewayConfig.resolve(**{**given, "account_id": None})
        except GatewayInputError as exc:
            return StepResult("config", "FAIL", f"configuration: {exc}", fix=config_fix(exc))
        self.config = config
        if config.token is not None:
            self.secrets.append(config.token.get_secret_value())
        details = [self._origin_line(name, config, origins) for name in _FIELDS]
        path = config_file_path()
        details.append(f"{'config file':<17}{path} ({'read' if path.is_file() else 'absent'})")
        details.append(f"{'management token':<17}{self._management_token_origin(config)}")
        where = self._where(config)
        return StepResult(
            "config",
            "OK",
            f"configuration: gateway {config.gateway_id!r} of account {config.account_id}, {where}",
            details=details,
            data={
                "account_id": config.account_id,
                "gateway_id": config.gateway_id,
                "base_url": config.base_url,
                "local": self.local,
                "origins": {
                    name: describe_origin(origins.get(name), flag)
                    if name != "account_id" or origins.get(name) is not None
                    else "default: the local gateway's account"
                    for name, _, flag in _FIELDS
                },
            },
        )

    def _origin_line(
        self, row: tuple[str, str, str], config: GatewayConfig, origins: dict[str, Origin | None]
    ) -> str:
        name, label, flag = row
        origin = origins.get(name)
        if name == "token":
            shown = "set" if config.token is not None else "not set"
            return f"{label:<17}{shown}" + (
                f", from {describe_origin(origin, flag)}" if origin else ""
            )
        value = getattr(config, name)
        if name == "account_id" and origin is None:
            return f"{label:<17}{value}  (default: the local gateway's account)"
        if value is None:
            return f"{label:<17}not set (Cloudflare's {CLOUDFLARE_GATEWAY_HOST})"
        shown = mask_url(value) if name == "base_url" else value
        return f"{label:<17}{shown}  ({describe_origin(origin, flag)})"

    def _management_token_origin(self, config: GatewayConfig) -> str:
        if self.args.token:
            return "set, from argument --token"
        if os.environ.get(ENV_API_TOKEN):
            return f"set, from environment {ENV_API_TOKEN}"
        if config.token is not None:
            return "set, the gateway token"
        return "not set"

    def _where(self, config: GatewayConfig) -> str:
        """`Cloudflare`, `local gateway at URL`, or what else serves the base URL."""
        if not config.base_url or config.base_url.startswith(CLOUDFLARE_GATEWAY_HOST):
            return "on Cloudflare"
        url = mask_url(config.base_url)
        try:
            local = local_gateway_behind(config.base_url, self._management_token(config))
        except GatewayUnreachableError:
            self.reachable = False
            return f"nothing listens at {url} (see step 2)"
        self.local = local is not None
        return f"local gateway at {url}" if self.local else f"gateway at {url}"

    def _management_token(self, config: GatewayConfig) -> str | None:
        token = self.args.token or os.environ.get(ENV_API_TOKEN)
        return token or (config.token.get_secret_value() if config.token else None)

    # ------------------------------------------------------------------ 2. gateway

    def check_gateway(self) -> StepResult:
        """Read the gateway object: it exists, and whether authentication and logs are on."""
        config = self.config
        if config is None:
            return StepResult("gateway", "SKIP", "gateway: no configuration (step 1)")
        try:
            self.client = GatewayClient(config, api_token=self.args.token)
            self.gateway = self.client.get_gateway()
        except GatewayInputError as exc:  # no token for Cloudflare's management API
            return StepResult(
                "gateway",
                "FAIL",
                f"gateway: {exc}",
                fix=f"set {ENV_API_TOKEN} to a Cloudflare API token with 'AI Gateway Read'",
            )
        except httpx.HTTPError as exc:
            self.reachable = False
            return unreachable_step("gateway", exc)
        except ManagementAuthenticationError as exc:
            return StepResult(
                "gateway",
                "FAIL",
                f"the management API refused the token (HTTP {exc.status_code})",
                fix=self._token_fix(),
            )
        except GatewayNotFoundError:
            return StepResult(
                "gateway",
                "FAIL",
                f"no gateway {config.gateway_id!r} in account {config.account_id}",
                fix="check the gateway id (--gateway-id, CLOUDFLARE_GATEWAY_ID) and the account "
                "id (--account-id, CLOUDFLARE_ACCOUNT_ID): step 1 says where each came from; "
                "or create the gateway (dashboard: AI > AI Gateway)",
            )
        except GatewayError as exc:
            return StepResult("gateway", "FAIL", f"gateway: {exc.message}", fix=exc.hint)
        gateway = self.gateway
        auth, logs = bool(gateway.authentication), gateway.collect_logs is not False
        summary = (
            f"gateway {gateway.id!r} exists; authentication {'on' if auth else 'off'}, "
            f"logs {'on' if logs else 'off'}"
        )
        data = {"authentication": auth, "collect_logs": logs}
        if auth and config.token is None:
            return StepResult(
                "gateway",
                "FAIL",
                summary + ", and no gateway token is set",
                fix=f"set {ENV_TOKEN[0]} (or --token) to a token with 'AI Gateway Run'",
                data=data,
            )
        return StepResult("gateway", "OK", summary, data=data)

    def _token_fix(self) -> str:
        if self.local:
            return f"use the admin token `cf-aig serve` printed: --token TOKEN or {ENV_API_TOKEN}"
        return (
            f"use a Cloudflare API token with 'AI Gateway Read' ({ENV_API_TOKEN} or --token), "
            "of the account in step 1 (a wrong --account-id is refused the same way)"
        )

    def _local_token_fix(self, error: GatewayError) -> str | None:
        """A local gateway has two tokens where `--token` carries one: say which is which."""
        if not (self.local and isinstance(error, GatewayAuthenticationError)):
            return None
        return (
            f"set {ENV_TOKEN[0]} to the gateway token `cf-aig serve` printed (`token` in its "
            f"config file) and {ENV_API_TOKEN} to its admin token: --token carries one token, "
            "and a local gateway with authentication on has two"
        )

    # ------------------------------------------------------------------ 3. request

    def send_request(self) -> StepResult:
        """Send one small chat completion, once the user said yes."""
        config, model = self.config, self.args.model
        if self.args.no_request:
            return StepResult("request", "SKIP", "request: not sent (--no-request)")
        if config is None:
            return StepResult("request", "SKIP", "request: not sent (no configuration, step 1)")
        if not self.reachable:
            return StepResult("request", "SKIP", "request: not sent (the gateway is not reachable)")
        where = f"gateway {config.gateway_id!r}"
        if not self.args.yes:
            if sys.stdin is None or not sys.stdin.isatty():
                return StepResult(
                    "request",
                    "SKIP",
                    f"request: not sent (no terminal to ask on; pass --yes to send one "
                    f"request to {model}: it costs tokens)",
                )
            sys.stderr.write(f"Send one request to {model} through {where}? [y/N] ")
            sys.stderr.flush()
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                return StepResult("request", "SKIP", "request: not sent (declined at the prompt)")
        route = build_route(config, model)
        headers = {**route.headers, "content-type": "application/json"}
        if provider_key := os.environ.get(PROVIDER_KEY_ENV):
            headers["authorization"] = f"Bearer {provider_key}"
        body = {
            "model": route.body_model,
            "messages": [{"role": "user", "content": PROMPT}],
            "max_tokens": MAX_TOKENS,
        }
        try:
            response = httpx.post(route.url, headers=headers, json=body, timeout=REQUEST_TIMEOUT_S)
        except httpx.HTTPError as exc:
            return unreachable_step("request", exc)
        info = GatewayInfo.from_headers(response.headers)
        self.log_id = info.log_id
        data = {
            "model": model,
            "status_code": response.status_code,
            "cache_status": info.cache_status,
            "log_id": info.log_id,
        }
        if not response.is_success:
            try:
                parsed: Any = response.json()
            except ValueError:
                parsed = response.text
            error = error_from_response(
                response.status_code, response.headers, parsed, secrets=self.secrets
            )
            return StepResult(
                "request",
                "FAIL",
                f"HTTP {response.status_code} from {model}: {type(error).__name__}: "
                f"{error.message}",
                fix=self._local_token_fix(error) or error.hint or request_fix(error),
                data=data,
            )
        return StepResult(
            "request",
            "OK",
            f"HTTP {response.status_code} from {model} through {where}: cf-aig-cache-status "
            f"{info.cache_status or self._no_cache_status()}, log id {info.log_id or '(absent)'}",
            data=data,
        )

    def _no_cache_status(self) -> str:
        if self.gateway is not None and not self.gateway.cache_ttl:
            return "(absent: the gateway's cache is off)"
        return "(absent)"

    # ------------------------------------------------------------------ 4. log

    def find_log(self) -> StepResult:
        """Wait for the request's row in the logs API, polling until `--wait` runs out."""
        request = self.steps[-1]
        if request.status == "FAIL":
            return StepResult("log", "SKIP", "log: not looked for, the request failed (step 3)")
        if request.status != "OK":
            return StepResult("log", "SKIP", "log: no request was sent (step 3)")
        if self.client is None or self.gateway is None:  # step 2 did not read the gateway
            return StepResult("log", "SKIP", "log: the logs API cannot be read (step 2)")
        if not self.log_id:
            return StepResult(
                "log", "FAIL", "log: the response had no cf-aig-log-id header", fix=self._log_fix()
            )
        wait, started = float(self.args.wait), time.monotonic()
        pause = 0.2 if self.local else 2.0
        while True:
            try:
                entry = self.client.get_log(self.log_id)
            except LogNotFoundError:
                waited = time.monotonic() - started
                if waited >= wait:
                    return StepResult(
                        "log",
                        "FAIL",
                        f"log {self.log_id} not in the logs API after {wait:g} s",
                        fix=self._log_fix(),
                        data={"log_id": self.log_id},
                    )
                time.sleep(min(pause, wait - waited))
                continue
            except httpx.HTTPError as exc:
                return unreachable_step("log", exc)
            except GatewayError as exc:
                return StepResult("log", "FAIL", f"log: {exc.message}", fix=exc.hint)
            break
        waited = time.monotonic() - started
        return StepResult(
            "log",
            "OK",
            f"log {entry.id} found after {waited:.1f} s: {entry.provider}/{entry.model}, "
            f"status {entry.status_code}, cached {entry.cached}",
            data={"log_id": entry.id, "waited_s": round(waited, 3)},
        )

    def _log_fix(self) -> str:
        if self.gateway is not None and self.gateway.collect_logs is False:
            return (
                "logging is off on this gateway: turn on logs in its settings (dashboard, or "
                "GatewayClient().update_gateway(collect_logs=True))"
            )
        causes = [
            "requests sent with collect_log=False (cf-aig-collect-log: false) are not logged",
            "the logs API reads another gateway (check --gateway-id)",
            "the token lacks 'AI Gateway Read'",
            f"Cloudflare stores logs a moment later: try --wait {max(60, 2 * self.args.wait):g}"
            if not self.local
            else "",
        ]
        return "; ".join(cause for cause in causes if cause)
