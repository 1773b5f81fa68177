"""The HTTP stack's floor: uvicorn + Starlette responding with canned bytes, in its own process.

``python -m bench.asgi_floor`` serves one Starlette route that reads the body and returns
a fixed chat completion, on the same stack the local gateway runs (uvicorn with its
default HTTP protocol and loop, TCP_NODELAY on the listener). Its CPU per request is
what any gateway built on this stack pays before doing any work of its own; the cache-hit
figure of the local gateway is read against it. Prints ``listening on <url>``.
"""

from __future__ import annotations

import socket
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from langchain_cf_gateway.core import Header

from .fastserver import completion_body

BODY = completion_body()


async def respond(request: Request) -> Response:
    await request.body()
    return Response(BODY, media_type="application/json", headers={Header.CACHE_STATUS: "HIT"})


def main() -> None:
    app = Starlette(routes=[Route("/{path:path}", respond, methods=["POST"])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    sys.stdout.write(f"listening on http://127.0.0.1:{sock.getsockname()[1]}\n")
    sys.stdout.flush()
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])


if __name__ == "__main__":
    main()
