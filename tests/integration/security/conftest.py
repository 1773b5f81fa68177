"""Fixtures the security tests share: a local gateway and a recording upstream per module.

A module that needs a gateway of another shape (authentication on, upstreams passed
through to its recorder) defines its own `gw`, which takes precedence over this one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from langchain_cf_gateway.local import LocalGateway


@pytest.fixture(scope="module")
def gw() -> Iterator[LocalGateway]:
    """A local gateway with its defaults, for the module."""
    from langchain_cf_gateway.local import LocalGateway

    with LocalGateway() as gateway:
        yield gateway


@pytest.fixture(scope="module")
def upstream(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The `RecordingUpstream` the module imports, running for the module.

    There are three: `creds_helpers`' records what headers leave the gateway,
    `edge_helpers`' keeps every byte and parses it with h11, and `upstreams`' parses
    requests out of the bytes as a naive upstream does (smuggling).
    """
    with request.module.RecordingUpstream() as recorder:
        yield recorder
