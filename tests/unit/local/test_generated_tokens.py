"""Generated tokens can be pasted after a flag: `cf-aig serve` prints them in
`cf-aig logs --token TOKEN`, and argparse reads a value starting with `-` as a flag
(`secrets.token_urlsafe` starts one in 64 that way)."""

from __future__ import annotations

import itertools

import pytest

from langchain_cf_gateway.cli import build_parser
from langchain_cf_gateway.local import server
from langchain_cf_gateway.local.server import LocalGateway


def test_a_generated_token_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = itertools.chain(["-leading-dash-token", "_ok"], itertools.repeat("plain-token"))
    monkeypatch.setattr(server.secrets, "token_urlsafe", lambda n=None: next(drawn))
    gateway = LocalGateway()
    for token in (gateway.token, gateway.management_token):
        assert not token.startswith("-")
        args = build_parser("logs").parse_args(["logs", "--base-url", "http://x", "--token", token])
        assert args.token == token
