"""Item 8: DNS rebinding and browser cross-origin requests.

By default only a loopback ``Host`` (``localhost``, ``127.0.0.0/8``, ``[::1]``) or a
configured name is served; any other gets 421 with the gateway error body, and a
request whose ``Origin`` is not an allowed host gets 403. Neither is logged or kept.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from langchain_cf_gateway.local import LocalGateway

from .edge_helpers import RawResponse, gateway_error, raw_request

CHAT = b'{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'


def _chat(gw: LocalGateway, host: bytes | None, origin: bytes | None = None) -> RawResponse:
    headers = [(b"content-type", b"application/json")]
    if origin is not None:
        headers.append((b"origin", origin))
    target = f"/v1/{gw.account_id}/default/compat/chat/completions".encode()
    return raw_request(gw.port, target, headers=headers, body=CHAT, host=host)


@pytest.mark.parametrize(
    "host",
    [
        b"127.0.0.1",
        b"127.0.0.1:%d",
        b"localhost",
        b"localhost:%d",
        b"LOCALHOST:%d",
        b"127.5.6.7:%d",
        b"[::1]:%d",
        b"[::1]",
        None,  # an HTTP/1.0-style request without Host
    ],
)
def test_loopback_hosts_are_served(gw: LocalGateway, host: bytes | None) -> None:
    if host is not None and b"%d" in host:
        host = host % gw.port
    assert _chat(gw, host).status == 200


@pytest.mark.parametrize(
    "host",
    [
        b"attacker.example",
        b"attacker.example:%d",
        b"localhost.attacker.example",
        b"127.0.0.1.nip.io:%d",
        b"10.0.0.1",
        b"0.0.0.0",
        b"[::ffff:7f00:1]",
        b"",
    ],
)
def test_other_hosts_get_421_and_are_neither_logged_nor_kept(gw: LocalGateway, host: bytes) -> None:
    gw.reset()
    if b"%d" in host:
        host = host % gw.port
    response = _chat(gw, host)
    status, code, message = gateway_error(response)
    assert (status, code) == (421, 7001)
    assert "--allowed-host" in message
    assert gw.received == [] and gw.logs() == []


@pytest.mark.parametrize(
    "origin",
    [
        b"http://attacker.example",
        b"https://127.0.0.1.attacker.example",
        b"null",
        b"http://10.0.0.1:8787",
    ],
)
def test_a_cross_origin_browser_request_gets_403(gw: LocalGateway, origin: bytes) -> None:
    gw.reset()
    response = _chat(gw, b"127.0.0.1", origin)
    status, code, message = gateway_error(response)
    assert (status, code) == (403, 7001)
    assert "origin" in message.lower()
    assert gw.received == [] and gw.logs() == []


@pytest.mark.parametrize(
    "origin", [b"http://localhost:3000", b"http://127.0.0.1:%d", b"http://[::1]:5173"]
)
def test_an_origin_on_a_loopback_host_is_served(gw: LocalGateway, origin: bytes) -> None:
    if b"%d" in origin:
        origin = origin % gw.port
    assert _chat(gw, b"127.0.0.1", origin).status == 200


def test_configured_hosts_and_origins_are_served() -> None:
    with LocalGateway(
        allowed_hosts=["gw.internal", "10.1.2.3"], allowed_origins=["https://app.example"]
    ) as gw:
        assert _chat(gw, b"gw.internal:8787").status == 200
        assert _chat(gw, b"GW.INTERNAL").status == 200
        assert _chat(gw, b"10.1.2.3").status == 200
        assert _chat(gw, b"127.0.0.1").status == 200  # loopback stays allowed
        assert _chat(gw, b"gw.internal", b"https://app.example").status == 200
        assert _chat(gw, b"gw.internal", b"https://gw.internal").status == 200
        assert gateway_error(_chat(gw, b"other.internal"))[0] == 421
        assert gateway_error(_chat(gw, b"gw.internal", b"https://evil.example"))[0] == 403


def test_a_star_turns_the_host_check_off() -> None:
    with LocalGateway(allowed_hosts=["*"]) as gw:
        assert _chat(gw, b"anything.example").status == 200


def test_the_config_file_takes_allowed_hosts(tmp_path: Path) -> None:
    from langchain_cf_gateway.local.config import load_config

    path = tmp_path / "local.json"
    path.write_text(
        json.dumps({"allowed_hosts": ["gw.internal"], "allowed_origins": ["https://a.b"]})
    )
    config = load_config(path, environ={})
    assert config.allowed_hosts == ["gw.internal"]
    assert config.allowed_origins == ["https://a.b"]
    path.write_text(json.dumps({"allowed_hosts": "gw.internal"}))
    with pytest.raises(Exception, match="allowed_hosts"):
        load_config(path, environ={})


def test_cf_aig_serve_refuses_a_foreign_host_and_serves_an_allowed_one(tmp_path: Path) -> None:
    from tests.support.gateway_process import GatewayProcess

    process = GatewayProcess("--allowed-host", "gw.internal").start()
    try:
        port = int(process.base_url.rsplit(":", 1)[1])
        target = b"/v1/acct/default/compat/chat/completions"
        ok = raw_request(
            port,
            target,
            headers=[(b"content-type", b"application/json")],
            body=CHAT,
            host=b"gw.internal",
        )
        assert ok.status == 200
        bad = raw_request(port, target, body=CHAT, host=b"rebound.example")
        assert gateway_error(bad)[0] == 421
    finally:
        process.stop()
    assert sys.executable and subprocess  # the process helper runs this interpreter


def test_two_host_headers_get_400(gw: LocalGateway) -> None:
    target = f"/v1/{gw.account_id}/default/compat/chat/completions".encode()
    response = raw_request(
        gw.port, target, headers=[(b"host", b"attacker.example")], body=CHAT, host=b"127.0.0.1"
    )
    assert gateway_error(response)[0] == 400
