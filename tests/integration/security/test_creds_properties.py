"""Property-based checks of the credential rules (core/credentials.py) at their boundary.

Whatever the credential's name casing, value, the body's shape and encoding, or where a
gateway token is copied to: the secret never comes out of a redaction, a masked URL or
the headers forwarded upstream.
"""

from __future__ import annotations

import json
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from langchain_cf_gateway.core.credentials import (
    forwardable_headers,
    is_credential,
    mask_url,
    redact_body_text,
    redact_headers,
)

NAMES = [
    "authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "xi-api-key",
    "x-auth-token",
    "openai-api-key",
    "proxy-authorization",
    "cookie",
    "x-custom-api-key",
    "x-amz-security-token",
    "cf-aig-authorization",
]
SECRET = st.text(string.ascii_letters + string.digits + "-_.~", min_size=8, max_size=40).map(
    lambda s: "S3cr" + s
)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"]


def cased(name: str, flips: list[bool]) -> str:
    return "".join(
        c.upper() if f else c for c, f in zip(name, flips + [False] * len(name), strict=False)
    )


@settings(max_examples=500, deadline=None)
@given(
    name=st.sampled_from(NAMES),
    flips=st.lists(st.booleans(), max_size=30),
    secret=SECRET,
    scheme=st.sampled_from(["", "Bearer ", "Token ", "Key "]),
    single=st.booleans(),
    encoding=st.sampled_from(ENCODINGS),
)
def test_step_header_never_shown_in_a_body(
    name: str, flips: list[bool], secret: str, scheme: str, single: bool, encoding: str
) -> None:
    step = {
        "provider": "openai",
        "endpoint": "chat/completions",
        "headers": {cased(name, flips): scheme + secret, "x-note": f"copy {secret}"},
        "query": {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
    }
    body = json.dumps(step if single else [step]).encode(encoding)
    shown = redact_body_text(body)
    assert secret not in shown
    assert "[REDACTED]" in shown


@settings(max_examples=500, deadline=None)
@given(name=st.sampled_from(NAMES), flips=st.lists(st.booleans(), max_size=30), secret=SECRET)
def test_credential_header_redacted_whatever_its_case(
    name: str, flips: list[bool], secret: str
) -> None:
    header = cased(name, flips)
    assert is_credential(header)
    shown = redact_headers({header: f"Bearer {secret}", "x-trace": secret})
    assert secret not in json.dumps(shown)


@settings(max_examples=500, deadline=None)
@given(
    user=st.text(string.ascii_lowercase, max_size=8),
    password=SECRET,
    query_key=st.sampled_from(["password", "key", "api_key", "token", "access_token", "secret"]),
    query_value=SECRET,
    scheme=st.sampled_from(["redis", "rediss", "http", "https"]),
)
def test_mask_url_never_shows_a_password(
    user: str, password: str, query_key: str, query_value: str, scheme: str
) -> None:
    url = f"{scheme}://{user}:{password}@127.0.0.1:6379/0?db=1&{query_key}={query_value}"
    shown = mask_url(url)
    assert password not in shown and query_value not in shown
    assert "127.0.0.1:6379" in shown and "db=1" in shown


@settings(max_examples=500, deadline=None)
@given(
    token=SECRET,
    carrier=st.text(string.ascii_lowercase + "-", min_size=1, max_size=20),
    template=st.sampled_from(["{}", "Bearer {}", "x {} y", "token={}"]),
    other=st.dictionaries(
        st.text(string.ascii_lowercase + "-", min_size=1, max_size=15),
        st.text(string.printable.strip(), max_size=30),
        max_size=8,
    ),
)
def test_a_gateway_token_is_never_forwarded(
    token: str, carrier: str, template: str, other: dict[str, str]
) -> None:
    headers = {**other, carrier: template.format(token), "cf-aig-authorization": f"Bearer {token}"}
    forwarded = forwardable_headers(headers, {token})
    assert all(token not in v for v in forwarded.values())
    assert not any(k.startswith("cf-aig-") for k in forwarded)
