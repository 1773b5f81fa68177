"""Property: nothing a client sends at the HTTP edge desynchronises a pass-through upstream.

Hypothesis generates universal steps (headers, config, endpoints), gateway paths, model
ids and bodies full of CR, LF, NUL, C1 controls, non-latin-1 text, lone surrogates,
dot segments (plain and percent-encoded), deep nesting and non-finite numbers, and
sends each as one request to an in-process ``LocalGateway`` whose ``openai`` provider
passes through to a recording raw-socket upstream. For every example:

- the answer is well-formed: strict JSON; a gateway-made error has the gateway error
  shape with ``httpCode`` equal to the status; a 200 comes from the upstream or the mock;
- the upstream parsed exactly one request if the answer came from it, else none; no
  request head holds an injected header name or a dot segment, and no byte failed to
  parse as HTTP/1.1;
- the next ordinary request gets its own answer and its log row.

2,100 examples in all (``max_examples`` per test below).
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from langchain_cf_gateway.local import LocalGateway, PassThrough

from .edge_helpers import RawResponse, RecordingUpstream, raw_request

SMUGGLED = "x-smuggled"
TOKEN_CHARS = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
NASTY = [
    "\r",
    "\n",
    "\r\n",
    "\x00",
    "\x01",
    "\x0b",
    "\x7f",
    "\x85",
    "\u2028",
    "\u20ac",
    "\ud800",
    "\udfff",
    " ",
    "\t",
    ":",
    "\u00e9",
    "/",
    "..",
    "%0d%0a",
    f"\r\n{SMUGGLED}: 1",
    f"1\r\ncontent-length: 0\r\n\r\nPOST /v1/chat/completions HTTP/1.1\r\n{SMUGGLED}: 2",
    f"\n{SMUGGLED}: 3",
]
nasty_text = st.lists(st.one_of(st.text(max_size=6), st.sampled_from(NASTY)), max_size=4).map(
    "".join
)
token = st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=10)
plain_text = st.text(alphabet=string.ascii_letters + string.digits + " -_.", max_size=12)
header_name = st.one_of(
    token.map(lambda s: "x-" + s),
    nasty_text,
    st.sampled_from(
        [
            "content-length",
            "transfer-encoding",
            "connection",
            "host",
            "expect",
            "cf-aig-event-id",
            "cf-aig-metadata",
            "cf-aig-cache-key",
            "cf-aig-max-attempts",
            "authorization",
            "X-Upper",
        ]
    ),
).filter(lambda name: SMUGGLED not in name.lower())
json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    nasty_text,
)
header_value = st.one_of(
    plain_text,
    plain_text,
    nasty_text,
    json_scalar,
    st.lists(json_scalar, max_size=2),
    st.dictionaries(st.text(max_size=3), json_scalar, max_size=2),
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(nasty_text, inner, max_size=3)
    ),
    max_leaves=12,
)
model_id = st.one_of(
    st.sampled_from(
        [
            "gpt-4o-mini",
            "gpt-4o-mini~status=503",
            "gpt-4o-mini~bogus",
            "@cf/meta/llama",
            "../../admin",
            "a\r\nb",
            "\ud800",
            "",
            "~",
        ]
    ),
    nasty_text,
)
SEGMENTS = [
    "chat",
    "completions",
    "v1",
    "models",
    ".",
    "..",
    "%2e",
    "%2E",
    "%2e%2e",
    ".%2e",
    "%2E.",
    "%2f",
    "%2F",
    "%5c",
    "%00",
    "%0d%0a",
    "%20",
    "%25",
    "%252e",
    "%3f",
    "%23",
    "a:b",
    "x~y",
    "@cf",
    "",
]
path = st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=5).map("/".join)
# valid choices weigh more, so that a fair share of examples reach the upstream
endpoint = st.one_of(st.just("chat/completions"), st.just("chat/completions"), path, nasty_text)


def chat_body(model: Any, content: Any, extra: dict[str, Any]) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": content}], **extra}


body_extra = st.dictionaries(
    st.sampled_from(["temperature", "n", "metadata", "tools", "stream_options", "x"]),
    json_value,
    max_size=2,
)
raw_body = st.one_of(
    st.builds(chat_body, st.just("gpt-4o-mini"), plain_text, st.just({})).map(
        lambda b: json.dumps(b).encode()
    ),
    st.integers(min_value=1, max_value=3000).map(lambda n: b"[" * n + b"]" * n),
    st.sampled_from(
        [
            b'{"model":"gpt-4o-mini","temperature":NaN,"messages":[]}',
            b'{"model":"gpt-4o-mini","temperature":1e309,"messages":[]}',
            b'{"model":"gpt-4o-mini","n":-Infinity,"messages":[]}',
            b'{"model":"\\ud800","messages":[]}',
            b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"\\udfff"}]}',
            b"\xef\xbb\xbf{}",
            b"\xff\xfe{\x00}\x00",
            b"not json",
            b"",
        ]
    ),
    st.binary(max_size=64).filter(lambda b: b"\n" not in b),
)
step = st.fixed_dictionaries(
    {
        "provider": st.one_of(
            st.just("openai"),
            st.just("openai"),
            st.sampled_from(["compat", "workers-ai"]),
            nasty_text,
        ),
        "endpoint": endpoint,
        "query": st.builds(chat_body, model_id, st.one_of(plain_text, nasty_text), body_extra),
    },
    optional={
        "headers": st.one_of(
            st.dictionaries(header_name, header_value, max_size=3),
            st.lists(nasty_text, max_size=2),
            nasty_text,
        ),
        "config": st.one_of(
            st.dictionaries(
                st.sampled_from(
                    ["requestTimeout", "maxAttempts", "backoff", "cacheKey", "eventId"]
                ),
                json_value,
                max_size=2,
            ),
            json_scalar,
        ),
    },
)
# header values a client can put on the wire without breaking its own request
wire_value = st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=255, exclude_characters="\r\n"),
    max_size=12,
)
wire_headers = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "x-note",
                "cf-aig-event-id",
                "cf-aig-metadata",
                "cf-aig-cache-key",
                "cf-aig-skip-cache",
            ]
        ),
        wire_value,
    ),
    max_size=2,
)

EXAMPLES = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def gw(upstream: RecordingUpstream) -> Iterator[LocalGateway]:
    targets = {"openai": PassThrough(base_url=upstream.base_url, api_key="sk-gateway-held")}
    with LocalGateway(upstreams=targets) as gateway:
        yield gateway


class Edge:
    """One example: send a request, check the answer, the upstream and the next request."""

    counter = 0

    def __init__(self, gw: LocalGateway, upstream: RecordingUpstream) -> None:
        self.gw = gw
        self.upstream = upstream

    def send(self, target: bytes, body: bytes, headers: list[tuple[str, str]]) -> None:
        gw, upstream = self.gw, self.upstream
        gw.reset()
        before = len(upstream.requests)
        wire = [(k.encode(), v.encode("latin-1")) for k, v in headers]
        response = raw_request(gw.port, target, headers=wire, body=body)
        source = well_formed(response)
        event(f"answered by the {source} ({response.status})")
        after = upstream.requests
        expected = 1 if source == "upstream" else 0
        assert len(after) - before == expected, (source, response, after[before:])
        assert not upstream.errors, upstream.errors
        for request in after[before:]:
            names = [name.lower() for name, _ in request.headers]
            assert SMUGGLED.encode() not in names, request
            segments = request.target.split(b"?")[0].split(b"/")
            assert b".." not in segments and b"." not in segments, request
            assert b"%" not in request.target.split(b"?")[0], request
        self.next_request_is_served()

    def next_request_is_served(self) -> None:
        Edge.counter += 1
        marker = f"normal-{Edge.counter}"
        body = json.dumps(chat_body("openai/gpt-4o-mini", marker, {})).encode()
        response = raw_request(
            self.gw.port,
            f"/v1/{self.gw.account_id}/default/compat/chat/completions".encode(),
            headers=[(b"content-type", b"application/json"), (b"cf-aig-event-id", marker.encode())],
            body=body,
        )
        assert response.status == 200, response
        data = response.json()
        assert data["id"].startswith("rec-")
        assert data["choices"][0]["message"]["content"] == f"echo:{marker}"
        rows = [row for row in self.gw.logs() if row["event_id"] == marker]
        assert len(rows) == 1 and rows[0]["success"] is True and rows[0]["status_code"] == 200


def well_formed(response: RawResponse) -> str:
    """Where the answer came from: "upstream", "mock" or "gateway"; fails if malformed."""
    assert 200 <= response.status < 600, response
    data = response.json()  # strict JSON: no NaN, no Infinity
    if isinstance(data, dict) and data.get("name") == "AiGatewayError":
        assert response.status >= 400
        assert data["success"] is False and data["result"] == [] and data["messages"] == []
        assert data["httpCode"] == response.status
        assert data["error"] == [{"code": data["internalCode"], "message": data["message"]}]
        return "gateway"
    if (
        response.status == 200
        and isinstance(data, dict)
        and str(data.get("id", "")).startswith("rec-")
    ):
        return "upstream"
    # the mock model answers faults (``~status=503``) and non-pass-through providers
    assert isinstance(data, dict) and ("error" in data or "choices" in data or "result" in data), (
        response
    )
    return "mock"


@settings(EXAMPLES, max_examples=800)
@given(steps=st.lists(step, min_size=1, max_size=2), headers=wire_headers)
def test_universal_steps(
    gw: LocalGateway, upstream: RecordingUpstream, steps: list[Any], headers: list[tuple[str, str]]
) -> None:
    body = json.dumps(steps).encode()  # escapes control characters and lone surrogates
    Edge(gw, upstream).send(f"/v1/{gw.account_id}/default".encode(), body, headers)


@settings(EXAMPLES, max_examples=500)
@given(
    route=path,
    body=st.one_of(
        st.builds(chat_body, model_id, nasty_text, body_extra).map(
            lambda b: json.dumps(b).encode()
        ),
        raw_body,
    ),
    headers=wire_headers,
)
def test_gateway_paths(
    gw: LocalGateway,
    upstream: RecordingUpstream,
    route: str,
    body: bytes,
    headers: list[tuple[str, str]],
) -> None:
    target = f"/v1/{gw.account_id}/default/openai/{route}".encode()
    Edge(gw, upstream).send(target, body, headers)


@settings(EXAMPLES, max_examples=400)
@given(model=model_id, content=nasty_text, extra=body_extra, headers=wire_headers)
def test_model_ids(
    gw: LocalGateway,
    upstream: RecordingUpstream,
    model: str,
    content: str,
    extra: dict[str, Any],
    headers: list[tuple[str, str]],
) -> None:
    body = json.dumps(chat_body(f"openai/{model}", content, extra)).encode()
    target = f"/v1/{gw.account_id}/default/compat/chat/completions".encode()
    Edge(gw, upstream).send(target, body, headers)


@settings(EXAMPLES, max_examples=400)
@given(
    body=raw_body,
    route=st.sampled_from(["compat/chat/completions", "openai/chat/completions", ""]),
)
def test_bodies(gw: LocalGateway, upstream: RecordingUpstream, body: bytes, route: str) -> None:
    target = f"/v1/{gw.account_id}/default/{route}".rstrip("/").encode()
    Edge(gw, upstream).send(target, body, [])
