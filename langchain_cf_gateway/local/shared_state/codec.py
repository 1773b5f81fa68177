"""JSON of the shared state's records, as `redis_state` stores them.

A gateway is its `GatewayRecord` fields (without the in-process rate-limit counters);
a route is its `StoredRoute` with each version's route in the API's JSON
(`DynamicRoute.to_api`); a script is `Script.as_dict` plus its id and the policy of
its fault, which the Lua script of `redis_state` reads. The config file's settings of a
start-up gateway are kept only as a digest (`settings_fingerprint`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any, Final

from ...core.dynamic_routes import DynamicRoute
from ..faults import Fault
from ..gateways import GatewayRecord
from ..route_store import RouteDeployment, RouteVersion, StoredRoute
from ..scripts import Script

_GATEWAY_FIELDS: Final = tuple(f.name for f in fields(GatewayRecord) if not f.name.startswith("_"))


def dump_gateway(gateway: GatewayRecord, order: int) -> str:
    """The record as JSON (its settings, identity and cache generation) and its `order`.

    Args:
        gateway: the record.
        order: its place in creation order (the list of gateways is sorted by it).

    Returns:
        The JSON text.
    """
    data: dict[str, Any] = {name: getattr(gateway, name) for name in _GATEWAY_FIELDS}
    data["order"] = order
    return json.dumps(data)


def settings_fingerprint(settings: Mapping[str, Any]) -> str:
    """A digest of a start-up gateway's settings, as validated (`validate_settings`).

    Equal settings give equal digests whatever their order; it tells whether the config
    file changed since a gateway was created or replaced from it, without keeping the
    settings' values a second time.
    """
    text = json.dumps(dict(settings), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def load_gateway(raw: str | bytes) -> tuple[GatewayRecord, int]:
    """The record of `dump_gateway`'s JSON, and its order."""
    data = json.loads(raw)
    fields_ = {k: v for k, v in data.items() if k in _GATEWAY_FIELDS}
    return GatewayRecord(**fields_), int(data.get("order", 0))


def dump_routes(routes: list[StoredRoute]) -> str:
    """A gateway's routes as JSON, oldest first."""
    return json.dumps(
        [
            {
                "id": r.id,
                "gateway_id": r.gateway_id,
                "name": r.name,
                "created_at": r.created_at,
                "modified_at": r.modified_at,
                "versions": [
                    {
                        "version_id": v.version_id,
                        "created_at": v.created_at,
                        "route": v.route.to_api(),
                        "comment": v.comment,
                    }
                    for v in r.versions
                ],
                "deployments": [asdict(d) for d in r.deployments],
            }
            for r in routes
        ]
    )


def load_routes(raw: str | bytes) -> list[StoredRoute]:
    """The routes of `dump_routes`'s JSON."""
    return [
        StoredRoute(
            id=r["id"],
            gateway_id=r["gateway_id"],
            name=r["name"],
            created_at=r["created_at"],
            modified_at=r["modified_at"],
            versions=tuple(
                RouteVersion(
                    v["version_id"],
                    v["created_at"],
                    DynamicRoute.from_api(v["route"]),
                    v["comment"],
                )
                for v in r["versions"]
            ),
            deployments=tuple(RouteDeployment(**d) for d in r["deployments"]),
        )
        for r in json.loads(raw)
    ]


def dump_script(script: Script, script_id: str) -> str:
    """The script as JSON, with its id and its fault's `policy` at the top for Lua."""
    data = script.as_dict()
    data.pop("used")
    data["id"] = script_id
    data["policy"] = None if script.fault is None else script.fault.policy
    return json.dumps(data)


def load_script(raw: str | bytes, used: int = 0) -> Script:
    """The script of `dump_script`'s JSON, `used` times used."""
    data: dict[str, Any] = json.loads(raw)
    fault = data.get("fault")
    return Script(
        data.get("text"),
        list(data.get("tool_calls") or ()),
        None if fault is None else Fault(**fault),
        data.get("model"),
        data.get("provider"),
        data.get("times"),
        used,
    )
