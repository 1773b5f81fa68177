"""Item 9: dot segments, encoded or not, never reach a pass-through upstream.

The gateway path after ``/{provider}/`` and a universal step's ``endpoint`` become the
upstream path; one holding ``..``/``.`` segments (``%2e%2e``, ``%2E.``, ``.%2e``),
encoded slashes or backslashes, or characters that would change the request line
gets 400 with the gateway error body, and the upstream receives nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from langchain_cf_gateway.local import LocalGateway, PassThrough

from .edge_helpers import RecordingUpstream, chat_step, gateway_error, raw_request, universal_body

CHAT = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'


@pytest.fixture(scope="module")
def gw(upstream: RecordingUpstream) -> Iterator[LocalGateway]:
    with LocalGateway(upstreams={"openai": PassThrough(base_url=upstream.base_url)}) as gateway:
        yield gateway


ESCAPES = [
    b"../admin",
    b"chat/../../admin",
    b"%2e%2e/admin",
    b"%2E%2E/admin",
    b"%2E./admin",
    b".%2e/admin",
    b"chat/%2e%2e%2fadmin",
    b"chat%2f..%2f..%2fadmin",
    b"chat/./completions",
    b"chat/%2e/completions",
    b"chat/..%5cadmin",
    b"chat\\..\\admin",
    b"%252e%252e/admin",
    b"chat/completions%3fkey=1",
    b"chat/completions%23x",
    b"chat/completions%20HTTP/1.1%0d%0ax-injected:%201",
    b"chat/completions%00",
    b"chat/..",
    b"chat/.",
    b"chat/..;/admin",
    b"chat/.;x=1/completions",
]


@pytest.mark.parametrize("path", ESCAPES)
def test_dot_segments_in_a_gateway_path_get_400(
    gw: LocalGateway, upstream: RecordingUpstream, path: bytes
) -> None:
    before = upstream.raw_bytes
    target = f"/v1/{gw.account_id}/default/openai/".encode() + path
    response = raw_request(
        gw.port, target, headers=[(b"content-type", b"application/json")], body=CHAT
    )
    status, code, message = gateway_error(response)
    assert (status, code) == (400, 7001), message
    assert "path" in message
    assert upstream.raw_bytes == before


@pytest.mark.parametrize(
    "endpoint",
    [
        "../admin",
        "chat/../../admin",
        "%2e%2e/admin",
        ".%2E/admin",
        "chat/%2f../admin",
        "chat\\..\\admin",
        "chat/completions HTTP/1.1\r\nx-injected: 1\r\n\r\nGET /",
        "chat/completions#frag",
        "chat/\u00e9",
        "chat/\ud800",
    ],
)
def test_dot_segments_in_a_step_endpoint_get_400(
    gw: LocalGateway, upstream: RecordingUpstream, endpoint: str
) -> None:
    before, rows = upstream.raw_bytes, len(gw.logs())
    step = {**chat_step("x"), "endpoint": endpoint}
    response = raw_request(
        gw.port, f"/v1/{gw.account_id}/default".encode(), body=universal_body([step])
    )
    status, code, message = gateway_error(response)
    assert (status, code) == (400, 7001), message
    assert "steps[0].endpoint" in message
    assert upstream.raw_bytes == before
    assert gw.logs()[rows:][-1]["success"] is False


def test_ordinary_paths_still_reach_the_upstream(
    gw: LocalGateway, upstream: RecordingUpstream
) -> None:
    before = len(upstream.requests)
    for path in (b"chat/completions", b"files:upload", b"models/gpt-4o-mini@2024~x"):
        target = f"/v1/{gw.account_id}/default/openai/".encode() + path
        response = raw_request(
            gw.port, target, headers=[(b"content-type", b"application/json")], body=CHAT
        )
        assert response.status == 200, response
    sent = upstream.requests[before:]
    assert [r.target for r in sent] == [
        b"/chat/completions",
        b"/files:upload",
        b"/models/gpt-4o-mini@2024~x",
    ]
