"""A hostile gateway for the client-side tests: a raw loopback HTTP server whose answers
the tests choose (an error body that echoes credentials, a gzip bomb, an endless drip).

It is built on the standard library's ``http.server``; every answer is written as the
test asks, which a real gateway would never do.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ACCOUNT = "acct-security"
GATEWAY = "gw-security"

BOMB_INFLATED_BYTES = 300 * 1024 * 1024
"""What the gzip bomb inflates to: 300 MiB of zeros (about 300 KB on the wire)."""

DRIP_INTERVAL_S = 0.5
DRIP_MAX_S = 20.0
"""The drip gives up after this long (so a client without a deadline still ends)."""


@lru_cache(maxsize=1)
def gzip_bomb() -> bytes:
    """A gzip body of :data:`BOMB_INFLATED_BYTES` zeros, compressed in slices."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(1024 * 1024)
    parts = [compressor.compress(block) for _ in range(BOMB_INFLATED_BYTES // len(block))]
    parts.append(compressor.flush())
    return b"".join(parts)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


Behaviour = Callable[["_Handler"], None]


@dataclass
class HostileServer:
    """Answers every request with :attr:`behaviour`; records what it saw."""

    behaviour: Behaviour = field(default=lambda h: h.answer(500, b"{}"))
    seen: list[Seen] = field(default_factory=list)
    drips_cut_by_client: int = 0
    """Drips that ended because the client hung up (not because the drip gave up)."""

    def __post_init__(self) -> None:
        outer = self

        class Handler(_Handler):
            server_state = outer

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-answer is what these tests provoke


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_state: HostileServer

    def log_message(self, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server_state.seen.append(Seen(self.command, self.path, headers))
        self.server_state.behaviour(self)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

    # ------------------------------------------------------------------ answers

    def answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        all_headers = {"content-type": "application/json", **(headers or {})}
        for name, value in all_headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def drip(self, content_type: str = "text/event-stream") -> None:
        """One byte of SSE comment every :data:`DRIP_INTERVAL_S`, for :data:`DRIP_MAX_S`."""
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        pattern = b": keep-alive\n\n"
        end = time.monotonic() + DRIP_MAX_S
        index = 0
        try:
            while time.monotonic() < end:
                byte = pattern[index % len(pattern) : index % len(pattern) + 1]
                self.wfile.write(b"1\r\n" + byte + b"\r\n")
                self.wfile.flush()
                index += 1
                time.sleep(DRIP_INTERVAL_S)
            self.close_connection = True  # give up without finishing the chunked body
        except OSError:
            self.server_state.drips_cut_by_client += 1
            self.close_connection = True


def hostile_server(behaviour: Behaviour) -> Iterator[HostileServer]:
    server = HostileServer(behaviour)
    try:
        yield server
    finally:
        server.close()


def gateway_kwargs(server: HostileServer, **extra: Any) -> dict[str, Any]:
    """Where a ChatCloudflareGateway / embeddings / GatewayClient finds the hostile gateway."""
    return {"base_url": server.base_url, "account_id": ACCOUNT, "gateway_id": GATEWAY, **extra}


def litellm_kwargs(server: HostileServer, **extra: Any) -> dict[str, Any]:
    """The same for ``litellm.completion(model="cloudflare-ai-gateway/...")``."""
    return {"api_base": server.base_url, "account_id": ACCOUNT, "gateway_id": GATEWAY, **extra}


@lru_cache(maxsize=1)
def litellm_registered() -> Any:
    """LiteLLM with the provider registered, offline (as tests/integration/litellm's fixture does)."""
    import litellm

    from langchain_cf_gateway.litellm_provider import register

    litellm.disable_hf_tokenizer_download = True
    register()
    return litellm
