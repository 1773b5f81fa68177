"""README's "### Dynamic routes" follows `cf-aig routes test` and shows the whole builder."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from langchain_cf_gateway.cli import route_dry_run

README = Path(__file__).resolve().parents[3] / "README.md"
_TEXT = README.read_text(encoding="utf-8")
SECTION = " ".join(_TEXT.split("### Dynamic routes", 1)[1].split("\n### ", 1)[0].split())


def _default_n() -> int:
    parser = argparse.ArgumentParser()
    route_dry_run.add_arguments(parser)
    default = parser.get_default("n")
    assert isinstance(default, int)
    return default


def test_the_usage_line_shows_the_default_n() -> None:
    shown = re.findall(r"\[--n (\d+)\]", SECTION)
    assert shown == [str(_default_n())]


def test_every_builder_and_from_api_is_shown() -> None:
    for name in ("fallback_chain", "split", "conditional", "rate_limit", "from_api"):
        assert f"DynamicRoute.{name}(" in SECTION, name


def test_operators_limits_and_exit_status_are_stated() -> None:
    for operator in (
        "$eq",
        "$ne",
        "$gt",
        "$gte",
        "$lt",
        "$lte",
        "$in",
        "$nin",
        "$exists",
        "$and",
        "$or",
        "$not",
    ):
        assert f"`{operator}`" in SECTION, operator
    assert "share one bucket" in SECTION
    assert "429" in SECTION and "2003" in SECTION
    assert "checked before" in SECTION and "charged after" in SECTION
    assert "exit status is 0 when the run completes" in SECTION
