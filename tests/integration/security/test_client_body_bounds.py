"""Client side: a response body is bounded, however it is compressed.

A 300 KB gzip body inflates to 300 MiB. Read by a client that decompresses it whole,
it takes ~650 MB (the inflated bytes and their join). Every client path must stop at
its cap with a typed ``ResponseTooLargeError`` naming the cap and the setting to raise,
and its peak memory must grow by well under the inflated size.

Each case runs in a fresh interpreter so that its peak RSS (``ru_maxrss``) belongs to
that one call: the parent serves the bomb on loopback, the child calls and reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .client_helpers import (
    ACCOUNT,
    GATEWAY,
    HostileServer,
    gzip_bomb,
    hostile_server,
)

PEAK_GROWTH_LIMIT_MB = 100
"""What one bounded call may add to the peak RSS (the bomb inflates to 300 MiB)."""

_CHILD = r"""
import asyncio, json, resource, sys
path, base_url, account, gateway = sys.argv[1:5]
from langchain_cf_gateway import ChatCloudflareGateway, CloudflareGatewayEmbeddings
from langchain_cf_gateway.management import AsyncGatewayClient, GatewayClient

kw = {"base_url": base_url, "account_id": account, "gateway_id": gateway}
lkw = {"api_base": base_url, "account_id": account, "gateway_id": gateway, "num_retries": 0}
msgs = [{"role": "user", "content": "hi"}]
litellm = None
if path.startswith("litellm"):
    import litellm
    from langchain_cf_gateway.litellm_provider import register, gateway_error
    litellm.disable_hf_tokenizer_download = True
    register()

async def drain(stream):
    return [c async for c in stream]

def call():
    if path.startswith("chat"):
        m = ChatCloudflareGateway(model="openai/gpt-4o-mini", max_retries=0, **kw)
        what = path.split(":")[1]
        if what == "invoke":
            return m.invoke("hi")
        if what == "ainvoke":
            return asyncio.run(m.ainvoke("hi"))
        if what == "stream":
            return list(m.stream("hi"))
        return asyncio.run(drain(m.astream("hi")))
    if path == "embeddings":
        e = CloudflareGatewayEmbeddings(model="openai/text-embedding-3-small", max_retries=0, **kw)
        return e.embed_query("hi")
    if path == "litellm:completion":
        return litellm.completion(model="cloudflare-ai-gateway/openai/gpt-4o-mini", messages=msgs, **lkw)
    if path == "litellm:acompletion":
        return asyncio.run(litellm.acompletion(model="cloudflare-ai-gateway/openai/gpt-4o-mini", messages=msgs, **lkw))
    if path == "litellm:stream":
        return list(litellm.completion(model="cloudflare-ai-gateway/openai/gpt-4o-mini", messages=msgs, stream=True, **lkw))
    if path == "litellm:embedding":
        return litellm.embedding(model="cloudflare-ai-gateway/openai/text-embedding-3-small", input=["hi"], **lkw)
    if path == "management":
        with GatewayClient(api_token="t0ken", max_retries=0, **kw) as c:
            return c.get_log("01JLOGID")
    async def go():
        async with AsyncGatewayClient(api_token="t0ken", max_retries=0, **kw) as c:
            return await c.get_log("01JLOGID")
    return asyncio.run(go())

# Warm up: the same call once against a small error answer, so that lazy imports and
# set-up are done before the baseline is taken.
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Small(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def _answer(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        body = b'{"error": {"message": "warm-up"}}'
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_POST = _answer

small = ThreadingHTTPServer(("127.0.0.1", 0), Small)
threading.Thread(target=small.serve_forever, daemon=True).start()
bomb_url = base_url
kw["base_url"] = lkw["api_base"] = "http://127.0.0.1:%d" % small.server_address[1]
try:
    call()
except BaseException:
    pass
kw["base_url"] = lkw["api_base"] = bomb_url
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = {"error": None, "names": [], "message": ""}
try:
    call()
except BaseException as exc:
    out["error"] = type(exc).__name__
    found = exc
    if litellm is not None:
        found = gateway_error(exc) or exc
    out["names"] = [c.__name__ for c in type(found).__mro__]
    out["message"] = str(found)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out["growth_mb"] = (after - before) / 1024
print("RESULT " + json.dumps(out))
"""

PATHS = (
    "chat:invoke",
    "chat:ainvoke",
    "chat:stream",
    "chat:astream",
    "embeddings",
    "litellm:completion",
    "litellm:acompletion",
    "litellm:stream",
    "litellm:embedding",
    "management",
    "management:async",
)


def _bomb_answer(status: int, content_type: str) -> HostileServer:
    body = gzip_bomb()
    headers = {"content-type": content_type, "content-encoding": "gzip"}
    return HostileServer(lambda h: h.answer(status, body, headers))


@pytest.fixture(scope="module")
def bomb_200() -> Iterator[HostileServer]:
    server = _bomb_answer(200, "application/json")
    yield server
    server.close()


@pytest.fixture(scope="module")
def bomb_sse() -> Iterator[HostileServer]:
    server = _bomb_answer(200, "text/event-stream")
    yield server
    server.close()


@pytest.fixture(scope="module")
def bomb_error() -> Iterator[HostileServer]:
    server = _bomb_answer(500, "application/json")
    yield server
    server.close()


def _run_child(path: str, server: HostileServer) -> dict[str, object]:
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    for name in ("CLOUDFLARE_AI_GATEWAY_TOKEN", "CF_AIG_TOKEN", "CLOUDFLARE_API_TOKEN"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, path, server.base_url, ACCOUNT, GATEWAY],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=root,
        env=env,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"the child died: rc={done.returncode}\n{done.stderr[-3000:]}"
    result: dict[str, object] = json.loads(lines[-1][len("RESULT ") :])
    return result


def _assert_bounded(result: dict[str, object]) -> None:
    names = result["names"]
    assert isinstance(names, list)
    assert "ResponseTooLargeError" in names, result
    assert "max_response_bytes" in str(result["message"]), result
    growth = result["growth_mb"]
    assert isinstance(growth, float)
    assert growth < PEAK_GROWTH_LIMIT_MB, result


@pytest.mark.parametrize("path", [p for p in PATHS if p not in ("chat:stream", "chat:astream")])
def test_gzip_bomb_answer_is_cut_at_the_cap(path: str, bomb_200: HostileServer) -> None:
    _assert_bounded(_run_child(path, bomb_200))


@pytest.mark.parametrize("path", ["chat:stream", "chat:astream", "litellm:stream"])
def test_gzip_bomb_stream_is_cut_at_the_cap(path: str, bomb_sse: HostileServer) -> None:
    _assert_bounded(_run_child(path, bomb_sse))


@pytest.mark.parametrize("path", ["chat:invoke", "litellm:completion", "management"])
def test_gzip_bomb_error_body_is_cut_at_the_cap(path: str, bomb_error: HostileServer) -> None:
    _assert_bounded(_run_child(path, bomb_error))


def test_a_normal_gzip_answer_still_reads(tmp_path: Path) -> None:
    """The bound decodes what it bounds: an ordinary gzip answer comes through intact."""
    import gzip

    from langchain_cf_gateway import ChatCloudflareGateway

    answer = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "unzipped " * 1000},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1000, "total_tokens": 1001},
    }
    body = gzip.compress(json.dumps(answer).encode())
    headers = {"content-encoding": "gzip"}
    for server in hostile_server(lambda h: h.answer(200, body, headers)):
        model = ChatCloudflareGateway(
            model="openai/gpt-4o-mini",
            base_url=server.base_url,
            account_id=ACCOUNT,
            gateway_id=GATEWAY,
            max_retries=0,
        )
        assert model.invoke("hi").content == "unzipped " * 1000
