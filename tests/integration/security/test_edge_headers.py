"""Item 1 (edge half): a client-supplied string never becomes a header line unchecked.

Step ``headers`` (names and values), step ``config`` strings and the echoed event id
are checked at the HTTP edge: a bad one gets HTTP 400 with the gateway error body
naming the field, a log row with ``success: false``, and nothing reaches the upstream.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from langchain_cf_gateway.local import LocalGateway, PassThrough

from .edge_helpers import (
    RawResponse,
    RecordingUpstream,
    chat_step,
    gateway_error,
    raw_request,
    universal_body,
)

SMUGGLE = "1\r\ncontent-length: 0\r\n\r\nPOST /v1/chat/completions HTTP/1.1\r\nx-b: 2"  # the body of issue 11, item 1


@pytest.fixture(scope="module")
def gw(upstream: RecordingUpstream) -> Iterator[LocalGateway]:
    targets = {"openai": PassThrough(base_url=upstream.base_url, api_key="sk-gateway-held")}
    with LocalGateway(upstreams=targets) as gateway:
        yield gateway


def _universal(gw: LocalGateway, steps: list[dict[str, Any]], **headers: str) -> RawResponse:
    extra = [(k.replace("_", "-").encode(), v.encode("latin-1")) for k, v in headers.items()]
    return raw_request(
        gw.port,
        f"/v1/{gw.account_id}/default".encode(),
        headers=[(b"content-type", b"application/json"), *extra],
        body=universal_body(steps),
    )


def _refused(gw: LocalGateway, upstream: RecordingUpstream, steps: list[dict[str, Any]]) -> str:
    """Send the steps; check the 400, the log row and the silent upstream; the message."""
    before_bytes, before_rows = upstream.raw_bytes, len(gw.logs())
    response = _universal(gw, steps)
    status, code, message = gateway_error(response)
    assert (status, code) == (400, 7001), message
    assert upstream.raw_bytes == before_bytes, "bytes reached the upstream"
    rows = gw.logs()[before_rows:]
    assert rows, "the refused request has no log row"
    assert rows[-1]["success"] is False and rows[-1]["status_code"] == 400
    assert rows[-1]["id"] == response.headers["cf-aig-log-id"]
    return message


def _served(gw: LocalGateway, content: str) -> None:
    response = _universal(gw, [chat_step(content)])
    assert response.status == 200, response
    assert response.json()["choices"][0]["message"]["content"] == f"echo:{content}"


def test_the_smuggling_body_of_the_issue_is_refused_before_anything_is_forwarded(
    gw: LocalGateway, upstream: RecordingUpstream
) -> None:
    step = chat_step("ATTACKER TEXT", headers={"x-a": SMUGGLE})
    message = _refused(gw, upstream, [step])
    assert 'steps[0].headers["x-a"]' in message
    assert "CR" in message or "control" in message
    # the pool is in step: each next user gets their own answer
    _served(gw, "victim one")
    _served(gw, "victim two")
    assert all(b"ATTACKER" not in r.body for r in upstream.requests)
    assert not upstream.errors


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        ({"x-a": "a\rb"}, 'steps[0].headers["x-a"]'),
        ({"x-a": "a\nb"}, 'steps[0].headers["x-a"]'),
        ({"x-a": "a\x00b"}, 'steps[0].headers["x-a"]'),
        ({"x-a": "a\x01b"}, 'steps[0].headers["x-a"]'),
        ({"x-a": "a\x7fb"}, 'steps[0].headers["x-a"]'),
        ({"x-a": "a\x85b"}, 'steps[0].headers["x-a"]'),  # NEL, a C1 control
        ({"x-a": "price in \u20ac"}, 'steps[0].headers["x-a"]'),  # outside latin-1
        ({"x-a": "\ud800"}, 'steps[0].headers["x-a"]'),  # a lone surrogate
        ({"x-a": {"nested": "object"}}, 'steps[0].headers["x-a"]'),
        ({"x-a": ["a", "list"]}, 'steps[0].headers["x-a"]'),
        ({"x-a": None}, 'steps[0].headers["x-a"]'),
        ({"x-a": "x" * 9000}, 'steps[0].headers["x-a"]'),
        ({"x a": "1"}, 'steps[0].headers["x a"]'),
        ({"x:a": "1"}, 'steps[0].headers["x:a"]'),
        ({"": "1"}, 'steps[0].headers[""]'),
        ({"x-\u00e9": "1"}, 'steps[0].headers["x-\\u00e9"]'),
        ({"x-a\r\nx-injected": "1"}, 'steps[0].headers["x-a\\r\\nx-injected"]'),
        ({"cf-aig-event-id": "e\r\nx-injected: 1"}, 'steps[0].headers["cf-aig-event-id"]'),
        ({"cf-aig-cache-key": "k\x00"}, 'steps[0].headers["cf-aig-cache-key"]'),
    ],
)
def test_bad_step_header_names_and_values_get_400_naming_the_field(
    gw: LocalGateway, upstream: RecordingUpstream, headers: dict[str, Any], field: str
) -> None:
    message = _refused(gw, upstream, [chat_step("bad header", headers=headers)])
    assert field in message, message
    _served(gw, "after a bad header")


def test_a_bad_header_in_a_later_step_refuses_the_request_before_any_step_is_sent(
    gw: LocalGateway, upstream: RecordingUpstream
) -> None:
    steps = [chat_step("first"), chat_step("second", headers={"x-b": "2\r\nx-injected: 1"})]
    message = _refused(gw, upstream, steps)
    assert 'steps[1].headers["x-b"]' in message


def test_step_headers_that_are_not_an_object_get_400(
    gw: LocalGateway, upstream: RecordingUpstream
) -> None:
    message = _refused(gw, upstream, [chat_step("x", headers=["x-a: 1"])])
    assert "steps[0].headers" in message


@pytest.mark.parametrize(
    "config",
    [
        {"cacheKey": "k\r\nx-injected: 1"},
        {"backoff": "constant\r\nx-injected: 1"},
        {"eventId": "\x00"},
        {"metadata": {"user": "u\r\nx-injected: 1"}},
    ],
)
def test_step_config_strings_that_become_cf_aig_options_are_checked_as_header_values(
    gw: LocalGateway, upstream: RecordingUpstream, config: dict[str, Any]
) -> None:
    message = _refused(gw, upstream, [chat_step("cfg", config=config)])
    assert "steps[0].config" in message, message


def test_numbers_and_booleans_in_step_headers_travel_as_their_json_text(
    gw: LocalGateway, upstream: RecordingUpstream
) -> None:
    before = len(upstream.requests)
    headers = {"x-count": 3, "x-ratio": 0.5, "x-flag": True, "x-latin": "caf\u00e9"}
    response = _universal(gw, [chat_step("typed", headers=headers)])
    assert response.status == 200, response
    [sent] = upstream.requests[before:]
    assert sent.header(b"x-count") == b"3"
    assert sent.header(b"x-ratio") == b"0.5"
    assert sent.header(b"x-flag") == b"true"
    # JSON text: the upstream gets its UTF-8 encoding.
    assert sent.header(b"x-latin") == "caf\u00e9".encode()


def test_non_ascii_bytes_of_a_request_header_reach_the_upstream_unchanged(
    gw: LocalGateway, upstream: RecordingUpstream
) -> None:
    """UTF-8 in a header (``X-Title`` of an app name) is relayed as sent, not encoded twice."""
    before = len(upstream.requests)
    target = f"/v1/{gw.account_id}/default/openai/chat/completions".encode()
    title = "caf\u00e9 \u2615".encode()
    response = raw_request(
        gw.port,
        target,
        headers=[(b"content-type", b"application/json"), (b"x-title", title)],
        body=json.dumps(chat_step("t")["query"]).encode(),
    )
    assert response.status == 200, response
    [sent] = upstream.requests[before:]
    assert sent.header(b"x-title") == title


def test_the_event_id_is_echoed_only_when_it_is_a_valid_header_value(gw: LocalGateway) -> None:
    response = _universal(gw, [chat_step("ev")], cf_aig_event_id="my-event")
    assert response.headers["cf-aig-event-id"] == "my-event"
    rows = [r for r in gw.logs() if r["event_id"] == "my-event"]
    assert rows and rows[-1]["success"] is True


def test_the_logs_api_shows_no_refused_header_value(gw: LocalGateway) -> None:
    _universal(gw, [chat_step("x", headers={"x-secret-ish": "v\r\nx-injected: 1"})])
    text = json.dumps(gw.logs())
    assert "x-injected" not in text


def test_a_universal_request_fans_out_to_a_bounded_number_of_steps(
    gw: LocalGateway, upstream: RecordingUpstream
) -> None:
    message = _refused(gw, upstream, [chat_step(f"s{i}") for i in range(33)])
    assert "at most 32 steps" in message


def test_two_victims_after_the_smuggling_body_each_get_their_own_answer_from_cf_aig_serve(
    tmp_path: Path,
) -> None:
    """The issue's scenario against a real ``cf-aig serve`` process with caching on."""
    from tests.support.gateway_process import GatewayProcess

    with RecordingUpstream() as recorder:
        config = tmp_path / "local.json"
        config.write_text(
            json.dumps(
                {
                    "upstreams": {"openai": {"base_url": recorder.base_url, "api_key": "sk-held"}},
                    "gateways": {"default": {"cache_ttl": 300}},
                }
            )
        )
        process = GatewayProcess("--config", str(config)).start()
        try:
            port = int(process.base_url.rsplit(":", 1)[1])

            def send(steps: list[dict[str, Any]]) -> RawResponse:
                return raw_request(port, b"/v1/acct/default", body=universal_body(steps))

            attacker = send([chat_step("ATTACKER TEXT", headers={"x-a": SMUGGLE})])
            assert gateway_error(attacker)[:2] == (400, 7001)
            for victim in ("victim one", "victim two"):
                answer = send([chat_step(victim)])
                assert answer.status == 200, answer
                content = answer.json()["choices"][0]["message"]["content"]
                assert content == f"echo:{victim}"
            assert len(recorder.requests) == 2 and not recorder.errors
            assert all(r.header(b"x-b") is None for r in recorder.requests)
        finally:
            process.stop()
