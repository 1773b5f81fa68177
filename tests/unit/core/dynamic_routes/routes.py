"""A valid route in the API's JSON, with every element type, for the tests to break."""

from __future__ import annotations

import copy
from typing import Any


def ref(element_id: str) -> dict[str, str]:
    return {"elementId": element_id}


VALID: dict[str, Any] = {
    "name": "support",
    "elements": [
        {"id": "start", "type": "start", "outputs": {"next": ref("plan")}},
        {
            "id": "plan",
            "type": "conditional",
            "properties": {"conditions": {"metadata.plan": {"$eq": "paid"}}},
            "outputs": {"true": ref("split"), "false": ref("limit")},
        },
        {
            "id": "split",
            "type": "percentage",
            "outputs": {"80%": ref("gpt"), "20%": ref("claude")},
        },
        {
            "id": "limit",
            "type": "rate",
            "properties": {
                "limitType": "count",
                "key": "metadata.user_id",
                "limit": 100,
                "window": 3600,
                "technique": "sliding",
            },
            "outputs": {"success": ref("gpt"), "fallback": ref("end")},
        },
        {
            "id": "gpt",
            "type": "model",
            "properties": {
                "provider": "openai",
                "model": "gpt-4o-mini",
                "timeout": 10000,
                "retries": 2,
            },
            "outputs": {"success": ref("end"), "fallback": ref("claude")},
        },
        {
            "id": "claude",
            "type": "model",
            "properties": {
                "provider": "anthropic",
                "model": "claude-3-5-haiku",
                "timeout": 10000,
                "retries": 0,
            },
            "outputs": {"success": ref("end"), "fallback": ref("end")},
        },
        {"id": "end", "type": "end", "outputs": {}},
    ],
}


def valid() -> dict[str, Any]:
    return copy.deepcopy(VALID)


def element(route: dict[str, Any], element_id: str) -> dict[str, Any]:
    return next(e for e in route["elements"] if e.get("id") == element_id)
