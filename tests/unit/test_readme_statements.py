"""README statements that must follow the package: the first response-metadata example,
the commands `cf-aig --help` lists, and the rules users act on (Auto Router allow-lists,
where `cloudflare/auto` is served, error events in a 200 stream, LiteLLM Router options).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from langchain_cf_gateway.cli import COMMANDS
from langchain_cf_gateway.core import GatewayInfo

README = Path(__file__).resolve().parents[2] / "README.md"
TEXT = README.read_text(encoding="utf-8")
FLAT = " ".join(TEXT.split())


def test_the_first_gateway_metadata_example_shows_every_key() -> None:
    start = TEXT.index('response.response_metadata["gateway"]\n')
    block = TEXT[start : TEXT.index("```", start)]
    shown = "".join(line.lstrip("# ") for line in block.splitlines()[1:])
    example = ast.literal_eval(shown)
    assert list(example) == list(GatewayInfo().as_dict())
    for key in ("routed_model", "routing_reason", "routing_decision_id"):
        assert example[key] is None  # a plain call is not routed by the Auto Router


def test_the_commands_cf_aig_help_lists_are_all_named() -> None:
    sentence = re.search(r"`cf-aig --help` lists the commands: (.*?)\(", FLAT)
    assert sentence
    for name in COMMANDS:
        assert f"`{name}`" in sentence[1], name


def test_the_command_line_block_has_a_line_per_command() -> None:
    start = TEXT.index("### The command line")
    block = TEXT[start : TEXT.index("```\n\n", TEXT.index("```", start) + 3)]
    for name in COMMANDS:
        assert f"\ncf-aig {name}" in block, name


def test_the_auto_router_allow_list_rule_is_per_entry() -> None:
    assert "any `allowed_models` entry matches no model" in FLAT
    assert "allow-list that matches no model" not in FLAT


def test_cloudflare_auto_is_served_on_universal_compat_steps_too() -> None:
    row = next(line for line in TEXT.splitlines() if line.startswith("| `cloudflare/auto` | Cl"))
    assert "on compat (and universal compat steps" in row


def test_error_events_in_a_200_stream_are_documented() -> None:
    assert "error event inside a 200 stream" in FLAT
    assert "gateway_error" in FLAT


def test_the_litellm_router_option_merge_is_a_visible_warning() -> None:
    assert re.search(r"\*\*Warning[^*]*\*\*[^.]*`gateway_options`[^.]*replace", FLAT)
    assert 'model_info={"gateway_options"' in FLAT
