"""Data Loss Prevention (DLP) on the local gateway: built-in detectors and custom regexes.

The gateway setting `dlp` takes either shape of Cloudflare's API (cloudflare-python
`types/ai_gateway/ai_gateway_update_params.py`, `DLPUnionMember0` / `DLPUnionMember1`):

```json
{"dlp": {"enabled": true, "action": "BLOCK", "profiles": ["financial"]}}
{"dlp": {"enabled": true, "policies": [
    {"id": "flag-pii", "enabled": true, "action": "FLAG", "check": ["REQUEST"],
     "profiles": ["pii", "credentials"]}]}}
```

The first shape checks requests and responses, as the policy `default`. Profiles are
the built-in ones of `BUILTIN_PROFILES` (each a few detection entries) or those of the
local-only key `custom_profiles` (`{"custom_profiles": {"employee-ids": {"employee-id":
"EMP-[0-9]{6}"}}}`: profile id to entry id to regex; Cloudflare's profiles live in the
Zero Trust dashboard instead, so keep this key out of settings sent there).

A match is reported in the `cf-aig-dlp` response header, whether flagged or blocked, in
the documented shape (profile, entry and policy ids, and which side matched; never the
matched text), and in the log row's `dlp`. A blocked request is HTTP 400 with code 2029,
a blocked response HTTP 400 with code 2030
(https://developers.cloudflare.com/ai-gateway/features/dlp/set-up-dlp/,
https://developers.cloudflare.com/ai-gateway/features/dlp/): with several policies
matching, BLOCK wins.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

import regex

_LOG = logging.getLogger(__name__)

ACTIONS: Final = ("BLOCK", "FLAG")
CHECKS: Final = ("REQUEST", "RESPONSE")
CUSTOM_PROFILES_KEY: Final = "custom_profiles"
DEFAULT_POLICY_ID: Final = "default"
SEARCH_TIMEOUT_S: Final = 0.1
"""The bound of one custom regex search: a search that runs longer counts as a match
(fail closed) and is logged."""
MAX_PATTERN_LENGTH: Final = 1000
"""The longest custom regex accepted, in characters."""
NO_SPAN: Final = ""
"""The span reported by a timed-out search or an empty match (nothing to redact)."""

Detector = Callable[[str], list[str]]
"""A detection entry: the spans of a text it matched (empty: no match)."""


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn check (payment card numbers do).

    Args:
        digits: the digits only.

    Returns:
        True when the check digit is right.
    """
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


_CARD: Final = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")


def _cards(text: str) -> list[str]:
    spans = []
    for found in _CARD.finditer(text):
        digits = re.sub(r"\D", "", found.group())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            spans.append(found.group())
    return spans


def _regex(pattern: str) -> Detector:
    compiled = re.compile(pattern)
    return lambda text: [m.group() for m in compiled.finditer(text) if m.group()]


def _custom(pattern: str) -> Detector:
    """A custom entry: the `regex` module, each search bounded by `SEARCH_TIMEOUT_S`.

    The search releases the GIL (`concurrent=True`) and `screening` runs it off the event
    loop, so a catastrophic pattern such as `(a|aa)+$` delays only its own request.
    """
    compiled = regex.compile(pattern)

    def detect(text: str) -> list[str]:
        try:
            found = list(compiled.finditer(text, timeout=SEARCH_TIMEOUT_S, concurrent=True))
        except TimeoutError:
            _LOG.warning(
                "DLP custom regex %r timed out after %s s: counted as a match",
                pattern,
                SEARCH_TIMEOUT_S,
            )
            return [NO_SPAN]
        if not found:
            return []
        return [m.group() for m in found if m.group()] or [NO_SPAN]  # an empty match counts

    return detect


BUILTIN_PROFILES: Final[dict[str, dict[str, Detector]]] = {
    "financial": {"credit_card": _cards},
    "pii": {
        "email": _regex(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
        "phone": _regex(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}(?!\d)"),
    },
    "credentials": {
        "openai_api_key": _regex(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}"),
        "anthropic_api_key": _regex(r"\bsk-ant-[A-Za-z0-9_-]{20,}"),
        "google_api_key": _regex(r"\bAIza[0-9A-Za-z_-]{35}"),
        "aws_access_key_id": _regex(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
        "github_token": _regex(r"\bgh[pousr]_[A-Za-z0-9]{36,}"),
        "slack_token": _regex(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    },
}
"""The built-in profiles, by id: each maps entry ids to a detector. Credit card numbers
are Luhn-checked (13 to 19 digits, spaces or dashes allowed between them); phone
numbers are North American ones (3-3-4 digits), optionally after a `+` country code."""


def validate_dlp(value: Any) -> None:
    """Check a gateway's `dlp` setting (null turns DLP off).

    Args:
        value: the setting as sent.

    Raises:
        ValueError: naming the field that is wrong (an unknown action, check or profile,
            with the valid ones; a custom regex that does not compile).
    """
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise ValueError(f"dlp must be an object or null; got {value!r}")
    custom = value.get(CUSTOM_PROFILES_KEY) or {}
    if not isinstance(custom, Mapping):
        raise ValueError("dlp.custom_profiles must be an object of profile id: {entry id: regex}")
    for profile, entries in custom.items():
        if profile in BUILTIN_PROFILES:
            raise ValueError(
                f"dlp.custom_profiles.{profile}: {profile!r} is the name of a built-in profile;"
                f" choose another name (built-in: {', '.join(BUILTIN_PROFILES)})"
            )
        if not isinstance(entries, Mapping) or not entries:
            raise ValueError(f"dlp.custom_profiles.{profile} must be an object of entry id: regex")
        for entry, pattern in entries.items():
            if isinstance(pattern, str) and len(pattern) > MAX_PATTERN_LENGTH:
                raise ValueError(
                    f"dlp.custom_profiles.{profile}.{entry} is longer than"
                    f" {MAX_PATTERN_LENGTH} characters"
                )
            try:
                regex.compile(pattern)
            except (regex.error, TypeError) as exc:
                raise ValueError(
                    f"dlp.custom_profiles.{profile}.{entry} is not a regular expression: {exc}"
                ) from None
    if "enabled" in value and not isinstance(value["enabled"], bool):
        raise ValueError("dlp.enabled must be true or false")
    known = sorted({*BUILTIN_PROFILES, *custom})
    if value.get("enabled") is False and not ({"action", "profiles", "policies"} & set(value)):
        return  # `{"enabled": false}`: DLP off
    if "policies" in value:
        policies = value["policies"]
        if not isinstance(policies, list):
            raise ValueError(
                "dlp.policies must be a list of {id, action, check, enabled, profiles}"
            )
        for index, policy in enumerate(policies):
            where = f"dlp.policies[{index}]"
            if not isinstance(policy, Mapping) or not isinstance(policy.get("id"), str):
                raise ValueError(f"{where} must be an object with a string id")
            _check_action(where, policy.get("action"))
            checks = policy.get("check")
            if not isinstance(checks, list) or not checks or any(c not in CHECKS for c in checks):
                raise ValueError(
                    f"{where}.check must be a list of {' and/or '.join(CHECKS)}; got {checks!r}"
                )
            _check_profiles(where, policy.get("profiles"), known)
    else:
        _check_action("dlp", value.get("action"))
        _check_profiles("dlp", value.get("profiles"), known)


def _check_action(where: str, action: Any) -> None:
    if action not in ACTIONS:
        raise ValueError(f"{where}.action: unknown action {action!r}; valid: {', '.join(ACTIONS)}")


def _check_profiles(where: str, profiles: Any, known: list[str]) -> None:
    if not isinstance(profiles, list) or not all(isinstance(p, str) for p in profiles):
        raise ValueError(f"{where}.profiles must be a list of profile ids; known: {known}")
    for profile in profiles:
        if profile not in known:
            raise ValueError(
                f"{where}.profiles: unknown profile {profile!r}; known: {', '.join(known)}"
            )


@dataclass(frozen=True, slots=True)
class Policy:
    """One DLP policy: which profiles, what to do, which side to check."""

    id: str
    action: str
    checks: tuple[str, ...]
    profiles: tuple[str, ...]


def policies(setting: Mapping[str, Any] | None) -> list[Policy]:
    """The enabled policies of a (valid) `dlp` setting; empty when DLP is off.

    Args:
        setting: the gateway's `dlp` setting.

    Returns:
        The policies, in order.
    """
    if not setting or setting.get("enabled") is False:
        return []
    if "policies" not in setting:
        return [
            Policy(
                DEFAULT_POLICY_ID, setting["action"], CHECKS, tuple(setting.get("profiles") or ())
            )
        ]
    return [
        Policy(p["id"], p["action"], tuple(p["check"]), tuple(p["profiles"]))
        for p in setting["policies"]
        if p.get("enabled", True)
    ]


def applies(setting: Mapping[str, Any] | None, check: str) -> bool:
    """Whether any enabled policy checks `check` (`REQUEST` or `RESPONSE`)."""
    return any(check in policy.checks for policy in policies(setting))


@lru_cache(maxsize=64)
def _custom_detectors(serialized: str) -> dict[str, dict[str, Detector]]:
    custom = json.loads(serialized)
    return {
        profile: {entry: _custom(pattern) for entry, pattern in entries.items()}
        for profile, entries in custom.items()
    }


@dataclass(slots=True)
class Findings:
    """What DLP found on one side of a request, as the `cf-aig-dlp` header reports it."""

    action: str | None = None
    """`BLOCK` when a blocking policy matched, else `FLAG` when any did; None: no match."""
    findings: list[dict[str, Any]] = field(default_factory=list)
    matched: set[str] = field(default_factory=set)
    """The matched spans: only for redacting stored bodies, never in the header nor the row."""

    def merged(self, other: Findings) -> Findings:
        """Both sides' findings in one report (BLOCK wins)."""
        actions = {self.action, other.action}
        action = "BLOCK" if "BLOCK" in actions else "FLAG" if "FLAG" in actions else None
        return Findings(action, [*self.findings, *other.findings], self.matched | other.matched)

    def header(self) -> str:
        """The `cf-aig-dlp` header value (compact JSON).

        https://developers.cloudflare.com/ai-gateway/features/dlp/set-up-dlp/
        """
        return json.dumps({"findings": self.findings, "action": self.action}, separators=(",", ":"))


def scan(setting: Mapping[str, Any] | None, check: str, text: str) -> Findings:
    """Run the policies that check `check` over `text`.

    Args:
        setting: the gateway's `dlp` setting.
        check: `REQUEST` or `RESPONSE`.
        text: the text of the request or response (`screening` says which).

    Returns:
        The findings: one per matching profile, with the matching entry ids and the ids
        of the policies that selected the profile; never the matched text.
    """
    result = Findings()
    if not text:
        return result
    custom = (setting or {}).get(CUSTOM_PROFILES_KEY) or {}
    detectors = {**_custom_detectors(json.dumps(custom, sort_keys=True)), **BUILTIN_PROFILES}
    by_profile: dict[str, tuple[list[str], list[str]]] = {}
    actions: set[str] = set()
    for policy in policies(setting):
        if check not in policy.checks:
            continue
        for profile in policy.profiles:
            if profile not in by_profile:
                entry_ids = []
                for entry, detect in detectors.get(profile, {}).items():
                    spans = detect(text)
                    if spans:
                        entry_ids.append(entry)
                        result.matched.update(s for s in spans if s)
                by_profile[profile] = (entry_ids, [])
            entry_ids, policy_ids = by_profile[profile]
            if entry_ids:
                if policy.id not in policy_ids:
                    policy_ids.append(policy.id)
                actions.add(policy.action)
    for profile, (entry_ids, policy_ids) in by_profile.items():
        if entry_ids and policy_ids:
            result.findings.append(
                {
                    "profile": {"context": {}, "entry_ids": entry_ids, "profile_id": profile},
                    "policy_ids": policy_ids,
                    "check": check,
                }
            )
    if actions:
        result.action = "BLOCK" if "BLOCK" in actions else "FLAG"
    return result
