"""A fault status is one the mock can answer with an error body (attack finding F5).

``~status=CODE`` makes the mock answer HTTP CODE with the provider's error body. A 1xx is
not a final answer, 204, 205 and 304 carry no body (RFC 9110 sections 15.3.5, 15.3.6,
15.4.5) and a 3xx is a redirect without a ``Location``: none of them is an error a
client can be tested against. Before, ``~status=304`` sent a 304 with a body (the server
raised and the keep-alive connection was lost) and 1xx/204/205 came back as a logged
success. Now any status outside 400 to 599 is refused with a 400 that names the
directive and the range, in the model name, in a script and in ``POST /__local/scripts``,
and the connection stays usable.
"""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from langchain_cf_gateway.local import LocalGateway
from tests.support.local_calls import api_error, gateway_error

HELLO = [{"role": "user", "content": "Hello there"}]
http = httpx.Client(timeout=30)
BAD = ["100", "101", "103", "199", "200", "204", "205", "300", "302", "304", "399", "600"]
GOOD = [400, 418, 429, 503, 599]


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    """One HTTP/1.1 response with a Content-Length from ``sock``: (status, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the connection was closed before a response head: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    fields = dict(line.split(":", 1) for line in lines[1:])
    length = int({k.strip().lower(): v for k, v in fields.items()}["content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "the connection was closed inside a response body"
        body += chunk
    assert len(body) == length, "more bytes than the Content-Length"
    return status, body


def _post(sock: socket.socket, path: str, body: dict[str, object]) -> tuple[int, bytes]:
    payload = json.dumps(body).encode()
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        f"content-length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
    return _read_response(sock)


@pytest.mark.parametrize("code", BAD)
@pytest.mark.parametrize("route", ["compat", "native"])
def test_a_fault_status_without_an_error_body_is_refused_and_the_connection_lives(
    gw: LocalGateway, code: str, route: str
) -> None:
    gw.reset()
    prefix = f"/v1/{gw.account_id}/default"
    if route == "compat":
        path, model, good = f"{prefix}/compat/chat/completions", "openai/gpt-4o-mini", "openai/m"
    else:
        path, model, good = f"{prefix}/openai/chat/completions", "gpt-4o-mini", "m"
    host, port = gw.base_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        status, body = _post(sock, path, {"model": f"{model}~status={code}", "messages": HELLO})
        response = httpx.Response(status, content=body)
        assert gateway_error(response)[0] == 400, body
        message = response.json()["message"]
        assert f"status={code}" in message and "400 to 599" in message, message
        # the same keep-alive connection answers the next request
        status, body = _post(sock, path, {"model": good, "messages": HELLO})
        assert status == 200, body
        assert json.loads(body)["choices"][0]["message"]["content"]


@pytest.mark.parametrize("code", BAD)
def test_a_script_with_such_a_status_is_refused(gw: LocalGateway, code: str) -> None:
    gw.reset()
    with pytest.raises(ValueError, match="400 to 599"):
        gw.script(fault=f"status={code}")
    response = http.post(
        f"{gw.base_url}/__local/scripts",
        json={"fault": f"status={code}"},
        headers={"authorization": f"Bearer {gw.management_token}"},
    )
    assert api_error(response)[0] == 400
    assert "400 to 599" in response.text
    listed = http.get(
        f"{gw.base_url}/__local/scripts",
        headers={"authorization": f"Bearer {gw.management_token}"},
    )
    assert listed.json()["result"] == []  # nothing was registered


@pytest.mark.parametrize("code", GOOD)
def test_an_error_status_is_answered_with_the_provider_error_body(
    gw: LocalGateway, code: int
) -> None:
    gw.reset()
    response = http.post(
        f"{gw.gateway_url}/openai/chat/completions",
        json={"model": f"gpt-4o-mini~status={code}", "messages": HELLO},
    )
    assert response.status_code == code, response.text
    assert response.json()["error"]["code"] == str(code)
