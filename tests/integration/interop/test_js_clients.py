"""Cloudflare's JS clients against a real ``cf-aig serve``, run with Node.

``ai-gateway-provider`` (Cloudflare's provider for the Vercel AI SDK) with ``@ai-sdk/openai``,
and the ``openai`` npm SDK on the compat endpoint. The scripts live in ``js/`` with a
committed ``package.json`` and lockfile; ``make js`` (``npm ci``) installs them. Without
``node`` or the installed modules these tests skip and say so; CI installs Node.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from langchain_cf_gateway.core import Header

from .served import PROVIDER_KEY, Served

JS_DIR = Path(__file__).parent / "js"
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.skipif(
        NODE is None,
        reason="node is not installed: apt-get install nodejs npm, then make js (CI does both)",
    ),
    pytest.mark.skipif(
        not (JS_DIR / "node_modules" / "ai-gateway-provider").is_dir(),
        reason="tests/integration/interop/js/node_modules is missing: run `make js` (npm ci)",
    ),
]


def run_js(script: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run ``js/<script>`` with one JSON argument; its JSON answer, or the Node error."""
    assert NODE is not None
    done = subprocess.run(
        [NODE, script, json.dumps(args)],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"node {script} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def provider(gw: Served, **args: Any) -> dict[str, Any]:
    base = {
        "baseUrl": gw.base_url,
        "accountId": gw.account,
        "gateway": "default",
        "providerKey": PROVIDER_KEY,
        "prompt": "What is the capital of France?",
        "models": ["gpt-4o-mini"],
    }
    return run_js("ai_gateway_provider.mjs", {**base, **args})


def only_log(gw: Served) -> dict[str, Any]:
    [row] = gw.raw_logs()
    return row


# --------------------------------------------------------------------------- openai npm SDK


def test_openai_npm_sdk_on_compat(gw: Served) -> None:
    answer = run_js(
        "openai_sdk.mjs",
        {
            "baseUrl": gw.base_url,
            "accountId": gw.account,
            "gateway": "default",
            "providerKey": PROVIDER_KEY,
            "model": "openai/gpt-4o-mini",
            "prompt": "Hello from Node",
            "headers": {Header.EVENT_ID: "js-1", Header.METADATA: '{"client":"openai-npm"}'},
        },
    )
    assert isinstance(answer["text"], str) and answer["text"]
    assert answer["usage"]["prompt_tokens"] > 0
    row = only_log(gw)
    assert answer["headers"][Header.LOG_ID] == row["id"]
    assert (row["event_id"], json.loads(row["metadata"])) == ("js-1", {"client": "openai-npm"})
    assert (row["provider"], row["model"], row["success"]) == ("openai", "gpt-4o-mini", True)


def test_openai_npm_sdk_streams_on_compat(gw: Served) -> None:
    answer = run_js(
        "openai_sdk.mjs",
        {
            "baseUrl": gw.base_url,
            "accountId": gw.account,
            "gateway": "default",
            "providerKey": PROVIDER_KEY,
            "model": "openai/gpt-4o-mini",
            "prompt": "Stream to Node",
            "stream": True,
        },
    )
    assert answer["text"] and answer["usage"]["completion_tokens"] > 0
    assert only_log(gw)["success"] is True


# --------------------------------------------------------------------------- ai-gateway-provider


def test_generate_text_with_cache_metadata_and_event_id(gw: Served) -> None:
    options = {"cacheTtl": 600, "metadata": {"team": "js", "n": 1}, "eventId": "js-gen"}
    first = provider(gw, options=options)
    assert first["text"] and first["finishReason"] == "stop"
    assert first["headers"][Header.CACHE_STATUS] == "MISS"
    again = provider(gw, options=options)
    assert again["text"] == first["text"]
    assert again["headers"][Header.CACHE_STATUS] == "HIT"
    rows = gw.raw_logs()
    assert [r["cached"] for r in rows] == [False, True]
    assert {r["event_id"] for r in rows} == {"js-gen"}
    assert json.loads(rows[0]["metadata"]) == {"team": "js", "n": 1}


def test_skip_cache_goes_to_the_provider(gw: Served) -> None:
    provider(gw, options={"cacheTtl": 600})
    skipped = provider(gw, options={"cacheTtl": 600, "skipCache": True})
    assert skipped["headers"].get(Header.CACHE_STATUS) != "HIT"
    assert [r["cached"] for r in gw.raw_logs()] == [False, False]


def test_stream_text(gw: Served) -> None:
    answer = provider(gw, stream=True, options={"eventId": "js-stream"})
    assert answer["text"] and answer["finishReason"] == "stop"
    row = only_log(gw)
    assert (row["event_id"], row["success"]) == ("js-stream", True)


def test_retries_header_recovers_from_a_503(gw: Served) -> None:
    answer = provider(
        gw,
        models=["gpt-4o-mini~status=503~attempts=1"],
        options={"retries": {"maxAttempts": 3, "retryDelayMs": 0, "backoff": "constant"}},
    )
    assert answer["text"]
    row = only_log(gw)
    assert row["success"] is True and row.get("attempts", 2) == 2


def test_fallback_to_the_second_model(gw: Served) -> None:
    answer = provider(gw, models=["gpt-4o-mini~status=503", "gpt-4o"])
    assert answer["text"]
    assert answer["headers"][Header.STEP] == "1"
    rows = gw.raw_logs()
    assert [(r["success"], r["model"]) for r in rows][-1] == (True, "gpt-4o")


def test_tool_call(gw: Served) -> None:
    gw.admin(
        "POST",
        "/__local/scripts",
        json={"tool_calls": [{"name": "weather", "arguments": {"city": "Paris"}}]},
    )
    answer = provider(gw, tools=True, prompt="Weather in Paris?")
    assert answer["finishReason"] == "tool-calls"
    assert answer["toolCalls"] == [{"toolName": "weather", "input": {"city": "Paris"}}]


def test_responses_api_generate(gw: Served) -> None:
    answer = provider(gw, api="responses")
    assert answer["text"] and only_log(gw)["success"] is True


def test_responses_api_stream(gw: Served) -> None:
    answer = provider(gw, api="responses", stream=True)
    assert answer["text"] and only_log(gw)["success"] is True


def test_responses_api_tool_call(gw: Served) -> None:
    gw.admin(
        "POST",
        "/__local/scripts",
        json={"tool_calls": [{"name": "weather", "arguments": {"city": "Paris"}}]},
    )
    answer = provider(gw, api="responses", tools=True, prompt="Weather in Paris?")
    assert answer["finishReason"] == "tool-calls"
    assert answer["toolCalls"] == [{"toolName": "weather", "input": {"city": "Paris"}}]
    assert only_log(gw)["path"] == "openai/v1/responses"
