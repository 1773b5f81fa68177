"""`cf-aig route`: one flag per `GatewayOptions` field, each printing the header it sends."""

from __future__ import annotations

import argparse

import pytest

from langchain_cf_gateway.cli import main
from langchain_cf_gateway.cli import route as route_cli
from langchain_cf_gateway.cli.flags import command_flags, spelled_as_flags
from langchain_cf_gateway.core import GatewayInfo, GatewayOptions
from langchain_cf_gateway.core.protocol import Header

GATEWAY = ("--account-id", "acct1", "--token", "t0k")

# field -> (the flags a user types, the header line the route prints)
SENT: dict[str, tuple[list[str], str]] = {
    "cache_ttl": (["--cache-ttl", "3600"], "cf-aig-cache-ttl: 3600"),
    "skip_cache": (["--skip-cache"], "cf-aig-skip-cache: true"),
    "cache_key": (["--cache-key", "k1"], "cf-aig-cache-key: k1"),
    "metadata": (["--metadata", "team=a", "n=2"], 'cf-aig-metadata: {"team":"a","n":2}'),
    "collect_log": (["--no-collect-log"], "cf-aig-collect-log: false"),
    "collect_log_payload": (["--no-collect-log-payload"], "cf-aig-collect-log-payload: false"),
    "event_id": (["--event-id", "e1"], "cf-aig-event-id: e1"),
    "request_timeout_ms": (["--request-timeout", "5000"], "cf-aig-request-timeout: 5000"),
    "max_attempts": (["--max-attempts", "3"], "cf-aig-max-attempts: 3"),
    "retry_delay_ms": (["--retry-delay", "500"], "cf-aig-retry-delay: 500"),
    "backoff": (["--backoff", "linear"], "cf-aig-backoff: linear"),
    "custom_cost": (
        ["--custom-cost", "per_token_in=1e-06", "per_token_out=2e-06"],
        'cf-aig-custom-cost: {"per_token_in":1e-06,"per_token_out":2e-06}',
    ),
    "byok_alias": (["--byok-alias", "prod"], "cf-aig-byok-alias: prod"),
    "zdr": (["--zdr"], "cf-aig-zdr: true"),
    "no_wholesale": (["--no-wholesale"], "cf-aig-no-wholesale: true"),
    "allowed_models": (
        ["--allowed-models", "openai/*", "anthropic/claude-3-5-haiku"],
        "cf-aig-allowed-models: openai/*,anthropic/claude-3-5-haiku",
    ),
    "allowed_providers": (
        ["--allowed-providers", "openai", "--allowed-providers", "anthropic"],
        "cf-aig-allowed-providers: openai,anthropic",
    ),
    "session_id": (["--session-id", "s1"], "cf-aig-session-id: s1"),
    "turn_id": (["--turn-id", "t1"], "cf-aig-turn-id: t1"),
    "no_session_affinity": (["--no-session-affinity"], "cf-aig-no-session-affinity: true"),
}


def route_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cf-aig route")
    route_cli.configure(parser)
    return parser


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_every_option_has_a_flag_and_a_case_here() -> None:
    flags = command_flags(route_parser())
    assert set(GatewayOptions.model_fields) <= set(flags)
    assert set(SENT) == set(GatewayOptions.model_fields)


@pytest.mark.parametrize("field", list(SENT))
def test_each_flag_prints_the_header_it_sends(
    capsys: pytest.CaptureFixture[str], field: str
) -> None:
    argv, line = SENT[field]
    code, out, err = run(capsys, "route", "cloudflare/auto", *GATEWAY, *argv)
    assert (code, err) == (0, "")
    assert f"\n  {line}\n" in out


def test_all_flags_at_once_send_what_the_options_send(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [flag for flags, _ in SENT.values() for flag in flags]
    code, out, err = run(capsys, "route", "cloudflare/auto", *GATEWAY, *argv)
    assert (code, err) == (0, "")
    for _, line in SENT.values():
        assert f"\n  {line}\n" in out


def test_collect_log_true_is_sent_too(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "route", "openai/x", *GATEWAY, "--collect-log", "--collect-log-payload"
    )
    assert code == 0
    assert "\n  cf-aig-collect-log: true\n  cf-aig-collect-log-payload: true\n" in out


def test_spellings_metavars_and_help_of_today_are_kept() -> None:
    flags = command_flags(route_parser())
    assert flags["request_timeout_ms"].spelling == "--request-timeout"
    assert flags["retry_delay_ms"].spelling == "--retry-delay"
    assert flags["cache_ttl"].metavar == "SECONDS"
    assert flags["metadata"].metavar == "KEY=VALUE"
    assert flags["custom_cost"].metavar == "KEY=VALUE"
    assert flags["event_id"].metavar == "ID"
    assert flags["skip_cache"].metavar is None
    text = route_parser().format_help()
    for fragment in ("60 to 2592000", "1 to 5", "0 to 5000", "--no-collect-log", "at most 5"):
        assert fragment in text


def test_every_option_flag_has_help_naming_what_it_does() -> None:
    """A flag without its own help text takes its field's docstring (the header it sends)."""
    parser = route_parser()
    helps = {a.dest: a.help for a in parser._actions}
    for name in GatewayOptions.model_fields:
        assert helps[name], f"--{name.replace('_', '-')} has no help"
    text = " ".join(parser.format_help().split())
    assert "cf-aig-session-id: the Auto Router keeps one model" in text
    assert "cf-aig-zdr: zero data retention" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--allowed-providers", "acme"], "--allowed-providers: unknown provider 'acme'"),
        (["--allowed-models", "open*/x"], "--allowed-models: '*' must be a whole path segment"),
        (["--allowed-models", "a,b"], "--allowed-models: entries are sent comma-separated"),
        (["--custom-cost", "per_token_in"], "--custom-cost: write KEY=VALUE"),
        (["--custom-cost", "per_token_in=cheap"], "--custom-cost: "),
        (["--custom-cost", "total=1"], "--custom-cost: unknown key 'total'"),
        (["--session-id", " s"], "--session-id: must be printable ASCII"),
        (["--byok-alias", ""], "--byok-alias: must not be empty"),
    ],
)
def test_option_errors_are_spelled_as_flags(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "route", "cloudflare/auto", *GATEWAY, *argv)
    assert (code, out) == (2, "")
    assert message in err
    assert err.startswith("cf-aig: error: --")  # the subject is the flag, not the field


def test_auto_router_lists_the_response_headers_it_adds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "route", "cloudflare/auto", *GATEWAY)
    assert code == 0
    for header in (Header.ROUTED_MODEL, Header.ROUTING_REASON, Header.ROUTING_DECISION_ID):
        (field,) = (k for k, v in GatewayInfo.from_headers({header: "x"}).as_dict().items() if v)
        assert f"\n  {header} -> response_metadata['gateway']['{field}']\n" in out
    code, out, _ = run(capsys, "route", "openai/gpt-4o-mini", *GATEWAY)
    assert Header.ROUTED_MODEL not in out


def test_a_switch_set_to_false_is_spelled_as_its_no_form() -> None:
    flags = command_flags(route_parser())
    assert flags["collect_log"].negative == "--no-collect-log"
    assert flags["skip_cache"].negative is None
    assert spelled_as_flags("send collect_log=False", flags) == "send --no-collect-log"
    assert spelled_as_flags("send collect_log=True", flags) == "send --collect-log"
