"""The local gateway under load and faults: no lost rows, crash safety, cache isolation,
auth on every route, loopback only, 413 for oversized requests, Redis going away."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import socket
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.routing import Route

from langchain_cf_gateway.core import Bounds, Header
from langchain_cf_gateway.local import LocalGateway
from tests.support.gateway_process import ACCOUNT, MANAGEMENT_TOKEN, GatewayProcess
from tests.support.rawserver import free_port

from .load import run_load

HELLO = [{"role": "user", "content": "Hello"}]


def compat_url(base_url: str, account: str, gateway_id: str = "default") -> str:
    return f"{base_url}/v1/{account}/{gateway_id}/compat/chat/completions"


# --------------------------------------------------------------------------- no loss

SUITE_LOAD = 300
"""Requests of the in-suite load test; ``make soak`` sends 10,000 (see soak.py). On this
2-core machine the local gateway serves 50 to 80 requests a second while other work
runs, so 10,000 would take minutes: the soak's job, not the suite's."""


def test_no_row_lost_under_concurrency(gateway: LocalGateway) -> None:
    report = asyncio.run(
        run_load(gateway.base_url, gateway.account_id, SUITE_LOAD, concurrency=100)
    )
    assert report.errors == {} and len(report.acked) == SUITE_LOAD
    rows = gateway.logs()
    assert len(rows) == SUITE_LOAD
    by_id = {row["id"]: row for row in rows}
    assert len(by_id) == SUITE_LOAD  # unique log ids
    for log_id, (event_id, metadata) in report.acked.items():
        row = by_id[log_id]  # every acknowledged response has its row...
        # ...with its own metadata and event id, never a neighbour's.
        assert (row["event_id"], row["metadata"]) == (event_id, metadata)
        assert row["success"] and row["status_code"] == 200


# --------------------------------------------------------------------------- crash safety


def test_kill_9_mid_load_keeps_every_acknowledged_row(tmp_path: Path) -> None:
    db = tmp_path / "logs.sqlite"
    process = GatewayProcess(log_path=db).start()
    try:
        report = asyncio.run(
            run_load(
                process.base_url,
                ACCOUNT,
                100_000,
                concurrency=50,
                kill_after=150,
                kill=process.kill,
            )
        )
    finally:
        process.stop()
    assert len(report.acked) >= 150  # the kill came mid-load, with requests in flight
    with sqlite3.connect(db) as conn:  # before a restart: what the crash left on disk
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with GatewayProcess(log_path=db) as again:  # the store reopens and serves the rows
        listed = httpx.get(
            f"{again.base_url}/client/v4/accounts/{ACCOUNT}/ai-gateway/gateways/default/logs",
            params={"per_page": 1},
            headers={"authorization": f"Bearer {MANAGEMENT_TOKEN}"},
        ).json()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = dict(conn.execute("SELECT id, event_id FROM logs").fetchall())
    missing = [log_id for log_id in report.acked if log_id not in stored]
    assert missing == []
    assert all(stored[i] == event for i, (event, _) in report.acked.items())
    assert listed["result_info"]["total_count"] == len(stored) >= len(report.acked)


# --------------------------------------------------------------------------- cache isolation


def test_two_provider_keys_never_share_an_entry(gateway: LocalGateway) -> None:
    url = compat_url(gateway.base_url, gateway.account_id)
    body = {"model": "openai/gpt-4o-mini", "messages": HELLO}

    def status(key: str) -> tuple[str | None, str]:
        r = httpx.post(
            url, json=body, headers={"authorization": f"Bearer {key}", Header.CACHE_TTL: "600"}
        )
        return r.headers.get(Header.CACHE_STATUS), r.json()["id"]

    a1, b1, a2, b2 = status("key-a"), status("key-b"), status("key-a"), status("key-b")
    assert (a1[0], b1[0], a2[0], b2[0]) == ("MISS", "MISS", "HIT", "HIT")
    assert a2[1] == a1[1] and b2[1] == b1[1]  # each key gets its own response back
    rows = gateway.logs()
    assert [r["cached"] for r in rows] == [False, False, True, True]


def test_custom_cache_key_is_per_gateway(gateway: LocalGateway) -> None:
    name = f"iso-{uuid.uuid4().hex[:8]}"
    gateway.create_gateway(name)
    headers = {Header.CACHE_KEY: "shared-key", Header.CACHE_TTL: "600"}

    def ask(gateway_id: str, text: str) -> httpx.Response:
        return httpx.post(
            compat_url(gateway.base_url, gateway.account_id, gateway_id),
            json={"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": text}]},
            headers=headers,
        )

    first = ask("default", "question one")
    other = ask(name, "question two")  # same custom key, another gateway
    again = ask("default", "question three")  # same key, same gateway: the stored response
    assert first.headers[Header.CACHE_STATUS] == "MISS"
    assert other.headers[Header.CACHE_STATUS] == "MISS"
    assert other.json()["choices"] != first.json()["choices"]
    assert again.headers[Header.CACHE_STATUS] == "HIT" and again.json() == first.json()


# --------------------------------------------------------------------------- auth


def concrete(path: str, gateway_id: str) -> str:
    values = {
        "account_id": "local-account",
        "gateway_id": gateway_id,
        "path": "openai/chat/completions",
        "log_id": "0" * 8,
        "part": "request",
    }
    for name, value in values.items():
        path = path.replace("{" + name + ":path}", value).replace("{" + name + "}", value)
    return path


def test_auth_on_every_route(gateway: LocalGateway) -> None:
    name = f"sec-{uuid.uuid4().hex[:8]}"
    gateway.create_gateway(name, authentication=True)
    routes = [r for r in gateway._state.app.routes if isinstance(r, Route)]
    assert len(routes) >= 10
    client = httpx.Client(base_url=gateway.base_url, timeout=10)
    checked: list[str] = []
    for route in routes:
        for method in sorted((route.methods or set()) - {"HEAD"}):
            url = concrete(route.path, name)
            body = json.dumps({"model": "openai/gpt-4o-mini", "messages": HELLO})
            management = "/ai-gateway/" in url or url.startswith("/__local")
            wrong = {
                "none": {},
                "gateway-token": {"authorization": f"Bearer {gateway.token}"},
                "management-as-cf-aig": {
                    Header.AUTHORIZATION: f"Bearer {gateway.management_token}"
                },
                "bad": {Header.AUTHORIZATION: "Bearer nope", "authorization": "Bearer nope"},
            }
            if not management:
                # gateway routes read cf-aig-authorization (the REST route: Authorization)
                wrong["gateway-token-as-provider-key"] = (
                    {"authorization": "Bearer nope"}
                    if "/ai/v1/" in url
                    else {"authorization": f"Bearer {gateway.token}"}
                )
                del wrong["gateway-token"]
            for label, headers in wrong.items():
                r = client.request(
                    method,
                    url,
                    content=body,
                    headers={
                        "content-type": "application/json",
                        Header.GATEWAY_ID: name,
                        **headers,
                    },
                )
                assert r.status_code == 401, (method, url, label, r.status_code, r.text[:200])
                checked.append(f"{method} {route.path}")
    assert any("/__local/" in c for c in checked) and any("/logs/" in c for c in checked)
    assert gateway.logs(name) == []  # rejected before anything is logged or forwarded


# --------------------------------------------------------------------------- loopback


def _listening_addresses(port: int) -> set[str]:
    """Local addresses listening on ``port``, from /proc/net/tcp and tcp6."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_loopback_bind_by_default() -> None:
    with LocalGateway() as gw:
        assert gw.host == "127.0.0.1"
        assert _listening_addresses(gw.port) == {"0100007F"}  # 127.0.0.1, nothing else
    with GatewayProcess() as process:  # cf-aig serve without --host
        port = int(process.base_url.rsplit(":", 1)[1])
        assert process.base_url.startswith("http://127.0.0.1:")
        assert _listening_addresses(port) == {"0100007F"}


# --------------------------------------------------------------------------- 413


def _send_oversized(base_url: str, account: str, *, chunked: bool, size: int) -> tuple[int, bytes]:
    """Send ``size`` bytes of body; stop when a response comes. (bytes sent, response head)."""
    host, port = base_url.split("//")[1].rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=30)
    length = "transfer-encoding: chunked" if chunked else f"content-length: {size}"
    sock.sendall(
        f"POST /v1/{account}/default/compat/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        f"content-type: application/json\r\n{length}\r\n\r\n".encode()
    )
    sock.setblocking(False)
    piece = b"a" * (1 << 20)
    sent, head = 0, b""
    deadline = time.monotonic() + 20  # a server that neither reads nor responds: give up
    try:
        while sent < size and not head and time.monotonic() < deadline:
            data = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
            view = memoryview(data)
            while view:
                try:
                    view = view[sock.send(view) :]
                except BlockingIOError:
                    try:
                        head += sock.recv(65536)
                    except BlockingIOError:
                        time.sleep(0.002)
                    if head or time.monotonic() > deadline:
                        break
            sent += len(piece)
            # Look for a response after every piece too: a server that responded and now
            # drains what still comes (a lingering close) never makes send() block.
            with contextlib.suppress(BlockingIOError):
                head += sock.recv(65536)
        sock.setblocking(True)
        sock.settimeout(5)
        while b"\r\n\r\n" not in head:
            more = sock.recv(65536)
            if not more:
                break
            head += more
    except (BrokenPipeError, ConnectionResetError, TimeoutError):
        pass
    finally:
        sock.close()
    return sent, head


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_request_gets_413_without_being_read_whole(
    gateway: LocalGateway, chunked: bool
) -> None:
    size = 3 * Bounds.CACHEABLE_BODY_MAX_BYTES  # 75 MB offered
    sent, head = _send_oversized(gateway.base_url, gateway.account_id, chunked=chunked, size=size)
    assert head.startswith(b"HTTP/1.1 413"), head[:100]
    # The response came while the body was still being sent: the gateway stopped reading
    # at the limit (content-length: at once) instead of taking in all 75 MB first.
    assert sent < 2 * Bounds.CACHEABLE_BODY_MAX_BYTES
    assert gateway.logs() == [] or gateway.logs()[-1]["status_code"] == 413


# --------------------------------------------------------------------------- Redis down


@pytest.fixture
def redis_url() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0", proc
    if proc.poll() is None:
        proc.kill()
        proc.wait(5)


def test_redis_down_mid_run(
    redis_url: tuple[str, subprocess.Popen[bytes]], caplog: pytest.LogCaptureFixture
) -> None:
    url, redis = redis_url
    caplog.set_level(logging.WARNING)
    with LocalGateway(cache_url=url) as gw:
        post = lambda: httpx.post(  # noqa: E731
            compat_url(gw.base_url, gw.account_id),
            timeout=10,
            json={"model": "openai/gpt-4o-mini", "messages": HELLO},
            headers={Header.CACHE_TTL: "600"},
        )
        assert [post().headers[Header.CACHE_STATUS] for _ in range(2)] == ["MISS", "HIT"]
        redis.kill()
        redis.wait(5)
        after = [post() for _ in range(3)]
        assert [r.status_code for r in after] == [200, 200, 200]
        assert [r.headers[Header.CACHE_STATUS] for r in after] == ["MISS", "MISS", "MISS"]
        assert [row["status_code"] for row in gw.logs()] == [200] * 5
    said = [
        r
        for r in caplog.records
        if r.name.startswith("langchain_cf_gateway")
        and r.levelno >= logging.WARNING
        and "redis" in r.getMessage().lower()
    ]
    assert said, "the gateway did not say that the cache is down"


def test_listening_helper_sees_our_servers() -> None:
    # The loopback test relies on /proc/net/tcp; make sure it can see a listener at all.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert _listening_addresses(s.getsockname()[1]) == {"0100007F"}
