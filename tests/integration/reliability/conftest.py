"""Fixtures of the reliability suite: the misbehaving raw server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.rawserver import MisbehavingServer


@pytest.fixture(scope="module")
def _raw_server() -> Iterator[MisbehavingServer]:
    with MisbehavingServer() as server:
        yield server


@pytest.fixture
def raw(_raw_server: MisbehavingServer) -> MisbehavingServer:
    """The raw server, its plan and records cleared before each test."""
    _raw_server.reset()
    return _raw_server
