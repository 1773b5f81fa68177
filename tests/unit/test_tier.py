"""The unit tier refuses sockets: a test here that opens a connection fails."""

from __future__ import annotations

import socket

import httpx
import pytest


def test_a_connection_is_refused() -> None:
    with pytest.raises(RuntimeError, match="socket-free"):
        socket.create_connection(("127.0.0.1", 9))


def test_an_httpx_call_without_a_mock_transport_is_refused() -> None:
    with pytest.raises(RuntimeError, match="socket-free"), httpx.Client() as client:
        client.get("http://127.0.0.1:9/")


def test_a_mock_transport_needs_no_socket() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True}))
    with httpx.Client(transport=transport) as client:
        assert client.get("http://gateway.test/").json() == {"ok": True}
