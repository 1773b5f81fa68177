"""`cf-aig route --metadata KEY=VALUE`: which VALUEs are sent as numbers (the rule in `--help`)."""

from __future__ import annotations

import pytest

from langchain_cf_gateway.cli import main
from langchain_cf_gateway.cli.arguments import metadata_value


# `--metadata KEY=VALUE`: a VALUE is a number only when written plainly (digits, an optional
# '-' and fraction) and read back the same, and an integer only within what JSON consumers
# keep exactly (|n| <= 2^53 - 1, https://www.rfc-editor.org/rfc/rfc8259#section-6).
@pytest.mark.parametrize(
    ("raw", "sent"),
    [
        ("42", 42),
        ("-7", -7),
        ("1.5", 1.5),
        ("-0.25", -0.25),
        ("true", True),
        (str(2**53 - 1), 2**53 - 1),
        (str(-(2**53 - 1)), -(2**53 - 1)),
        (str(2**53), str(2**53)),
        ("99999999999999999999999", "99999999999999999999999"),
        ("-99999999999999999999999", "-99999999999999999999999"),
        ("007", "007"),
        ("-0", "-0"),
        ("1E5", "1E5"),
        ("1e5", "1e5"),
        ("1e+23", "1e+23"),
        ("1.50", "1.50"),
        ("NaN", "NaN"),
    ],
)
def test_metadata_value_rule(raw: str, sent: object) -> None:
    value = metadata_value(raw)
    assert value == sent and type(value) is type(sent)


def test_metadata_help_states_the_number_rule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["route", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for text in ("2^53", "-0", "1E5", "007"):
        assert text in out
