"""The unit tier: pure functions and `httpx.MockTransport`, no sockets.

Every test under `tests/unit/` runs with network connections refused, so a test that
reaches for a socket fails here instead of passing slowly. The tier runs in seconds:
`pytest tests/unit`.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest


class SocketUsedError(RuntimeError):
    """A unit test opened a network connection."""


def _refuse(*args: Any, **kwargs: Any) -> NoReturn:
    raise SocketUsedError(
        "tests/unit is socket-free: use httpx.MockTransport or move the test to an integration tier"
    )


@pytest.fixture(autouse=True)
def _no_sockets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(socket.socket, "bind", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    yield
