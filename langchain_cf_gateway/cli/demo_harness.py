"""What the demo's steps run in: the report they print, and the gateway they run against.

`cf-aig demo` (`cli.demo`) runs against the gateway configured in the environment or
the config file when it has credentials, else against an embedded `LocalGateway`
(`open_target`); each step is numbered in the `Report`, timed, and a failed one is
reported without stopping the others.

A local gateway (`cf-aig serve`) behind the configured `base_url` is told by its admin
route (`local_gateway_behind`): with a token that opens it, the demo runs there and
scripts its mock model; with one it refuses (the LiteLLM guide's `CLOUDFLARE_API_TOKEN=local`),
the demo could neither script the mock nor read the logs, so it runs on an embedded
gateway instead, as `--local` does, and says so in one line.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final, TextIO

import httpx

from ..core import GatewayConfig, GatewayInputError
from ..core.config import ENV_ACCOUNT_ID, ENV_TOKEN
from ..core.connection import connection_message
from ..core.credentials import mask_url
from ..core.protocol import CLOUDFLARE_GATEWAY_HOST
from ..management import ENV_API_TOKEN

STEPS: Final = 8
"""The demo's steps, numbered `[n/8]` in the report."""

ADMIN_ROUTE: Final = "/__local/scripts"
"""The local gateway's own admin route (the mock's scripts): Cloudflare has none."""
PROBE_TIMEOUT_S: Final = 5.0


# --------------------------------------------------------------------------- the report


@dataclass
class Report:
    """Numbered steps with indented detail lines, and whether every step worked."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    failures: list[str] = field(default_factory=list)
    _number: int = 0

    def line(self, text: str = "") -> None:
        """Print one line of the report."""
        print(text, file=self.out, flush=True)

    def detail(self, text: str) -> None:
        """Print a line under the current step, indented."""
        self.line(f"      {text}")

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        """Number and print one step; say how long it took, or that it failed and why.

        Args:
            title: What the step does.

        Yields:
            Nothing: the body of the `with` block is the step. An exception in it is
            reported and kept in `failures`, and the demo goes on.
        """
        self._number += 1
        self.line(f"[{self._number}/{STEPS}] {title}")
        started = time.perf_counter()
        try:
            yield
        except Exception as exc:  # a demo reports a failed step and goes on to the next
            self.failures.append(title)
            self.detail(f"FAILED: {type(exc).__name__}: {exc}")
        else:
            self.detail(f"ok ({milliseconds(time.perf_counter() - started)})")


def milliseconds(seconds: float) -> str:
    """`seconds` as whole milliseconds: `123 ms`."""
    return f"{seconds * 1000:.0f} ms"


def plural(n: int, noun: str) -> str:
    """`1 call`, `2 calls`."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def shorten(text: str, width: int = 70) -> str:
    """`text` on one line, cut to `width` characters with `...`."""
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 3] + "..."


# --------------------------------------------------------------------------- where


@dataclass
class Target:
    """The gateway the demo talks to, and how to reach its management API."""

    config: GatewayConfig
    management_token: str | None
    local: Any = None
    """The embedded `LocalGateway`, or None for a configured gateway."""
    _served_scripts: bool = field(default=False, init=False, repr=False)

    @property
    def chat_kwargs(self) -> dict[str, Any]:
        """The gateway arguments of `ChatCloudflareGateway`."""
        kwargs: dict[str, Any] = {
            "account_id": self.config.account_id,
            "gateway_id": self.config.gateway_id,
            "base_url": self.config.base_url,
        }
        if self.config.token is not None:
            kwargs["gateway_token"] = self.config.token
        return kwargs

    @property
    def litellm_kwargs(self) -> dict[str, Any]:
        """The gateway arguments of a `litellm.completion` call."""
        kwargs: dict[str, Any] = {
            "account_id": self.config.account_id,
            "gateway_id": self.config.gateway_id,
        }
        if self.config.base_url:
            kwargs["api_base"] = self.config.base_url
        if self.config.token is not None:
            kwargs["gateway_token"] = self.config.token.get_secret_value()
        return kwargs

    @property
    def scriptable(self) -> bool:
        """Whether the model behind the gateway is the local mock (embedded or served)."""
        return self.local is not None or self._served_scripts

    def script(self, **kwargs: Any) -> bool:
        """Script the local mock's next response; False on a real gateway (nothing to script).

        Args:
            **kwargs: The script (`fault=`, `tool_calls=`, `times=`...), as `Script` takes it.

        Returns:
            Whether a local mock took the script.
        """
        if self.local is not None:
            self.local.script(**kwargs)
            return True
        if not self.config.base_url:
            return False
        # A gateway served by `cf-aig serve` takes scripts on its admin route.
        try:
            response = httpx.post(
                f"{self.config.base_url}/__local/scripts",
                json=kwargs,
                headers={"authorization": f"Bearer {self.management_token or ''}"},
                timeout=5,
            )
        except httpx.HTTPError:
            return False
        self._served_scripts = response.is_success
        return response.is_success


def configured_gateway() -> GatewayConfig | None:
    """The gateway of the environment or config file, if the demo can use it.

    It can when it has an account id and a token, or a base URL (a gateway served by
    `cf-aig serve`).

    Returns:
        The gateway; None sends the demo to an embedded local gateway.
    """
    try:
        config = GatewayConfig.resolve()
    except GatewayInputError:  # no account id, or a malformed setting: run locally
        return None
    if config.token is None and not config.base_url and not os.environ.get(ENV_API_TOKEN):
        return None
    return config


class GatewayUnreachableError(RuntimeError):
    """The configured `base_url` does not answer: the demo stops before its steps."""


def local_gateway_behind(base_url: str, token: str | None) -> bool | None:
    """Whether a local gateway serves `base_url`, and whether it takes `token`.

    Its admin route answers `GET` with the pending scripts to its admin token and with
    Cloudflare's v4 authentication error (code 10000) to any other; another host has no
    such route.

    Args:
        base_url: The configured gateway host.
        token: The management token the demo would send.

    Returns:
        True for a local gateway that takes `token`, False for one that refuses it, None
        for anything else (not a local gateway; a failure other than a refused connection:
        the steps say what).

    Raises:
        GatewayUnreachableError: Nothing listens at `base_url`; the message names it,
            `cf-aig serve` and `--local`.
    """
    url = base_url.rstrip("/") + ADMIN_ROUTE
    try:
        response = httpx.get(
            url, headers={"authorization": f"Bearer {token or ''}"}, timeout=PROBE_TIMEOUT_S
        )
    except httpx.ConnectError as exc:
        raise GatewayUnreachableError(
            connection_message(base_url, str(exc)).rstrip(".")
            + ", or run the demo on an embedded local gateway: cf-aig demo --local"
        ) from exc
    except httpx.HTTPError:
        return None
    if response.is_success:
        return True
    try:
        errors = response.json().get("errors") if response.status_code == 401 else None
    except ValueError:
        return None
    if isinstance(errors, list) and any(
        isinstance(e, dict) and e.get("code") == 10000 for e in errors
    ):
        return False
    return None


@contextmanager
def open_target(use_local: bool, report: Report) -> Iterator[Target]:
    """The gateway the demo runs against, started (and stopped after) if it is local.

    Args:
        use_local: `--local`: the embedded gateway even when credentials are set.
        report: Where to say which gateway it is.

    Yields:
        The target.

    Raises:
        GatewayUnreachableError: Nothing listens at the configured `base_url`.
    """
    config = None if use_local else configured_gateway()
    why = (
        "--local"
        if use_local
        else f"no Cloudflare credentials set: {ENV_ACCOUNT_ID} and {ENV_TOKEN[0]}"
    )
    if config is not None:
        token = os.environ.get(ENV_API_TOKEN) or (
            config.token.get_secret_value() if config.token else None
        )
        where = mask_url(config.base_url) if config.base_url else "Cloudflare"
        on_cloudflare = not config.base_url or config.base_url.startswith(CLOUDFLARE_GATEWAY_HOST)
        local = None if on_cloudflare else local_gateway_behind(config.base_url or "", token)
        if local is not False:
            report.line(
                f"Gateway {config.gateway_id!r} of account {config.account_id} on {where} "
                "(credentials from the environment or config file)"
            )
            yield Target(config, token)
            return
        report.line(
            f"{where} is a local gateway that refuses the admin token sent ({ENV_API_TOKEN}): "
            "running on an embedded local gateway instead, as --local does (to use that "
            f"one, set {ENV_API_TOKEN} to the admin token `cf-aig serve` printed)"
        )
        why = "the configured one is a local gateway"
    from ..local import LocalGateway

    with LocalGateway() as gw:
        report.line(
            f"Embedded local gateway on {gw.base_url} ({why}; the model is a deterministic mock)"
        )
        yield Target(gw.config(), gw.management_token, local=gw)
    report.line(f"Local gateway stopped; port {gw.port} closed.")
