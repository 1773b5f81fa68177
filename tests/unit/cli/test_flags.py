"""`cli.flags`: Python argument names in a message, rewritten as the command's flags."""

from __future__ import annotations

import argparse

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from langchain_cf_gateway.cli.flags import Flag, command_flags, spelled_as_flags


def parser() -> argparse.ArgumentParser:
    made = argparse.ArgumentParser()
    made.add_argument("log_id", metavar="LOG_ID")
    made.add_argument("--account-id", metavar="ID")
    made.add_argument("--token", metavar="TOKEN")
    made.add_argument("--endpoint", choices=["compat", "native"])
    made.add_argument("--skip-cache", action="store_true")
    made.add_argument("--metadata", metavar="KEY=VALUE", nargs="+")
    made.add_argument("--request-timeout", type=int, metavar="MS", dest="request_timeout_ms")
    made.add_argument("--limit", type=int)
    made.add_argument("--log-max-body-bytes", type=int, metavar="N")
    return made


FLAGS = command_flags(parser())


def test_command_flags_reads_the_parser() -> None:
    assert FLAGS["account_id"] == Flag("--account-id", "ID")
    assert FLAGS["request_timeout_ms"] == Flag("--request-timeout", "MS")
    assert FLAGS["skip_cache"] == Flag("--skip-cache", None)
    assert FLAGS["endpoint"] == Flag("--endpoint", "ENDPOINT")
    assert FLAGS["log_id"] == Flag("LOG_ID", "LOG_ID") and FLAGS["log_id"].positional
    # the library's other names for a flag's value, when the command has that flag
    assert FLAGS["api_token"] == FLAGS["gateway_token"] == Flag("--token", "TOKEN")
    assert FLAGS["max_body_bytes"] == Flag("--log-max-body-bytes", "N")
    assert "head_timeout_s" not in FLAGS  # no --head-timeout here
    assert "help" not in FLAGS


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("pass account_id=..., set X", "pass --account-id ID, set X"),
        ("use endpoint='compat' for a/b", "use --endpoint compat for a/b"),
        ('use endpoint="native"', "use --endpoint native"),
        ("To bypass the cache use skip_cache=True", "To bypass the cache use --skip-cache"),
        ("pass api_token= or set Y", "pass --token TOKEN or set Y"),
        ("pass gateway_token=", "pass --token TOKEN"),
        ("one of metadata={...}", "one of --metadata KEY=VALUE"),
        ("limit=5 at most", "--limit 5 at most"),
        ("account_id must be 1 to 64", "--account-id must be 1 to 64"),
        ("request_timeout_ms: must be positive", "--request-timeout: must be positive"),
        ("bad; limit: must be 1", "bad; --limit: must be 1"),
        ("max_body_bytes must be 0", "--log-max-body-bytes must be 0"),
        ("log_id: must be 1 to 128", "LOG_ID: must be 1 to 128"),
        ("api_token must be printable", "--token must be printable"),
        # left alone: Python advice, other names, names inside other words or URLs
        ("use base_url=provider_base_url('groq')", "use base_url=provider_base_url('groq')"),
        ("use gateway_id='default'", "use gateway_id='default'"),
        ("log_id=abc", "log_id=abc"),
        ("the account_id field", "the account_id field"),
        # a config file's key is not the flag, even where the names agree
        ("gateways.a in local.toml: limit must be 1", "gateways.a in local.toml: limit must be 1"),
        ("GET /logs?limit=5&x=1", "GET /logs?limit=5&x=1"),
        ("--limit: must be 1 or more", "--limit: must be 1 or more"),
        ("cf-aig-metadata: too long", "cf-aig-metadata: too long"),
        ("log_max_body_bytes_x must", "log_max_body_bytes_x must"),
    ],
)
def test_spelled_as_flags(message: str, expected: str) -> None:
    assert spelled_as_flags(message, FLAGS) == expected


def test_no_flags_no_change() -> None:
    assert spelled_as_flags("pass account_id=...", {}) == "pass account_id=..."


@given(st.text(alphabet=st.characters(blacklist_characters="_=:"), max_size=200))
def test_text_without_a_python_name_is_unchanged(text: str) -> None:
    # Every name here holds `_` or is one word; a one-word name changes only before `=`,
    # `:`, ` must ` or ` is `.
    assume(" must " not in text and " is " not in text)
    assert spelled_as_flags(text, FLAGS) == text
