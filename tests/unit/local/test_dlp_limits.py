"""DLP custom profiles: bounded regex searches and names that cannot shadow built-ins."""

from __future__ import annotations

import time

import pytest

from langchain_cf_gateway.local import dlp

EVIL = {
    "enabled": True,
    "action": "BLOCK",
    "profiles": ["x"],
    "custom_profiles": {"x": {"e": "(a+)+$"}},
}


def test_the_reviewed_nested_quantifier_returns_at_once() -> None:
    started = time.monotonic()
    assert dlp.scan(EVIL, "REQUEST", "a" * 40 + "!").action is None  # no match, no stall
    assert time.monotonic() - started < dlp.SEARCH_TIMEOUT_S * 4 + 0.5


def test_a_catastrophic_regex_returns_within_the_bound_and_fails_closed() -> None:
    slow = {**EVIL, "custom_profiles": {"x": {"e": "(a|aa)+$"}}}
    started = time.monotonic()
    found = dlp.scan(slow, "REQUEST", "a" * 60 + "!")
    assert time.monotonic() - started < dlp.SEARCH_TIMEOUT_S * 4 + 0.5
    assert found.action == "BLOCK"
    assert found.findings[0]["profile"]["entry_ids"] == ["e"]


def test_a_pattern_over_the_length_bound_is_refused() -> None:
    long = "a" * (dlp.MAX_PATTERN_LENGTH + 1)
    with pytest.raises(ValueError, match=r"dlp\.custom_profiles\.x\.e.*longer than"):
        dlp.validate_dlp({**EVIL, "custom_profiles": {"x": {"e": long}}})


@pytest.mark.parametrize("name", sorted(dlp.BUILTIN_PROFILES))
def test_a_custom_profile_named_like_a_built_in_one_is_refused(name: str) -> None:
    setting = {
        "enabled": True,
        "action": "BLOCK",
        "profiles": [name],
        "custom_profiles": {name: {"e": "zzz"}},
    }
    with pytest.raises(ValueError) as caught:
        dlp.validate_dlp(setting)
    message = str(caught.value)
    assert f"dlp.custom_profiles.{name}" in message
    assert all(builtin in message for builtin in dlp.BUILTIN_PROFILES)
