"""Fixtures of the interop tests: one `cf-aig serve` per module, emptied before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.gateway_process import GatewayProcess

from .served import Served


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """One ``cf-aig serve`` for the module."""
    with GatewayProcess() as process:
        gateway = Served(process)
        try:
            yield gateway
        finally:
            gateway.http.close()


@pytest.fixture
def gw(served: Served) -> Served:
    """The module's gateway, emptied before the test."""
    served.reset()
    return served
