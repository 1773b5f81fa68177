"""The management API (spec section 8) and the local admin routes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import Route

if TYPE_CHECKING:
    from .app import GatewayApp


def management_routes(app: GatewayApp) -> list[Route]:
    return []
