"""What the demo's steps run in: the report they print, and the gateway they run against.

`cf-aig demo` (`cli.demo`) runs against the gateway configured in the environment or
the config file when it has credentials, else against an embedded `LocalGateway`
(`open_target`); each step is numbered in the `Report`, timed, and a failed one is
reported without stopping the others.
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
from ..core.credentials import mask_url
from ..management import ENV_API_TOKEN

STEPS: Final = 8
"""The demo's steps, numbered `[n/8]` in the report."""


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


@contextmanager
def open_target(use_local: bool, report: Report) -> Iterator[Target]:
    """The gateway the demo runs against, started (and stopped after) if it is local.

    Args:
        use_local: `--local`: the embedded gateway even when credentials are set.
        report: Where to say which gateway it is.

    Yields:
        The target.
    """
    config = None if use_local else configured_gateway()
    if config is not None:
        token = os.environ.get(ENV_API_TOKEN) or (
            config.token.get_secret_value() if config.token else None
        )
        where = mask_url(config.base_url) if config.base_url else "Cloudflare"
        report.line(
            f"Gateway {config.gateway_id!r} of account {config.account_id} on {where} "
            "(credentials from the environment or config file)"
        )
        yield Target(config, token)
        return
    from ..local import LocalGateway

    why = (
        "--local"
        if use_local
        else f"no Cloudflare credentials set: {ENV_ACCOUNT_ID} and {ENV_TOKEN[0]}"
    )
    with LocalGateway() as gw:
        report.line(
            f"Embedded local gateway on {gw.base_url} ({why}; the model is a deterministic mock)"
        )
        yield Target(gw.config(), gw.management_token, local=gw)
    report.line(f"Local gateway stopped; port {gw.port} closed.")
