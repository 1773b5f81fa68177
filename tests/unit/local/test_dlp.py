"""The local DLP detectors, policies and the `cf-aig-dlp` report (never the matched text)."""

from __future__ import annotations

import json

import pytest

from langchain_cf_gateway.local.dlp import BUILTIN_PROFILES, luhn_valid, scan, validate_dlp


def entries(text: str, profile: str) -> list[str]:
    return [entry for entry, hit in BUILTIN_PROFILES[profile].items() if hit(text)]


@pytest.mark.parametrize(
    ("number", "valid"),
    [("4111111111111111", True), ("4111111111111112", False), ("79927398713", True)],
)
def test_luhn(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("card 4111 1111 1111 1111 ok", ["credit_card"]),
        ("card 4111-1111-1111-1111", ["credit_card"]),
        ("card 4111111111111112 (Luhn fails)", []),
        ("order 12345", []),
    ],
)
def test_credit_cards_are_luhn_checked(text: str, found: list[str]) -> None:
    assert entries(text, "financial") == found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("write to jane.doe+x@example.co.uk", ["email"]),
        ("call (415) 555-0134", ["phone"]),
        ("call +44 20 7946 0958", []),
        ("call +1 415-555-0134", ["phone"]),
        ("nothing here", []),
    ],
)
def test_pii(text: str, found: list[str]) -> None:
    assert entries(text, "pii") == found


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("sk-proj-" + "A1b2" * 10, "openai_api_key"),
        ("sk-ant-api03-" + "x" * 30, "anthropic_api_key"),
        ("AIza" + "B" * 35, "google_api_key"),
        ("AKIA" + "ABCDEFGHIJKLMNOP", "aws_access_key_id"),
        ("ghp_" + "a" * 36, "github_token"),
        ("xoxb-123456789012-abc", "slack_token"),
    ],
)
def test_api_key_shapes(text: str, entry: str) -> None:
    assert entry in entries(f"key: {text}", "credentials")
    assert entries("sk-short", "credentials") == []


def test_scan_reports_profiles_entries_and_policies_never_the_text() -> None:
    setting = {
        "enabled": True,
        "policies": [
            {
                "id": "a",
                "enabled": True,
                "action": "FLAG",
                "check": ["REQUEST"],
                "profiles": ["pii"],
            },
            {
                "id": "b",
                "enabled": True,
                "action": "BLOCK",
                "check": ["REQUEST", "RESPONSE"],
                "profiles": ["pii", "financial"],
            },
            {
                "id": "off",
                "enabled": False,
                "action": "BLOCK",
                "check": ["REQUEST"],
                "profiles": ["pii"],
            },
        ],
    }
    text = "jane@example.com 4111 1111 1111 1111"
    found = scan(setting, "REQUEST", text)
    assert found.action == "BLOCK"
    assert json.loads(found.header()) == {
        "findings": [
            {
                "profile": {"context": {}, "entry_ids": ["email"], "profile_id": "pii"},
                "policy_ids": ["a", "b"],
                "check": "REQUEST",
            },
            {
                "profile": {"context": {}, "entry_ids": ["credit_card"], "profile_id": "financial"},
                "policy_ids": ["b"],
                "check": "REQUEST",
            },
        ],
        "action": "BLOCK",
    }
    assert "jane" not in found.header() and "1111" not in found.header()
    assert scan(setting, "RESPONSE", "jane@example.com").action == "BLOCK"
    assert scan(setting, "REQUEST", "clean").action is None


def test_the_simple_shape_checks_both_sides_as_policy_default() -> None:
    setting = {"enabled": True, "action": "FLAG", "profiles": ["credentials"]}
    for check in ("REQUEST", "RESPONSE"):
        found = scan(setting, check, "AKIAABCDEFGHIJKLMNOP")
        assert found.action == "FLAG"
        assert found.findings[0]["policy_ids"] == ["default"]
        assert found.findings[0]["check"] == check


def test_custom_profiles() -> None:
    setting = {
        "enabled": True,
        "action": "BLOCK",
        "profiles": ["ids"],
        "custom_profiles": {"ids": {"employee": "EMP-[0-9]{6}"}},
    }
    validate_dlp(setting)
    assert scan(setting, "REQUEST", "EMP-123456").findings[0]["profile"]["entry_ids"] == [
        "employee"
    ]
    assert scan(setting, "REQUEST", "EMP-12").action is None


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (
            {"enabled": True, "action": "DENY", "profiles": []},
            "unknown action 'DENY'; valid: BLOCK, FLAG",
        ),
        (
            {"enabled": True, "action": "FLAG", "profiles": ["pi"]},
            "unknown profile 'pi'; known: credentials",
        ),
        ({"enabled": "yes", "action": "FLAG", "profiles": []}, "dlp.enabled must be true or false"),
        ({"enabled": True, "policies": {}}, "dlp.policies must be a list"),
        (
            {
                "enabled": True,
                "policies": [{"id": "p", "action": "FLAG", "check": [], "profiles": []}],
            },
            r"dlp.policies\[0\].check must be a list of REQUEST and/or RESPONSE",
        ),
        (
            {
                "enabled": True,
                "action": "FLAG",
                "profiles": [],
                "custom_profiles": {"c": {"e": "["}},
            },
            "dlp.custom_profiles.c.e is not a regular expression",
        ),
    ],
)
def test_bad_settings_name_the_fault(setting: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_dlp(setting)


def test_dlp_off_needs_nothing_else() -> None:
    validate_dlp({"enabled": False})
    assert scan({"enabled": False}, "REQUEST", "jane@example.com").action is None
    with pytest.raises(ValueError, match="unknown action None"):
        validate_dlp({"enabled": True})
